"""The patient's and the front desk's side of a plan (issue 17): the patient's plans and coming
sessions, scores sent online (from the account or an emailed link) or taken at the desk, and
"request a change" messages for reception.

The emailed scores link is `/scores/<appointment id>/<token>` where the token is
HMAC-SHA256(SECRET_KEY, "outcome:" + appointment id + the appointment's manage-token hash), as
the intake link: nothing new is stored, it dies with the manage link or when the session ends.
A patient sends scores once per session; a partial unique index refuses a second row even
when two browsers race, so the link cannot be replayed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from booking.domain.errors import InvalidInput, NotFound, PolicyRefused
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    ChangeRequestStatus,
    OutcomeMeasure,
    OutcomeRecord,
    OutcomeSource,
    PlanAppointment,
    PlanChangeRequest,
    PlanStatus,
    TreatmentPlan,
    User,
)
from booking.services.plans import progress
from booking.services.platform.audit import record_event

BAD_LINK = "This link has expired or is not valid."
ALREADY_SENT = "Your scores for this session have already been sent."
NO_SESSION = "You have no coming session in this plan to send scores for."
# The questions of each measure, in order (PEG-3: Krebs et al., 2009; worded for Meridian).
STEPS: dict[OutcomeMeasure, tuple[str, ...]] = {
    OutcomeMeasure.pain_nrs: ("pain",),
    OutcomeMeasure.peg3: ("pain", "enjoyment", "activity"),
}
MESSAGE_MAX = 1000
# "Request a change": open requests per plan, and requests per patient in a day.
OPEN_REQUESTS_MAX = 3
REQUESTS_PER_DAY = 5
LIVE = (AppointmentStatus.booked, AppointmentStatus.checked_in)


def plans_of_patient(patient_id: int, *, drafts: bool = False) -> list[TreatmentPlan]:
    """The patient's plans, newest first; drafts only for staff (they are the practitioner's
    until booked)."""
    query = select(TreatmentPlan).where(TreatmentPlan.patient_id == patient_id)
    if not drafts:
        query = query.where(TreatmentPlan.status != PlanStatus.draft)
    return list(
        db.session.scalars(query.order_by(TreatmentPlan.created_at.desc(), TreatmentPlan.id.desc()))
    )


def patient_plan(plan_id: int, *, patient_id: int) -> TreatmentPlan:
    """The patient's own plan; NotFound for another patient's plan or a draft."""
    plan = db.session.get(TreatmentPlan, plan_id)
    if plan is None or plan.patient_id != patient_id or plan.status == PlanStatus.draft:
        raise NotFound("That plan does not exist.")
    return plan


def coming_sessions(
    sessions: list[progress.PlanSession], *, now: datetime
) -> list[progress.PlanSession]:
    """Counted sessions still to come (booked or checked in, not yet ended), by start."""
    return [
        s
        for s in sessions
        if s.sequence is not None and s.appointment.status in LIVE and s.appointment.ends_at > now
    ]


def next_session(plan: TreatmentPlan, *, now: datetime) -> Appointment | None:
    coming = coming_sessions(progress.plan_sessions(plan), now=now)
    return coming[0].appointment if coming else None


def link_token(appointment: Appointment, *, secret: str) -> str | None:
    """The scores link token for a plan session, or None when it has no manage link."""
    if not appointment.manage_token_hash:
        return None
    message = f"outcome:{appointment.id}:{appointment.manage_token_hash}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def plan_of_appointment(appointment_id: int) -> TreatmentPlan | None:
    plan_id = db.session.scalar(
        select(PlanAppointment.plan_id).where(PlanAppointment.appointment_id == appointment_id)
    )
    return db.session.get(TreatmentPlan, plan_id) if plan_id is not None else None


def session_for_link(
    appointment_id: int, token: str, *, secret: str, now: datetime
) -> tuple[TreatmentPlan, Appointment]:
    """The plan session a scores link opens: live, not yet ended, in an active plan.

    Raises NotFound for a wrong or stale token (also after the session ends).
    """
    appointment = db.session.get(Appointment, appointment_id)
    expected = link_token(appointment, secret=secret) if appointment is not None else None
    plan = plan_of_appointment(appointment_id) if expected else None
    if (
        appointment is None
        or expected is None
        or plan is None
        or not token
        or len(token) > 100
        or not hmac.compare_digest(expected, token)
        or appointment.status not in LIVE
        or appointment.ends_at <= now
        or plan.status != PlanStatus.active
    ):
        raise NotFound(BAD_LINK)
    return plan, appointment


def live_link_session(appointment_id: int, *, now: datetime) -> tuple[TreatmentPlan, Appointment]:
    """The session of a scores journey already opened by its link (the browser's draft is
    the proof); NotFound once the session has ended or left its plan."""
    appointment = db.session.get(Appointment, appointment_id)
    plan = plan_of_appointment(appointment_id)
    if (
        appointment is None
        or plan is None
        or appointment.status not in LIVE
        or appointment.ends_at <= now
        or plan.status != PlanStatus.active
    ):
        raise NotFound(BAD_LINK)
    return plan, appointment


def answered(appointment_id: int) -> bool:
    """True when the patient has already sent scores for this session."""
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(OutcomeRecord)
            .where(
                OutcomeRecord.appointment_id == appointment_id,
                OutcomeRecord.source == OutcomeSource.patient,
            )
        )
    )


def items_of(plan: TreatmentPlan, answers: dict[str, int]) -> list[int]:
    """The answers in the measure's item order. Raises InvalidInput when one is missing."""
    out: list[int] = []
    for step in STEPS[plan.measure]:
        value = answers.get(step)
        if not isinstance(value, int) or not 0 <= value <= 10:
            raise InvalidInput("Answer every question before sending.", field=step)
        out.append(value)
    return out


