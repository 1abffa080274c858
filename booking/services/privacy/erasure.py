"""Erasure (GDPR Art. 17): a patient asks, an admin carries it out from a queue; irreversible.

Anonymising replaces the name, contact details and every free-text field, stops the account
signing in and cancels future sessions. The clinical record (sessions with their dates,
intake choices, flags, consents, clinical notes and addenda, treatment plans with their goals
and outcome scores, side effects the patient reported) stays for the retention period
(`retention.py`), because the clinic must keep it; signed notes are never updated. What is
not clinical goes now: a plan's pause or cancel reason (like a session's cancel reason), the
waiting list and its offers, and any check-in link still open. The audit trail is never
touched and records the request and its end.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from booking.domain.errors import NotFound, PolicyRefused
from booking.domain.privacy import ERASED_NAME, free_text_keys, without_free_text
from booking.extensions import db
from booking.models import (
    AftercareCheckin,
    Appointment,
    AppointmentStatus,
    ErasureRequest,
    ErasureStatus,
    IntakeBrowser,
    IntakeResponse,
    ManageLink,
    OutboxMessage,
    OutboxStatus,
    PatientFlag,
    PatientProfile,
    PlanChangeRequest,
    PlanStatus,
    TreatmentPlan,
    User,
    UserSession,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.services.accounts.sessions import end_all_sessions
from booking.services.platform.audit import record_event

ERASED_DOMAIN = "erased.invalid"  # RFC 2606: can never receive mail
# Not an argon2 hash: verifying any password against it fails.
UNUSABLE_PASSWORD_HASH = "!erased"  # noqa: S105
FUTURE_STATUSES = (AppointmentStatus.booked, AppointmentStatus.checked_in)
OPEN_PLAN_STATUSES = (PlanStatus.draft, PlanStatus.active, PlanStatus.paused)


def pending_request(patient_id: int) -> ErasureRequest | None:
    return db.session.scalar(
        select(ErasureRequest).where(
            ErasureRequest.patient_id == patient_id,
            ErasureRequest.status == ErasureStatus.pending,
        )
    )


def request_erasure(
    patient: PatientProfile,
    *,
    actor: User,
    now: datetime,
    ip_address: str | None = None,
    request_id: str | None = None,
) -> ErasureRequest:
    """Queue the patient's request (asking twice keeps the first); audited."""
    if patient.anonymised_at is not None:
        raise PolicyRefused("Your personal data has already been erased.")
    existing = pending_request(patient.id)
    if existing is not None:
        return existing
    erasure = ErasureRequest(patient_id=patient.id, requested_at=now)
    db.session.add(erasure)
    db.session.flush()
    record_event(
        "privacy.erasure_requested",
        actor=actor,
        now=now,
        object_type="erasure_request",
        object_id=erasure.id,
        patient_id=patient.id,
        ip_address=ip_address,
        request_id=request_id,
    )
    return erasure


def erasure_queue(*, limit: int = 50) -> list[ErasureRequest]:
    """Pending requests oldest first, then the most recently carried out."""
    pending = db.session.scalars(
        select(ErasureRequest)
        .where(ErasureRequest.status == ErasureStatus.pending)
        .order_by(ErasureRequest.requested_at, ErasureRequest.id)
    ).all()
    done = db.session.scalars(
        select(ErasureRequest)
        .where(ErasureRequest.status == ErasureStatus.done)
        .order_by(ErasureRequest.handled_at.desc(), ErasureRequest.id.desc())
        .limit(limit)
    ).all()
    return [*pending, *done]


def get_request(request_id: int) -> ErasureRequest:
    erasure = db.session.get(ErasureRequest, request_id)
    if erasure is None:
        raise NotFound("No such erasure request.")
    return erasure


def carry_out(
    erasure_id: int,
    *,
    actor: User,
    now: datetime,
    ip_address: str | None = None,
    request_id: str | None = None,
) -> ErasureRequest:
    """Anonymise the patient of a pending request and close it; audited. Flushes."""
    erasure = get_request(erasure_id)
    if erasure.status != ErasureStatus.pending:
        raise PolicyRefused("This request has already been carried out.")
    anonymise(erasure.patient, now=now)
    erasure.status = ErasureStatus.done
    erasure.handled_at = now
    erasure.handled_by_id = actor.id
    record_event(
        "privacy.erasure_done",
        actor=actor,
        now=now,
        object_type="erasure_request",
        object_id=erasure.id,
        patient_id=erasure.patient_id,
        ip_address=ip_address,
        request_id=request_id,
    )
    db.session.flush()
    return erasure


