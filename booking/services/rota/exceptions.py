"""Time off, extra hours, closures and holidays.

Booked sessions are never moved: after a change, `outside_hours.appointments_now_outside_hours`
lists the sessions left outside open hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import or_, select

from booking.domain.errors import InvalidInput, NotFound
from booking.domain.formatting import format_time
from booking.extensions import db
from booking.models import ExceptionKind, Location, ScheduleException, User, WorkingHours
from booking.services.clinic.locations import location_names
from booking.services.clinic.practitioners import get_practitioner
from booking.services.clinic.settings import clinic_today
from booking.services.rota.checks import audit_row, check_location, check_times
from booking.services.rota.hours import weekly_spec

REASON_MAX = 200


PRACTITIONER_KINDS = frozenset({ExceptionKind.time_off, ExceptionKind.extra_hours})


CLINIC_KINDS = frozenset({ExceptionKind.closure, ExceptionKind.holiday})


@dataclass(frozen=True, slots=True)
class ExceptionValues:
    """Time off or extra hours of a practitioner, or a closure or holiday.

    No times means the whole day. `location_id` is where extra hours are worked, or where a
    closure applies (None: every location).
    """

    kind: str
    on_date: date
    start_time: time | None = None
    end_time: time | None = None
    location_id: int | None = None
    reason: str = ""


def upcoming_exceptions(practitioner_id: int, *, today: date) -> list[ScheduleException]:
    """From `today` on: the practitioner's time off and extra hours, and every closure or
    holiday (they apply to everyone), by date."""
    return list(
        db.session.scalars(
            select(ScheduleException)
            .where(
                ScheduleException.on_date >= today,
                or_(
                    ScheduleException.practitioner_id == practitioner_id,
                    ScheduleException.practitioner_id.is_(None),
                ),
            )
            .order_by(ScheduleException.on_date, ScheduleException.start_time, ScheduleException.id)
        )
    )


def upcoming_closures(*, today: date) -> list[ScheduleException]:
    """Closures and holidays from `today` on, by date."""
    return list(
        db.session.scalars(
            select(ScheduleException)
            .where(
                ScheduleException.on_date >= today,
                ScheduleException.kind.in_(CLINIC_KINDS),
                ScheduleException.practitioner_id.is_(None),
            )
            .order_by(ScheduleException.on_date, ScheduleException.start_time, ScheduleException.id)
        )
    )


def _reason(text: str) -> str:
    cleaned = " ".join(text.split())
    if len(cleaned) > REASON_MAX:
        raise InvalidInput(f"Reason must be {REASON_MAX} characters or fewer", field="reason")
    return cleaned


def _check_date(on_date: date, location: Location | None, now: datetime) -> None:
    if on_date < clinic_today(now, location):
        raise InvalidInput("Date must be today or in the future", field="on_date")


def add_exception(
    practitioner_id: int, values: ExceptionValues, *, actor: User, now: datetime
) -> ScheduleException:
    """Add time off (whole or part day, every location) or extra hours at one location.

    Time off beats extra hours on the same day. Booked sessions are never moved.
    Raises NotFound for an unknown practitioner, InvalidInput (with `field`) for another kind,
    a date before today, a missing location for extra hours, missing times for extra hours or
    only one time for time off, an end not after the start, extra hours overlapping the
    practitioner's weekly or extra hours that day (at any location), or a long reason.
    """
    practitioner = get_practitioner(practitioner_id)
    if values.kind not in PRACTITIONER_KINDS:
        raise InvalidInput("Select time off or extra hours", field="kind")
    kind = ExceptionKind(values.kind)
    location = None
    if kind == ExceptionKind.extra_hours:
        location = check_location(values.location_id, "Select where the extra hours are")
    _check_date(values.on_date, location, now)
    check_times(values.start_time, values.end_time, needed=kind == ExceptionKind.extra_hours)
    reason = _reason(values.reason)
    if kind == ExceptionKind.extra_hours:
        _check_extra_hours(practitioner.id, values)
    row = ScheduleException(
        kind=kind,
        practitioner_id=practitioner.id,
        location_id=location.id if location else None,
        on_date=values.on_date,
        start_time=values.start_time,
        end_time=values.end_time,
        reason=reason,
    )
    db.session.add(row)
    db.session.flush()
    audit_row(f"setup.{kind.value}.add", row, actor, now, values.on_date.isoformat())
    return row


def _check_extra_hours(practitioner_id: int, values: ExceptionValues) -> None:
    """Extra hours must add time: refuse any overlap with hours already open that day."""
    start, end, day = values.start_time, values.end_time, values.on_date
    if start is None or end is None:  # refused earlier by check_times
        return
    names = location_names()
    weekly = db.session.scalars(
        select(WorkingHours).where(
            WorkingHours.practitioner_id == practitioner_id,
            WorkingHours.weekday == day.weekday(),
            WorkingHours.start_time < end,
            WorkingHours.end_time > start,
        )
    )
    for hours in weekly:
        if weekly_spec(hours, practitioner_id).valid_on(day):
            where = f"{format_time(hours.start_time)} to {format_time(hours.end_time)}"
            raise InvalidInput(
                f"These extra hours overlap working hours, {where} at "
                f"{names.get(hours.location_id, 'another location')}",
                field="start_time",
            )
    extra = db.session.scalar(
        select(ScheduleException).where(
            ScheduleException.practitioner_id == practitioner_id,
            ScheduleException.kind == ExceptionKind.extra_hours,
            ScheduleException.on_date == day,
            ScheduleException.start_time < end,
            ScheduleException.end_time > start,
        )
    )
    # The query compared both times, so neither is None on a row it found.
    if extra is not None and extra.start_time is not None and extra.end_time is not None:
        raise InvalidInput(
            f"These extra hours overlap extra hours already added, "
            f"{format_time(extra.start_time)} to {format_time(extra.end_time)}",
            field="start_time",
        )


def own_exception(practitioner_id: int, exception_id: int) -> ScheduleException:
    """A practitioner's own time off or extra hours; NotFound for anything else."""
    row = db.session.get(ScheduleException, exception_id)
    if row is None or row.practitioner_id != practitioner_id:
        raise NotFound("Time off not found")
    return row


