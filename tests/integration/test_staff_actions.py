"""Staff changes to an appointment (booking.services.booking.staff_actions), on both engines."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy import select

from booking.domain.errors import InvalidInput, NotFound, PolicyRefused, SlotTaken
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    OutboxMessage,
    Practitioner,
    Role,
    SessionType,
    User,
)
from booking.services.booking import staff_actions as actions
from tests.factories import (
    make_appointment,
    make_hours,
    make_location,
    make_practitioner,
    make_session_type,
    make_user,
)

# Wednesday 14 April 2027: 09:00 London is 08:00 UTC.
START = datetime(2027, 4, 14, 8, 0, tzinfo=UTC)
BEFORE = START - timedelta(minutes=1)
DURING = START + timedelta(minutes=5)
NEXT_DAY = START + timedelta(days=1)
BASE = "http://127.0.0.1:5000"
CLINIC = "Meridian Acupuncture"


@dataclass
class World:
    mei: Practitioner
    tom: Practitioner
    session_type: SessionType
    appointment: Appointment
    staff: User


@pytest.fixture
def world(app: Flask) -> Iterator[World]:
    with app.app_context():
        location = make_location()
        session_type = make_session_type(buffer_after_minutes=5)
        mei = make_practitioner(display_name="Mei Lin Chen", session_types=[session_type])
        tom = make_practitioner(display_name="Tom Okafor", session_types=[session_type])
        make_hours(practitioner=mei, location=location)
        appointment = make_appointment(
            starts_at=START, practitioner=mei, location=location, session_type=session_type
        )
        staff = make_user(role=Role.receptionist)
        db.session.commit()
        yield World(mei, tom, session_type, appointment, staff)


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_staff_appointment_is_scoped_to_one_practitioner(world: World) -> None:
    found = actions.staff_appointment(world.appointment.id, practitioner_id=world.mei.id)
    assert found.id == world.appointment.id
    assert actions.staff_appointment(world.appointment.id).id == world.appointment.id
    with pytest.raises(NotFound):
        actions.staff_appointment(world.appointment.id, practitioner_id=world.tom.id)
    with pytest.raises(NotFound):
        actions.staff_appointment(world.appointment.id + 999)


def test_no_show_is_refused_before_the_start_and_undone_the_same_day(world: World) -> None:
    appt = world.appointment
    with pytest.raises(PolicyRefused) as refused:
        actions.mark_no_show(appt, actor=world.staff, now=BEFORE)
    assert refused.value.code == "not_started"
    assert appt.status == AppointmentStatus.booked

    actions.mark_no_show(appt, actor=world.staff, now=DURING)
    db.session.commit()
    assert appt.status == AppointmentStatus.no_show
    (event,) = _events("appointment.no_show")
    assert (event.actor_user_id, event.object_id) == (world.staff.id, appt.id)

    with pytest.raises(PolicyRefused) as late:
        actions.undo_outcome(appt, actor=world.staff, now=NEXT_DAY)
    assert late.value.code == "undo_too_late"
    actions.undo_outcome(appt, actor=world.staff, now=START + timedelta(hours=10))
    db.session.commit()
    assert appt.status == AppointmentStatus.booked
    assert len(_events("appointment.undo_outcome")) == 1


def test_completed_needs_the_start_and_can_be_undone(world: World) -> None:
    appt = world.appointment
    with pytest.raises(PolicyRefused):
        actions.mark_completed(appt, actor=world.staff, now=BEFORE)
    actions.mark_completed(appt, actor=world.staff, now=DURING)
    assert appt.status == AppointmentStatus.completed
    with pytest.raises(PolicyRefused) as twice:
        actions.mark_no_show(appt, actor=world.staff, now=DURING)
    assert twice.value.code == "wrong_status"
    actions.undo_outcome(appt, actor=world.staff, now=DURING)
    assert appt.status == AppointmentStatus.booked
    db.session.commit()


def test_check_in_only_on_the_day_and_undo(world: World) -> None:
    appt = world.appointment
    with pytest.raises(PolicyRefused) as early:
        actions.check_in(appt, actor=world.staff, now=START - timedelta(days=1))
    assert early.value.code == "not_today"
    actions.check_in(appt, actor=world.staff, now=BEFORE - timedelta(hours=1))
    assert appt.status == AppointmentStatus.checked_in
    with pytest.raises(PolicyRefused):
        actions.mark_no_show(appt, actor=world.staff, now=DURING)
    actions.undo_check_in(appt, actor=world.staff, now=BEFORE)
    assert appt.status == AppointmentStatus.booked
    with pytest.raises(PolicyRefused):
        actions.undo_check_in(appt, actor=world.staff, now=BEFORE)
    db.session.commit()
    assert [e.detail for e in _events("appointment.check_in")] == ["booked->checked_in"]


def test_undoing_a_no_show_never_overlaps_a_session_booked_since(world: World) -> None:
    appt = world.appointment
    actions.mark_no_show(appt, actor=world.staff, now=DURING)
    db.session.commit()
    make_appointment(
        starts_at=START,
        practitioner=world.mei,
        location=appt.location,
        session_type=world.session_type,
        source="staff",
    )
    db.session.commit()
    with pytest.raises(SlotTaken):
        actions.undo_outcome(appt, actor=world.staff, now=DURING)
    db.session.rollback()
    assert db.session.get(Appointment, appt.id).status == AppointmentStatus.no_show


def test_cancel_needs_a_reason_and_emails_the_patient(world: World) -> None:
    appt = world.appointment
    with pytest.raises(InvalidInput) as blank:
        actions.staff_cancel(
            appt, actor=world.staff, now=BEFORE, reason="  ", base_url=BASE, clinic_name=CLINIC
        )
    assert blank.value.field == "reason"
    actions.staff_cancel(
        appt,
        actor=world.staff,
        now=BEFORE,
        reason="Practitioner unwell",
        base_url=BASE,
        clinic_name=CLINIC,
    )
    db.session.commit()
    assert (appt.status, appt.cancel_reason, appt.late_cancel) == (
        AppointmentStatus.cancelled,
        "Practitioner unwell",
        False,
    )
    (message,) = db.session.scalars(select(OutboxMessage)).all()
    assert message.kind == "appointment.cancellation"
    event = Calendar.from_ical(message.ics).walk("VEVENT")[0]
    assert (str(event["uid"]), int(event["sequence"])) == (appt.ics_uid, 1)
    assert [e.detail for e in _events("appointment.cancel")] == ["staff"]
    assert "unwell" not in (message.body_text or "")


def test_reschedule_moves_to_a_free_time_and_sends_an_updated_calendar(world: World) -> None:
    appt = world.appointment
    now = START - timedelta(days=2)
    free = actions.free_times(appt, day=START.date(), now=now)
    assert START not in {slot.starts_at for slot in free}
    target = next(s.starts_at for s in free if s.starts_at >= START + timedelta(hours=2))
    uid = appt.ics_uid
    actions.staff_reschedule(
        appt, starts_at=target, actor=world.staff, now=now, base_url=BASE, clinic_name=CLINIC
    )
    db.session.commit()
    assert (appt.starts_at, appt.ics_uid, appt.ics_sequence) == (target, uid, 1)
    (message,) = db.session.scalars(select(OutboxMessage)).all()
    assert message.kind == "appointment.change"
    event = Calendar.from_ical(message.ics).walk("VEVENT")[0]
    assert (str(event["uid"]), int(event["sequence"])) == (uid, 1)
    assert event.decoded("dtstart") == target
    assert [e.detail for e in _events("appointment.reschedule")] == ["staff"]


def test_reschedule_never_overlaps_and_needs_a_reason_to_override_notice(world: World) -> None:
    appt = world.appointment
    other = make_appointment(
        starts_at=START + timedelta(hours=3),
        practitioner=world.mei,
        location=appt.location,
        session_type=world.session_type,
    )
    db.session.commit()
    now = START - timedelta(days=2)
    with pytest.raises(SlotTaken):
        actions.staff_reschedule(
            appt,
            starts_at=other.starts_at,
            actor=world.staff,
            now=now,
            base_url=BASE,
            clinic_name=CLINIC,
        )
    db.session.rollback()
    soon = START + timedelta(hours=1)
    with pytest.raises(PolicyRefused):
        actions.staff_reschedule(
            appt, starts_at=soon, actor=world.staff, now=START, base_url=BASE, clinic_name=CLINIC
        )
    db.session.rollback()
    with pytest.raises(InvalidInput):
        actions.staff_reschedule(
            appt,
            starts_at=soon,
            actor=world.staff,
            now=START,
            base_url=BASE,
            clinic_name=CLINIC,
            override_reason=" ",
        )
    actions.staff_reschedule(
        appt,
        starts_at=soon,
        actor=world.staff,
        now=START - timedelta(minutes=30),
        base_url=BASE,
        clinic_name=CLINIC,
        override_reason="Patient phoned, running late",
    )
    db.session.commit()
    assert appt.starts_at == soon
    assert [e.detail for e in _events("appointment.reschedule")] == [
        "override: Patient phoned, running late"
    ]


def test_a_cancelled_session_cannot_be_moved_or_marked(world: World) -> None:
    appt = world.appointment
    appt.status = AppointmentStatus.cancelled
    db.session.commit()
    for change in (
        lambda: actions.mark_completed(appt, actor=world.staff, now=DURING),
        lambda: actions.check_in(appt, actor=world.staff, now=BEFORE),
        lambda: actions.staff_reschedule(
            appt,
            starts_at=START + timedelta(hours=2),
            actor=world.staff,
            now=BEFORE - timedelta(days=1),
            base_url=BASE,
            clinic_name=CLINIC,
        ),
    ):
        with pytest.raises(PolicyRefused):
            change()
