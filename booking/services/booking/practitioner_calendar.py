"""A practitioner's day and week: their sessions at every location, hours, time off, closures.

Loaded in a fixed number of queries whatever the number of sessions (the week view's
query-count test holds it): sessions with patient, type, room and location joined in (one
statement), then the
practitioner's weekly hours, the dated exceptions that touch them and the location names.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Date, bindparam, exists, or_, select
from sqlalchemy.orm import aliased, joinedload

from booking.domain.scheduling import values
from booking.domain.scheduling.day_plan import DayPlan, hour_rows, plan_days
from booking.domain.scheduling.dst import day_bounds
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    IntakeResponse,
    Location,
    PatientFlag,
    PatientProfile,
    PlanAppointment,
    Room,
    ScheduleException,
    SessionType,
    WorkingHours,
)

# What a calendar lists: every session that was or is booked, except cancelled ones.
SHOWN = (
    AppointmentStatus.booked,
    AppointmentStatus.checked_in,
    AppointmentStatus.completed,
    AppointmentStatus.no_show,
)


S = TypeVar("S")


@dataclass(frozen=True)
class CalendarDays(Generic[S]):
    """Sessions and plans for consecutive local days; `hours` are the grid's hour rows."""

    days: list[date]
    plans: dict[date, DayPlan]
    appointments: list[S]
    by_day: dict[date, list[S]]
    by_cell: dict[tuple[date, int], list[S]]
    hours: list[int]


@dataclass(slots=True)
class WeekRow:
    """What the week view shows of a session: plain values, not ORM rows.

    Building ~60 mapped sessions with their patient, type, room and place was a fifth of the
    week's CPU (issue 22); the week only words them, so it reads these columns as rows.
    """

    id: int
    status: AppointmentStatus
    starts_at: datetime
    ends_at: datetime
    patient_id: int | None
    is_first_visit: bool
    patient_name: str | None
    session_type_name: str
    room_name: str | None
    location_name: str
    timezone: str
    plan_id: int | None  # the treatment plan this session belongs to, if any
    intake_id: int | None  # its health questions, if started
    flagged: bool  # the patient has an active flag


def local_start(appointment: Appointment) -> tuple[date, int]:
    """The session's local date and hour at its location."""
    start = appointment.starts_at.astimezone(appointment.location.zone)
    return start.date(), start.hour


def _row_start(row: WeekRow) -> tuple[date, int]:
    start = row.starts_at.astimezone(ZoneInfo(row.timezone))
    return start.date(), start.hour


def _window(first: date, count: int, zone: ZoneInfo) -> tuple[list[date], datetime, datetime]:
    """The local days and the UTC range to read: a day's margin either side, since a
    location's zone may differ from the clinic's."""
    days = [first + timedelta(days=n) for n in range(count)]
    start, _ = day_bounds(first - timedelta(days=1), zone)
    _, end = day_bounds(days[-1] + timedelta(days=1), zone)
    return days, start, end


WHOLE_ROWS = (
    joinedload(Appointment.patient),
    joinedload(Appointment.session_type, innerjoin=True),
    joinedload(Appointment.room),
    joinedload(Appointment.location, innerjoin=True),
)


def load_days(
    practitioner_id: int, first: date, count: int, *, zone: ZoneInfo
) -> CalendarDays[Appointment]:
    """The practitioner's calendar for `count` local days from `first` (dates in `zone`),
    whole sessions (the day view acts on them).

    Each session is placed on its own location's local date and hour. Raises nothing.
    """
    days, start, end = _window(first, count, zone)
    appointments = list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.practitioner_id == practitioner_id,
                Appointment.status.in_(SHOWN),
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
            )
            .options(
                joinedload(Appointment.patient),
                joinedload(Appointment.session_type, innerjoin=True),
                joinedload(Appointment.room),
                joinedload(Appointment.location, innerjoin=True),
            )
            .order_by(Appointment.starts_at)
        )
    )
    return _calendar(practitioner_id, days, appointments, local_start)


def load_week_rows(
    practitioner_id: int, first: date, count: int, *, zone: ZoneInfo
) -> CalendarDays[WeekRow]:
    """As `load_days`, each session as a `WeekRow`: the same one query, as plain rows, with
    each session's plan, intake and whether its patient has an active flag (correlated
    look-ups: three statements fewer for the notes, `intake.staff.sheet_notes`)."""
    days, start, end = _window(first, count, zone)
    rows = db.session.execute(
        _week_query(),
        {"practitioner": practitioner_id, "starts_from": start, "starts_before": end},
    )
    sessions = [
        WeekRow(
            id=r[0],
            status=r[1],
            starts_at=r[2],
            ends_at=r[3],
            patient_id=r[4],
            is_first_visit=r[5],
            patient_name=None if r[4] is None else f"{r[6]} {r[7]}",
            session_type_name=r[8],
            room_name=r[9],
            location_name=r[10],
            timezone=r[11],
            plan_id=r[12],
            intake_id=r[13],
            flagged=r[14],
        )
        for r in rows
    ]
    return _calendar(practitioner_id, days, sessions, _row_start)


