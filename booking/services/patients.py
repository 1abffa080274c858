"""Patient profiles for online booking: find, create, and links sent to a patient's email."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, ContactPreference, PatientProfile
from booking.services import outbox
from booking.services.appointments import token_hash
from booking.services.drafts import FIND_YOU, create_email_link, key_hash


def profile_for_user(user_id: int) -> PatientProfile | None:
    """The profile attached to a patient account, if any."""
    return db.session.scalar(select(PatientProfile).where(PatientProfile.user_id == user_id))


def find_by_email(email: str) -> PatientProfile | None:
    """The most recent profile with this email address (families may share one)."""
    return db.session.scalar(
        select(PatientProfile)
        .where(func.lower(PatientProfile.email) == email.strip().lower())
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


def send_find_you_link(
    email: str, *, draft_key_hash: str, base_url: str, clinic_name: str, now: datetime
) -> None:
    """Email a 20-minute, single-use link back into this booking, known address or not."""
    token = create_email_link(
        purpose=FIND_YOU, email=email.strip().lower(), draft_key_hash=draft_key_hash, now=now
    )
    body = [
        "Hello,",
        "",
        "Use this link to carry on booking your session. It works once, for 20 minutes:",
        f"{base_url.rstrip('/')}/book/find-you/{token}",
        "",
        "If you did not ask for this, you can ignore this email.",
        "",
        clinic_name,
    ]
    outbox.enqueue(
        kind="booking.find_you",
        recipient=email.strip(),
        subject=f"Carry on booking – {clinic_name}",
        body_text="\n".join(body),
        dedupe_key=f"find-you:{key_hash(token)}",
        now=now,
    )


def upcoming_for_email(email: str, *, now: datetime) -> list[Appointment]:
    """Booked sessions not yet ended for any profile with this email address."""
    return list(
        db.session.scalars(
            select(Appointment)
            .join(PatientProfile, PatientProfile.id == Appointment.patient_id)
            .where(
                func.lower(PatientProfile.email) == email.strip().lower(),
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


def send_manage_links(email: str, *, base_url: str, clinic_name: str, now: datetime) -> int:
    """Email a fresh manage link for each upcoming session of this address; the old link stops.

    Sends nothing for an unknown address (the page says the same either way).
    """
    from booking.templating import format_date, format_time

    sent = 0
    for appointment in upcoming_for_email(email, now=now):
        patient = appointment.patient
        if patient is None:  # found through its patient's email: never a hold
            continue
        token = secrets.token_urlsafe(32)
        appointment.manage_token_hash = token_hash(token)
        appointment.updated_at = now
        start = appointment.starts_at.astimezone(ZoneInfo(appointment.location.timezone))
        body = [
            f"Hello {patient.given_name},",
            "",
            f"Here is a new link for your {appointment.session_type.name} on "
            f"{format_date(start)} at {format_time(start)}:",
            f"{base_url.rstrip('/')}/manage/{token}",
            "",
            "Your earlier link no longer works.",
            "",
            clinic_name,
        ]
        outbox.enqueue(
            kind="appointment.manage_link",
            recipient=patient.email,
            subject=f"Your link to change or cancel – {clinic_name}",
            body_text="\n".join(body),
            dedupe_key=f"manage-link:{appointment.id}:{token_hash(token)[:32]}",
            now=now,
        )
        sent += 1
    return sent


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
