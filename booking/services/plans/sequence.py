"""\"Session k of N\" for any list of sessions, in one query (domain.md §2).

Kept apart from `progress` (which cancels through the booking services) so the booking
emails can number their sessions without an import cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from functools import cache
from typing import Any

from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, PlanAppointment, PlanPhase
from booking.services.platform.id_lists import ids_in

COUNTED = (AppointmentStatus.booked, AppointmentStatus.checked_in, AppointmentStatus.completed)


def sequence_of(appointment_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """(k, N, plan id) for those of `appointment_ids` that are counted sessions of a plan.

    The one source of every "Session k of N" outside the plan page. At most TWO queries
    however many sessions or plans: the plans touching `appointment_ids` (none: done), then
    the counted sessions of those plans, with each plan's total as a correlated sum; the
    ranks are counted here.

    The plans are read first, not as a subquery: PostgreSQL's planner, asked for sessions of
    "plans touching these 1,000 sessions", expected hundreds of plans and scanned the whole
    appointment table (0.5 s at 1,000,000 appointments, issue 22); given the few plan ids it
    looks up their sessions by key.
    """
    if not appointment_ids:
        return {}
    wanted = set(appointment_ids)
    touched = sorted(
        set(
            # The ids as one parameter (an array on PostgreSQL: platform/id_lists.py, issue 22).
            db.session.scalars(
                select(PlanAppointment.plan_id).where(ids_in(PlanAppointment.appointment_id)),
                {"ids": sorted(wanted)},
            )
        )
    )
    return sequence_in_plans(touched, wanted)


def sequence_in_plans(plan_ids: Iterable[int], wanted: Set[int]) -> dict[int, tuple[int, int, int]]:
    """`sequence_of` for the sessions in `wanted`, given the plans they belong to (read
    already, e.g. with the sessions themselves): one query, none without plans."""
    touched = sorted(set(plan_ids))
    if not touched:
        return {}
    statement = _sessions_of_plans(db.engine.dialect.name)
    rows = db.session.execute(statement, {"plans": touched}).all()
    out: dict[int, tuple[int, int, int]] = {}
    rank: dict[int, int] = {}
    for plan_id, appointment_id, of in rows:
        rank[plan_id] = rank.get(plan_id, 0) + 1
        if appointment_id in wanted:
            out[appointment_id] = (rank[plan_id], int(of), plan_id)
    return out


@cache
def _sessions_of_plans(dialect: str) -> Any:  # a Select of three columns
    """The counted sessions of the plans `:plans`, in order, with each plan's total: built
    once per process and dialect (building it per request cost ~0.5 ms of CPU, issue 22)."""
    total = (
        select(func.coalesce(func.sum(PlanPhase.count), 0))
        .where(PlanPhase.plan_id == PlanAppointment.plan_id)
        .correlate(PlanAppointment)
        .scalar_subquery()
    )
    return (
        select(PlanAppointment.plan_id, PlanAppointment.appointment_id, total)
        .join(Appointment, Appointment.id == PlanAppointment.appointment_id)
        .where(
            ids_in(PlanAppointment.plan_id, "plans", dialect=dialect),
            Appointment.status.in_(COUNTED),
        )
        .order_by(PlanAppointment.plan_id, Appointment.starts_at, Appointment.id)
    )


def sequence_words(seq: tuple[int, int, int] | None) -> str | None:
    """'Session 3 of 10' for a `sequence_of` value, None outside a plan."""
    return None if seq is None else f"Session {seq[0]} of {seq[1]}"
