"""Clinical retention: records past their period are anonymised and their clinical content goes.

A record's period runs from the patient's last clinical event (a session, an intake, a
consent, a flag, a note or addendum, a treatment plan or outcome score, a reported side
effect) for the configured years (`CLINICAL_RETENTION_YEARS`, default 8), longer for
a child (booking.domain.privacy). Sessions stay as dated rows with no one behind them, so
the clinic's counts still add up; notes, plans with their outcomes, and check-ins with the side
effects reported through them are deleted; the audit trail is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select

from booking.domain.privacy import retention_ends
from booking.extensions import db
from booking.models import (
    AftercareCheckin,
    Appointment,
    AppointmentStatus,
    ClinicalNote,
    Consent,
    IntakeResponse,
    NoteAddendum,
    NoteFollowUp,
    OutcomeRecord,
    PatientFlag,
    PatientProfile,
    PlanAppointment,
    PlanPhase,
    SideEffectReport,
    TreatmentPlan,
)
from booking.services.platform.audit import record_event
from booking.services.privacy.erasure import anonymise


@dataclass(frozen=True)
class Expired:
    patient_id: int
    last_clinical: date
    retention_ended: date


def _latest(
    column: Any, owner: Any, *where: ColumnElement[bool], via: tuple[tuple[Any, Any], ...] = ()
) -> dict[int, datetime]:
    """The latest `column` per patient; `via`: the joins from `column`'s table to `owner`'s."""
    query = select(owner, func.max(column)).select_from(column.class_)
    for target, onclause in via:
        query = query.join(target, onclause)
    rows = db.session.execute(query.where(owner.is_not(None), *where).group_by(owner)).all()
    return {patient_id: latest for patient_id, latest in rows if latest is not None}


def expired_records(*, now: datetime, years: int) -> list[Expired]:
    """Patients whose clinical record is past retention and not yet purged, oldest first."""
    sources = [
        _latest(
            Appointment.ends_at,
            Appointment.patient_id,
            Appointment.status != AppointmentStatus.held,
        ),
        _latest(IntakeResponse.updated_at, IntakeResponse.patient_id),
        _latest(Consent.given_at, Consent.patient_id),
        _latest(PatientFlag.created_at, PatientFlag.patient_id),
        _latest(ClinicalNote.updated_at, ClinicalNote.patient_id),
        _latest(
            NoteAddendum.created_at,
            ClinicalNote.patient_id,
            via=((ClinicalNote, ClinicalNote.id == NoteAddendum.note_id),),
        ),
        _latest(TreatmentPlan.updated_at, TreatmentPlan.patient_id),
        _latest(
            OutcomeRecord.recorded_at,
            TreatmentPlan.patient_id,
            via=((TreatmentPlan, TreatmentPlan.id == OutcomeRecord.plan_id),),
        ),
        _latest(
            SideEffectReport.created_at,
            Appointment.patient_id,
            via=(
                (AftercareCheckin, AftercareCheckin.id == SideEffectReport.checkin_id),
                (Appointment, Appointment.id == AftercareCheckin.appointment_id),
            ),
        ),
    ]
    today = now.date()
    found = []
    patients = db.session.execute(
        select(PatientProfile.id, PatientProfile.created_at, PatientProfile.date_of_birth).where(
            PatientProfile.clinical_purged_at.is_(None)
        )
    ).all()
    for patient_id, created_at, date_of_birth in patients:
        last = max([created_at, *(s[patient_id] for s in sources if patient_id in s)])
        ends = retention_ends(last.date(), date_of_birth, years)
        if ends <= today:
            found.append(Expired(patient_id, last.date(), ends))
    return sorted(found, key=lambda e: (e.last_clinical, e.patient_id))


def purge(expired: Expired, *, now: datetime) -> None:
    """Anonymise one expired record and remove its clinical content; audited. Flushes."""
    patient = db.session.get_one(PatientProfile, expired.patient_id)
    anonymise(patient, now=now)
    patient.date_of_birth = None
    patient.clinical_purged_at = now
    for intake in db.session.scalars(
        select(IntakeResponse).where(IntakeResponse.patient_id == patient.id)
    ):
        intake.answers = {}
        intake.completed_pages = []
    db.session.execute(delete(PatientFlag).where(PatientFlag.patient_id == patient.id))
    _delete_notes(patient.id)
    _delete_plans(patient.id)
    _delete_aftercare(patient.id)
    record_event(
        "privacy.retention_purge",
        actor=None,
        now=now,
        object_type="patient",
        object_id=patient.id,
        patient_id=patient.id,
        detail=f"last clinical event {expired.last_clinical.isoformat()}",
    )
    db.session.flush()


def _delete_notes(patient_id: int) -> None:
    """The patient's clinical notes go with the rest of the clinical content.

    The lock triggers allow it only once `clinical_purged_at` is set, so that is flushed first.
    """
    db.session.flush()
    notes = select(ClinicalNote.id).where(ClinicalNote.patient_id == patient_id)
    db.session.execute(delete(NoteAddendum).where(NoteAddendum.note_id.in_(notes)))
    db.session.execute(delete(NoteFollowUp).where(NoteFollowUp.note_id.in_(notes)))
    db.session.execute(delete(ClinicalNote).where(ClinicalNote.patient_id == patient_id))


def _delete_plans(patient_id: int) -> None:
    """Plans, their phases, their links to sessions and their outcome scores."""
    plans = select(TreatmentPlan.id).where(TreatmentPlan.patient_id == patient_id)
    for child in (OutcomeRecord, PlanAppointment, PlanPhase):
        db.session.execute(delete(child).where(child.plan_id.in_(plans)))
    db.session.execute(delete(TreatmentPlan).where(TreatmentPlan.patient_id == patient_id))


def _delete_aftercare(patient_id: int) -> None:
    """Check-ins after a first session and the side effects reported through them."""
    checkins = (
        select(AftercareCheckin.id)
        .join(Appointment, Appointment.id == AftercareCheckin.appointment_id)
        .where(Appointment.patient_id == patient_id)
    )
    ids = db.session.scalars(checkins).all()
    if ids:
        db.session.execute(delete(SideEffectReport).where(SideEffectReport.checkin_id.in_(ids)))
        db.session.execute(delete(AftercareCheckin).where(AftercareCheckin.id.in_(ids)))
