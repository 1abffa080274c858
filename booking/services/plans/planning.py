"""Proposing a plan's series and booking it whole (domain.md §2 "Plan series").

Both load the engine's facts ONCE for the whole plan window (the five selects of
`availability_loading`), never per occurrence. Booking validates every start against that one
load, then inserts every session inside ONE savepoint under the database overlap guards
(`guard.guarded_write`): a race lost on any start rolls the whole series back, so no partial
series is ever left, and the refused starts are listed (SeriesConflict).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from booking.domain.errors import (
    InvalidInput,
    NotFound,
    PolicyRefused,
    SeriesConflict,
    SlotTaken,
)
from booking.domain.plans.planner import (
    MAX_SESSIONS,
    ProposedSession,
    plan_occurrences,
    plan_window,
    propose,
)
from booking.domain.scheduling.availability import check_slot
from booking.domain.scheduling.values import Slot
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    BookingSource,
    OutcomeMeasure,
    PatientProfile,
    PlanAppointment,
    PlanPhase,
    PlanStatus,
    Practitioner,
    TreatmentPlan,
    User,
)
from booking.services.api.booking import check_may_manage, working_location_ids
from booking.services.booking.availability import MAX_BUFFER, OVERRIDE_HORIZON_DAYS
from booking.services.booking.availability_loading import (
    Context,
    LoadedData,
    engine_day_bounds,
    load_context,
    load_data,
)
from booking.services.booking.guard import (
    appointment_at,
    clear_expired_holds,
    expired_hold_scopes,
    guarded_write,
)
from booking.services.booking.holds import is_first_visit
from booking.services.booking.stamp_locks import appointment_scopes, lock_stamps
from booking.services.plans.emails import queue_plan_email
from booking.services.plans.patient_side import scores_link
from booking.services.plans.sequence import COUNTED
from booking.services.platform.audit import record_event
from booking.services.platform.tokens import new_token, token_hash


@dataclass(frozen=True)
class Proposal:
    location_id: int
    timezone: str
    sessions: list[ProposedSession]


@dataclass(frozen=True)
class BookedSeries:
    plan: TreatmentPlan
    appointments: list[Appointment]


def plan_location(practitioner_id: int, location_id: int | None) -> int:
    """The plan's location: the one asked for, else the practitioner's first working location.

    Raises NotFound (unknown practitioner, or one with no working location).
    """
    if db.session.get(Practitioner, practitioner_id) is None:
        raise NotFound("That practitioner does not exist.")
    if location_id is not None:
        return location_id
    locations = working_location_ids(practitioner_id)
    if not locations:
        raise NotFound("That practitioner has no working hours anywhere.")
    return locations[0]


def _load(
    *,
    session_type_id: int,
    location_id: int,
    practitioner_id: int | None,
    first: date,
    last: date,
    now: datetime,
) -> tuple[Context, LoadedData]:
    context = load_context(
        session_type_id=session_type_id, location_id=location_id, practitioner_id=practitioner_id
    )
    # Staff plan a course: the booking horizon stretches as for staff overrides; notice stays.
    policy = replace(
        context.policy,
        max_advance_days=max(context.policy.max_advance_days, OVERRIDE_HORIZON_DAYS),
    )
    context = replace(context, policy=policy)
    day_start, day_end = engine_day_bounds(first, last, context.zone)
    data = load_data(
        context, first, last, busy_window=(day_start - MAX_BUFFER, day_end + MAX_BUFFER), now=now
    )
    return context, data


def propose_plan(
    *,
    session_type_id: int,
    practitioner_id: int,
    first_date: date,
    wall_time: time,
    count: int,
    interval_weeks: int,
    actor: User,
    now: datetime,
    location_id: int | None = None,
    allow_other_practitioner: bool = False,
) -> Proposal:
    """Every occurrence with its verdict and up to three alternatives, from one load.

    Raises NotAllowed (another practitioner's calendar), NotFound, InvalidInput.
    """
    check_may_manage(actor, practitioner_id)
    return build_proposal(
        session_type_id=session_type_id,
        practitioner_id=practitioner_id,
        location_id=plan_location(practitioner_id, location_id),
        first_date=first_date,
        wall_time=wall_time,
        count=count,
        interval_weeks=interval_weeks,
        now=now,
        allow_other_practitioner=allow_other_practitioner,
    )


def build_proposal(
    *,
    session_type_id: int,
    practitioner_id: int,
    location_id: int,
    first_date: date,
    wall_time: time,
    count: int,
    interval_weeks: int,
    now: datetime,
    allow_other_practitioner: bool = False,
) -> Proposal:
    """`propose_plan` without the actor check (benchmarks/plans.py times this).

    Six selects whatever the plan's length: the context, then the engine's five for the whole
    plan window. Raises NotFound, InvalidInput.
    """
    probe = load_context(
        session_type_id=session_type_id, location_id=location_id, practitioner_id=practitioner_id
    )
    if not probe.offers:
        raise InvalidInput(
            "The practitioner does not offer this session type.", field="session_type_id"
        )
    occurrences = plan_occurrences(
        first_date=first_date,
        wall_time=wall_time,
        timezone=probe.timezone,
        count=count,
        interval_weeks=interval_weeks,
    )
    first, last = plan_window(occurrences)
    context, data = _load(
        session_type_id=session_type_id,
        location_id=location_id,
        practitioner_id=None if allow_other_practitioner else practitioner_id,
        first=first,
        last=last,
        now=now,
    )
    sessions = propose(
        occurrences,
        session_type=context.session_type,
        location_id=location_id,
        timezone=context.timezone,
        practitioner_id=practitioner_id,
        other_practitioner_ids=data.practitioner_ids if allow_other_practitioner else (),
        hours=data.hours,
        exceptions=data.exceptions,
        busy=data.busy,
        rooms=data.rooms,
        policy=context.policy,
        now=now,
    )
    return Proposal(location_id, context.timezone, sessions)


def _checked_series(
    *,
    session_type_id: int,
    practitioner_id: int,
    location_id: int,
    starts: list[datetime],
    now: datetime,
    others: dict[datetime, int] | None = None,
) -> tuple[ZoneInfo, list[Slot], list[datetime]]:
    """Validate every start against one load; return (zone, slots, refused starts).

    `others` names the starts given to another practitioner (an allowed alternative); the
    load then covers every practitioner at the location, still in one go.
    """
    others = others or {}
    context = load_context(
        session_type_id=session_type_id, location_id=location_id, practitioner_id=practitioner_id
    )
    if not context.offers:
        raise InvalidInput(
            "The practitioner does not offer this session type.", field="session_type_id"
        )
    days = [start.astimezone(context.zone).date() for start in starts]
    context, data = _load(
        session_type_id=session_type_id,
        location_id=location_id,
        practitioner_id=None if others else practitioner_id,
        first=min(days),
        last=max(days),
        now=now,
    )
    slots: list[Slot] = []
    refused: list[datetime] = []
    for start in starts:
        who = others.get(start, practitioner_id)
        if who not in data.practitioner_ids:
            refused.append(start)
            continue
        try:
            slots.append(
                check_slot(
                    session_type=context.session_type,
                    location_id=location_id,
                    timezone=context.timezone,
                    hours=data.hours,
                    exceptions=data.exceptions,
                    busy=data.busy,
                    rooms=data.rooms,
                    policy=context.policy,
                    now=now,
                    starts_at=start,
                    practitioner_id=who,
                )
            )
        except SlotTaken:
            refused.append(start)
    return context.zone, slots, refused


def _check_append(plan: TreatmentPlan, count: int) -> None:
    """Raises PolicyRefused (plan not active), InvalidInput (more than its unbooked)."""
    if plan.status != PlanStatus.active:
        raise PolicyRefused("Only an active plan can have sessions booked.", code="wrong_status")
    counted = db.session.scalar(
        select(func.count())
        .select_from(PlanAppointment)
        .join(Appointment, Appointment.id == PlanAppointment.appointment_id)
        .where(PlanAppointment.plan_id == plan.id, Appointment.status.in_(COUNTED))
    )
    if count > plan.total - (counted or 0):
        raise InvalidInput(
            "That is more sessions than the plan has left to book: extend it first.",
            field="starts",
        )


def _one_phase(local: datetime, session_type_id: int, count: int) -> PlanPhase:
    return PlanPhase(
        position=1,
        session_type_id=session_type_id,
        count=count,
        interval_weeks=1,
        weekday=local.weekday(),
        local_time=local.time().replace(tzinfo=None),
    )


def _new_plan(
    *,
    patient: PatientProfile,
    practitioner_id: int,
    location_id: int,
    goal: str,
    condition_tag: str,
    measure: OutcomeMeasure,
    review_points: str,
    allow_other_practitioner: bool,
    now: datetime,
    phases: list[PlanPhase],
) -> TreatmentPlan:
    plan = TreatmentPlan(
        patient_id=patient.id,
        practitioner_id=practitioner_id,
        location_id=location_id,
        goal=goal[:500],
        condition_tag=condition_tag[:60],
        status=PlanStatus.active,
        measure=measure,
        review_points=review_points[:60],
        allow_other_practitioner=allow_other_practitioner,
        created_at=now,
        updated_at=now,
    )
    plan.phases = phases
    db.session.add(plan)
    return plan


def _series_starts(starts: list[datetime]) -> list[datetime]:
    if not starts:
        raise InvalidInput("Choose at least one session.", field="starts")
    if len(starts) > MAX_SESSIONS:
        raise InvalidInput(f"A plan has at most {MAX_SESSIONS} sessions.", field="starts")
    ordered = sorted(starts)
    if len(set(ordered)) != len(ordered):
        raise InvalidInput("The same start is chosen twice.", field="starts")
    return ordered


def book_series(
    *,
    patient: PatientProfile,
    practitioner_id: int,
    session_type_id: int,
    starts: list[datetime],
    goal: str,
    actor: User,
    now: datetime,
    base_url: str,
    clinic_name: str,
    location_id: int | None = None,
    condition_tag: str = "",
    phases: list[PlanPhase] | None = None,
    measure: OutcomeMeasure = OutcomeMeasure.pain_nrs,
    review_points: str = "",
    source: BookingSource = BookingSource.staff,
    allow_other_practitioner: bool = False,
    others: dict[datetime, int] | None = None,
    secret: str = "",
    plan: TreatmentPlan | None = None,
) -> BookedSeries:
    """Create an active plan and book every start, or nothing: all in one savepoint.

    Without `phases` the plan gets one phase of `len(starts)` sessions at the first start's
    weekday and wall time. Raises NotAllowed, NotFound, InvalidInput, PolicyRefused and
    SeriesConflict (listing every refused start; nothing is written).

    With `allow_other_practitioner`, `others` maps starts to another practitioner at the
    plan's location (an alternative the planner offered); the plan stays the owner's.
    With `plan` (an active plan, e.g. after "extend"), the sessions are appended to it, up to
    its sessions not yet booked; its "k of N" is recomputed on read as always.
    """
    check_may_manage(actor, practitioner_id)
    others = {k: v for k, v in (others or {}).items() if v != practitioner_id}
    if others and not allow_other_practitioner:
        raise InvalidInput(
            "This plan keeps every session with its own practitioner.", field="starts"
        )
    goal = " ".join(goal.split())
    if not goal:
        raise InvalidInput("Enter the plan's goal.", field="goal")
    ordered = _series_starts(starts)
    if plan is not None:
        _check_append(plan, len(ordered))
        location_id = plan.location_id
    location = plan_location(practitioner_id, location_id)
    zone, slots, refused = _checked_series(
        session_type_id=session_type_id,
        practitioner_id=practitioner_id,
        location_id=location,
        starts=ordered,
        now=now,
        others=others,
    )
    if refused:
        raise SeriesConflict("Some sessions of the plan are not free.", refused)
    for earlier, later in zip(slots, slots[1:], strict=False):
        if later.busy_from < earlier.busy_until:
            raise InvalidInput("Two sessions of the plan overlap.", field="starts")
    first_visit = is_first_visit(patient.id)
    tokens: list[str] = []
    try:
        with guarded_write():
            # Every stamp the series bumps, locked in one order before its first write: two
            # series in the same rooms (or with the same practitioners) in opposite orders
            # would otherwise deadlock on them (PostgreSQL).
            # With those of the expired holds it clears (`expired_hold_scopes`).
            ranges = [(s.practitioner_id, s.room_id, s.busy_from, s.busy_until) for s in slots]
            lock_stamps(
                [
                    *(
                        scope
                        for s in slots
                        for scope in appointment_scopes(s.practitioner_id, s.room_id)
                    ),
                    *expired_hold_scopes(ranges, now=now),
                ]
            )
            for slot in slots:
                clear_expired_holds(
                    practitioner_id=slot.practitioner_id,
                    room_id=slot.room_id,
                    start=slot.busy_from,
                    end=slot.busy_until,
                    now=now,
                )
            if plan is None:
                plan = _new_plan(
                    patient=patient,
                    practitioner_id=practitioner_id,
                    location_id=location,
                    goal=goal,
                    condition_tag=condition_tag,
                    measure=measure,
                    review_points=review_points,
                    allow_other_practitioner=allow_other_practitioner,
                    now=now,
                    phases=phases
                    or [
                        _one_phase(slots[0].starts_at.astimezone(zone), session_type_id, len(slots))
                    ],
                )
            else:
                plan.updated_at = now
            rows: list[Appointment] = []
            for index, slot in enumerate(slots):
                token = new_token()
                tokens.append(token)
                rows.append(
                    appointment_at(
                        slot,
                        slot.practitioner_id,
                        location,
                        now=now,
                        status=AppointmentStatus.booked,
                        patient_id=patient.id,
                        session_type_id=session_type_id,
                        source=source,
                        booked_at=now,
                        manage_token_hash=token_hash(token),
                        is_first_visit=first_visit and index == 0,
                    )
                )
            db.session.add_all(rows)
            db.session.flush()
            db.session.add_all(
                PlanAppointment(appointment_id=row.id, plan_id=plan.id) for row in rows
            )
    except SlotTaken:
        # A concurrent writer won a start between the check and the insert: the savepoint
        # rolled the whole series back. Name the starts that are taken now.
        _, _, lost = _checked_series(
            session_type_id=session_type_id,
            practitioner_id=practitioner_id,
            location_id=location,
            starts=ordered,
            now=now,
            others=others,
        )
        raise SeriesConflict("Some sessions of the plan are not free.", lost or ordered) from None
    for row in rows:
        record_event(
            "appointment.book",
            actor=actor,
            now=now,
            object_type="appointment",
            object_id=row.id,
            patient_id=row.patient_id,
            detail=f"plan {plan.id}",
        )
    # ONE confirmation for the whole series, each session with its own manage link.
    queue_plan_email(
        plan,
        rows,
        kind="booked",
        base_url=base_url,
        clinic_name=clinic_name,
        now=now,
        manage_tokens={row.id: token for row, token in zip(rows, tokens, strict=True)},
        secret=secret,
        outcome_url=outcome_link(rows, base_url=base_url, secret=secret, now=now),
    )
    return BookedSeries(plan, rows)


def outcome_link(
    appointments: list[Appointment], *, base_url: str, secret: str, now: datetime
) -> str | None:
    """The "send your scores" link of the first coming session of `appointments` (the link
    names one session: scores are recorded once per session, before it); None if there is
    none to answer."""
    coming = sorted((a for a in appointments if a.starts_at > now), key=lambda a: a.starts_at)
    if not coming or not secret:
        return None
    return scores_link(coming[0], base_url=base_url, secret=secret)