def anonymise(patient: PatientProfile, *, now: datetime) -> None:
    """Remove the patient's identity and free text, keeping clinical rows and their dates."""
    if patient.anonymised_at is not None:
        return
    patient.given_name, patient.family_name = ERASED_NAME
    patient.email = f"patient-{patient.id}@{ERASED_DOMAIN}"
    patient.phone = None
    patient.opted_out = True
    patient.anonymised_at = now
    if patient.user_id is not None:
        _close_account(patient.user_id, now=now)
    _cancel_future_sessions(patient.id, now=now)
    appointment_ids = select(Appointment.id).where(Appointment.patient_id == patient.id)
    db.session.execute(delete(ManageLink).where(ManageLink.appointment_id.in_(appointment_ids)))
    db.session.execute(
        update(Appointment)
        .where(Appointment.patient_id == patient.id)
        .values(cancel_reason=None, manage_token_hash=None)
    )
    _strip_intake(patient.id)
    db.session.execute(
        update(PatientFlag).where(PatientFlag.patient_id == patient.id).values(cleared_reason=None)
    )
    _strip_emails(patient.id)
    _strip_plans(patient.id, now=now)
    _delete_change_requests(patient.id)
    _delete_waitlist(patient.id)
    db.session.execute(
        update(AftercareCheckin)
        .where(
            AftercareCheckin.appointment_id.in_(appointment_ids),
            AftercareCheckin.expires_at > now,
        )
        .values(expires_at=now)
    )


def _strip_plans(patient_id: int, *, now: datetime) -> None:
    """Plans stay (goal, phases, scores are clinical); the words of why one stopped go, and a
    plan still open ends with the sessions cancelled above."""
    db.session.execute(
        update(TreatmentPlan)
        .where(TreatmentPlan.patient_id == patient_id)
        .values(status_reason=None)
    )
    db.session.execute(
        update(TreatmentPlan)
        .where(
            TreatmentPlan.patient_id == patient_id,
            TreatmentPlan.status.in_(OPEN_PLAN_STATUSES),
        )
        .values(status=PlanStatus.cancelled, updated_at=now)
    )


def _delete_change_requests(patient_id: int) -> None:
    """The patient's messages to reception about a plan: their own words, not clinical."""
    db.session.execute(delete(PlanChangeRequest).where(PlanChangeRequest.patient_id == patient_id))


def _delete_waitlist(patient_id: int) -> None:
    """The waiting list is not clinical: its entries and their offers (with link hashes) go."""
    entries = select(WaitlistEntry.id).where(WaitlistEntry.patient_id == patient_id)
    db.session.execute(delete(WaitlistOffer).where(WaitlistOffer.entry_id.in_(entries)))
    db.session.execute(delete(WaitlistEntry).where(WaitlistEntry.patient_id == patient_id))


def _close_account(user_id: int, *, now: datetime) -> None:
    user = db.session.get(User, user_id)
    if user is None:
        return
    user.is_enabled = False
    user.email = f"user-{user.id}@{ERASED_DOMAIN}"
    user.display_name = " ".join(ERASED_NAME)
    user.password_hash = UNUSABLE_PASSWORD_HASH
    end_all_sessions(user.id, now=now)
    db.session.execute(
        update(UserSession).where(UserSession.user_id == user.id).values(ip_address=None)
    )


def _cancel_future_sessions(patient_id: int, *, now: datetime) -> None:
    for appointment in db.session.scalars(
        select(Appointment).where(
            Appointment.patient_id == patient_id,
            Appointment.status.in_(FUTURE_STATUSES),
            Appointment.starts_at > now,
        )
    ):
        appointment.status = AppointmentStatus.cancelled
        appointment.cancelled_at = now
        appointment.ics_sequence += 1


def _strip_intake(patient_id: int) -> None:
    intakes = db.session.scalars(
        select(IntakeResponse).where(IntakeResponse.patient_id == patient_id)
    ).all()
    for intake in intakes:
        intake.answers = without_free_text(
            intake.answers, free_text_keys(intake.questionnaire.definition)
        )
        intake.review_comment = None
        intake.guest_key_hash = None
    if intakes:
        db.session.execute(
            delete(IntakeBrowser).where(IntakeBrowser.intake_id.in_([i.id for i in intakes]))
        )


def _strip_emails(patient_id: int) -> None:
    """Keep that an email was sent and when; drop its address and words; never send it now."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.patient_id == patient_id)
        .values(
            recipient=f"patient-{patient_id}@{ERASED_DOMAIN}",
            body_text="",
            body_html=None,
            ics=None,
            last_error=None,
        )
    )
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.patient_id == patient_id,
            OutboxMessage.status.in_((OutboxStatus.pending, OutboxStatus.sending)),
        )
        .values(status=OutboxStatus.dead, lease_until=None)
    )
