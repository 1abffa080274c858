"""A practitioner's day and week: their sessions at every location, hours, time off, closures.

Loaded in a fixed number of queries whatever the number of sessions (the week view's
query-count test holds it): sessions with patient, type, room and location joined in (one
statement), then the
practitioner's weekly hours, the dated exceptions that touch them and the location names.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, load_only, raiseload

from booking.domain.scheduling import values
from booking.domain.scheduling.day_plan import DayPlan, hour_rows, plan_days
from booking.domain.scheduling.dst import day_bounds
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    Location,
    PatientProfile,
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


@dataclass(frozen=True)
class CalendarDays:
    """Sessions and plans for consecutive local days; `hours` are the grid's hour rows."""

    days: list[date]
    plans: dict[date, DayPlan]
    appointments: list[Appointment]
    by_day: dict[date, list[Appointment]]
    by_cell: dict[tuple[date, int], list[Appointment]]
    hours: list[int]


def local_start(appointment: Appointment) -> tuple[date, int]:
    """The session's local date and hour at its location."""
    start = appointment.starts_at.astimezone(appointment.location.zone)
    return start.date(), start.hour


WHOLE_ROWS = (
    joinedload(Appointment.patient),
    joinedload(Appointment.session_type, innerjoin=True),
    joinedload(Appointment.room),
    joinedload(Appointment.location, innerjoin=True),
)
WORDS_ONLY = (
    load_only(
        Appointment.status,
        Appointment.starts_at,
        Appointment.ends_at,
        Appointment.patient_id,
        Appointment.location_id,
        Appointment.room_id,
        Appointment.session_type_id,
        Appointment.is_first_visit,
        raiseload=True,
    ),
    joinedload(Appointment.patient).load_only(
        PatientProfile.given_name, PatientProfile.family_name, raiseload=True
    ),
    joinedload(Appointment.session_type, innerjoin=True).load_only(
        SessionType.name, raiseload=True
    ),
    joinedload(Appointment.room).load_only(Room.name, raiseload=True),
    joinedload(Appointment.location, innerjoin=True).load_only(
        Location.name, Location.timezone, raiseload=True
    ),
    raiseload("*"),
)


def load_days(
    practitioner_id: int, first: date, count: int, *, zone: ZoneInfo, words_only: bool = False
) -> CalendarDays:
    """The practitioner's calendar for `count` local days from `first` (dates in `zone`).

    Each session is placed on its own location's local date and hour. Raises nothing.
    `words_only` (the week view) loads only the columns a session's words need: the other
    ten datetimes of each session and its patient were a fifth of the week's CPU (issue 22);
    the day view's actions need whole rows.
    """
    days = [first + timedelta(days=n) for n in range(count)]
    last = days[-1]
    # A day's margin either side: a location's zone may differ from the clinic's.
    start, _ = day_bounds(first - timedelta(days=1), zone)
    _, end = day_bounds(last + timedelta(days=1), zone)
    appointments = list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.practitioner_id == practitioner_id,
                Appointment.status.in_(SHOWN),
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
            )
            .options(*(WORDS_ONLY if words_only else WHOLE_ROWS))
            .order_by(Appointment.starts_at)
        )
    )
    shown = [a for a in appointments if first <= local_start(a)[0] <= last]
    by_day: dict[date, list[Appointment]] = defaultdict(list)
    by_cell: dict[tuple[date, int], list[Appointment]] = defaultdict(list)
    for appointment in shown:
        day, hour = local_start(appointment)
        by_day[day].append(appointment)
        by_cell[day, hour].append(appointment)
    plans = plan_days(
        days,
        practitioner_id=practitioner_id,
        hours=_weekly_hours(practitioner_id, first, last),
        exceptions=_exceptions(practitioner_id, first, last),
        location_names={
            row.id: row.name for row in db.session.execute(select(Location.id, Location.name))
        },
    )
    rows = hour_rows(plans.values(), (local_start(a)[1] for a in shown))
    return CalendarDays(days, plans, shown, dict(by_day), dict(by_cell), rows)


def _weekly_hours(practitioner_id: int, first: date, last: date) -> list[values.WeeklyHours]:
    rows = db.session.scalars(
        select(WorkingHours).where(
            WorkingHours.practitioner_id == practitioner_id,
            or_(WorkingHours.valid_from.is_(None), WorkingHours.valid_from <= last),
            or_(WorkingHours.valid_until.is_(None), WorkingHours.valid_until >= first),
        )
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
        select(ScheduleException).where(
            ScheduleException.on_date >= first,
            ScheduleException.on_date <= last,
            or_(
                ScheduleException.practitioner_id == practitioner_id,
                ScheduleException.practitioner_id.is_(None),
            ),
        )
    )
    return [
        values.ScheduleException(
            str(e.kind), e.on_date, e.practitioner_id, e.location_id, e.start_time, e.end_time
        )
        for e in rows
    ]