@cache
def _week_query() -> Any:  # a Select of fifteen columns
    """`load_week_rows`' statement, built once per process: building it (joins and three
    subqueries) per request cost more CPU than running it (issue 22)."""
    a = Appointment
    plan = aliased(PlanAppointment)
    intake = aliased(IntakeResponse)
    flag = aliased(PatientFlag)
    return (
        select(
            a.id,
            a.status,
            a.starts_at,
            a.ends_at,
            a.patient_id,
            a.is_first_visit,
            PatientProfile.given_name,
            PatientProfile.family_name,
            SessionType.name,
            Room.name,
            Location.name,
            Location.timezone,
            select(plan.plan_id).where(plan.appointment_id == a.id).scalar_subquery(),
            select(intake.id).where(intake.appointment_id == a.id).scalar_subquery(),
            exists().where(flag.patient_id == a.patient_id, flag.cleared_at.is_(None)),
        )
        .join(SessionType, SessionType.id == a.session_type_id)
        .join(Location, Location.id == a.location_id)
        .outerjoin(Room, Room.id == a.room_id)
        .outerjoin(PatientProfile, PatientProfile.id == a.patient_id)
        .where(
            a.practitioner_id == bindparam("practitioner"),
            a.status.in_(SHOWN),
            a.starts_at >= bindparam("starts_from"),
            a.starts_at < bindparam("starts_before"),
        )
        .order_by(a.starts_at)
    )


def _calendar(
    practitioner_id: int,
    days: list[date],
    sessions: list[S],
    local: Callable[[S], tuple[date, int]],
) -> CalendarDays[S]:
    """Sessions placed on their local day and hour, with the days' plans and hour rows."""
    first, last = days[0], days[-1]
    placed = [(s, local(s)) for s in sessions]
    shown = [(s, at) for s, at in placed if first <= at[0] <= last]
    by_day: dict[date, list[S]] = defaultdict(list)
    by_cell: dict[tuple[date, int], list[S]] = defaultdict(list)
    for session, (day, hour) in shown:
        by_day[day].append(session)
        by_cell[day, hour].append(session)
    plans = plan_days(
        days,
        practitioner_id=practitioner_id,
        hours=_weekly_hours(practitioner_id, first, last),
        exceptions=_exceptions(practitioner_id, first, last),
        location_names={row.id: row.name for row in db.session.execute(_statements()["places"])},
    )
    rows = hour_rows(plans.values(), (hour for _, (_, hour) in shown))
    return CalendarDays(days, plans, [s for s, _ in shown], dict(by_day), dict(by_cell), rows)


def _weekly_hours(practitioner_id: int, first: date, last: date) -> list[values.WeeklyHours]:
    rows = db.session.scalars(
        _statements()["hours"], {"practitioner": practitioner_id, "first": first, "last": last}
    )
    return [
        values.WeeklyHours(
            h.practitioner_id,
            h.location_id,
            h.weekday,
            h.start_time,
            h.end_time,
            h.valid_from,
            h.valid_until,
        )
        for h in rows
    ]


def _exceptions(practitioner_id: int, first: date, last: date) -> list[values.ScheduleException]:
    rows = db.session.scalars(
        _statements()["exceptions"],
        {"practitioner": practitioner_id, "first": first, "last": last},
    )
    return [
        values.ScheduleException(
            str(e.kind), e.on_date, e.practitioner_id, e.location_id, e.start_time, e.end_time
        )
        for e in rows
    ]


@cache
def _statements() -> dict[str, Any]:
    """The calendar's reference reads, built once per process (issue 22: building a
    statement per request cost more CPU than running these small ones)."""
    first, last = bindparam("first", type_=Date()), bindparam("last", type_=Date())
    return {
        "places": select(Location.id, Location.name),
        "hours": select(WorkingHours).where(
            WorkingHours.practitioner_id == bindparam("practitioner"),
            or_(WorkingHours.valid_from.is_(None), WorkingHours.valid_from <= last),
            or_(WorkingHours.valid_until.is_(None), WorkingHours.valid_until >= first),
        ),
        "exceptions": select(ScheduleException).where(
            ScheduleException.on_date >= first,
            ScheduleException.on_date <= last,
            or_(
                ScheduleException.practitioner_id == bindparam("practitioner"),
                ScheduleException.practitioner_id.is_(None),
            ),
        ),
    }
