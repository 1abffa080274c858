"""Reading a plan ("session k of N", progress), changing its status, recording outcomes.

k is computed on read (domain.md §2): the rank by start among the plan's booked, checked-in
and completed sessions; N is the plan total (sum of phase counts). Pausing and cancelling a
plan cancel its future sessions with the reason, so the counts follow by themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from booking.domain.errors import InvalidInput, NotFound, PolicyRefused
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    OutcomeMeasure,
    OutcomeRecord,
    OutcomeSource,
    PlanAppointment,
    PlanPhase,
    PlanStatus,
    Role,
    TreatmentPlan,
    User,
)
from booking.services.booking.changes import cancel_appointment
from booking.services.booking.stamp_locks import (
    appointment_scopes,
    lock_appointments,
    lock_stamps,
)
from booking.services.clinic import care
from booking.services.plans.emails import queue_plan_email
from booking.services.plans.sequence import COUNTED, sequence_of, sequence_words
from booking.services.platform.audit import record_event

__all__ = ["COUNTED", "sequence_of", "sequence_words"]  # re-exported: one source of k of N

REASON_MAX = 500


@dataclass(frozen=True)
class PlanSession:
    appointment: Appointment
    sequence: int | None  # None for a cancelled or missed session
    of: int


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    booked: int
    remaining: int


def plan_for(plan_id: int, *, actor: User) -> TreatmentPlan:
    """A plan the actor may see: receptionists all, a practitioner their own, a patient theirs.

    Raises NotFound otherwise (another's plan is not revealed).
    """
    plan = db.session.get(TreatmentPlan, plan_id)
    if plan is None:
        raise NotFound("That plan does not exist.")
    if actor.role == Role.receptionist:
        return plan
    if actor.role == Role.practitioner and care.practitioner_id_of(actor) == plan.practitioner_id:
        return plan
    if actor.role == Role.patient and plan.patient.user_id == actor.id:
        return plan
    raise NotFound("That plan does not exist.")


def plan_sessions(plan: TreatmentPlan) -> list[PlanSession]:
    """The plan's sessions by start, each with its "k of N"."""
    rows = db.session.scalars(
        select(Appointment)
        .join(PlanAppointment, PlanAppointment.appointment_id == Appointment.id)
        .where(PlanAppointment.plan_id == plan.id)
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    total = plan.total
    out: list[PlanSession] = []
    k = 0
    for row in rows:
        if row.status in COUNTED:
            k += 1
            out.append(PlanSession(row, k, total))
        else:
            out.append(PlanSession(row, None, total))
    return out


def progress(plan: TreatmentPlan, sessions: list[PlanSession] | None = None) -> Progress:
    """Done (completed), booked (booked or checked in) and remaining (not yet booked)."""
    items = plan_sessions(plan) if sessions is None else sessions
    done = sum(1 for s in items if s.appointment.status == AppointmentStatus.completed)
    booked = sum(
        1
        for s in items
        if s.appointment.status in (AppointmentStatus.booked, AppointmentStatus.checked_in)
    )
    total = plan.total
    return Progress(total, done, booked, max(total - done - booked, 0))


def _reason(reason: str | None, missing: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise InvalidInput(missing, field="reason")
    return text[:REASON_MAX]


def _cancel_future(
    plan: TreatmentPlan,
    *,
    reason: str,
    actor: User,
    now: datetime,
    base_url: str,
    clinic: str,
    kind: str,
) -> int:
    """Cancel the plan's future booked sessions; the patient gets ONE email listing them."""
    cancelled: list[Appointment] = []
    future = [
        item.appointment
        for item in plan_sessions(plan)
        if item.appointment.status == AppointmentStatus.booked and item.appointment.starts_at > now
    ]
    # Each cancel appends its audit row (the chain's lock, held to commit) before the next
    # one bumps its stamps, which other writers take before that lock: every stamp first,
    # in one order, or a concurrent booking in one of the rooms deadlocks (PostgreSQL).
    # The rows come before their stamps, as for a single cancel of one of them.
    lock_appointments(future)
    future = [
        row for row in future if row.status == AppointmentStatus.booked and row.starts_at > now
    ]
    lock_stamps(
        scope for row in future for scope in appointment_scopes(row.practitioner_id, row.room_id)
    )
    for row in future:
        cancel_appointment(
            row,
            now=now,
            actor=actor,
            by_staff=True,
            reason=reason,
            base_url=base_url,
            clinic_name=clinic,
            detail=f"plan {plan.id}",
            notify=False,
        )
        cancelled.append(row)
    queue_plan_email(plan, cancelled, kind=kind, base_url=base_url, clinic_name=clinic, now=now)
    return len(cancelled)


def _set_status(
    plan: TreatmentPlan, status: PlanStatus, *, actor: User, now: datetime, note: str | None
) -> None:
    plan.status = status
    plan.status_reason = note
    plan.updated_at = now
    record_event(
        f"plan.{status.value}",
        actor=actor,
        now=now,
        object_type="treatment_plan",
        object_id=plan.id,
        patient_id=plan.patient_id,
    )


def pause_plan(
    plan: TreatmentPlan, *, reason: str, actor: User, now: datetime, base_url: str, clinic: str
) -> int:
    """Pause an active plan: its future sessions are cancelled with the reason. Returns how
    many. Raises InvalidInput (no reason), PolicyRefused (not active)."""
    text = _reason(reason, "Enter why the plan is paused.")
    if plan.status != PlanStatus.active:
        raise PolicyRefused("Only an active plan can be paused.", code="wrong_status")
    count = _cancel_future(
        plan,
        reason=f"Plan paused: {text}",
        actor=actor,
        now=now,
        base_url=base_url,
        clinic=clinic,
        kind="paused",
    )
    _set_status(plan, PlanStatus.paused, actor=actor, now=now, note=text)
    return count


def cancel_plan(
    plan: TreatmentPlan, *, reason: str, actor: User, now: datetime, base_url: str, clinic: str
) -> int:
    """Cancel a plan that is not finished: future sessions cancelled with the reason."""
    text = _reason(reason, "Enter why the plan is cancelled.")
    if plan.status in (PlanStatus.completed, PlanStatus.cancelled):
        raise PolicyRefused("This plan has already ended.", code="wrong_status")
    count = _cancel_future(
        plan,
        reason=f"Plan cancelled: {text}",
        actor=actor,
        now=now,
        base_url=base_url,
        clinic=clinic,
        kind="cancelled",
    )
    _set_status(plan, PlanStatus.cancelled, actor=actor, now=now, note=text)
    return count


def resume_plan(plan: TreatmentPlan, *, actor: User, now: datetime) -> None:
    if plan.status != PlanStatus.paused:
        raise PolicyRefused("Only a paused plan can be resumed.", code="wrong_status")
    _set_status(plan, PlanStatus.active, actor=actor, now=now, note=None)


def complete_plan(plan: TreatmentPlan, *, actor: User, now: datetime) -> None:
    if plan.status not in (PlanStatus.active, PlanStatus.paused):
        raise PolicyRefused("Only an active or paused plan can be completed.", code="wrong_status")
    _set_status(plan, PlanStatus.completed, actor=actor, now=now, note=None)


def extend_plan(plan: TreatmentPlan, *, count: int, actor: User, now: datetime) -> PlanPhase:
    """Add `count` sessions as a new phase like the last one (booked separately).

    Raises InvalidInput (count outside 1-52), PolicyRefused (an ended plan).
    """
    if not 1 <= count <= 52:
        raise InvalidInput("Add 1 to 52 sessions.", field="count")
    if plan.status in (PlanStatus.completed, PlanStatus.cancelled):
        raise PolicyRefused("This plan has already ended.", code="wrong_status")
    last = plan.phases[-1]
    phase = PlanPhase(
        position=last.position + 1,
        session_type_id=last.session_type_id,
        count=count,
        interval_weeks=last.interval_weeks,
        weekday=last.weekday,
        local_time=last.local_time,
    )
    plan.phases.append(phase)
    plan.updated_at = now
    record_event(
        "plan.extend",
        actor=actor,
        now=now,
        object_type="treatment_plan",
        object_id=plan.id,
        patient_id=plan.patient_id,
        detail=f"+{count}",
    )
    return phase


def outcome_score(measure: OutcomeMeasure, items: list[int]) -> float:
    """Pain 0-10 is its one item; PEG-3 is the mean of its three items, to one decimal.

    Raises InvalidInput for a wrong number of items or an item outside 0-10.
    """
    wanted = 1 if measure == OutcomeMeasure.pain_nrs else 3
    if len(items) != wanted:
        raise InvalidInput(f"Enter {wanted} score(s).", field="items")
    for item in items:
        if not 0 <= item <= 10:
            raise InvalidInput("Each score is a whole number from 0 to 10.", field="items")
    return round(sum(items) / wanted, 1)


def record_outcome(
    plan: TreatmentPlan,
    *,
    measure: OutcomeMeasure,
    items: list[int],
    actor: User | None,
    now: datetime,
    appointment_id: int | None = None,
    source: OutcomeSource = OutcomeSource.practitioner,
) -> OutcomeRecord:
    """Record one measurement on the plan. Raises InvalidInput (bad items or appointment)."""
    score = outcome_score(measure, items)
    if appointment_id is not None and appointment_id not in {
        s.appointment.id for s in plan_sessions(plan)
    }:
        raise InvalidInput("That session is not part of this plan.", field="appointment_id")
    padded = [*items, None, None][:3]
    record = OutcomeRecord(
        plan_id=plan.id,
        appointment_id=appointment_id,
        measure=measure,
        item1=padded[0],
        item2=padded[1],
        item3=padded[2],
        score=score,
        recorded_by_id=actor.id if actor is not None else None,
        recorded_at=now,
        source=source,
    )
    db.session.add(record)
    db.session.flush()
    return record


def outcomes(plan: TreatmentPlan) -> list[OutcomeRecord]:
    return list(
        db.session.scalars(
            select(OutcomeRecord)
            .where(OutcomeRecord.plan_id == plan.id)
            .order_by(OutcomeRecord.recorded_at, OutcomeRecord.id)
        )
    )
