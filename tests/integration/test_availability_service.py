"""The availability service against the demo clinic, on both engines (domain.md §3)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from booking.domain.errors import InvalidInput, NotFound, PolicyRefused, SlotTaken
from booking.domain.scheduling.values import Slot
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    ExceptionKind,
    Location,
    PatientProfile,
    Practitioner,
    Role,
    Room,
    ScheduleException,
    SessionType,
    User,
    WorkingHours,
)
from booking.services.booking.availability import (
    AvailabilityQuery,
    find_slots,
    nearest_free,
    validate_start,
)
from tests.conftest import count_queries, seed_demo

LONDON = ZoneInfo("Europe/London")
DUBLIN = ZoneInfo("Europe/Dublin")
NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # Monday 07:00 BST
WED = date(2026, 6, 3)
FOLLOW_UP = "follow-up-acupuncture"  # 30 min + 5 after, treatment room
COMMUNITY = "community-acupuncture"  # 30 min + 5 after, 4-place community room
_uids = count()


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """The demo clinic, inside an app context."""
    seed_demo(app)
    with app.app_context():
        yield app
        db.session.rollback()


def practitioner(name: str) -> int:
    return db.session.scalar(select(Practitioner.id).where(Practitioner.display_name == name))


def location(slug: str) -> int:
    return db.session.scalar(select(Location.id).where(Location.slug == slug))


def session_type(slug: str) -> int:
    return db.session.scalar(select(SessionType.id).where(SessionType.slug == slug))


def room(name: str) -> int:
    return db.session.scalar(select(Room.id).where(Room.name == name))


def local(day: date, hhmm: str, zone: ZoneInfo = LONDON) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=zone).astimezone(UTC)


def slots(
    slug: str = FOLLOW_UP,
    who: str | None = "Mei Lin Chen",
    day_from: date = WED,
    day_to: date | None = None,
    where: str = "islington",
    now: datetime = NOW,
) -> list[Slot]:
    return find_slots(
        AvailabilityQuery(
            session_type_id=session_type(slug),
            location_id=location(where),
            date_from=day_from,
            date_to=day_to or day_from,
            practitioner_id=None if who is None else practitioner(who),
        ),
        now=now,
    )


def starts(found: list[Slot], zone: ZoneInfo = LONDON) -> list[str]:
    return [s.starts_at.astimezone(zone).strftime("%H:%M") for s in found]


def book(
    who: str,
    start: datetime,
    *,
    slug: str = FOLLOW_UP,
    room_name: str | None = "Treatment room 1",
    place: int | None = 1,
    where: str = "islington",
    status: AppointmentStatus = AppointmentStatus.booked,
    hold_expires_at: datetime | None = None,
    hold_owner: str | None = None,
) -> Appointment:
    kind = db.session.get(SessionType, session_type(slug))
    held = status == AppointmentStatus.held
    # A different patient each time: one patient cannot be in two sessions at once.
    patients = db.session.scalars(select(PatientProfile.id).order_by(PatientProfile.id)).all()
    uid = next(_uids)
    patient = patients[uid % len(patients)]
    end = start + timedelta(minutes=kind.duration_minutes)
    row = Appointment(
        status=status,
        starts_at=start,
        ends_at=end,
        busy_from=start - timedelta(minutes=kind.buffer_before_minutes),
        busy_until=end + timedelta(minutes=kind.buffer_after_minutes),
        practitioner_id=practitioner(who),
        location_id=location(where),
        room_id=None if room_name is None else room(room_name),
        room_place=place if room_name is not None else None,
        patient_id=None if held else patient,
        session_type_id=kind.id,
        hold_expires_at=hold_expires_at,
        hold_created_at=NOW if held else None,
        hold_owner=hold_owner,
        ics_uid=f"avail-{uid}",
    )
    db.session.add(row)
    db.session.commit()
    return row


def add_practitioner(name: str, *, slugs: tuple[str, ...] = (FOLLOW_UP,)) -> int:
    """A practitioner at Islington, Mon–Fri 09:00–17:00, offering `slugs`."""
    user = User(
        email=f"{name.lower().replace(' ', '.')}@example.test",
        password_hash="x",
        role=Role.practitioner,
        display_name=name,
    )
    db.session.add(user)
    db.session.flush()
    person = Practitioner(
        user_id=user.id,
        display_name=name,
        session_types=[db.session.get(SessionType, session_type(s)) for s in slugs],
    )
    db.session.add(person)
    db.session.flush()
    for weekday in range(5):
        db.session.add(
            WorkingHours(
                practitioner_id=person.id,
                location_id=location("islington"),
                weekday=weekday,
                start_time=time(9),
                end_time=time(17),
            )
        )
    db.session.commit()
    return person.id


# --- hours and zones ---------------------------------------------------------------------


def test_slots_lie_inside_mei_lins_hours_in_london(ctx: Flask) -> None:
    found = slots()
    shown = starts(found)
    # Mei Lin works 09:00–13:00 and 14:00–18:00 BST; 30-minute sessions on a 15-minute step.
    assert shown[0] == "09:00"
    assert "12:30" in shown
    assert "12:45" not in shown  # would end 13:15, past her morning hours
    assert "13:00" not in shown
    assert "14:00" in shown
    assert shown[-1] == "17:30"
    for slot in found:
        start = slot.starts_at.astimezone(LONDON)
        end = slot.ends_at.astimezone(LONDON)
        assert start.tzname() == "BST"
        assert (time(9) <= start.time() and end.time() <= time(13)) or (
            time(14) <= start.time() and end.time() <= time(18)
        )
        assert slot.room_id == room("Treatment room 1")
        assert slot.room_place == 1
        assert slot.busy_until - slot.ends_at == timedelta(minutes=5)


def test_dublin_location_shows_dublin_times(ctx: Flask) -> None:
    found = slots(who="Aoife Byrne", where="dublin")
    assert found
    first = found[0].starts_at.astimezone(DUBLIN)
    assert (first.strftime("%H:%M"), first.tzname()) == ("08:30", "IST")
    assert found[0].label("Europe/Dublin") == "08:30 IST"
    assert all(s.room_id == room("Treatment room") for s in found)


def test_any_practitioner_includes_only_those_offering_the_type_here(ctx: Flask) -> None:
    found = slots(who=None)
    # Wednesday at Islington: Mei Lin, Tom and Sam all offer follow-ups; Aoife works in Dublin.
    assert {s.practitioner_id for s in found} <= {
        practitioner("Mei Lin Chen"),
        practitioner("Tom Okafor"),
        practitioner("Sam Patel"),
    }
    assert practitioner("Mei Lin Chen") in {s.practitioner_id for s in found}
    assert found == sorted(found, key=lambda s: (s.starts_at, s.practitioner_id))


def test_a_location_policy_override_beats_the_clinics(ctx: Flask) -> None:
    db.session.get(Location, location("islington")).slot_step_minutes = 30
    db.session.commit()
    assert {s.starts_at.astimezone(LONDON).minute for s in slots()} == {0, 30}


# --- busy ranges ---------------------------------------------------------------------------


def test_a_booking_removes_overlapping_slots(ctx: Flask) -> None:
    booking = book("Mei Lin Chen", local(WED, "10:00"))
    shown = starts(slots())
    # Busy 10:00–10:35: a 30-min session (+5 after) may not start from 09:30 to 10:30.
    for taken in ("09:30", "09:45", "10:00", "10:15", "10:30"):
        assert taken not in shown
    assert "09:15" in shown
    assert "10:35" in shown  # back-to-back after the busy block
    for slot in slots():
        assert not (slot.busy_from < booking.busy_until and booking.busy_from < slot.busy_until)


def test_a_booking_at_another_location_still_blocks_the_practitioner(ctx: Flask) -> None:
    # Sam works in Dublin on Fridays; a Dublin booking on Wednesday still makes him busy.
    book("Sam Patel", local(WED, "13:00"), room_name="Treatment room", where="dublin")
    assert "13:00" not in starts(slots(who="Sam Patel"))
    assert "12:00" in starts(slots(who="Sam Patel"))


def test_cancelled_appointments_block_nothing(ctx: Flask) -> None:
    book("Mei Lin Chen", local(WED, "10:00"), status=AppointmentStatus.cancelled)
    assert "10:00" in starts(slots())


def test_an_unexpired_hold_blocks_and_an_expired_one_does_not(ctx: Flask) -> None:
    book(
        "Mei Lin Chen",
        local(WED, "10:00"),
        status=AppointmentStatus.held,
        hold_expires_at=NOW + timedelta(minutes=10),
        hold_owner="browser-a",
    )
    book(
        "Mei Lin Chen",
        local(WED, "15:00"),
        status=AppointmentStatus.held,
        hold_expires_at=NOW - timedelta(seconds=1),
        hold_owner="browser-b",
    )
    shown = starts(slots())
    assert "10:00" not in shown
    assert "15:00" in shown
    # Ten minutes later the first hold has lapsed too.
    assert "10:00" in starts(slots(now=NOW + timedelta(minutes=10)))


def test_time_off_removes_the_day(ctx: Flask) -> None:
    db.session.add(
        ScheduleException(
            kind=ExceptionKind.time_off,
            practitioner_id=practitioner("Mei Lin Chen"),
            on_date=WED,
            reason="Training",
        )
    )
    db.session.commit()
    found = slots(day_from=date(2026, 6, 2), day_to=date(2026, 6, 4))
    days = {s.starts_at.astimezone(LONDON).date() for s in found}
    assert days == {date(2026, 6, 2), date(2026, 6, 4)}


def test_a_clinic_wide_closure_and_extra_hours(ctx: Flask) -> None:
    db.session.add_all(
        [
            ScheduleException(kind=ExceptionKind.closure, on_date=WED, reason="Bank holiday"),
            ScheduleException(
                kind=ExceptionKind.extra_hours,
                practitioner_id=practitioner("Mei Lin Chen"),
                location_id=location("islington"),
                on_date=date(2026, 6, 6),  # a Saturday
                start_time=time(10),
                end_time=time(12),
            ),
        ]
    )
    db.session.commit()
    assert slots(who=None) == []
    saturday = slots(day_from=date(2026, 6, 6))
    assert starts(saturday)[0] == "10:00"
    assert starts(saturday)[-1] == "11:30"


def test_the_shared_treatment_room_goes_to_whoever_books_first(ctx: Flask) -> None:
    # Mei Lin and Sam share Islington's one treatment room on Wednesdays from 12:00.
    assert "12:00" in starts(slots(who="Sam Patel"))
    book("Mei Lin Chen", local(WED, "12:00"))
    assert "12:00" not in starts(slots(who="Sam Patel"))
    assert "12:00" not in starts(slots(who=None))
    # Sam himself is free: a session type needing no treatment room is still offered.
    assert "12:00" in starts(slots(slug=COMMUNITY, who="Sam Patel"))


def test_the_community_room_admits_four(ctx: Flask) -> None:
    others = ["Mei Lin Chen", "Aoife Byrne", "Sam Patel"]
    extra = add_practitioner("Ada Quinn", slugs=(COMMUNITY,))
    start = local(WED, "13:00")
    for place, name in enumerate(others, start=1):
        book(name, start, slug=COMMUNITY, room_name="Community room", place=place)
    tom = [s for s in slots(slug=COMMUNITY, who="Tom Okafor") if s.starts_at == start]
    assert [(s.room_id, s.room_place) for s in tom] == [(room("Community room"), 4)]
    fourth = db.session.get(Practitioner, extra).display_name
    book(fourth, start, slug=COMMUNITY, room_name="Community room", place=4)
    assert start not in {s.starts_at for s in slots(slug=COMMUNITY, who="Tom Okafor")}


# --- errors --------------------------------------------------------------------------------


def test_unknown_or_inactive_things_are_not_found(ctx: Flask) -> None:
    base = AvailabilityQuery(
        session_type_id=session_type(FOLLOW_UP),
        location_id=location("islington"),
        date_from=WED,
        date_to=WED,
    )
    with pytest.raises(NotFound):
        find_slots(replace(base, session_type_id=9999), now=NOW)
    with pytest.raises(NotFound):
        find_slots(replace(base, location_id=9999), now=NOW)
    with pytest.raises(NotFound):
        find_slots(replace(base, practitioner_id=9999), now=NOW)
    db.session.get(SessionType, session_type(FOLLOW_UP)).is_active = False
    db.session.get(Location, location("dublin")).is_active = False
    db.session.commit()
    with pytest.raises(NotFound):
        find_slots(base, now=NOW)
    with pytest.raises(NotFound):
        find_slots(
            replace(base, session_type_id=session_type(COMMUNITY), location_id=location("dublin")),
            now=NOW,
        )


def test_a_practitioner_who_does_not_offer_the_type_has_no_slots(ctx: Flask) -> None:
    assert slots(slug=COMMUNITY, who="Mei Lin Chen") == []


@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [
        (WED, WED - timedelta(days=1)),  # ends before it starts
        (WED, WED + timedelta(days=62)),  # 63 days
    ],
)
def test_bad_ranges_are_refused(ctx: Flask, date_from: date, date_to: date) -> None:
    with pytest.raises(InvalidInput):
        slots(day_from=date_from, day_to=date_to)


def test_a_naive_now_is_refused(ctx: Flask) -> None:
    with pytest.raises(InvalidInput):
        slots(now=NOW.replace(tzinfo=None))


def test_sixty_two_days_is_allowed(ctx: Flask) -> None:
    assert slots(day_from=WED, day_to=WED + timedelta(days=61))


# --- validate_start ------------------------------------------------------------------------


def check(start: datetime, who: str = "Mei Lin Chen", **kwargs: object) -> Slot:
    return validate_start(
        session_type_id=session_type(FOLLOW_UP),
        location_id=location("islington"),
        practitioner_id=practitioner(who),
        starts_at=start,
        now=kwargs.pop("now", NOW),
        **kwargs,
    )


def test_validate_start_returns_the_offered_slot(ctx: Flask) -> None:
    slot = check(local(WED, "10:00"))
    assert slot in slots()
    assert (slot.room_id, slot.room_place) == (room("Treatment room 1"), 1)


def test_validate_start_accepts_a_back_to_back_start(ctx: Flask) -> None:
    # Off the 15-minute grid, offered only because a busy block ends at 10:35.
    book("Mei Lin Chen", local(WED, "10:00"))
    slot = check(local(WED, "10:35"))
    assert slot in slots()


def test_validate_start_agrees_with_find_slots(ctx: Flask) -> None:
    book("Mei Lin Chen", local(WED, "09:50"))
    book("Sam Patel", local(WED, "12:20"), slug=COMMUNITY, room_name="Community room")
    for who in ("Mei Lin Chen", "Sam Patel"):
        for slot in slots(who=who):
            assert check(slot.starts_at, who=who) == slot


def test_validate_start_refuses_a_past_time(ctx: Flask) -> None:
    with pytest.raises(PolicyRefused) as caught:
        check(local(WED, "10:00"), now=local(WED, "11:00"))
    assert caught.value.code == "too_soon"


def test_validate_start_refuses_a_time_outside_hours(ctx: Flask) -> None:
    with pytest.raises(SlotTaken) as caught:
        check(local(WED, "13:00"))
    assert caught.value.code == "outside_hours"


def test_validate_start_refuses_a_taken_time(ctx: Flask) -> None:
    book("Mei Lin Chen", local(WED, "10:15"))
    with pytest.raises(SlotTaken) as caught:
        check(local(WED, "10:00"))
    assert caught.value.code == "slot_taken"


def test_validate_start_refuses_a_full_room(ctx: Flask) -> None:
    book("Mei Lin Chen", local(WED, "12:00"))
    with pytest.raises(SlotTaken) as caught:
        check(local(WED, "12:00"), who="Sam Patel")
    assert caught.value.code == "room_full"


def test_validate_start_refuses_beyond_the_horizon(ctx: Flask) -> None:
    far = WED + timedelta(days=91)  # clinic horizon: 90 days
    with pytest.raises(PolicyRefused) as caught:
        check(local(far, "10:00"))
    assert caught.value.code == "too_far_ahead"
    # Staff may override notice and horizon, never hours.
    assert check(local(far, "10:00"), override_limits=True).starts_at == local(far, "10:00")


def test_validate_start_refuses_a_type_the_practitioner_does_not_offer(ctx: Flask) -> None:
    with pytest.raises(InvalidInput):
        validate_start(
            session_type_id=session_type(COMMUNITY),
            location_id=location("islington"),
            practitioner_id=practitioner("Mei Lin Chen"),
            starts_at=local(WED, "10:00"),
            now=NOW,
        )


def test_validate_start_can_ignore_the_callers_own_hold(ctx: Flask) -> None:
    book(
        "Mei Lin Chen",
        local(WED, "10:00"),
        status=AppointmentStatus.held,
        hold_expires_at=NOW + timedelta(minutes=10),
        hold_owner="mine",
    )
    with pytest.raises(SlotTaken):
        check(local(WED, "10:00"), ignore_hold_owner="someone-else")
    assert check(local(WED, "10:00"), ignore_hold_owner="mine").starts_at == local(WED, "10:00")


def test_validate_start_can_ignore_the_appointment_being_moved(ctx: Flask) -> None:
    moving = book("Mei Lin Chen", local(WED, "10:00"))
    with pytest.raises(SlotTaken):
        check(local(WED, "10:15"))
    slot = check(local(WED, "10:15"), ignore_appointment_id=moving.id)
    assert slot.starts_at == local(WED, "10:15")


# --- nearest_free --------------------------------------------------------------------------


def test_nearest_free_lists_distinct_times_nearest_the_target(ctx: Flask) -> None:
    book("Mei Lin Chen", local(WED, "10:00"))
    base = AvailabilityQuery(
        session_type_id=session_type(FOLLOW_UP),
        location_id=location("islington"),
        date_from=WED,
        date_to=WED,
    )
    found = nearest_free(base, local(WED, "10:00"), now=NOW, limit=4)
    assert len({s.starts_at for s in found}) == 4
    gaps = [abs(s.starts_at - local(WED, "10:00")) for s in found]
    assert gaps == sorted(gaps)
    # Islington has one treatment room, so nobody can take a follow-up at 10:00.
    assert local(WED, "10:00") not in {s.starts_at for s in found}


def test_nearest_free_widens_when_the_week_is_empty(ctx: Flask) -> None:
    for weekday in range(5):
        db.session.add(
            ScheduleException(
                kind=ExceptionKind.time_off,
                practitioner_id=practitioner("Mei Lin Chen"),
                on_date=date(2026, 6, 8) + timedelta(days=weekday),
            )
        )
    db.session.commit()
    base = AvailabilityQuery(
        session_type_id=session_type(FOLLOW_UP),
        location_id=location("islington"),
        date_from=WED,
        date_to=WED,
        practitioner_id=practitioner("Mei Lin Chen"),
    )
    target = local(date(2026, 6, 10), "10:00")
    found = nearest_free(base, target, now=NOW, limit=3)
    assert len(found) == 3
    assert all(s.starts_at.astimezone(LONDON).date() != date(2026, 6, 10) for s in found)
    # Friday 5 June 17:30 is nearer than Monday 15 June 09:00.
    assert found[0].starts_at == local(date(2026, 6, 5), "17:30")


# --- query count ---------------------------------------------------------------------------


def test_the_number_of_queries_does_not_grow_with_days_or_practitioners(app: Flask) -> None:
    seed_demo(app)
    with app.app_context():
        mei = practitioner("Mei Lin Chen")
        where = location("islington")

    def run(slug: str, practitioner_id: int | None, days: int) -> tuple[int, int]:
        with app.app_context():
            kind = session_type(slug)
            db.session.remove()
        with app.app_context(), count_queries(app) as statements:
            end = WED + timedelta(days=days - 1)
            found = find_slots(AvailabilityQuery(kind, where, WED, end, practitioner_id), now=NOW)
            db.session.remove()
        return len(statements), len({s.practitioner_id for s in found})

    one, _ = run(FOLLOW_UP, mei, 7)
    # Community sessions at Islington: Tom and Sam at first, then 8 more.
    few, few_people = run(COMMUNITY, None, 28)
    with app.app_context():
        for n in range(8):
            add_practitioner(f"Extra Person {n}", slugs=(COMMUNITY,))
        for n in range(8):
            book(f"Extra Person {n}", local(WED, "10:00"), room_name=None)
    many, many_people = run(COMMUNITY, None, 28)
    assert (few_people, many_people) == (2, 10)
    assert one == few == many
    assert one <= 8
