"""The clinic's settings: its row, its zone and today there."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from booking.extensions import db
from booking.models import Clinic, Location

DEFAULT_ZONE = "Europe/London"


def get_clinic() -> Clinic | None:
    """The install's clinic row, if one has been set up."""
    return db.session.scalar(select(Clinic).order_by(Clinic.id).limit(1))


def clinic_zone() -> ZoneInfo:
    clinic = get_clinic()
    return ZoneInfo(clinic.timezone if clinic else DEFAULT_ZONE)


def local_today(zone: ZoneInfo, *, now: datetime) -> date:
    return now.astimezone(zone).date()


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where a local day starts and the next one starts."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def clinic_today(now: datetime, location: Location | None = None) -> date:
    """Today at a location, or in the clinic's zone."""
    if location is not None:
        zone = location.timezone
    else:
        clinic = get_clinic()
        zone = clinic.timezone if clinic else DEFAULT_ZONE
    return now.astimezone(ZoneInfo(zone)).date()
