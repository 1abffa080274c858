"""Reminders through `send-outbox` against a real SMTP server (aiosmtpd on 127.0.0.1).

Exactly once across repeated runs; none for cancelled, missed or past sessions; a moved
session's reminder follows it; a failing server still delivers once; the local time is right
the day after the clocks change; opt-out and contact preference honoured; the intake
reminder goes once to first visits whose questions are unanswered.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, IntakeStatus, OutboxMessage, OutboxStatus
from booking.models.patient import ContactPreference
from booking.services.platform.outbox import enqueue
from tests.conftest import FrozenClock, freeze_clock
from tests.factories import (
    make_appointment,
    make_intake,
    make_location,
    make_patient,
    make_practitioner,
    make_session_type,
    the_clinic,
)
from tests.smtp import Inbox, smtp_server

# Tuesday 13 April 2027, 10:00 BST.
START = datetime(2027, 4, 13, 9, 0, tzinfo=UTC)


@pytest.fixture
def smtp(app: Flask) -> Iterator[Inbox]:
    with smtp_server() as (inbox, port):
        app.config["SMTP_PORT"] = port
        yield inbox


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    return freeze_clock(monkeypatch, START - timedelta(hours=30))


def book(
    app: Flask,
    *,
    starts_at: datetime = START,
    location: dict[str, Any] | None = None,
    patient: dict[str, Any] | None = None,
    **overrides: Any,
) -> int:
    """A session booked 30 hours ahead of its start (at a new location, for a new patient,
    with these values); returns its id."""
    overrides.setdefault("booked_at", starts_at - timedelta(hours=30))
    with app.app_context():
        the_clinic()
        place = make_location(
            name="Islington",
            address="1 Upper Street, London N1",
            phone="020 7946 0000",
            **(location or {}),
        )
        session_type = make_session_type(name="Fertility support")
        practitioner = make_practitioner(display_name="Mei Lin Chen", session_types=[session_type])
        appointment = make_appointment(
            starts_at=starts_at,
            location=place,
            practitioner=practitioner,
            session_type=session_type,
            patient=make_patient(**(patient or {})),
            **overrides,
        )
        db.session.commit()
        return appointment.id


def send(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["send-outbox"])
    assert result.exit_code == 0, result.output
    return result.output


def rows(app: Flask) -> list[tuple[str, OutboxStatus]]:
    with app.app_context():
        return [
            (message.kind, message.status)
            for message in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]


def body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


@pytest.mark.matrix("T3")
def test_a_session_booked_30_hours_ahead_gets_exactly_one_24_hour_reminder(
    app: Flask, smtp: Inbox, clock: FrozenClock
) -> None:
    book(app)
    assert "Planned 0 reminder(s)" in send(app)  # 30 hours ahead: not due yet
    clock.now = START - timedelta(hours=24, minutes=1)
    send(app)
    assert smtp.messages == []
    clock.now = START - timedelta(hours=24)
    assert "Planned 1 reminder(s); sent 1 message(s)" in send(app)
    for _ in range(3):
        clock.advance(minutes=1)
        assert "Planned 0 reminder(s); sent 0 message(s)" in send(app)
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    text = body(message)
    assert "Tuesday 13 April 2027 at 10am (Islington time, BST)" in text
    assert "Practitioner: Mei Lin Chen" in text
    assert "Where: Islington, 1 Upper Street, London N1" in text
    assert (
        str(message["List-Unsubscribe"]).strip().startswith("<http://127.0.0.1:5000/unsubscribe/")
    )
    assert rows(app) == [("reminder.24h", OutboxStatus.sent)]


@pytest.mark.parametrize(
    "status", [AppointmentStatus.cancelled, AppointmentStatus.no_show, AppointmentStatus.completed]
)
def test_no_reminder_for_a_session_that_is_not_booked(
    app: Flask, smtp: Inbox, clock: FrozenClock, status: AppointmentStatus
) -> None:
    book(app, status=status)
    clock.now = START - timedelta(hours=23)
    send(app)
    assert smtp.messages == []
    assert rows(app) == []


def test_a_session_cancelled_after_planning_gets_no_reminder(
    app: Flask, smtp: Inbox, clock: FrozenClock
) -> None:
    appointment_id = book(app)
    clock.now = START - timedelta(hours=23)
    smtp.fail_next = 1  # planned, but the first attempt fails
    send(app)
    with app.app_context():
        appointment = db.session.get(Appointment, appointment_id)
        appointment.status = AppointmentStatus.cancelled
        appointment.cancelled_at = clock.now
        db.session.commit()
    clock.advance(minutes=5)
    assert "1 no longer applied" in send(app)
    assert smtp.messages == []
    assert rows(app) == [("reminder.24h", OutboxStatus.cancelled)]


def test_no_reminder_for_a_past_session_or_one_booked_inside_the_day(
    app: Flask, smtp: Inbox, clock: FrozenClock
) -> None:
    book(app, booked_at=START - timedelta(hours=3))
    clock.now = START - timedelta(hours=2)
    send(app)
    clock.now = START + timedelta(minutes=1)
    send(app)
    assert smtp.messages == []


def test_a_moved_sessions_reminder_follows_it_and_the_old_one_never_goes(
    app: Flask, smtp: Inbox, clock: FrozenClock
) -> None:
    appointment_id = book(app)
    clock.now = START - timedelta(hours=23)
    smtp.fail_next = 1  # the reminder for the old time is planned and waiting to retry
    send(app)
    moved_to = START + timedelta(days=2, hours=4)  # Thursday 15 April, 2pm BST
    with app.app_context():
        appointment = db.session.get(Appointment, appointment_id)
        length = appointment.ends_at - appointment.starts_at
        appointment.starts_at, appointment.ends_at = moved_to, moved_to + length
        appointment.busy_from, appointment.busy_until = moved_to, moved_to + length
        appointment.ics_sequence += 1
        db.session.commit()
    clock.advance(minutes=5)
    send(app)
    assert smtp.messages == []  # the old time's reminder was dropped, not sent
    clock.now = moved_to - timedelta(hours=24)
    send(app)
    send(app)
    assert len(smtp.messages) == 1
    assert "Thursday 15 April 2027 at 2pm (Islington time, BST)" in body(smtp.messages[0])
    assert rows(app) == [
        ("reminder.24h", OutboxStatus.cancelled),
        ("reminder.24h", OutboxStatus.sent),
    ]


@pytest.mark.matrix("D4")
def test_a_server_failing_twice_then_accepting_delivers_one_reminder(
    app: Flask, smtp: Inbox, clock: FrozenClock
) -> None:
    book(app)
    smtp.fail_next = 2
    clock.now = START - timedelta(hours=24)
    assert "1 failed" in send(app)
    clock.advance(seconds=30)
    send(app)  # still backing off: nothing is tried
    clock.advance(minutes=1)
    assert "1 failed" in send(app)
    clock.advance(minutes=2)
    assert "sent 1 message(s)" in send(app)
    clock.advance(minutes=10)
    send(app)
    assert len(smtp.messages) == 1
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage))
        assert (message.status, message.attempts) == (OutboxStatus.sent, 3)


@pytest.mark.matrix("T3")
def test_the_reminder_the_day_after_the_clocks_change_shows_the_local_time(
    app: Flask, smtp: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The UK's clocks go forward at 01:00 UTC on Sunday 28 March 2027; the session is on
    # Monday 29 March at 10:00 BST (09:00 UTC) and its reminder falls on the changeover day.
    monday = datetime(2027, 3, 29, 9, 0, tzinfo=UTC)
    book(app, starts_at=monday)
    clock = freeze_clock(monkeypatch, monday - timedelta(hours=24, seconds=1))
    send(app)
    assert smtp.messages == []
    clock.advance(seconds=1)  # exactly 24 hours of real time before, 09:00 UTC on Sunday
    send(app)
    assert len(smtp.messages) == 1
    assert "Monday 29 March 2027 at 10am (Islington time, BST)" in body(smtp.messages[0])


def test_a_location_can_add_the_2_hour_reminder(
    app: Flask, smtp: Inbox, clock: FrozenClock
) -> None:
    book(app, location={"reminder_2h": True})
    clock.now = START - timedelta(hours=24)
    send(app)
    clock.now = START - timedelta(hours=2)
    send(app)
    send(app)
    assert [m["Subject"] for m in smtp.messages] == [
        "Reminder: your session on 13 April – Meridian Acupuncture"
    ] * 2
    assert "later today" in body(smtp.messages[1])
    assert [kind for kind, _status in rows(app)] == ["reminder.24h", "reminder.2h"]


def test_the_clinic_can_turn_the_24_hour_reminder_off(
    app: Flask, smtp: Inbox, clock: FrozenClock
) -> None:
    with app.app_context():
        the_clinic().reminder_24h = False
        db.session.commit()
    book(app)
    clock.now = START - timedelta(hours=23)
    send(app)
    assert smtp.messages == []


@pytest.mark.parametrize(
    "patient_values",
    [{"opted_out": True}, {"contact_preference": ContactPreference.phone}],
    ids=["opted-out", "prefers-phone"],
)
def test_opt_out_and_phone_preference_stop_reminders_but_not_essential_mail(
    app: Flask, smtp: Inbox, clock: FrozenClock, patient_values: dict[str, Any]
) -> None:
    appointment_id = book(app, patient=patient_values)
    with app.app_context():
        patient = db.session.get(Appointment, appointment_id).patient
        enqueue(
            kind="appointment.cancellation",
            recipient=patient.email,
            subject="Your session is cancelled",
            body_text="Essential",
            dedupe_key="essential:1",
            now=clock.now,
            patient_id=patient.id,
        )
        db.session.commit()
    clock.now = START - timedelta(hours=23)
    send(app)
    assert [m["Subject"] for m in smtp.messages] == ["Your session is cancelled"]
    assert smtp.messages[0]["List-Unsubscribe"] is None


def test_opting_out_after_planning_stops_the_queued_reminder(
    app: Flask, smtp: Inbox, clock: FrozenClock
) -> None:
    appointment_id = book(app)
    clock.now = START - timedelta(hours=23)
    smtp.fail_next = 1
    send(app)
    with app.app_context():
        db.session.get(Appointment, appointment_id).patient.opted_out = True
        db.session.commit()
    clock.advance(minutes=5)
    send(app)
    assert smtp.messages == []
    assert rows(app) == [("reminder.24h", OutboxStatus.cancelled)]


def test_the_intake_reminder_goes_once_to_a_first_visit_with_unanswered_questions(
    app: Flask, smtp: Inbox, clock: FrozenClock
) -> None:
    book(app, is_first_visit=True, booked_at=START - timedelta(days=5))
    clock.now = START - timedelta(hours=48)
    send(app)
    for _ in range(3):
        clock.advance(hours=1)
        send(app)
    assert [m["Subject"] for m in smtp.messages] == [
        "Health questions before your session – Meridian Acupuncture"
    ]
    assert "/unsubscribe/" in body(smtp.messages[0])
    clock.now = START - timedelta(hours=24)
    send(app)
    assert [kind for kind, _status in rows(app)] == ["reminder.intake", "reminder.24h"]


def test_no_intake_reminder_once_the_questions_are_answered(
    app: Flask, smtp: Inbox, clock: FrozenClock
) -> None:
    appointment_id = book(app, is_first_visit=True, booked_at=START - timedelta(days=5))
    with app.app_context():
        make_intake(
            appointment=db.session.get(Appointment, appointment_id),
            now=START - timedelta(days=4),
            status=IntakeStatus.submitted,
        )
        db.session.commit()
    clock.now = START - timedelta(hours=47)
    send(app)
    assert smtp.messages == []


def test_the_clinic_can_turn_the_automatic_intake_reminder_off(
    app: Flask, smtp: Inbox, clock: FrozenClock
) -> None:
    with app.app_context():
        the_clinic().intake_reminder_auto = False
        db.session.commit()
    book(app, is_first_visit=True, booked_at=START - timedelta(days=5))
    clock.now = START - timedelta(hours=47)
    send(app)
    assert smtp.messages == []


SECRETS = (
    "PREGNANT-SECRET-ANSWER",  # an intake answer
    "anticoagulants",  # a flag code
    "REVIEW-COMMENT-SECRET",  # reception's note on the answers
    "CANCEL-REASON-SECRET",  # a note on the session
    "Fertility support",  # a session type naming a condition (only with details on)
    "PLAN-DESCRIPTION-SECRET",  # the session type's description (treatment plan text)
)


@pytest.mark.parametrize("details", [False, True], ids=["default", "details-on"])
def test_reminders_never_carry_answers_flags_notes_or_plan_text(
    app: Flask, smtp: Inbox, clock: FrozenClock, details: bool
) -> None:
    """Every template the planner renders (24-hour, 2-hour, intake), for a patient with all of
    them: only the clinic, time, place and practitioner (and the session type if allowed)."""
    from booking.models import FlagSeverity, PatientFlag, SessionType

    with app.app_context():
        clinic = the_clinic()
        clinic.reminder_2h = True
        clinic.reminder_details = details
        db.session.commit()
    appointment_id = book(
        app,
        is_first_visit=True,
        booked_at=START - timedelta(days=5),
        cancel_reason="CANCEL-REASON-SECRET",
    )
    with app.app_context():
        appointment = db.session.get(Appointment, appointment_id)
        db.session.get(
            SessionType, appointment.session_type_id
        ).description = "PLAN-DESCRIPTION-SECRET"
        make_intake(
            appointment=appointment,
            now=START - timedelta(days=4),
            answers={"pregnant": "PREGNANT-SECRET-ANSWER", "medication": "anticoagulants"},
            review_comment="REVIEW-COMMENT-SECRET",
        )
        db.session.add(
            PatientFlag(
                patient_id=appointment.patient_id,
                code="anticoagulants",
                severity=FlagSeverity.precaution,
                source="intake",
            )
        )
        db.session.commit()
    for hours in (48, 24, 2):
        clock.now = START - timedelta(hours=hours)
        send(app)
    assert [kind for kind, _status in rows(app)] == [
        "reminder.intake",
        "reminder.24h",
        "reminder.2h",
    ]
    assert len(smtp.messages) == 3
    for message in smtp.messages:
        text = f"{message['Subject']}\n{body(message)}"
        assert "Mei Lin Chen" in text or message["Subject"].startswith("Health questions")
        for secret in SECRETS:
            if details and secret == "Fertility support":
                continue  # the clinic allowed naming the session type (checked below)
            assert secret not in text, (secret, text)
    named = ["Fertility support" in body(message) for message in smtp.messages[1:]]
    assert named == [details, details]


@pytest.mark.parametrize("details", [False, True], ids=["default", "details-on"])
def test_a_plan_sessions_reminder_says_session_k_of_n_only_with_details_on(
    app: Flask, smtp: Inbox, clock: FrozenClock, details: bool
) -> None:
    from booking.models import PlanAppointment, PlanPhase, PlanStatus, TreatmentPlan

    appointment_id = book(app)
    with app.app_context():
        the_clinic().reminder_details = details
        appointment = db.session.get_one(Appointment, appointment_id)
        plan = TreatmentPlan(
            patient_id=appointment.patient_id,
            practitioner_id=appointment.practitioner_id,
            location_id=appointment.location_id,
            goal="Walk further",
            status=PlanStatus.active,
        )
        plan.phases = [
            PlanPhase(
                session_type_id=appointment.session_type_id,
                count=4,
                weekday=1,
                local_time=START.time(),
            )
        ]
        db.session.add(plan)
        db.session.flush()
        db.session.add(PlanAppointment(appointment_id=appointment_id, plan_id=plan.id))
        db.session.commit()
    clock.now = START - timedelta(hours=24)
    send(app)
    assert len(smtp.messages) == 1
    words = "This is session 1 of 4 of your treatment plan."
    assert (words in body(smtp.messages[0])) is details
