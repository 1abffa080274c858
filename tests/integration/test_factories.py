"""The test factories make valid rows on both engines, and each default can be overridden."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import AppointmentStatus, Clinic, IntakeStatus, Role
from booking.services.accounts.passwords import verify_password
from tests.factories import (
    CHEAP_COST,
    PASSWORD,
    make_appointment,
    make_intake,
    make_location,
    make_patient,
    make_practitioner,
    make_session_type,
    make_user,
)


def test_an_appointment_brings_everything_it_needs(app: Flask) -> None:
    with app.app_context():
        appointment = make_appointment()
        db.session.commit()
        assert appointment.status == AppointmentStatus.booked
        assert appointment.patient is not None
        assert appointment.session_type in appointment.practitioner.session_types
        assert appointment.location.timezone == "Europe/London"
        assert db.session.scalar(select(func.count(Clinic.id))) == 1


def test_overrides_win_and_unique_values_do_not_clash(app: Flask) -> None:
    with app.app_context():
        session_type = make_session_type(duration_minutes=40, buffer_after_minutes=5)
        practitioner = make_practitioner(display_name="Ada", session_types=[session_type])
        location = make_location(name="Camden")
        start = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)
        hold = make_appointment(
            starts_at=start,
            practitioner=practitioner,
            location=location,
            session_type=session_type,
            status="held",
        )
        later = make_appointment(
            starts_at=hold.busy_until,
            practitioner=practitioner,
            location=location,
            session_type=session_type,
            patient=make_patient(given_name="Bo"),
        )
        db.session.commit()
        assert hold.patient_id is None
        assert hold.hold_expires_at is not None
        assert (hold.ends_at - hold.starts_at).total_seconds() == 40 * 60
        assert hold.busy_until == hold.ends_at + (later.busy_until - later.ends_at)
        assert later.patient.given_name == "Bo"
        assert make_location().slug != location.slug
        assert practitioner.user.role == Role.practitioner


def test_users_sign_in_with_the_factory_password(app: Flask) -> None:
    with app.app_context():
        user = make_user(role=Role.receptionist)
        assert verify_password(user, PASSWORD, cost=CHEAP_COST)


def test_an_intake_starts_on_the_published_questionnaire(app: Flask) -> None:
    with app.app_context():
        intake = make_intake(current_page="concern")
        db.session.commit()
        assert intake.status == IntakeStatus.draft
        assert intake.questionnaire.version == 1
        assert intake.patient_id == intake.appointment.patient_id
        assert intake.current_page == "concern"
