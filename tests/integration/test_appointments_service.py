"""Holding, booking, changing and cancelling through the services, with the emails they send."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy import func, select

from booking.domain.errors import HoldExpired, PolicyRefused, SlotTaken
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    LateCancelMode,
    Location,
    OutboxMessage,
    PatientProfile,
    Practitioner,
    RoomKind,
    SessionType,
)
from booking.services.booking.availability import AvailabilityQuery, find_slots
from booking.services.booking.changes import (
    by_manage_token,
    cancel_appointment,
    reschedule_appointment,
)
from booking.services.booking.guard import clear_expired_holds, expired_holds_block
from booking.services.booking.holds import book_hold, extend_hold, hold_slot
from booking.services.platform.outbox import SmtpSettings, claim_due, deliver
from tests.factories import (
    make_hours,
    make_location,
    make_patient,
    make_practitioner,
    make_session_type,
)
from tests.smtp import Inbox, smtp_server

NOW = datetime(2027, 4, 12, 7, 0, tzinfo=UTC)  # Monday 12 April 2027, 08:00 in London
DAY = date(2027, 4, 14)  # Wednesday
BASE = "http://127.0.0.1:5000"
CLINIC = "Meridian Acupuncture"


FOLLOW_UP = "follow-up-acupuncture"  # 30 minutes + 5 after, in the one-place treatment room
COMMUNITY = "community-acupuncture"  # 30 minutes + 5 after, in the 4-place community room


def build_clinic() -> None:
    """A London clinic: Mei offers follow-ups on weekdays 9-13 and 14-18; Tom (10-16) and Sam
    (12-20) share community sessions on Wednesdays; three patients."""
    location = make_location(
        slug="islington",
        rooms=[
            {"name": "Treatment room 1", "kind": RoomKind.treatment, "sort_order": 1},
            {"name": "Community room", "kind": RoomKind.community, "capacity": 4},
        ],
    )
    follow_up = make_session_type(
        slug=FOLLOW_UP,
        name="Follow-up acupuncture",
        buffer_after_minutes=5,
        room_kind=RoomKind.treatment,
    )
    community = make_session_type(
        slug=COMMUNITY, buffer_after_minutes=5, room_kind=RoomKind.community
    )
    mei = make_practitioner(display_name="Mei Lin Chen", session_types=[follow_up])
    for start, end in (("09:00", "13:00"), ("14:00", "18:00")):
        make_hours(practitioner=mei, location=location, start=start, end=end)
    for name, start, end in (("Tom Okafor", "10:00", "16:00"), ("Sam Patel", "12:00", "20:00")):
        worker = make_practitioner(display_name=name, session_types=[community])
        make_hours(practitioner=worker, location=location, weekdays=[2], start=start, end=end)
    for _ in range(3):
        make_patient()
    db.session.commit()


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        build_clinic()
        yield app


def _ids(slug: str = FOLLOW_UP) -> tuple[int, int, int]:
    st = db.session.scalar(select(SessionType).where(SessionType.slug == slug))
    loc = db.session.scalar(select(Location).where(Location.slug == "islington"))
    mei = db.session.scalar(select(Practitioner).where(Practitioner.display_name == "Mei Lin Chen"))
    return st.id, loc.id, mei.id


def _slots(practitioner_id: int | None = None, slug: str = FOLLOW_UP, now: datetime = NOW) -> list:
    st, loc, mei = _ids(slug)
    query = AvailabilityQuery(
        session_type_id=st,
        location_id=loc,
        date_from=DAY,
        date_to=DAY,
        practitioner_id=mei if practitioner_id is None else practitioner_id,
    )
    return find_slots(query, now=now)


def _hold(start: datetime, owner: str = "owner-a", now: datetime = NOW) -> Appointment:
    st, loc, mei = _ids()
    return hold_slot(
        session_type_id=st,
        location_id=loc,
        practitioner_id=mei,
        starts_at=start,
        hold_owner=owner,
        now=now,
    )


def _retake(start: datetime) -> dict:
    st, loc, mei = _ids()
    return {"session_type_id": st, "location_id": loc, "practitioner_id": mei, "starts_at": start}


def _patient(index: int = 1) -> PatientProfile:
    return db.session.scalars(select(PatientProfile).order_by(PatientProfile.id)).all()[index]


def _book(start: datetime, owner: str = "owner-a", now: datetime = NOW, index: int = 1):
    hold = _hold(start, owner, now)
    db.session.commit()
    booked = book_hold(
        hold_id=hold.id,
        hold_owner=owner,
        retake=_retake(start),
        patient=_patient(index),
        now=now,
        base_url=BASE,
        clinic_name=CLINIC,
    )
    db.session.commit()
    return booked


def test_a_hold_hides_the_time_from_everyone_else(ctx: Flask) -> None:
    first = _slots()[0]
    _hold(first.starts_at)
    db.session.commit()
    assert first.starts_at not in {s.starts_at for s in _slots()}
    with pytest.raises(SlotTaken):
        _hold(first.starts_at, owner="owner-b")


def test_a_new_hold_releases_the_browsers_last_and_only_then_locks_stamps(
    ctx: Flask, query_counter: Callable[[], Any]
) -> None:
    """A first hold reads whether the browser holds anything instead of a release that
    deletes nothing: the journey's hot path (issue 22). Each hold locks its stamps first
    (PostgreSQL), once: a second hold of the browser locks them with the first's, then
    releases the first, then inserts."""
    postgres = ctx.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    locks = ["lock stamps"] if postgres else []
    first, second = _slots()[0].starts_at, _slots()[1].starts_at
    with query_counter() as statements:
        _hold(first)
    assert _writes(statements) == [*locks, "clear expired", "insert"]
    db.session.commit()
    with query_counter() as statements:
        held = _hold(second)
    db.session.commit()
    assert _writes(statements) == [*locks, "release", "clear expired", "insert"]
    owned = db.session.scalars(select(Appointment).where(Appointment.hold_owner == "owner-a"))
    assert [(row.id, row.starts_at) for row in owned] == [(held.id, second)]


def _writes(statements: list[str]) -> list[str]:
    """What each writing statement of a hold does, in order."""
    named = []
    for statement in statements:
        if "INTO availability_version" in statement:
            named.append("lock stamps")
        elif statement.startswith("DELETE"):
            named.append("clear expired" if "hold_expires_at <=" in statement else "release")
        elif statement.startswith(("INSERT", "UPDATE")):
            named.append("insert" if "INTO appointment " in statement else statement)
    return named


def test_an_expired_hold_is_ignored_without_any_job(ctx: Flask) -> None:
    first = _slots()[0]
    _hold(first.starts_at)
    db.session.commit()
    later = NOW + timedelta(minutes=11)
    assert first.starts_at in {s.starts_at for s in _slots(now=later)}
    taken = _hold(first.starts_at, owner="owner-b", now=later)
    db.session.commit()
    assert taken.hold_owner == "owner-b"
    assert db.session.scalar(select(func.count(Appointment.id))) == 1


def test_expired_holds_overlapping_a_range_are_found_and_cleared_by_their_busy_range(
    ctx: Flask,
) -> None:
    """The probe and the cleanup are bounded below by the longest busy range (issue 22):
    a hold that began before the range but reaches into it is still found; one that ends
    where the range begins, or that has not expired, is not."""
    hold = _hold(_slots()[0].starts_at)
    db.session.commit()
    later = NOW + timedelta(minutes=11)
    where = {"practitioner_id": hold.practitioner_id, "room_id": None}
    inside = hold.busy_until - timedelta(minutes=5)
    reaching = {"start": inside, "end": inside + timedelta(hours=2)}
    assert expired_holds_block(**where, **reaching, now=later)
    assert not expired_holds_block(**where, **reaching, now=NOW)  # not expired yet
    after = {"start": hold.busy_until, "end": hold.busy_until + timedelta(hours=1)}
    assert not expired_holds_block(**where, **after, now=later)
    by_room = {"practitioner_id": -1, "room_id": hold.room_id}
    assert expired_holds_block(**by_room, **reaching, now=later) is (hold.room_id is not None)
    clear_expired_holds(**where, **after, now=later)
    assert db.session.scalar(select(func.count(Appointment.id))) == 1
    clear_expired_holds(**where, **reaching, now=later)
    assert db.session.scalar(select(func.count(Appointment.id))) == 0


def test_extending_a_hold_is_capped_at_30_minutes(ctx: Flask) -> None:
    hold = _hold(_slots()[0].starts_at)
    for minutes in (8, 16, 24, 29):
        extend_hold(hold_id=hold.id, hold_owner="owner-a", now=NOW + timedelta(minutes=minutes))
    assert hold.hold_expires_at == NOW + timedelta(minutes=30)
    with pytest.raises(HoldExpired):
        extend_hold(hold_id=hold.id, hold_owner="owner-a", now=NOW + timedelta(minutes=31))


def test_booking_confirms_once_and_queues_one_confirmation(ctx: Flask) -> None:
    start = _slots()[0].starts_at
    booked = _book(start)
    assert booked.manage_token
    assert booked.appointment.status == AppointmentStatus.booked
    again = book_hold(
        hold_id=booked.appointment.id,
        hold_owner="owner-a",
        retake=_retake(start),
        patient=_patient(),
        now=NOW,
        base_url=BASE,
        clinic_name=CLINIC,
    )
    assert again.appointment.id == booked.appointment.id
    assert again.manage_token is None
    db.session.commit()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1
    assert by_manage_token(booked.manage_token, now=NOW).id == booked.appointment.id


def test_a_booked_hold_stays_busy_after_the_hold_would_have_expired(ctx: Flask) -> None:
    # Issue 13.1: booking left hold_expires_at set, so the time was offered again 10 min later.
    start = _slots()[0].starts_at
    booked = _book(start)
    later = NOW + timedelta(minutes=11)
    assert start not in {s.starts_at for s in _slots(now=later)}
    with pytest.raises(SlotTaken):
        _hold(start, owner="owner-b", now=later)
    db.session.refresh(booked.appointment)
    assert booked.appointment.hold_expires_at is None


@pytest.mark.matrix("B7")
def test_confirming_after_expiry_retakes_the_time_if_free(ctx: Flask) -> None:
    start = _slots()[0].starts_at
    hold = _hold(start)
    db.session.commit()
    later = NOW + timedelta(minutes=12)
    booked = book_hold(
        hold_id=hold.id,
        hold_owner="owner-a",
        retake=_retake(start),
        patient=_patient(),
        now=later,
        base_url=BASE,
        clinic_name=CLINIC,
    )
    db.session.commit()
    assert booked.appointment.status == AppointmentStatus.booked
    assert booked.appointment.starts_at == start


@pytest.mark.matrix("B7")
def test_confirming_after_expiry_changes_nothing_when_the_time_was_taken(ctx: Flask) -> None:
    start = _slots()[0].starts_at
    hold_id = _hold(start).id
    db.session.commit()
    later = NOW + timedelta(minutes=12)
    _book(start, owner="owner-b", now=later, index=2)
    before = db.session.scalar(select(func.count(Appointment.id)))
    with pytest.raises(HoldExpired):
        book_hold(
            hold_id=hold_id,
            hold_owner="owner-a",
            retake=_retake(start),
            patient=_patient(),
            now=later,
            base_url=BASE,
            clinic_name=CLINIC,
        )
    db.session.rollback()
    assert db.session.scalar(select(func.count(Appointment.id))) == before
    winner = db.session.scalar(select(Appointment).where(Appointment.status == "booked"))
    assert winner.patient_id == _patient(2).id


def test_manage_links_fail_when_tampered_or_after_the_session(ctx: Flask) -> None:
    from booking.domain.errors import NotFound

    booked = _book(_slots()[0].starts_at)
    with pytest.raises(NotFound):
        by_manage_token(
            booked.manage_token[:-1] + ("y" if booked.manage_token.endswith("x") else "x"), now=NOW
        )
    with pytest.raises(NotFound):
        by_manage_token(booked.manage_token, now=booked.appointment.ends_at)


def test_cancel_outside_the_cutoff(ctx: Flask) -> None:
    appointment = _book(_slots()[0].starts_at).appointment
    cancel_appointment(
        appointment,
        now=NOW + timedelta(hours=1),
        actor=None,
        by_staff=False,
        reason=None,
        base_url=BASE,
        clinic_name=CLINIC,
    )
    db.session.commit()
    assert appointment.status == AppointmentStatus.cancelled
    assert appointment.late_cancel is False
    assert appointment.ics_sequence == 1


@pytest.mark.parametrize("mode", [LateCancelMode.call, LateCancelMode.record])
def test_cancel_inside_the_cutoff_follows_the_clinic_policy(ctx: Flask, mode: str) -> None:
    db.session.scalar(select(Clinic)).late_cancel_mode = mode
    db.session.commit()
    appointment = _book(_slots()[0].starts_at).appointment
    late = appointment.starts_at - timedelta(hours=3)
    if mode == LateCancelMode.call:
        with pytest.raises(PolicyRefused):
            cancel_appointment(
                appointment,
                now=late,
                actor=None,
                by_staff=False,
                reason=None,
                base_url=BASE,
                clinic_name=CLINIC,
            )
        db.session.rollback()
        assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.booked
    else:
        cancel_appointment(
            appointment,
            now=late,
            actor=None,
            by_staff=False,
            reason=None,
            base_url=BASE,
            clinic_name=CLINIC,
        )
        db.session.commit()
        assert appointment.status == AppointmentStatus.cancelled
        assert appointment.late_cancel is True


def test_changes_in_the_first_15_minutes_are_never_late(ctx: Flask) -> None:
    slots = _slots(now=datetime(2027, 4, 14, 5, 0, tzinfo=UTC))
    start = slots[0].starts_at
    now = start - timedelta(hours=4)  # inside the 24-hour cut-off
    appointment = _book(start, now=now).appointment
    cancel_appointment(
        appointment,
        now=now + timedelta(minutes=10),
        actor=None,
        by_staff=False,
        reason=None,
        base_url=BASE,
        clinic_name=CLINIC,
    )
    assert appointment.status == AppointmentStatus.cancelled
    assert appointment.late_cancel is False


def test_reschedule_moves_the_same_row_and_refuses_a_taken_time(ctx: Flask) -> None:
    slots = _slots()
    appointment = _book(slots[0].starts_at).appointment
    other = _book(slots[-1].starts_at, owner="owner-b", index=2).appointment
    uid = appointment.ics_uid
    new_start = slots[len(slots) // 2].starts_at
    reschedule_appointment(
        appointment,
        starts_at=new_start,
        hold_owner="owner-a",
        now=NOW,
        actor=None,
        by_staff=False,
        base_url=BASE,
        clinic_name=CLINIC,
    )
    db.session.commit()
    assert appointment.starts_at == new_start
    assert appointment.ics_uid == uid
    assert appointment.ics_sequence == 1
    with pytest.raises(SlotTaken):
        reschedule_appointment(
            appointment,
            starts_at=other.starts_at,
            hold_owner="owner-a",
            now=NOW,
            actor=None,
            by_staff=False,
            base_url=BASE,
            clinic_name=CLINIC,
        )
    db.session.rollback()
    assert db.session.get(Appointment, appointment.id).starts_at == new_start


def test_no_preference_assigns_the_practitioner_with_fewest_booked_minutes(ctx: Flask) -> None:
    st, loc, _mei = _ids(COMMUNITY)
    query = AvailabilityQuery(session_type_id=st, location_id=loc, date_from=DAY, date_to=DAY)
    slots = find_slots(query, now=NOW)
    shared = sorted(
        {s.starts_at for s in slots if sum(x.starts_at == s.starts_at for x in slots) > 1}
    )
    assert shared, "Tom and Sam share community times on Wednesdays"
    start = shared[0]
    hold = hold_slot(
        session_type_id=st,
        location_id=loc,
        practitioner_id=None,
        starts_at=start,
        hold_owner="o1",
        now=NOW,
    )
    free = sorted(s.practitioner_id for s in slots if s.starts_at == start)
    assert hold.practitioner_id == free[0]  # nobody has bookings: lowest id wins the tie


@pytest.mark.matrix("D4")
def test_confirmation_change_and_cancellation_emails_arrive_once_with_ics(ctx: Flask) -> None:
    slots = _slots()
    booked = _book(slots[0].starts_at)
    appointment = booked.appointment
    reschedule_appointment(
        appointment,
        starts_at=slots[3].starts_at,
        hold_owner="owner-a",
        now=NOW,
        actor=None,
        by_staff=False,
        base_url=BASE,
        clinic_name=CLINIC,
    )
    db.session.commit()
    cancel_appointment(
        appointment,
        now=NOW,
        actor=None,
        by_staff=False,
        reason=None,
        base_url=BASE,
        clinic_name=CLINIC,
    )
    db.session.commit()
    with smtp_server() as (inbox, port):
        settings = SmtpSettings(host="127.0.0.1", port=port, sender="clinic@meridian.example")
        for _round in range(2):  # a second run sends nothing more
            ids = claim_due(now=NOW)
            db.session.commit()
            for message_id in ids:
                assert deliver(message_id, settings=settings, now=NOW)
                db.session.commit()
        messages = list(inbox.messages)
    assert [m["Subject"].split(" – ")[0] for m in messages] == [
        "Your session is booked",
        "Your session has changed",
        "Your session is cancelled",
    ]
    expected = [
        ("REQUEST", 0, slots[0].starts_at),
        ("REQUEST", 1, slots[3].starts_at),
        ("CANCEL", 2, slots[3].starts_at),
    ]
    for message, (method, sequence, start) in zip(messages, expected, strict=True):
        assert message["To"] == _patient().email
        body = message.get_body(("plain",)).get_content() if hasattr(message, "get_body") else ""
        parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        assert len(parts) == 1
        calendar = Calendar.from_ical(parts[0].get_payload(decode=True))
        assert str(calendar["METHOD"]) == method
        event = calendar.walk("VEVENT")[0]
        assert str(event["UID"]) == appointment.ics_uid
        assert int(event["SEQUENCE"]) == sequence
        assert event.decoded("DTSTART") == start
        assert "Follow-up acupuncture" in str(event["SUMMARY"])
        del body
    assert BASE + "/manage/" + booked.manage_token in messages[0].as_string()
    assert isinstance(inbox, Inbox)


def _booked_row(practitioner_id: int, local_start: str, minutes: int, status: str) -> None:
    """A session of one patient written straight to the table, in the small hours of DAY."""
    st, loc, _mei = _ids(COMMUNITY)
    start = datetime.fromisoformat(f"{DAY.isoformat()}T{local_start}+01:00")  # BST
    end = start + timedelta(minutes=minutes)
    db.session.add(
        Appointment(
            status=AppointmentStatus(status),
            starts_at=start,
            ends_at=end,
            busy_from=start,
            busy_until=end,
            practitioner_id=practitioner_id,
            location_id=loc,
            session_type_id=st,
            patient_id=_patient().id,
            ics_uid=f"{practitioner_id}-{local_start}@test",
        )
    )


def test_no_preference_counts_booked_minutes_not_sessions(ctx: Flask) -> None:
    st, loc, _mei = _ids(COMMUNITY)
    query = AvailabilityQuery(session_type_id=st, location_id=loc, date_from=DAY, date_to=DAY)
    slots = find_slots(query, now=NOW)
    shared = sorted(
        {s.starts_at for s in slots if sum(x.starts_at == s.starts_at for x in slots) > 1}
    )
    start = shared[0]
    low, high = sorted(s.practitioner_id for s in slots if s.starts_at == start)[:2]
    # The lower id has fewer sessions (2) but more minutes (80) than the higher id (3, 60),
    # so counting sessions or falling back to the lowest id both pick the wrong one.
    _booked_row(low, "00:00", 40, "booked")
    _booked_row(low, "01:00", 40, "completed")
    _booked_row(high, "02:00", 20, "booked")
    _booked_row(high, "02:30", 20, "checked_in")
    _booked_row(high, "03:00", 20, "booked")
    _booked_row(high, "03:30", 40, "cancelled")  # cancelled minutes do not count
    db.session.commit()
    hold = hold_slot(
        session_type_id=st,
        location_id=loc,
        practitioner_id=None,
        starts_at=start,
        hold_owner="o1",
        now=NOW,
    )
    assert hold.practitioner_id == high
