"""The clinic's settings: its row, its zone and today there."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from booking.domain.scheduling.dst import local_today
from booking.extensions import db
from booking.models import Clinic, Location

DEFAULT_ZONE = "Europe/London"


def get_clinic() -> Clinic | None:
    """The install's clinic row, if one has been set up."""
    return db.session.scalar(select(Clinic).order_by(Clinic.id).limit(1))


def clinic_zone() -> ZoneInfo:
    clinic = get_clinic()
    return clinic.zone if clinic else ZoneInfo(DEFAULT_ZONE)


def clinic_today(now: datetime, location: Location | None = None) -> date:
    """Today at a location, or in the clinic's zone."""
    return local_today(location.zone if location is not None else clinic_zone(), now=now)
