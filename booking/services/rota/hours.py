"""Practitioners' weekly hours: read by location, added and removed by admins."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select

from booking.domain.errors import InvalidInput, NotFound
from booking.domain.formatting import format_time
from booking.domain.scheduling import values as engine
from booking.domain.scheduling.hours import (
    WEEKDAY_NAMES,
    validate_weekly_hours,
    validity_overlaps,
)
from booking.extensions import db
from booking.models import Location, User, WorkingHours
from booking.services.clinic.locations import location_names
from booking.services.clinic.practitioners import get_practitioner
from booking.services.rota.checks import audit_row, check_location, check_times

WEEKDAYS = WEEKDAY_NAMES


@dataclass(frozen=True, slots=True)
class HoursValues:
    location_id: int
    weekday: int
    start_time: time
    end_time: time
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True, slots=True)
class HoursGroup:
    """A practitioner's weekly hours at one location, by weekday (Monday first)."""

    location: Location
    days: tuple[tuple[str, tuple[WorkingHours, ...]], ...]


def describe_hours(hours: WorkingHours, location_name: str) -> str:
    """'Monday 9am to 1pm at Islington', naming one interval on a button or in a message."""
    start, end = format_time(hours.start_time), format_time(hours.end_time)
    return f"{WEEKDAYS[hours.weekday]} {start} to {end} at {location_name}"


def hours_by_location(practitioner_id: int) -> list[HoursGroup]:
    """A practitioner's weekly hours grouped by location, then weekday (2 queries)."""
    rows = list(
        db.session.scalars(
            select(WorkingHours)
            .where(WorkingHours.practitioner_id == practitioner_id)
            .order_by(WorkingHours.weekday, WorkingHours.start_time, WorkingHours.id)
        )
    )
    if not rows:
        return []
    locations = db.session.scalars(
        select(Location)
        .where(Location.id.in_({h.location_id for h in rows}))
        .order_by(Location.name, Location.id)
    )
    groups = []
    for location in locations:
        by_day: dict[int, list[WorkingHours]] = defaultdict(list)
        for hours in rows:
            if hours.location_id == location.id:
                by_day[hours.weekday].append(hours)
        days = tuple((WEEKDAYS[day], tuple(items)) for day, items in sorted(by_day.items()))
        groups.append(HoursGroup(location, days))
    return groups


def weekly_spec(hours: WorkingHours | HoursValues, practitioner_id: int) -> engine.WeeklyHours:
    return engine.WeeklyHours(
        practitioner_id=practitioner_id,
        location_id=hours.location_id,
        weekday=hours.weekday,
        start_time=hours.start_time,
        end_time=hours.end_time,
        valid_from=hours.valid_from,
        valid_until=hours.valid_until,
    )


def add_hours(
    practitioner_id: int, values: HoursValues, *, actor: User, now: datetime
) -> WorkingHours:
    """Add a weekly interval; booked sessions are never moved by it.

    Raises NotFound for an unknown practitioner, InvalidInput (with `field`) for an unknown
    location, a weekday outside Monday to Sunday, an end not after the start, an end date
    before the start date, or hours overlapping the practitioner's other hours on that weekday
    at any location while both apply (checked by `validate_weekly_hours`).
    """
    get_practitioner(practitioner_id)
    location = check_location(values.location_id, "Select a location from the list")
    if not 0 <= values.weekday <= 6:
        raise InvalidInput("Select a day", field="weekday")
    check_times(values.start_time, values.end_time, needed=True)
    if values.valid_from and values.valid_until and values.valid_until < values.valid_from:
        raise InvalidInput(
            "The last day must be the same as or after the first day", field="valid_until"
        )
    existing = list(
        db.session.scalars(
            select(WorkingHours).where(WorkingHours.practitioner_id == practitioner_id)
        )
    )
    specs = [weekly_spec(h, practitioner_id) for h in existing]
    new = weekly_spec(values, practitioner_id)
    if len(validate_weekly_hours([*specs, new])) > len(validate_weekly_hours(specs)):
        clash = next(
            (
                h
                for h, spec in zip(existing, specs, strict=True)
                if spec.weekday == new.weekday
                and spec.start_time < new.end_time
                and new.start_time < spec.end_time
                and validity_overlaps(spec, new)
            ),
            None,
        )
        where = describe_hours(clash, location_names()[clash.location_id]) if clash else ""
        raise InvalidInput(f"These hours overlap {where}".strip(), field="start_time")
    hours = WorkingHours(
        practitioner_id=practitioner_id,
        location_id=location.id,
        weekday=values.weekday,
        start_time=values.start_time,
        end_time=values.end_time,
        valid_from=values.valid_from,
        valid_until=values.valid_until,
    )
    db.session.add(hours)
    db.session.flush()
    audit_row("setup.hours.add", hours, actor, now, describe_hours(hours, location.name))
    return hours


def describe_own_hours(practitioner_id: int, hours_id: int) -> str:
    """ "Monday 9am to 1pm at Islington": what removing the interval would remove.

    Raises NotFound when the interval does not exist or belongs to someone else.
    """
    hours = db.session.get(WorkingHours, hours_id)
    if hours is None or hours.practitioner_id != practitioner_id:
        raise NotFound("Hours not found")
    return describe_hours(hours, location_names().get(hours.location_id, "a location"))


def remove_hours(practitioner_id: int, hours_id: int, *, actor: User, now: datetime) -> str:
    """Delete one of a practitioner's weekly intervals and return its description.

    Raises NotFound when the interval does not exist or belongs to someone else.
    """
    described = describe_own_hours(practitioner_id, hours_id)
    hours = db.session.get_one(WorkingHours, hours_id)
    audit_row("setup.hours.remove", hours, actor, now, described)
    db.session.delete(hours)
    db.session.flush()
    return described
