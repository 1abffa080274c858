"""Locations and their rooms, added and changed by admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from booking.domain.errors import InvalidInput, NotFound
from booking.domain.phones import parse_phone
from booking.domain.scheduling.holidays import check_region
from booking.extensions import db
from booking.models import LIVE_STATUSES, Appointment, Location, Room, RoomKind, User
from booking.services.clinic.checks import (
    LIMITS,
    apply_changes,
    audit_change,
    canonical_zone,
    check_name,
    check_step,
    unique_slug,
)


@dataclass(frozen=True, slots=True)
class LocationValues:
    name: str
    address: str
    phone: str
    timezone: str
    country_code: str
    is_active: bool
    # "GB-ENG" or "ENG"; empty for the whole country's public holidays.
    subdivision: str = ""
    # None inherits the clinic's setting.
    min_notice_minutes: int | None = None
    max_advance_days: int | None = None
    slot_step_minutes: int | None = None
    cancellation_cutoff_hours: int | None = None
    reminder_24h: bool | None = None
    reminder_2h: bool | None = None


@dataclass(frozen=True, slots=True)
class RoomValues:
    name: str
    kind: str
    capacity: int
    sort_order: int
    is_active: bool


def locations_with_rooms() -> list[Location]:
    """Every location, active or not, with its rooms loaded in one more query."""
    return list(
        db.session.scalars(
            select(Location).options(selectinload(Location.rooms)).order_by(Location.name)
        )
    )


def _location_fields(values: LocationValues, location_id: int | None) -> dict[str, object]:
    name = check_name(values.name)
    clash = db.session.scalar(
        select(Location.id).where(
            func.lower(Location.name) == name.lower(),
            Location.id != (location_id or 0),
        )
    )
    if clash is not None:
        raise InvalidInput(f"There is already a location called {name}", field="name")
    address = values.address.strip()
    if not address:
        raise InvalidInput("Enter the address", field="address")
    if len(address) > 500:
        raise InvalidInput("Address must be 500 characters or fewer", field="address")
    country = values.country_code.strip().upper()
    if country not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput("Enter a two-letter country code, like GB or IE", field="country_code")
    phone = parse_phone(values.phone, country)
    subdivision = check_region(country, values.subdivision)
    zone = canonical_zone(values.timezone)
    if zone is None:
        raise InvalidInput(
            "Enter a time zone from the IANA list, like Europe/London", field="timezone"
        )
    for name_ in ("min_notice_minutes", "max_advance_days", "cancellation_cutoff_hours"):
        LIMITS[name_].check(getattr(values, name_), name_)
    check_step(values.slot_step_minutes, optional=True)
    return {
        "name": name,
        "address": address,
        "phone": phone,
        "timezone": zone,
        "country_code": country,
        "subdivision": subdivision,
        "is_active": values.is_active,
        "min_notice_minutes": values.min_notice_minutes,
        "max_advance_days": values.max_advance_days,
        "slot_step_minutes": values.slot_step_minutes,
        "cancellation_cutoff_hours": values.cancellation_cutoff_hours,
        "reminder_24h": values.reminder_24h,
        "reminder_2h": values.reminder_2h,
    }


def create_location(values: LocationValues, *, actor: User, now: datetime) -> Location:
    """Add a location; its slug comes from its name and never changes afterwards.

    Raises InvalidInput (with `field`) for an empty or taken name, an empty address, an unknown
    country, a phone number that is not a valid one there (it is stored in E.164), an unknown
    IANA zone or a policy out of range.
    """
    fields = _location_fields(values, None)
    location = Location(slug=unique_slug(Location, str(fields["name"]), "location"), **fields)
    db.session.add(location)
    db.session.flush()
    audit_change("setup.location.create", location, actor, now, fields)
    return location


def update_location(
    location_id: int, values: LocationValues, *, actor: User, now: datetime
) -> Location:
    """Change a location; booked sessions keep their times (they are stored in UTC).

    Raises NotFound for an unknown id, and InvalidInput as `create_location` does.
    """
    location = db.session.get(Location, location_id)
    if location is None:
        raise NotFound("Location not found")
    changed = apply_changes(location, _location_fields(values, location.id))
    db.session.flush()
    audit_change("setup.location.update", location, actor, now, changed)
    return location


def _room_fields(values: RoomValues, location_id: int, room_id: int | None) -> dict[str, object]:
    name = check_name(values.name)
    clash = db.session.scalar(
        select(Room.id).where(
            Room.location_id == location_id,
            func.lower(Room.name) == name.lower(),
            Room.id != (room_id or 0),
        )
    )
    if clash is not None:
        raise InvalidInput(f"There is already a room called {name} here", field="name")
    if values.kind not in {k.value for k in RoomKind}:
        raise InvalidInput("Select the kind of room", field="kind")
    LIMITS["capacity"].check(values.capacity, "capacity")
    LIMITS["sort_order"].check(values.sort_order, "sort_order")
    return {
        "name": name,
        "kind": RoomKind(values.kind),
        "capacity": values.capacity,
        "sort_order": values.sort_order,
        "is_active": values.is_active,
    }


def create_room(location_id: int, values: RoomValues, *, actor: User, now: datetime) -> Room:
    """Add a room to a location.

    Raises NotFound for an unknown location, InvalidInput (with `field`) for an empty name, a
    name already used at that location, an unknown kind or places outside 1 to 12.
    """
    if db.session.get(Location, location_id) is None:
        raise NotFound("Location not found")
    fields = _room_fields(values, location_id, None)
    room = Room(location_id=location_id, **fields)
    db.session.add(room)
    db.session.flush()
    audit_change("setup.room.create", room, actor, now, fields)
    return room


def update_room(room_id: int, values: RoomValues, *, actor: User, now: datetime) -> Room:
    """Change a room; booked sessions stay booked.

    Places cannot drop below the highest place taken by a live session that has not ended,
    so no booked patient loses their place. Raises NotFound for an unknown id, InvalidInput
    (with `field`) as `create_room` does and for that rule.
    """
    room = db.session.get(Room, room_id)
    if room is None:
        raise NotFound("Room not found")
    fields = _room_fields(values, room.location_id, room.id)
    highest = db.session.scalar(
        select(func.max(Appointment.room_place)).where(
            Appointment.room_id == room.id,
            Appointment.status.in_(LIVE_STATUSES),
            Appointment.ends_at > now,
        )
    )
    if highest is not None and values.capacity < highest:
        raise InvalidInput(
            f"Places must be at least {highest}, because a session is booked in place "
            f"{highest} of this room",
            field="capacity",
        )
    changed = apply_changes(room, fields)
    db.session.flush()
    audit_change("setup.room.update", room, actor, now, changed)
    return room


def location_choices(selected: int | None = None) -> list[tuple[int, str]]:
    """Locations in use, plus the one already chosen, as (id, name)."""
    rows = db.session.execute(
        select(Location.id, Location.name, Location.is_active).order_by(Location.name)
    )
    return [(lid, name) for lid, name, active in rows if active or lid == selected]


def location_names() -> dict[int, str]:
    return dict(db.session.execute(select(Location.id, Location.name)).all())
