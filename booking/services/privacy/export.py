"""Everything held about one patient, section by section (GDPR Art. 15 and 20).

Each section is one function registered with `@section`: it takes a patient id and returns
plain rows (JSON-ready values). The JSON download and the readable page both walk `SECTIONS`,
so a new table is one more function here and one more entry in
docs/data-export.md. Every query filters by the patient's id, never by name or email:
families share an address.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from booking.domain.errors import NotFound
from booking.domain.privacy import hide_link_tokens
from booking.extensions import db
from booking.models import (
    AftercareCheckin,
    Appointment,
    AppointmentStatus,
    AuditEvent,
    ClinicalNote,
    Consent,
    ErasureRequest,
    IntakeResponse,
    NoteAddendum,
    NoteFollowUp,
    OutboxMessage,
    OutcomeRecord,
    PatientFlag,
    PatientProfile,
    PlanAppointment,
    PlanChangeRequest,
    PlanPhase,
    SideEffectReport,
    TreatmentPlan,
    User,
    WaitlistEntry,
    WaitlistOffer,
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


def _notes_of(patient_id: int) -> Any:
    return select(ClinicalNote.id).where(ClinicalNote.patient_id == patient_id)


def _plans_of(patient_id: int) -> Any:
    return select(TreatmentPlan.id).where(TreatmentPlan.patient_id == patient_id)


@section(
    "clinical_notes",
    "Treatment notes",
    "What your practitioner wrote about each session, drafts and signed notes.",
)
def note_rows(patient_id: int) -> list[Row]:
    notes = db.session.scalars(
        select(ClinicalNote)
        .where(ClinicalNote.patient_id == patient_id)
        .options(joinedload(ClinicalNote.practitioner), joinedload(ClinicalNote.author))
        .order_by(ClinicalNote.created_at, ClinicalNote.id)
    ).all()
    signers = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.id.in_({n.signed_by_id for n in notes if n.signed_by_id}))
        )
    }
    return [
        {
            "note_id": n.id,
            "appointment_id": n.appointment_id,
            "practitioner": n.practitioner.display_name,
            "written_by": _name(n.author),
            "chief_complaint": n.chief_complaint,
            "pain_score": n.pain_score,
            "response": n.response,
            "tongue_colour": n.tongue_colour,
            "tongue_coating": n.tongue_coating,
            "tongue_shape": n.tongue_shape,
            "pulse_positions": n.pulse_positions,
            "pulse_qualities": n.pulse_qualities,
            "observations": n.observations,
            "patterns": n.patterns,
            "pattern_text": n.pattern_text,
            "plan": n.plan,
            "points": n.points,
            "modalities": n.modalities,
            "electro_hz": n.electro_hz,
            "electro_minutes": n.electro_minutes,
            "needles_in": n.needles_in,
            "needles_out": n.needles_out,
            "adverse_events": n.adverse_events,
            "adverse_detail": n.adverse_detail,
            "created_at": n.created_at,
            "updated_at": n.updated_at,
            "signed_at": n.signed_at,
            "signed_by": _name(signers.get(n.signed_by_id)) if n.signed_by_id else None,
        }
        for n in notes
    ]


@section("note_addenda", "Additions to notes", "Corrections or remarks added to a signed note.")
def addendum_rows(patient_id: int) -> list[Row]:
    addenda = db.session.scalars(
        select(NoteAddendum)
        .where(NoteAddendum.note_id.in_(_notes_of(patient_id)))
        .options(joinedload(NoteAddendum.author))
        .order_by(NoteAddendum.created_at, NoteAddendum.id)
    )
    return [
        {
            "addendum_id": a.id,
            "note_id": a.note_id,
            "written_by": _name(a.author),
            "created_at": a.created_at,
            "text": a.text,
        }
        for a in addenda
    ]


@section(
    "note_follow_ups",
    "Calls after a session",
    "When a note recorded an event during treatment and reception called you about it.",
)
def follow_up_rows(patient_id: int) -> list[Row]:
    follow_ups = db.session.scalars(
        select(NoteFollowUp)
        .where(NoteFollowUp.note_id.in_(_notes_of(patient_id)))
        .options(joinedload(NoteFollowUp.followed_up_by))
        .order_by(NoteFollowUp.created_at, NoteFollowUp.id)
    )
    return [
        {
            "note_id": f.note_id,
            "events": f.events,
            "created_at": f.created_at,
            "followed_up_at": f.followed_up_at,
            "followed_up_by": _name(f.followed_up_by),
        }
        for f in follow_ups
    ]


@section("treatment_plans", "Treatment plans", "Each course of sessions planned with you.")
def plan_rows(patient_id: int) -> list[Row]:
    plans = db.session.scalars(
        select(TreatmentPlan)
        .where(TreatmentPlan.patient_id == patient_id)
        .options(
            joinedload(TreatmentPlan.practitioner),
            joinedload(TreatmentPlan.location),
            selectinload(TreatmentPlan.phases).joinedload(PlanPhase.session_type),
        )
        .order_by(TreatmentPlan.created_at, TreatmentPlan.id)
    ).all()
    sessions: dict[int, list[int]] = {}
    for plan_id, appointment_id in db.session.execute(
        select(PlanAppointment.plan_id, PlanAppointment.appointment_id)
        .where(PlanAppointment.plan_id.in_([p.id for p in plans]))
        .order_by(PlanAppointment.appointment_id)
    ):
        sessions.setdefault(plan_id, []).append(appointment_id)
    return [
        {
            "plan_id": p.id,
            "goal": p.goal,
            "condition": p.condition_tag,
            "status": p.status,
            "status_reason": p.status_reason,
            "practitioner": p.practitioner.display_name,
            "location": p.location.name,
            "measure": p.measure,
            "review_points": p.review_points,
            "allow_other_practitioner": p.allow_other_practitioner,
            "phases": [
                {
                    "sessions": phase.count,
                    "every_weeks": phase.interval_weeks,
                    "weekday": calendar.day_name[phase.weekday],
                    "time": phase.local_time.strftime("%H:%M"),
                    "session_type": phase.session_type.name,
                }
                for phase in p.phases
            ],
            "appointment_ids": sessions.get(p.id, []),
            "created_at": p.created_at,
            "updated_at": p.updated_at,
        }
        for p in plans
    ]


@section("outcomes", "Progress scores", "The scores recorded to follow how a plan is working.")
def outcome_rows(patient_id: int) -> list[Row]:
    outcomes = db.session.execute(
        select(OutcomeRecord, User)
        .outerjoin(User, User.id == OutcomeRecord.recorded_by_id)
        .where(OutcomeRecord.plan_id.in_(_plans_of(patient_id)))
        .order_by(OutcomeRecord.recorded_at, OutcomeRecord.id)
    ).all()
    return [
        {
            "outcome_id": o.id,
            "plan_id": o.plan_id,
            "appointment_id": o.appointment_id,
            "measure": o.measure,
            "item1": o.item1,
            "item2": o.item2,
            "item3": o.item3,
            "score": o.score,
            "recorded_by": _name(user),
            "recorded_how": o.source,
            "recorded_at": o.recorded_at,
        }
        for o, user in outcomes
    ]


@section(
    "plan_change_requests",
    "Requests to change a plan",
    "Messages you sent reception about a treatment plan.",
)
def plan_change_request_rows(patient_id: int) -> list[Row]:
    requests = db.session.scalars(
        select(PlanChangeRequest)
        .where(PlanChangeRequest.patient_id == patient_id)
        .order_by(PlanChangeRequest.created_at, PlanChangeRequest.id)
    )
    return [
        {
            "request_id": r.id,
            "plan_id": r.plan_id,
            "message": r.message,
            "status": r.status,
            "sent_at": r.created_at,
            "handled_at": r.handled_at,
        }
        for r in requests
    ]


@section("waitlist", "Waiting list", "Times you asked us to offer you if one came free.")
def waitlist_rows(patient_id: int) -> list[Row]:
    entries = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.patient_id == patient_id)
        .options(
            joinedload(WaitlistEntry.session_type),
            joinedload(WaitlistEntry.location),
            joinedload(WaitlistEntry.practitioner),
        )
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    )
    return [
        {
            "waitlist_id": e.id,
            "session_type": e.session_type.name,
            "location": e.location.name,
            "practitioner": e.practitioner.display_name if e.practitioner else None,
            "weekdays": [calendar.day_name[int(d)] for d in e.weekdays.split(",") if d],
            "day_parts": [part for part in e.day_parts.split(",") if part],
            "status": e.status,
            "added_by": e.source,
            "created_at": e.created_at,
            "expires_at": e.expires_at,
            "updated_at": e.updated_at,
        }
        for e in entries
    ]


@section("waitlist_offers", "Offers from the waiting list", "Each free time we emailed you.")
def offer_rows(patient_id: int) -> list[Row]:
    entries = select(WaitlistEntry.id).where(WaitlistEntry.patient_id == patient_id)
    offers = db.session.scalars(
        select(WaitlistOffer)
        .where(WaitlistOffer.entry_id.in_(entries))
        .options(joinedload(WaitlistOffer.practitioner))
        .order_by(WaitlistOffer.created_at, WaitlistOffer.id)
    )
    return [
        {
            "offer_id": o.id,
            "waitlist_id": o.entry_id,
            "practitioner": o.practitioner.display_name,
            "starts_at": o.starts_at,
            "status": o.status,
            "expires_at": o.expires_at,
            "appointment_id": o.appointment_id,
            "created_at": o.created_at,
        }
        for o in offers
    ]


def _checkins_of(patient_id: int) -> Any:
    return (
        select(AftercareCheckin.id)
        .join(Appointment, Appointment.id == AftercareCheckin.appointment_id)
        .where(Appointment.patient_id == patient_id)
    )


@section("aftercare_checkins", "Check-ins after a first session", "Each check-in email.")
def checkin_rows(patient_id: int) -> list[Row]:
    checkins = db.session.scalars(
        select(AftercareCheckin)
        .where(AftercareCheckin.id.in_(_checkins_of(patient_id)))
        .order_by(AftercareCheckin.created_at, AftercareCheckin.id)
    )
    return [
        {
            "checkin_id": c.id,
            "appointment_id": c.appointment_id,
            "created_at": c.created_at,
            "expires_at": c.expires_at,
        }
        for c in checkins
    ]


@section("side_effects", "Side effects you reported", "What you told us after a session.")
def side_effect_rows(patient_id: int) -> list[Row]:
    reports = db.session.scalars(
        select(SideEffectReport)
        .where(SideEffectReport.checkin_id.in_(_checkins_of(patient_id)))
        .options(joinedload(SideEffectReport.followed_up_by))
        .order_by(SideEffectReport.created_at, SideEffectReport.id)
    )
    return [
        {
            "report_id": r.id,
            "checkin_id": r.checkin_id,
            "effects": r.effects,
            "detail": r.detail,
            "created_at": r.created_at,
            "followed_up_at": r.followed_up_at,
            "followed_up_by": _name(r.followed_up_by),
        }
        for r in reports
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