def send_patient_scores(
    plan: TreatmentPlan,
    appointment: Appointment,
    answers: dict[str, int],
    *,
    actor: User | None,
    now: datetime,
) -> OutcomeRecord:
    """Save the patient's own scores before `appointment` (once per session).

    `actor` is the signed-in patient, or None for the emailed link. Raises PolicyRefused
    when this session already has the patient's scores, InvalidInput for a missing answer.
    """
    items = items_of(plan, answers)
    if answered(appointment.id):
        raise PolicyRefused(ALREADY_SENT, code="already_sent")
    try:
        with db.session.begin_nested():
            record = progress.record_outcome(
                plan,
                measure=plan.measure,
                items=items,
                actor=actor,
                now=now,
                appointment_id=appointment.id,
                source=OutcomeSource.patient,
            )
    except IntegrityError as error:  # another browser sent them first
        raise PolicyRefused(ALREADY_SENT, code="already_sent") from error
    _audit_outcome(plan, record, actor=actor, now=now)
    return record


def record_at_desk(
    plan: TreatmentPlan, items: list[int], *, actor: User, now: datetime
) -> OutcomeRecord:
    """Reception records scores the patient gave at the desk, against the next session."""
    if plan.status in (PlanStatus.cancelled, PlanStatus.draft):
        raise PolicyRefused("Scores cannot be recorded on this plan.", code="wrong_status")
    coming = next_session(plan, now=now)
    record = progress.record_outcome(
        plan,
        measure=plan.measure,
        items=items,
        actor=actor,
        now=now,
        appointment_id=coming.id if coming is not None else None,
        source=OutcomeSource.reception,
    )
    _audit_outcome(plan, record, actor=actor, now=now)
    return record


def _audit_outcome(
    plan: TreatmentPlan, record: OutcomeRecord, *, actor: User | None, now: datetime
) -> None:
    record_event(
        "outcome.record",
        actor=actor,
        now=now,
        object_type="outcome_record",
        object_id=record.id,
        patient_id=plan.patient_id,
        detail=f"plan {plan.id}, {record.source.value}",
    )


