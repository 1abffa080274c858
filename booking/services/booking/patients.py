"""Patient profiles for online booking: find, create, and list their sessions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    ContactPreference,
    Location,
    PatientProfile,
    User,
)
from booking.services.platform.audit import record_event
from booking.services.platform.emails import normalise_email


def profile_for_user(user_id: int) -> PatientProfile | None:
    """The profile attached to a patient account, if any."""
    return db.session.scalar(select(PatientProfile).where(PatientProfile.user_id == user_id))


def find_by_email(email: str) -> PatientProfile | None:
    """The most recent profile with this email address (families may share one)."""
    return db.session.scalar(
        select(PatientProfile)
        .where(func.lower(PatientProfile.email) == normalise_email(email))
        .order_by(PatientProfile.id.desc())
        .limit(1)
    )


def create_patient(
    *,
    given_name: str,
    family_name: str,
    date_of_birth: date | None,
    email: str,
    phone: str | None,
    contact_preference: str,
    now: datetime,
) -> PatientProfile:
    """A guest profile (no account) for someone booking online."""
    profile = PatientProfile(
        given_name=given_name.strip()[:100],
        family_name=family_name.strip()[:100],
        date_of_birth=date_of_birth,
        email=email.strip()[:254],
        phone=phone,
        contact_preference=ContactPreference(contact_preference),
        created_at=now,
    )
    db.session.add(profile)
    db.session.flush()
    return profile


def last_seen_practitioner_id(patient_id: int) -> int | None:
    """The practitioner of the patient's latest attended session (checked in or completed)."""
    return db.session.scalar(
        select(Appointment.practitioner_id)
        .where(
            Appointment.patient_id == patient_id,
            Appointment.status.in_([AppointmentStatus.completed, AppointmentStatus.checked_in]),
        )
        .order_by(Appointment.starts_at.desc())
        .limit(1)
    )


def upcoming_for_email(email: str, *, now: datetime) -> list[Appointment]:
    """Booked sessions not yet ended for any profile with this email address."""
    return list(
        db.session.scalars(
            select(Appointment)
            .join(PatientProfile, PatientProfile.id == Appointment.patient_id)
            .where(
                func.lower(PatientProfile.email) == normalise_email(email),
                Appointment.status == AppointmentStatus.booked,
                Appointment.ends_at > now,
            )
            .options(
                selectinload(Appointment.location),
                selectinload(Appointment.session_type),
                selectinload(Appointment.practitioner),
                selectinload(Appointment.patient),
            )
            .order_by(Appointment.starts_at)
        )
    )


def sessions_of(profile_id: int) -> list[Appointment]:
    """A patient's sessions (holds excluded), oldest first, with what listings show."""
    return list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.patient_id == profile_id,
                Appointment.status != AppointmentStatus.held,
            )
            .options(
                selectinload(Appointment.practitioner),
                selectinload(Appointment.session_type),
                selectinload(Appointment.location),
            )
            .order_by(Appointment.starts_at)
        )
    )


def update_contact(
    profile: PatientProfile, *, phone: str, contact_preference: str, actor: User, now: datetime
) -> None:
    """A patient's own phone (E.164, checked by the form) and how to contact them; audited."""
    profile.phone = phone[:20]
    profile.contact_preference = ContactPreference(contact_preference)
    record_event(
        "patient.contact_update",
        actor=actor,
        now=now,
        object_type="patient",
        object_id=profile.id,
        patient_id=profile.id,
    )
    db.session.flush()


def home_region(profile: PatientProfile | None) -> str:
    """The country phone numbers are read in: the patient's latest session's location's."""
    if profile is None:
        return "GB"
    code = db.session.scalar(
        select(Location.country_code)
        .join(Appointment, Appointment.location_id == Location.id)
        .where(Appointment.patient_id == profile.id)
        .order_by(Appointment.starts_at.desc())
        .limit(1)
    )
    return code or "GB"
