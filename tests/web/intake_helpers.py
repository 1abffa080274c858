"""Helpers for intake tests: first-visit appointments, patients with accounts, answer sets."""

from __future__ import annotations

import hashlib
import itertools
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    BookingSource,
    Location,
    PatientProfile,
    Practitioner,
    Role,
    SessionType,
    User,
)
from booking.services.intake.links import link_token
from tests.conftest import CHEAP_COST, DEMO_EMAILS, DEMO_PASSWORD

_SLOT = itertools.count()
FIRST_TYPE = "first-acupuncture-session"


@dataclass(frozen=True)
class Booked:
    appointment_id: int
    patient_id: int
    token: str  # the intake link token
    manage_token: str

    @property
    def start_url(self) -> str:
        return f"/intake/start/{self.appointment_id}/{self.token}"


def future_start(offset_days: int = 7) -> datetime:
    """A distinct 10:00 UTC start some days ahead of the real clock (intake views use it)."""
    slot = next(_SLOT)
    day = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    return day + timedelta(days=offset_days + slot // 8, hours=slot % 8)


def patient_with_account(app: Flask, email: str, given: str = "Sam", family: str = "Rivers") -> int:
    """A patient profile with its own sign-in (password DEMO_PASSWORD)."""
    from booking.services.accounts.passwords import hash_password

    with app.app_context():
        user = User(
            email=email,
            password_hash=hash_password(
                DEMO_PASSWORD,
                cost=(
                    CHEAP_COST["ARGON2_TIME_COST"],
                    CHEAP_COST["ARGON2_MEMORY_COST"],
                    CHEAP_COST["ARGON2_PARALLELISM"],
                ),
            ),
            role=Role.patient,
            display_name=f"{given} {family}",
        )
        db.session.add(user)
        db.session.flush()
        profile = PatientProfile(user_id=user.id, given_name=given, family_name=family, email=email)
        db.session.add(profile)
        db.session.commit()
        return profile.id


def demo_patient_id(app: Flask) -> int:
    """Alex Morgan, the demo patient with an account."""
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == DEMO_EMAILS["patient"]))
        return db.session.scalar(select(PatientProfile.id).where(PatientProfile.user_id == user_id))


def guest_patient_id(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(
            select(PatientProfile.id)
            .where(PatientProfile.user_id.is_(None))
            .order_by(PatientProfile.id)
            .limit(1)
        )


def book_first_visit(
    app: Flask,
    patient_id: int,
    *,
    practitioner: str = "Mei Lin Chen",
    starts_at: datetime | None = None,
    session_type: str = FIRST_TYPE,
    first_visit: bool = True,
    location: str = "islington",
) -> Booked:
    """A booked session inserted directly (the booking journey has its own tests)."""
    with app.app_context():
        start = starts_at or future_start()
        st = db.session.scalar(select(SessionType).where(SessionType.slug == session_type))
        who = db.session.scalar(
            select(Practitioner).where(Practitioner.display_name == practitioner)
        )
        where = db.session.scalar(select(Location).where(Location.slug == location))
        manage = secrets.token_urlsafe(32)
        end = start + timedelta(minutes=st.duration_minutes)
        appointment = Appointment(
            status=AppointmentStatus.booked,
            starts_at=start,
            ends_at=end,
            busy_from=start,
            busy_until=end + timedelta(minutes=st.buffer_after_minutes),
            practitioner_id=who.id,
            location_id=where.id,
            patient_id=patient_id,
            session_type_id=st.id,
            source=BookingSource.staff,
            manage_token_hash=hashlib.sha256(manage.encode()).hexdigest(),
            ics_uid=f"intake-test-{secrets.token_hex(8)}@meridian",
            is_first_visit=first_visit,
            booked_at=start - timedelta(days=7),
        )
        db.session.add(appointment)
        db.session.commit()
        token = link_token(appointment, secret=app.config["SECRET_KEY"])
        return Booked(appointment.id, patient_id, token or "", manage)


# Answers that pass every page of version 1 with no flags at all.
CALM_ANSWERS: dict[str, dict[str, Any]] = {
    "concern": {"concern": "Stiff lower back after long drives", "body_regions": ["lower_back"]},
    "onset": {"onset": "3_to_12_months"},
    "pain": {"pain_now": "4", "pain_average": "5"},
    "daily_life": {"peg_enjoyment": "3", "peg_activity": "6"},
    "warning_signs": {
        "rf_saddle_numbness": "no",
        "rf_bladder_bowel": "no",
        "rf_leg_weakness": "no",
        "rf_fever": "no",
        "rf_weight_loss": "no",
        "rf_cancer_history": "no",
        "rf_recent_injury": "no",
    },
    "medical_history": {"conditions": ["none"], "history_details": ""},
    "medicines": {"anticoagulants": "no", "medicines": ""},
    "allergies": {"allergies": ["none"], "allergy_details": ""},
    "pregnancy": {"pregnancy": "no"},
    "implants": {"implants": "no"},
    "bleeding": {"bleeding_disorder": "no"},
    "needles": {"needle_fainting": "no"},
    "skin": {"skin_problem": "no", "skin_details": ""},
    "emergency_contact": {
        "ec_name": "Robin Lee",
        "ec_phone": "07400 900 123",
        "ec_relationship": "",
    },
    "gp": {"gp_name": "", "gp_practice": ""},
    "consent-needling": {"consent_needling": "yes"},
}
PAGE_ORDER = list(CALM_ANSWERS)


def flat_answers(**overrides: Any) -> dict[str, Any]:
    """CALM_ANSWERS as one dict of answers by key, with overrides."""
    answers: dict[str, Any] = {}
    for page in CALM_ANSWERS.values():
        answers.update(page)
    answers.update(overrides)
    return answers


def new_guest_patient(app: Flask, given: str = "Jo", family: str = "Guest") -> int:
    """A fresh guest profile (no account), so tests do not share a patient."""
    with app.app_context():
        profile = PatientProfile(
            given_name=given, family_name=family, email=f"{secrets.token_hex(4)}@example.com"
        )
        db.session.add(profile)
        db.session.commit()
        return profile.id