# ---- "Request a change" -----------------------------------------------------------------------


def request_change(
    plan: TreatmentPlan, message: str, *, actor: User, now: datetime
) -> PlanChangeRequest:
    """Store the patient's message for reception. Raises InvalidInput (empty or too long),
    PolicyRefused (an ended plan, or too many requests waiting or sent today)."""
    text = (message or "").strip()
    if not text:
        raise InvalidInput("Enter what you would like to change.", field="message")
    if len(text) > MESSAGE_MAX:
        raise InvalidInput(
            f"Your message must be {MESSAGE_MAX} characters or fewer.", field="message"
        )
    if plan.status in (PlanStatus.completed, PlanStatus.cancelled):
        raise PolicyRefused(
            "This plan has ended. To book again, call the clinic.", code="wrong_status"
        )
    waiting = db.session.scalar(
        select(func.count())
        .select_from(PlanChangeRequest)
        .where(
            PlanChangeRequest.plan_id == plan.id,
            PlanChangeRequest.status == ChangeRequestStatus.open,
        )
    )
    today = db.session.scalar(
        select(func.count())
        .select_from(PlanChangeRequest)
        .where(
            PlanChangeRequest.patient_id == plan.patient_id,
            PlanChangeRequest.created_at > now - timedelta(days=1),
        )
    )
    if (waiting or 0) >= OPEN_REQUESTS_MAX or (today or 0) >= REQUESTS_PER_DAY:
        raise PolicyRefused(
            "Reception already has your requests and will contact you. "
            "If it is urgent, call the clinic.",
            code="too_many_requests",
        )
    request = PlanChangeRequest(
        plan_id=plan.id, patient_id=plan.patient_id, message=text, created_at=now
    )
    db.session.add(request)
    db.session.flush()
    record_event(
        "plan.change_request",
        actor=actor,
        now=now,
        object_type="plan_change_request",
        object_id=request.id,
        patient_id=plan.patient_id,
        detail=f"plan {plan.id}",
    )
    return request


def open_requests(
    *, plan_id: int | None = None, patient_id: int | None = None
) -> list[PlanChangeRequest]:
    """Open change requests of a plan or a patient, oldest first."""
    query = select(PlanChangeRequest).where(PlanChangeRequest.status == ChangeRequestStatus.open)
    if plan_id is not None:
        query = query.where(PlanChangeRequest.plan_id == plan_id)
    if patient_id is not None:
        query = query.where(PlanChangeRequest.patient_id == patient_id)
    return list(db.session.scalars(query.order_by(PlanChangeRequest.created_at)))


def close_request(
    plan: TreatmentPlan, request_id: int, *, actor: User, now: datetime
) -> PlanChangeRequest:
    """Reception marks a request done. Raises NotFound when it is not this plan's."""
    request = db.session.get(PlanChangeRequest, request_id)
    if request is None or request.plan_id != plan.id:
        raise NotFound("That request does not exist.")
    if request.status == ChangeRequestStatus.open:
        request.status = ChangeRequestStatus.done
        request.handled_by_id = actor.id
        request.handled_at = now
        record_event(
            "plan.change_request_done",
            actor=actor,
            now=now,
            object_type="plan_change_request",
            object_id=request.id,
            patient_id=plan.patient_id,
        )
    return request


def scores_link(appointment: Appointment, *, base_url: str, secret: str) -> str | None:
    """The emailed "send your scores" link of a plan session, for confirmation and reminder
    emails and pages ("" as base_url gives a path); None when the session is not in an active
    plan, has no manage link or already has the patient's scores."""
    token = link_token(appointment, secret=secret) if secret else None
    plan = plan_of_appointment(appointment.id) if token else None
    if token is None or plan is None or plan.status != PlanStatus.active:
        return None
    if answered(appointment.id):
        return None
    return f"{base_url.rstrip('/')}/scores/{appointment.id}/{token}"
