"""Public holidays per location: closed unless an admin opens them (issue 19).

The dates come from the `holidays` package for the location's country and subdivision
(booking.domain.scheduling.holidays); availability loading turns the kept ones into closures.
A `HolidayOpening` row opens one date at one location; removing it keeps the holiday again.
Booked sessions are never moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from booking.domain.errors import InvalidInput, NotFound
from booking.domain.scheduling.holidays import PublicHoliday, public_holidays
from booking.extensions import db
from booking.models import HolidayOpening, Location, User
from booking.services.clinic.settings import clinic_today
from booking.services.platform.audit import record_event

# The admin page lists a year ahead.
HORIZON = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class LocationHoliday:
    holiday: PublicHoliday
    opened: bool


@dataclass(frozen=True, slots=True)
class LocationHolidays:
    location: Location
    holidays: list[LocationHoliday]


def coming_holidays(*, now: datetime) -> list[LocationHolidays]:
    """Each location's public holidays from today for a year, and whether each is opened."""
    locations = list(db.session.scalars(select(Location).order_by(Location.name)))
    opened = {
        (row.location_id, row.on_date)
        for row in db.session.scalars(
            select(HolidayOpening).where(HolidayOpening.on_date >= clinic_today(now) - HORIZON)
        )
    }
    result = []
    for location in locations:
        today = clinic_today(now, location)
        days = public_holidays(location.country_code, location.subdivision, today, today + HORIZON)
        result.append(
            LocationHolidays(
                location,
                [LocationHoliday(h, (location.id, h.on_date) in opened) for h in days],
            )
        )
    return result


def _holiday(location_id: int, on_date: date, now: datetime) -> tuple[Location, PublicHoliday]:
    location = db.session.get(Location, location_id)
    if location is None:
        raise NotFound("Location not found")
    found = public_holidays(location.country_code, location.subdivision, on_date, on_date)
    if not found:
        raise NotFound("Public holiday not found")
    if on_date < clinic_today(now, location):
        raise InvalidInput("This public holiday has passed", field="on_date")
    return location, found[0]


def _audit(
    action: str, location: Location, holiday: PublicHoliday, actor: User, now: datetime
) -> None:
    record_event(
        action,
        actor=actor,
        now=now,
        object_type="location",
        object_id=location.id,
        detail=f"{holiday.on_date.isoformat()} {holiday.name}"[:200],
    )


def open_holiday(
    location_id: int, on_date: date, *, actor: User, now: datetime
) -> tuple[Location, PublicHoliday]:
    """Let patients book at the location on this public holiday (opening twice is one opening).

    Raises NotFound for an unknown location or a date that is not one of its public holidays,
    InvalidInput for a holiday that has passed.
    """
    location, holiday = _holiday(location_id, on_date, now)
    exists = db.session.scalar(
        select(HolidayOpening).where(
            HolidayOpening.location_id == location.id, HolidayOpening.on_date == on_date
        )
    )
    if exists is None:
        db.session.add(
            HolidayOpening(
                location_id=location.id, on_date=on_date, opened_at=now, opened_by_id=actor.id
            )
        )
        db.session.flush()
        _audit("setup.holiday.open", location, holiday, actor, now)
    return location, holiday


def keep_holiday(
    location_id: int, on_date: date, *, actor: User, now: datetime
) -> tuple[Location, PublicHoliday]:
    """Close the location again on this public holiday; sessions booked meanwhile stay booked.

    Raises as `open_holiday` does.
    """
    location, holiday = _holiday(location_id, on_date, now)
    row = db.session.scalar(
        select(HolidayOpening).where(
            HolidayOpening.location_id == location.id, HolidayOpening.on_date == on_date
        )
    )
    if row is not None:
        db.session.delete(row)
        db.session.flush()
        _audit("setup.holiday.keep", location, holiday, actor, now)
    return location, holiday
