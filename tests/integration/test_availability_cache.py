"""Cached availability never goes stale: every writer bumps a stamp, every read checks it.

Both engines, against the demo clinic. The stamps are written by database triggers, so these
tests go through the real services (and one raw write from another session, as another worker
or host would make it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from booking.cache_store import SlotStore
from booking.domain.scheduling.values import Slot
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    Location,
    PatientProfile,
    Practitioner,
    Role,
    Room,
    SessionType,
    User,
)
from booking.services.booking.availability import (
    AvailabilityQuery,
    effective_policy,
    find_slots,
)
from booking.services.booking.availability_cache import CachedSlots, cached_slots, read_stamp
from booking.services.booking.changes import cancel_appointment
from booking.services.booking.holds import hold_slot
from booking.services.rota.exceptions import ExceptionValues, add_closure, add_exception
from booking.services.rota.holidays import open_holiday
from booking.services.rota.hours import HoursValues, add_hours
from tests.conftest import count_queries, seed_demo

NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # Monday 07:00 BST
WED = date(2026, 6, 3)
FOLLOW_UP = "follow-up-acupuncture"
MEI = "Mei Lin Chen"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    seed_demo(app)
    with app.app_context():
        yield app
        db.session.rollback()


def _id(model: type, **where: object) -> int:
    column = next(iter(where))
    return int(db.session.scalar(select(model.id).where(getattr(model, column) == where[column])))


def query(who: str | None = MEI, day: date = WED) -> AvailabilityQuery:
    return AvailabilityQuery(
        session_type_id=_id(SessionType, slug=FOLLOW_UP),
        location_id=_id(Location, slug="islington"),
        date_from=day,
        date_to=day,
        practitioner_id=None if who is None else _id(Practitioner, display_name=MEI),
    )


def read(
    now: datetime = NOW, who: str | None = MEI, asked: AvailabilityQuery | None = None
) -> CachedSlots:
    """One read as a request makes it: its own transaction, ended afterwards."""
    asked = asked or query(who)
    db.session.rollback()
    try:
        return cached_slots(asked, now=now)
    finally:
        db.session.rollback()


def admin() -> User:
    return db.session.scalars(select(User).where(User.role == Role.admin)).first()


def insert_elsewhere(slot: Slot, status: str = "booked") -> Appointment:
    """Book a slot from another connection, as another worker would, and commit it."""
    kind = db.session.get(SessionType, _id(SessionType, slug=FOLLOW_UP))
    assert kind is not None
    slot_start, end = slot.starts_at, slot.ends_at
    patient = db.session.scalar(select(PatientProfile.id).order_by(PatientProfile.id.desc()))
    row = Appointment(
        status=AppointmentStatus(status),
        starts_at=slot_start,
        ends_at=end,
        busy_from=slot_start - timedelta(minutes=kind.buffer_before_minutes),
        busy_until=end + timedelta(minutes=kind.buffer_after_minutes),
        practitioner_id=_id(Practitioner, display_name=MEI),
        location_id=_id(Location, slug="islington"),
        room_id=slot.room_id,
        room_place=slot.room_place,
        patient_id=None if status == "held" else patient,
        session_type_id=kind.id,
        hold_expires_at=NOW + timedelta(minutes=10) if status == "held" else None,
        hold_created_at=NOW if status == "held" else None,
        hold_owner="other-browser" if status == "held" else None,
        ics_uid=f"cache-{uuid.uuid4()}",
    )
    db.session.rollback()  # this "request" ends; the other connection writes
    with Session(db.engine, expire_on_commit=False) as other:
        other.add(row)
        other.commit()
    return row


def starts(answer: CachedSlots) -> list[datetime]:
    return [s.starts_at for s in answer.slots]


def test_a_booking_committed_before_a_read_is_never_shown_even_with_a_warm_cache(
    ctx: Flask,
) -> None:
    first = read()
    assert first.slots
    asked = query()
    with count_queries(ctx) as warm:
        again = read(asked=asked)
    assert len(warm) == 1, warm  # the stamps; the answer comes from the store
    assert again == first
    taken = first.slots[0].starts_at
    insert_elsewhere(first.slots[0])
    after = read()
    assert taken not in starts(after)
    assert after.etag != first.etag
    # The cached answer agrees with a fresh computation.
    assert list(after.slots) == find_slots(query(), now=NOW)


def test_any_practitioner_answers_see_each_practitioners_writes(ctx: Flask) -> None:
    first = read(who=None)
    mei = _id(Practitioner, display_name=MEI)
    slot = next(s for s in first.slots if s.practitioner_id == mei)
    taken = slot.starts_at
    insert_elsewhere(slot)
    after = read(who=None)
    assert (taken, mei) not in {(s.starts_at, s.practitioner_id) for s in after.slots}


def _book(_ctx: Flask) -> None:
    insert_elsewhere(read().slots[0])


def _hold(_ctx: Flask) -> None:
    hold_slot(
        session_type_id=_id(SessionType, slug=FOLLOW_UP),
        location_id=_id(Location, slug="islington"),
        practitioner_id=_id(Practitioner, display_name=MEI),
        starts_at=read().slots[0].starts_at,
        hold_owner="browser-a",
        now=NOW,
    )


def _cancel(_ctx: Flask) -> None:
    booked = db.session.get(Appointment, _ctx.config["_cache_test_booked"])
    assert booked is not None
    cancel_appointment(
        booked,
        now=NOW,
        actor=admin(),
        by_staff=True,
        reason="Test",
        base_url="http://127.0.0.1",
        clinic_name="Meridian",
    )


def _time_off(_ctx: Flask) -> None:
    add_exception(
        _id(Practitioner, display_name=MEI),
        ExceptionValues(kind="time_off", on_date=WED),
        actor=admin(),
        now=NOW,
    )


def _hours(_ctx: Flask) -> None:
    add_hours(
        _id(Practitioner, display_name=MEI),
        HoursValues(
            location_id=_id(Location, slug="islington"),
            weekday=6,
            start_time=time(10),
            end_time=time(12),
        ),
        actor=admin(),
        now=NOW,
    )


def _closure(_ctx: Flask) -> None:
    add_closure(
        ExceptionValues(kind="closure", on_date=WED, location_id=_id(Location, slug="islington")),
        actor=admin(),
        now=NOW,
    )


def _clinic_closure(_ctx: Flask) -> None:
    add_closure(ExceptionValues(kind="closure", on_date=WED), actor=admin(), now=NOW)


def _holiday_opened(_ctx: Flask) -> None:
    open_holiday(_id(Location, slug="islington"), date(2026, 8, 31), actor=admin(), now=NOW)


def _session_type(_ctx: Flask) -> None:
    db.session.execute(
        update(SessionType)
        .where(SessionType.slug == FOLLOW_UP)
        .values(buffer_after_minutes=SessionType.buffer_after_minutes + 5)
    )


def _rooms(_ctx: Flask) -> None:
    db.session.execute(
        update(Room).where(Room.location_id == _id(Location, slug="islington")).values(capacity=2)
    )


# (writer, whether Wednesday's answer for Mei must change)
WRITERS: list[tuple[Callable[[Flask], None], bool]] = [
    (_book, True),
    (_hold, True),
    (_cancel, True),  # the time booked first is free again
    (_time_off, True),
    (_hours, False),  # Sunday hours: Wednesday stays the same, the stamp still moves
    (_closure, True),
    (_clinic_closure, True),
    (_holiday_opened, False),
    (_session_type, True),
    (_rooms, False),
]


@pytest.mark.parametrize(
    ("writer", "changes_answer"), WRITERS, ids=[w.__name__.strip("_") for w, _ in WRITERS]
)
def test_each_kind_of_writer_bumps_the_stamp(
    ctx: Flask, writer: Callable[[Flask], None], changes_answer: bool
) -> None:
    if writer is _cancel:
        ctx.config["_cache_test_booked"] = insert_elsewhere(read().slots[0]).id
    before = read()
    stamp = read_stamp(query())
    db.session.rollback()
    writer(ctx)
    db.session.commit()
    assert read_stamp(query()) != stamp
    db.session.rollback()
    after = read()
    assert after.etag != before.etag
    assert list(after.slots) == find_slots(query(), now=NOW)
    if changes_answer:
        assert after.slots != before.slots


def test_a_rolled_back_write_leaves_no_answer_for_a_later_write(ctx: Flask) -> None:
    before = read()
    _time_off(ctx)  # pending in this transaction: the read sees its own write
    assert cached_slots(query(), now=NOW).slots == ()
    db.session.rollback()
    assert read().slots == before.slots
    _closure(ctx)
    db.session.commit()
    assert read().slots == ()


def test_the_answer_is_recomputed_when_a_slot_passes_its_notice(ctx: Flask) -> None:
    islington = db.session.get(Location, _id(Location, slug="islington"))
    assert islington is not None
    notice = timedelta(
        minutes=effective_policy(islington, db.session.get(Clinic, 1)).min_notice_minutes
    )
    earliest = read().slots[0]
    # A moment when the first time's notice boundary comes before local midnight.
    now = earliest.starts_at - notice - timedelta(minutes=30)
    first = read(now=now)
    assert first.slots[0] == earliest
    assert first.until == earliest.starts_at - notice
    assert read(now=first.until - timedelta(seconds=1)).etag == first.etag
    later = read(now=first.until + timedelta(seconds=1))
    assert earliest.starts_at not in starts(later)
    assert later.etag != first.etag


def test_the_answer_is_recomputed_when_the_day_turns(ctx: Flask) -> None:
    first = read()
    assert first.until == datetime(2026, 6, 1, 23, 0, tzinfo=UTC)  # midnight in London
    turned = read(now=first.until)
    assert turned.etag != first.etag
    assert list(turned.slots) == find_slots(query(), now=first.until)


def test_a_hold_that_expires_frees_its_time_without_a_write(ctx: Flask) -> None:
    slot = read().slots[0]
    taken = slot.starts_at
    insert_elsewhere(slot, status="held")  # expires at NOW + 10 minutes
    held = read()
    assert taken not in starts(held)
    assert held.until <= NOW + timedelta(minutes=10)
    assert taken in starts(read(now=NOW + timedelta(minutes=10, seconds=1)))


def test_a_shared_redis_store_serves_another_worker(ctx: Flask) -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but Redis is not reachable at {REDIS_URL}")
        pytest.skip("Redis not reachable")
    prefix = f"test:{uuid.uuid4()}:"

    def worker() -> SlotStore:
        return SlotStore(max_entries=16, redis_url=REDIS_URL, prefix=prefix)

    ctx.extensions["availability_cache"] = worker()
    first = read()
    ctx.extensions["availability_cache"] = worker()  # another worker: empty local store
    asked = query()
    with count_queries(ctx) as warm:
        assert read(asked=asked) == first
    assert len(warm) == 1, warm
    insert_elsewhere(first.slots[0])
    ctx.extensions["availability_cache"] = worker()
    assert first.slots[0].starts_at not in starts(read())
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
