"""Everything held about one patient, section by section (GDPR Art. 15 and 20).

Each section is one function registered with `@section`: it takes a patient id and returns
plain rows (JSON-ready values). The JSON download and the readable page both walk `SECTIONS`,
so a new table (treatment plans, outcomes) is one more function here and one more entry in
docs/data-export.md. Every query filters by the patient's id, never by name or email:
families share an address.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from booking.domain.errors import NotFound
from booking.domain.privacy import hide_link_tokens
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Consent,
    ErasureRequest,
    IntakeResponse,
    OutboxMessage,
    PatientFlag,
    PatientProfile,
    User,
)

FORMAT_VERSION = 1
Row = dict[str, Any]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    about: str
    rows: Callable[[int], list[Row]]


SECTIONS: list[Section] = []


def section(key: str, title: str, about: str) -> Callable[[Callable[[int], list[Row]]], Any]:
    """Register a function as one section of the export, in the order they are defined."""

    def register(rows: Callable[[int], list[Row]]) -> Callable[[int], list[Row]]:
        if any(existing.key == key for existing in SECTIONS):
            raise ValueError(f"export section {key!r} registered twice")
        SECTIONS.append(Section(key, title, about, rows))
        return rows

    return register


def plain(value: Any) -> Any:
    """A JSON-ready value: instants in ISO 8601 UTC, dates ISO, enums by value."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _name(user: User | None) -> str | None:
    return user.display_name if user is not None else None


@section("profile", "Your details", "Your name, date of birth, contact details and account.")
def profile_rows(patient_id: int) -> list[Row]:
    patient = db.session.get_one(PatientProfile, patient_id)
    user = patient.user
    return [
        {
            "patient_id": patient.id,
            "given_name": patient.given_name,
            "family_name": patient.family_name,
            "date_of_birth": patient.date_of_birth,
            "email": patient.email,
            "phone": patient.phone,
            "contact_preference": patient.contact_preference,
            "opted_out": patient.opted_out,
            "created_at": patient.created_at,
            "anonymised_at": patient.anonymised_at,
            "account_email": user.email if user is not None else None,
            "account_created_at": user.created_at if user is not None else None,
            "last_sign_in_at": user.last_sign_in_at if user is not None else None,
        }
    ]


@section("appointments", "Your sessions", "Every session booked for you, including cancelled.")
def appointment_rows(patient_id: int) -> list[Row]:
    appointments = db.session.scalars(
        select(Appointment)
        .where(Appointment.patient_id == patient_id, Appointment.status != AppointmentStatus.held)
        .options(
            joinedload(Appointment.session_type),
            joinedload(Appointment.practitioner),
            joinedload(Appointment.location),
            joinedload(Appointment.room),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return [
        {
            "appointment_id": a.id,
            "status": a.status,
            "starts_at": a.starts_at,
            "ends_at": a.ends_at,
            "session_type": a.session_type.name,
            "practitioner": a.practitioner.display_name,
            "location": a.location.name,
            "room": a.room.name if a.room is not None else None,
            "booked_by": a.source,
            "booked_at": a.booked_at,
            "first_visit": a.is_first_visit,
            "cancelled_at": a.cancelled_at,
            "cancel_reason": a.cancel_reason,
            "late_cancel": a.late_cancel,
        }
        for a in appointments
    ]


@section("intake", "Your health questions", "Every health questionnaire you started or sent.")
def intake_rows(patient_id: int) -> list[Row]:
    responses = db.session.scalars(
        select(IntakeResponse)
        .where(IntakeResponse.patient_id == patient_id)
        .options(joinedload(IntakeResponse.questionnaire), joinedload(IntakeResponse.reviewer))
        .order_by(IntakeResponse.created_at, IntakeResponse.id)
    )
    return [
        {
            "intake_id": r.id,
            "questionnaire": r.questionnaire.key,
            "questionnaire_version": r.questionnaire.version,
            "appointment_id": r.appointment_id,
            "status": r.status,
            "answers": r.answers,
            "urgent": r.urgent,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
            "submitted_at": r.submitted_at,
            "reviewed_at": r.reviewed_at,
            "reviewed_by": _name(r.reviewer),
            "review_comment": r.review_comment,
        }
        for r in responses
    ]


@section("flags", "Health flags", "Points your answers raised for your practitioner to check.")
def flag_rows(patient_id: int) -> list[Row]:
    flags = db.session.scalars(
        select(PatientFlag)
        .where(PatientFlag.patient_id == patient_id)
        .order_by(PatientFlag.created_at, PatientFlag.id)
    )
    return [
        {
            "flag_id": f.id,
            "code": f.code,
            "severity": f.severity,
            "source": f.source,
            "intake_id": f.intake_id,
            "created_at": f.created_at,
            "cleared_at": f.cleared_at,
            "cleared_reason": f.cleared_reason,
        }
        for f in flags
    ]


@section("consents", "Consent", "Each consent you gave to a kind of treatment, and its end.")
def consent_rows(patient_id: int) -> list[Row]:
    consents = db.session.scalars(
        select(Consent)
        .where(Consent.patient_id == patient_id)
        .options(joinedload(Consent.consent_text), joinedload(Consent.recorded_by))
        .order_by(Consent.given_at, Consent.id)
    )
    return [
        {
            "consent_id": c.id,
            "modality": c.modality,
            "consent_text": c.consent_text.title,
            "consent_text_version": c.consent_text.version,
            "given_at": c.given_at,
            "method": c.method,
            "recorded_by": _name(c.recorded_by),
            "ended_at": c.ended_at,
            "withdrawn": c.withdrawn,
        }
        for c in consents
    ]


@section("emails", "Emails", "Emails we sent or will send you (links in them are left out).")
def email_rows(patient_id: int) -> list[Row]:
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.patient_id == patient_id)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    )
    return [
        {
            "email_id": m.id,
            "kind": m.kind,
            "recipient": m.recipient,
            "subject": m.subject,
            "status": m.status,
            "created_at": m.created_at,
            "sent_at": m.sent_at,
            "body": hide_link_tokens(m.body_text),
        }
        for m in messages
    ]


@section("record_access", "Who used your record", "Each time staff or you read or changed it.")
def access_rows(patient_id: int) -> list[Row]:
    events = db.session.execute(
        select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .where(AuditEvent.patient_id == patient_id)
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    ).all()
    return [
        {
            "occurred_at": event.occurred_at,
            "action": event.action,
            "by": _name(user),
            "by_role": event.actor_role,
            "object_type": event.object_type,
            "object_id": event.object_id,
        }
        for event, user in events
    ]


@section("erasure_requests", "Erasure requests", "Your requests to erase your personal data.")
def erasure_rows(patient_id: int) -> list[Row]:
    requests = db.session.scalars(
        select(ErasureRequest)
        .where(ErasureRequest.patient_id == patient_id)
        .order_by(ErasureRequest.requested_at, ErasureRequest.id)
    )
    return [
        {"requested_at": r.requested_at, "status": r.status, "handled_at": r.handled_at}
        for r in requests
    ]


def export_patient(patient_id: int, *, now: datetime, clinic_name: str) -> dict[str, Any]:
    """The whole export as plain JSON-ready data; `sections` keeps `SECTIONS` order."""
    if db.session.get(PatientProfile, patient_id) is None:
        raise NotFound("No such patient.")
    return {
        "format_version": FORMAT_VERSION,
        "generated_at": now.isoformat(),
        "controller": clinic_name,
        "patient_id": patient_id,
        "sections": {s.key: [plain(row) for row in s.rows(patient_id)] for s in SECTIONS},
    }
