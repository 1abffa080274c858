"""A patient's intake: start, save page by page, submit; flags from the pure rules."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from booking.domain.errors import InvalidInput, PolicyRefused
from booking.domain.intake import rules
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    BookingDraft,
    ConsentMethod,
    IntakeResponse,
    IntakeStatus,
    Modality,
    PatientFlag,
    User,
)
from booking.services.intake import consent as consent_service
from booking.services.intake.links import is_unclaimed
from booking.services.intake.pages import missing_pages, page_questions
from booking.services.intake.versions import latest_version
from booking.services.platform.audit import record_event


def booking_safety_answer(appointment: Appointment, *, now: datetime) -> str | None:
    """The booking journey's "Do any of these apply?" answer, while its draft still exists."""
    if not appointment.hold_owner:
        return None
    draft = db.session.scalar(
        select(BookingDraft).where(BookingDraft.key_hash == appointment.hold_owner)
    )
    if draft is None or draft.expires_at <= now:
        return None
    answers = draft.answers or {}
    if answers.get("booked_id") != appointment.id:
        return None
    return answers.get("safety")


def last_answered(patient_id: int, *, excluding: int | None = None) -> IntakeResponse | None:
    """The patient's most recent submitted or reviewed intake."""
    query = (
        select(IntakeResponse)
        .where(
            IntakeResponse.patient_id == patient_id,
            IntakeResponse.status.in_([IntakeStatus.submitted, IntakeStatus.reviewed]),
        )
        .order_by(IntakeResponse.submitted_at.desc(), IntakeResponse.id.desc())
        .limit(1)
    )
    if excluding is not None:
        query = query.where(IntakeResponse.id != excluding)
    return db.session.scalar(query)


def intake_for_appointment(appointment_id: int) -> IntakeResponse | None:
    return db.session.scalar(
        select(IntakeResponse).where(IntakeResponse.appointment_id == appointment_id)
    )


def start_intake(
    appointment: Appointment,
    *,
    now: datetime,
    actor: User | None = None,
    guest_key_hash: str | None = None,
) -> IntakeResponse:
    """The appointment's intake, created on first use; bound to a guest browser if unclaimed.

    A returning patient's copy is prefilled from their last answers (red flags and
    pregnancy excepted); a first-visit "none apply" at booking prefills the red-flag
    answers with "no" for the patient to confirm, and a "yes" there marks it urgent.
    """
    intake = intake_for_appointment(appointment.id)
    if intake is None:
        version = latest_version()
        answers: dict[str, Any] = {}
        done: list[str] = []
        previous = last_answered(appointment.patient_id) if appointment.patient_id else None
        if previous is not None:
            answers, done = rules.carry_over(version.definition, previous.answers or {})
        safety = booking_safety_answer(appointment, now=now)
        if safety == "no":
            for question in rules.questions(version.definition):
                if question.get("red_flag"):
                    answers.setdefault(question["key"], "no")
        intake = IntakeResponse(
            patient_id=appointment.patient_id,
            patient=appointment.patient,
            questionnaire=version,
            appointment=appointment,
            answers=answers,
            completed_pages=done,
            urgent=safety == "yes",
            prefilled_from_id=previous.id if previous is not None else None,
            created_at=now,
            updated_at=now,
        )
        db.session.add(intake)
        db.session.flush()
        record_event(
            "intake.start",
            actor=actor,
            now=now,
            object_type="intake",
            object_id=intake.id,
            patient_id=intake.patient_id,
        )
    if guest_key_hash is not None and is_unclaimed(intake):
        # Only the first browser binds; later ones prove who they are (`prove_link_browser`).
        intake.guest_key_hash = guest_key_hash
    return intake


def save_page(
    intake: IntakeResponse,
    page_key: str,
    values: Mapping[str, Any],
    *,
    complete: bool,
    actor: User | None,
    now: datetime,
) -> list[str]:
    """Keep one page's answers (a draft); return the red-flag keys answered "yes" on it.

    `complete` marks the page answered (its answers passed validation); "Save and come
    back later" stores what is given without it. A red flag marks the intake urgent at once.
    Raises PolicyRefused once the intake has been sent.
    """
    if intake.status != IntakeStatus.draft:
        raise PolicyRefused("You have already sent your answers.")
    page = page_questions(intake, page_key)
    keys = [question["key"] for question in page["questions"]]
    answers = {key: value for key, value in (intake.answers or {}).items() if key not in keys}
    for question in page["questions"]:
        value = values.get(question["key"])
        if value not in (None, "", []) and rules.is_valid_answer(question, value):
            answers[question["key"]] = value
    intake.answers = answers
    done = [key for key in (intake.completed_pages or []) if key != page_key]
    if complete:
        done.append(page_key)
    intake.completed_pages = done
    intake.current_page = page_key
    intake.updated_at = now
    modality = page.get("modality")
    if modality is not None and complete:
        _consent_from_answer(intake, modality, answers.get(keys[0]), now=now)
    raised = [key for key in rules.red_flag_answers({"pages": [page]}, answers) if key in keys]
    if raised:
        intake.urgent = True
    sync_flags(intake, now=now)
    record_event(
        "intake.update",
        actor=actor,
        now=now,
        object_type="intake",
        object_id=intake.id,
        patient_id=intake.patient_id,
        detail=f"page {page_key}",
    )
    return raised


