"""Reading the clinic's settings and its day boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.extensions import db
from booking.models import (
    LIVE_STATUSES,
    Appointment,
    Clinic,
    Location,
    SessionType,
)

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


def active_session_types() -> list[SessionType]:
    return list(
        db.session.scalars(
            select(SessionType)
            .where(SessionType.is_active.is_(True))
            .order_by(SessionType.sort_order, SessionType.id)
        )
    )


def active_locations() -> list[Location]:
    return list(
        db.session.scalars(
            select(Location).where(Location.is_active.is_(True)).order_by(Location.name)
        )
    )


def appointments_between(
    starts_from: datetime,
    starts_before: datetime,
    *,
    practitioner_id: int | None = None,
    location_id: int | None = None,
    include_holds: bool = False,
) -> list[Appointment]:
    """Appointments starting in a UTC range, with what a listing shows loaded in bulk."""
    statuses = [s for s in LIVE_STATUSES if include_holds or s != "held"]
    query = (
        select(Appointment)
        .where(
            Appointment.starts_at >= starts_from,
            Appointment.starts_at < starts_before,
            Appointment.status.in_(statuses),
        )
        .options(
            selectinload(Appointment.patient),
            selectinload(Appointment.practitioner),
            selectinload(Appointment.session_type),
            selectinload(Appointment.room),
            selectinload(Appointment.location),
        )
        .order_by(Appointment.starts_at, Appointment.practitioner_id)
    )
    if practitioner_id is not None:
        query = query.where(Appointment.practitioner_id == practitioner_id)
    if location_id is not None:
        query = query.where(Appointment.location_id == location_id)
    return list(db.session.scalars(query))