def clinic_closure(exception_id: int) -> ScheduleException:
    """A closure or holiday of the clinic; NotFound for anything else."""
    row = db.session.get(ScheduleException, exception_id)
    if row is None or row.kind not in CLINIC_KINDS or row.practitioner_id is not None:
        raise NotFound("Closure not found")
    return row


def remove_exception(
    practitioner_id: int, exception_id: int, *, actor: User, now: datetime
) -> ScheduleException:
    """Delete a practitioner's time off or extra hours.

    Raises NotFound when it does not exist or is someone else's (closures are removed with
    `remove_closure`).
    """
    row = own_exception(practitioner_id, exception_id)
    audit_row(f"setup.{row.kind.value}.remove", row, actor, now, row.on_date.isoformat())
    db.session.delete(row)
    db.session.flush()
    return row


def add_closure(values: ExceptionValues, *, actor: User, now: datetime) -> ScheduleException:
    """Close one location, or every location when `location_id` is None, for a day or part.

    Closures beat everyone's hours and extra hours; booked sessions are never moved.
    Raises InvalidInput (with `field`) for a kind other than closure or holiday, an unknown
    location, a date before today, only one time, an end not after the start or a long reason.
    """
    if values.kind not in CLINIC_KINDS:
        raise InvalidInput("Select closure or public holiday", field="kind")
    location = None
    if values.location_id is not None:
        location = check_location(values.location_id, "Select where it applies")
    _check_date(values.on_date, location, now)
    check_times(values.start_time, values.end_time, needed=False)
    row = ScheduleException(
        kind=ExceptionKind(values.kind),
        practitioner_id=None,
        location_id=location.id if location else None,
        on_date=values.on_date,
        start_time=values.start_time,
        end_time=values.end_time,
        reason=_reason(values.reason),
    )
    db.session.add(row)
    db.session.flush()
    audit_row(f"setup.{values.kind}.add", row, actor, now, values.on_date.isoformat())
    return row


def remove_closure(exception_id: int, *, actor: User, now: datetime) -> ScheduleException:
    """Delete a closure or holiday. Raises NotFound for anything else."""
    row = clinic_closure(exception_id)
    audit_row(f"setup.{row.kind.value}.remove", row, actor, now, row.on_date.isoformat())
    db.session.delete(row)
    db.session.flush()
    return row
