"""Intakes as staff see them: who may read which, flags, the review queue and reviews."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from booking.domain.errors import NotFound, PolicyRefused
from booking.domain.intake import rules
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    IntakeResponse,
    IntakeStatus,
    PatientFlag,
    PatientProfile,
    User,
)
from booking.services.clinic import care
from booking.services.platform.audit import record_event
from booking.services.platform.id_lists import ids_in


def staff_may_read(patient_id: int, *, actor: User) -> bool:
    """Receptionists read every patient's intake; practitioners those they treat; admins none.

    The rule lives in `care.may_read_patient` (a cancelled or no-show session grants nothing).
    """
    return care.may_read_patient(patient_id, actor=actor)


def intake_for_staff(intake_id: int, *, actor: User) -> IntakeResponse:
    """An intake a member of staff may read. Raises NotFound otherwise."""
    intake = db.session.get(IntakeResponse, intake_id)
    if intake is None or not staff_may_read(intake.patient_id, actor=actor):
        raise NotFound("There are no health questions here.")
    return intake


def patient_for_staff(patient_id: int, *, actor: User) -> PatientProfile:
    """A patient record a member of staff may read. Raises NotFound otherwise."""
    patient = db.session.get(PatientProfile, patient_id)
    if patient is None or not staff_may_read(patient_id, actor=actor):
        raise NotFound("There is no patient here.")
    return patient


def active_flags(patient_ids: Iterable[int]) -> dict[int, list[PatientFlag]]:
    """Each patient's active flags, red flags first, in one query."""
    ids = sorted(set(patient_ids))
    found: dict[int, list[PatientFlag]] = {patient_id: [] for patient_id in ids}
    if not ids:
        return found
    # The ids as one parameter (an array on PostgreSQL: platform/id_lists.py, issue 22).
    rows = db.session.scalars(
        select(PatientFlag)
        .where(
            ids_in(PatientFlag.patient_id),
            PatientFlag.cleared_at.is_(None),
        )
        .options(selectinload(PatientFlag.intake).selectinload(IntakeResponse.questionnaire))
        .order_by(PatientFlag.patient_id, PatientFlag.id),
        {"ids": ids},
    )
    for row in rows:
        found[row.patient_id].append(row)
    for flags in found.values():
        flags.sort(key=lambda flag: (flag.severity != rules.RED_FLAG, flag.code))
    return found


def flag_label(flag: PatientFlag, definition: Mapping[str, Any] | None = None) -> str:
    """A flag as words: "Red flag: saddle numbness", "Bleeding risk (precaution)"."""
    if flag.severity == rules.RED_FLAG:
        source = definition or {}
        question = next((q for q in rules.questions(source) if q["key"] == flag.code), None)
        short = (
            question.get("short") if question else flag.code.removeprefix("rf_").replace("_", " ")
        )
        return f"Red flag: {str(short).lower()}"
    info = rules.FLAG_CATALOGUE.get(flag.code)
    label = info.label if info else flag.code.replace("_", " ").capitalize()
    return f"{label} ({flag.severity.value})"


def intakes_for_appointments(appointment_ids: Sequence[int]) -> dict[int, IntakeResponse]:
    if not appointment_ids:
        return {}
    # The ids as one parameter (an array on PostgreSQL: platform/id_lists.py, issue 22).
    rows = db.session.scalars(
        select(IntakeResponse).where(ids_in(IntakeResponse.appointment_id)),
        {"ids": list(appointment_ids)},
    )
    return {row.appointment_id: row for row in rows if row.appointment_id is not None}


def intakes_by_id(intake_ids: Sequence[int]) -> dict[int, IntakeResponse]:
    """These intakes, by the appointment they belong to (as `intakes_for_appointments`)."""
    if not intake_ids:
        return {}
    rows = db.session.scalars(
        select(IntakeResponse).where(ids_in(IntakeResponse.id)), {"ids": list(intake_ids)}
    )
    return {row.appointment_id: row for row in rows if row.appointment_id is not None}


def review_queue() -> list[IntakeResponse]:
    """Intakes awaiting review: urgent first (a red flag counts even in a draft), then oldest."""
    return list(
        db.session.scalars(
            select(IntakeResponse)
            .where(
                IntakeResponse.status != IntakeStatus.reviewed,
                or_(
                    IntakeResponse.status == IntakeStatus.submitted, IntakeResponse.urgent.is_(True)
                ),
            )
            .options(
                selectinload(IntakeResponse.patient),
                selectinload(IntakeResponse.appointment).selectinload(Appointment.practitioner),
            )
            .order_by(
                IntakeResponse.urgent.desc(),
                IntakeResponse.submitted_at.is_(None),
                IntakeResponse.submitted_at,
                IntakeResponse.created_at,
                IntakeResponse.id,
            )
        )
    )


def awaiting_completion(*, now: datetime, days: int = 30) -> list[Appointment]:
    """Upcoming first visits whose intake is missing or unfinished (not urgent: that is queued)."""
    unfinished = (
        select(IntakeResponse.id)
        .where(
            IntakeResponse.appointment_id == Appointment.id,
            or_(IntakeResponse.status != IntakeStatus.draft, IntakeResponse.urgent.is_(True)),
        )
        .exists()
    )
    return list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.is_first_visit.is_(True),
                Appointment.status == AppointmentStatus.booked,
                and_(
                    Appointment.starts_at > now, Appointment.starts_at < now + timedelta(days=days)
                ),
                ~unfinished,
            )
            .options(selectinload(Appointment.patient), selectinload(Appointment.practitioner))
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )


def review_intake(intake: IntakeResponse, comment: str, *, actor: User, now: datetime) -> None:
    """Mark an intake reviewed with a comment. Raises PolicyRefused if already reviewed."""
    if intake.status == IntakeStatus.reviewed:
        raise PolicyRefused("These answers have already been reviewed.")
    intake.status = IntakeStatus.reviewed
    intake.reviewed_at = now
    intake.reviewer_id = actor.id
    intake.review_comment = comment.strip() or None
    intake.updated_at = now
    record_event(
        "intake.review",
        actor=actor,
        now=now,
        object_type="intake",
        object_id=intake.id,
        patient_id=intake.patient_id,
    )
