"""The treating rule (services/clinic/care.py) over every appointment status, on both engines."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, Role, User
from booking.services.clinic import care
from booking.services.intake import staff as staff_service
from tests.web.intake_helpers import book_first_visit, new_guest_patient


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


@pytest.mark.parametrize(
    ("status", "treats"),
    [
        (AppointmentStatus.booked, True),  # a session to come
        (AppointmentStatus.checked_in, True),  # in the room now
        (AppointmentStatus.completed, True),  # treated before
        (AppointmentStatus.cancelled, False),  # issue 13.2: book, cancel, read was possible
        (AppointmentStatus.no_show, False),  # never seen
    ],
)
def test_only_a_treating_session_gives_a_practitioner_the_record(
    demo: Flask, status: AppointmentStatus, treats: bool
) -> None:
    booked = book_first_visit(demo, new_guest_patient(demo), practitioner="Mei Lin Chen")
    with demo.app_context():
        db.session.get(Appointment, booked.appointment_id).status = status
        db.session.commit()
        mei = _user("mei.chen@meridian.example")
        tom = _user("tom.okafor@meridian.example")
        reception = db.session.scalar(select(User).where(User.role == Role.receptionist))
        admin = db.session.scalar(select(User).where(User.role == Role.admin))
        mei_id = care.practitioner_id_of(mei)
        assert care.treats(mei_id, booked.patient_id) is treats
        assert care.may_read_patient(booked.patient_id, actor=mei) is treats
        assert staff_service.staff_may_read(booked.patient_id, actor=mei) is treats
        # Another practitioner never; reception always; admins never (domain.md §6).
        assert not care.may_read_patient(booked.patient_id, actor=tom)
        assert care.may_read_patient(booked.patient_id, actor=reception)
        assert not care.may_read_patient(booked.patient_id, actor=admin)
