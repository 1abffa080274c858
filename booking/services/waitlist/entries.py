"""Joining, listing and leaving the waitlist."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from booking.domain.errors import InvalidInput, NotFound
from booking.domain.waitlist import encode_parts, encode_weekdays
from booking.extensions import db
from booking.models import (
    Location,
    PatientProfile,
    Practitioner,
    SessionType,
    User,
    WaitlistEntry,
    WaitlistStatus,
)
from booking.services.booking.patients import create_patient
from booking.services.platform.audit import record_event

ENTRY_DAYS = 60  # an entry stops being offered times after this long


def join(
    patient: PatientProfile,
    *,
    session_type_id: int,
    location_id: int,
    practitioner_id: int | None,
    weekdays: list[int],
    day_parts: list[str],
    now: datetime,
    actor: User | None,
    source: str = "online",
) -> WaitlistEntry:
    """Add the patient to the waitlist; the same wish twice updates the first entry."""
    session_type = db.session.get(SessionType, session_type_id)
    location = db.session.get(Location, location_id)
    if session_type is None or not session_type.is_active or location is None:
        raise InvalidInput("Choose a session and a place.")
    if practitioner_id is not None:
        practitioner = db.session.get(Practitioner, practitioner_id)
        if practitioner is None or session_type not in practitioner.session_types:
            raise InvalidInput("Choose a practitioner who offers this session, or any.")
    entry = db.session.scalar(
        select(WaitlistEntry).where(
            WaitlistEntry.patient_id == patient.id,
            WaitlistEntry.session_type_id == session_type_id,
            WaitlistEntry.location_id == location_id,
            WaitlistEntry.practitioner_id.is_(None)
            if practitioner_id is None
            else WaitlistEntry.practitioner_id == practitioner_id,
            WaitlistEntry.status == WaitlistStatus.waiting,
            WaitlistEntry.expires_at > now,
        )
    )
    if entry is None:
        entry = WaitlistEntry(
            patient_id=patient.id,
            session_type_id=session_type_id,
            location_id=location_id,
            practitioner_id=practitioner_id,
            source=source,
            created_at=now,
        )
        db.session.add(entry)
    entry.weekdays = encode_weekdays(weekdays)
    entry.day_parts = encode_parts(day_parts)
    entry.expires_at = now + timedelta(days=ENTRY_DAYS)
    entry.updated_at = now
    db.session.flush()
    record_event(
        "waitlist.join",
        actor=actor,
        now=now,
        object_type="waitlist_entry",
        object_id=entry.id,
        patient_id=patient.id,
        detail=source,
    )
    return entry


def _listing() -> Select[WaitlistEntry]:
    return select(WaitlistEntry).options(
        selectinload(WaitlistEntry.patient),
        selectinload(WaitlistEntry.session_type),
        selectinload(WaitlistEntry.location),
        selectinload(WaitlistEntry.practitioner),
    )


def entries_of(patient_id: int, *, now: datetime) -> list[WaitlistEntry]:
    """The patient's own waiting entries, oldest first."""
    return list(
        db.session.scalars(
            _listing()
            .where(
                WaitlistEntry.patient_id == patient_id,
                WaitlistEntry.status == WaitlistStatus.waiting,
                WaitlistEntry.expires_at > now,
            )
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        )
    )


def waiting_entries(*, now: datetime, location_id: int | None = None) -> list[WaitlistEntry]:
    """Everyone waiting (not expired), oldest first: the order offers go out in."""
    query = _listing().where(
        WaitlistEntry.status == WaitlistStatus.waiting, WaitlistEntry.expires_at > now
    )
    if location_id is not None:
        query = query.where(WaitlistEntry.location_id == location_id)
    return list(db.session.scalars(query.order_by(WaitlistEntry.created_at, WaitlistEntry.id)))


def get_entry(entry_id: int, *, patient_id: int | None = None) -> WaitlistEntry:
    """An entry by id (only the patient's own when `patient_id` is given), or NotFound."""
    entry = db.session.get(WaitlistEntry, entry_id)
    if entry is None or (patient_id is not None and entry.patient_id != patient_id):
        raise NotFound("That waitlist entry does not exist.")
    return entry


def remove(entry: WaitlistEntry, *, now: datetime, actor: User | None) -> None:
    """Take an entry off the list (no more offers); removing twice changes nothing."""
    if entry.status != WaitlistStatus.waiting:
        return
    entry.status = WaitlistStatus.removed
    entry.updated_at = now
    record_event(
        "waitlist.remove",
        actor=actor,
        now=now,
        object_type="waitlist_entry",
        object_id=entry.id,
        patient_id=entry.patient_id,
    )


def find_patient(email: str, given_name: str) -> PatientProfile:
    """Reception's look-up: the one patient with this email address and first name."""
    patients = list(
        db.session.scalars(
            select(PatientProfile).where(
                func.lower(PatientProfile.email) == email.strip().lower(),
                func.lower(PatientProfile.given_name) == given_name.strip().lower(),
            )
        )
    )
    if not patients:
        raise NotFound("No patient has that email address and first name.")
    if len(patients) > 1:
        raise NotFound("More than one patient matches: check the details with the patient.")
    return patients[0]


def guest_patient(
    *, given_name: str, family_name: str, email: str, now: datetime
) -> PatientProfile:
    """The guest profile (no account) with these names and email, made if new."""
    found = db.session.scalar(
        select(PatientProfile)
        .where(
            PatientProfile.user_id.is_(None),
            func.lower(PatientProfile.email) == email.strip().lower(),
            func.lower(PatientProfile.given_name) == given_name.strip().lower(),
            func.lower(PatientProfile.family_name) == family_name.strip().lower(),
        )
        .order_by(PatientProfile.id.desc())
        .limit(1)
    )
    return found or create_patient(
        given_name=given_name,
        family_name=family_name,
        date_of_birth=None,
        email=email,
        phone=None,
        contact_preference="email",
        now=now,
    )