def _consent_from_answer(
    intake: IntakeResponse, modality: Modality, answer: Any, *, now: datetime
) -> None:
    current = consent_service.current_consents(intake.patient_id).get(modality)
    if answer == "yes":
        text = consent_service.current_text(modality)
        if current is None or current.consent_text_id != text.id or current.intake_id != intake.id:
            consent_service.record_consent(
                intake.patient,
                modality,
                method=ConsentMethod.online,
                actor=None,
                now=now,
                intake_id=intake.id,
            )
    elif current is not None:
        consent_service.withdraw_consent(intake.patient, modality, actor=None, now=now)


def sync_flags(intake: IntakeResponse, *, now: datetime, supersede: bool = False) -> None:
    """Make the patient's active flags match what the rules derive from this intake.

    Flags from this intake that its answers no longer imply are cleared; with `supersede`
    (on submit) so are older intakes' contraindications and precautions. Red flags from
    older intakes stay until staff deal with them.
    """
    derived = {
        flag.code: flag
        for flag in rules.derive_flags(intake.questionnaire.definition, intake.answers or {})
    }
    active = list(
        db.session.scalars(
            select(PatientFlag).where(
                PatientFlag.patient_id == intake.patient_id, PatientFlag.cleared_at.is_(None)
            )
        )
    )
    have = {flag.code for flag in active}
    for flag in active:
        if flag.code in derived:
            continue
        if flag.intake_id == intake.id:
            flag.cleared_at, flag.cleared_reason = now, "Answer changed"
        elif supersede and flag.severity != rules.RED_FLAG:
            flag.cleared_at, flag.cleared_reason = now, "Newer health questions"
    for code, found in derived.items():
        if code not in have:
            db.session.add(
                PatientFlag(
                    patient_id=intake.patient_id,
                    code=code,
                    severity=found.severity,
                    source="intake",
                    intake_id=intake.id,
                    created_at=now,
                )
            )
    db.session.flush()


def submit_intake(intake: IntakeResponse, *, actor: User | None, now: datetime) -> IntakeResponse:
    """Send the answers to the clinic.

    Raises InvalidInput naming the first unanswered page, PolicyRefused when already sent.
    """
    if intake.status != IntakeStatus.draft:
        raise PolicyRefused("You have already sent your answers.")
    missing = missing_pages(intake)
    if missing:
        raise InvalidInput("Answer every question before you send your answers", field=missing[0])
    intake.status = IntakeStatus.submitted
    intake.submitted_at = now
    intake.updated_at = now
    sync_flags(intake, now=now, supersede=True)
    record_event(
        "intake.submit",
        actor=actor,
        now=now,
        object_type="intake",
        object_id=intake.id,
        patient_id=intake.patient_id,
    )
    return intake


def intakes_of_patient(patient_id: int) -> list[IntakeResponse]:
    return list(
        db.session.scalars(
            select(IntakeResponse)
            .where(IntakeResponse.patient_id == patient_id)
            .options(
                selectinload(IntakeResponse.appointment).selectinload(Appointment.session_type),
                selectinload(IntakeResponse.appointment).selectinload(Appointment.location),
            )
            .order_by(IntakeResponse.created_at.desc(), IntakeResponse.id.desc())
        )
    )


def upcoming_without_intake(patient_id: int, *, now: datetime) -> list[Appointment]:
    """The patient's upcoming sessions that have no intake yet."""
    return list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.patient_id == patient_id,
                Appointment.status == AppointmentStatus.booked,
                Appointment.starts_at > now,
                ~exists().where(IntakeResponse.appointment_id == Appointment.id),
            )
            .options(selectinload(Appointment.session_type), selectinload(Appointment.location))
            .order_by(Appointment.starts_at)
        )
    )
