"""Sessions a change of hours left outside open hours, computed on read and stored nowhere."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from booking.domain.errors import InvalidInput
from booking.domain.scheduling import values as engine
from booking.domain.scheduling.hours import appointments_outside_hours
from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, ScheduleException, WorkingHours

# Sessions still to be resolved by staff; held, completed and cancelled rows need nobody.
REVIEW_STATUSES = (AppointmentStatus.booked, AppointmentStatus.checked_in)


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def appointments_now_outside_hours(
    *,
    now: datetime,
    practitioner_id: int | None = None,
    on_dates: Iterable[date] | None = None,
) -> list[Appointment]:
    """Booked and checked-in sessions not yet over that lie outside open hours, by start.

    Either one practitioner's sessions, or everyone's on the given local dates (at most a day
    either side is loaded, then each session's date is read in its location's zone). Uses
    `booking.domain.scheduling.hours.appointments_outside_hours`; loads in at most 7 queries.
    Raises InvalidInput for a naive `now`.
    """
    if now.tzinfo is None:
        raise InvalidInput("now must be timezone-aware", field="now")
    query = (
        select(Appointment)
        .where(Appointment.status.in_(REVIEW_STATUSES), Appointment.ends_at > now)
        .options(
            selectinload(Appointment.patient),
            selectinload(Appointment.practitioner),
            selectinload(Appointment.session_type),
            selectinload(Appointment.location),
        )
        .order_by(Appointment.starts_at, Appointment.practitioner_id, Appointment.id)
    )
    dates: set[date] | None = None
    if practitioner_id is not None:
        query = query.where(Appointment.practitioner_id == practitioner_id)
    if on_dates is not None:
        dates = set(on_dates)
        if not dates:
            return []
        query = query.where(
            or_(
                *(
                    and_(
                        Appointment.starts_at >= _utc_midnight(d - timedelta(days=1)),
                        Appointment.starts_at < _utc_midnight(d + timedelta(days=2)),
                    )
                    for d in sorted(dates)
                )
            )
        )
    appointments = list(db.session.scalars(query))
    if dates is not None:
        appointments = [
            a for a in appointments if a.starts_at.astimezone(a.location.zone).date() in dates
        ]
    if not appointments:
        return []
    pids = {a.practitioner_id for a in appointments}
    first = min(a.starts_at for a in appointments).date() - timedelta(days=1)
    last = max(a.ends_at for a in appointments).date() + timedelta(days=1)
    hours = [
        engine.WeeklyHours(*row)
        for row in db.session.execute(
            select(
                WorkingHours.practitioner_id,
                WorkingHours.location_id,
                WorkingHours.weekday,
                WorkingHours.start_time,
                WorkingHours.end_time,
                WorkingHours.valid_from,
                WorkingHours.valid_until,
            ).where(WorkingHours.practitioner_id.in_(pids))
        )
    ]
    exceptions = [
        engine.ScheduleException(str(kind), on_date, practitioner_id, location_id, start, end)
        for kind, on_date, practitioner_id, location_id, start, end in db.session.execute(
            select(
                ScheduleException.kind,
                ScheduleException.on_date,
                ScheduleException.practitioner_id,
                ScheduleException.location_id,
                ScheduleException.start_time,
                ScheduleException.end_time,
            ).where(
                ScheduleException.on_date.between(first, last),
                or_(
                    ScheduleException.practitioner_id.in_(pids),
                    ScheduleException.practitioner_id.is_(None),
                ),
            )
        )
    ]
    zones = {a.location_id: a.location.timezone for a in appointments}
    outside = set(
        appointments_outside_hours(
            hours=hours,
            exceptions=exceptions,
            timezone=zones,
            appointments=[
                (a.id, a.practitioner_id, a.location_id, a.starts_at, a.ends_at)
                for a in appointments
            ],
        )
    )
    return [a for a in appointments if a.id in outside]
