"""Clinic set-up by admins: booking policies, locations, rooms and session types.

Each write checks its own rules (the forms check them first; these checks are the backstop for
any other caller), writes an audit row and flushes; the view commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import available_timezones

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from booking.extensions import db
from booking.models import (
    LIVE_STATUSES,
    Appointment,
    Audience,
    Clinic,
    LateCancelMode,
    Location,
    Practitioner,
    Room,
    RoomKind,
    SessionType,
    User,
    practitioner_session_type,
)
from booking.models.clinic import SLOT_STEPS
from booking.scheduling.errors import InvalidInput, NotFound
from booking.services.audit import record_event

MODALITIES = ("needling", "electro_acupuncture", "cupping", "moxibustion", "gua_sha")


@dataclass(frozen=True, slots=True)
class Limit:
    """An inclusive whole-number range and how messages name it."""

    noun: str
    low: int
    high: int
    unit: str = ""

    def message(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.noun} must be between {self.low} and {self.high}{unit}"

    def check(self, value: int | None, field: str) -> None:
        """Raise InvalidInput naming `field` when a given value is out of range."""
        if value is not None and not self.low <= value <= self.high:
            raise InvalidInput(self.message(), field=field)


# One catalogue for the forms and the services; the database CHECKs agree where they exist.
LIMITS = {
    "min_notice_minutes": Limit("Minimum notice", 0, 10080, "minutes"),
    "max_advance_days": Limit("How far ahead patients can book", 1, 730, "days"),
    "cancellation_cutoff_hours": Limit("The cancellation cut-off", 0, 168, "hours"),
    "missed_threshold": Limit("The number of missed sessions", 1, 20),
    "capacity": Limit("Places", 1, 12),
    "sort_order": Limit("Position in lists", 0, 999),
    "duration_minutes": Limit("Duration", 20, 40, "minutes"),
    "buffer_before_minutes": Limit("Time before the session", 0, 30, "minutes"),
    "buffer_after_minutes": Limit("Time after the session", 0, 30, "minutes"),
}
MAX_PRICE_PENCE = 100_000
NAME_MAX = 100


@dataclass(frozen=True, slots=True)
class PolicyValues:
    min_notice_minutes: int
    max_advance_days: int
    slot_step_minutes: int
    cancellation_cutoff_hours: int
    late_cancel_mode: str
    missed_threshold: int


@dataclass(frozen=True, slots=True)
class LocationValues:
    name: str
    address: str
    phone: str
    timezone: str
    country_code: str
    is_active: bool
    # None inherits the clinic's setting.
    min_notice_minutes: int | None = None
    max_advance_days: int | None = None
    slot_step_minutes: int | None = None
    cancellation_cutoff_hours: int | None = None


@dataclass(frozen=True, slots=True)
class RoomValues:
    name: str
    kind: str
    capacity: int
    sort_order: int
    is_active: bool


@dataclass(frozen=True, slots=True)
class SessionTypeValues:
    name: str
    description: str
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    price_pence: int | None
    audience: str
    room_kind: str | None
    modalities: tuple[str, ...]
    practitioner_ids: tuple[int, ...]
    sort_order: int
    is_active: bool


@dataclass(frozen=True, slots=True)
class SessionTypeRow:
    """A session type with the names of the practitioners who offer it."""

    session_type: SessionType
    practitioner_names: tuple[str, ...]


# ---- Reading ---------------------------------------------------------------------------------


def locations_with_rooms() -> list[Location]:
    """Every location, active or not, with its rooms loaded in one more query."""
    return list(
        db.session.scalars(
            select(Location).options(selectinload(Location.rooms)).order_by(Location.name)
        )
    )


def session_type_rows() -> list[SessionTypeRow]:
    """Every session type in list order with who offers it, in two queries."""
    types = list(
        db.session.scalars(select(SessionType).order_by(SessionType.sort_order, SessionType.id))
    )
    offered: dict[int, list[str]] = {}
    pairs = db.session.execute(
        select(practitioner_session_type.c.session_type_id, Practitioner.display_name)
        .join(Practitioner, Practitioner.id == practitioner_session_type.c.practitioner_id)
        .order_by(Practitioner.display_name)
    )
    for session_type_id, name in pairs:
        offered.setdefault(session_type_id, []).append(name)
    return [SessionTypeRow(t, tuple(offered.get(t.id, ()))) for t in types]


def practitioner_choices(selected: Iterable[int] = ()) -> list[tuple[int, str]]:
    """Active practitioners, plus any inactive ones already chosen, as (id, name)."""
    keep = set(selected)
    rows = db.session.execute(
        select(Practitioner.id, Practitioner.display_name, Practitioner.is_active).order_by(
            Practitioner.display_name, Practitioner.id
        )
    )
    return [(pid, name) for pid, name, active in rows if active or pid in keep]


def offered_by(session_type_id: int) -> list[int]:
    """Ids of the practitioners who offer a session type."""
    return list(
        db.session.scalars(
            select(practitioner_session_type.c.practitioner_id).where(
                practitioner_session_type.c.session_type_id == session_type_id
            )
        )
    )


# ---- Shared checks ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()}


def canonical_zone(text: str) -> str | None:
    """The IANA zone name matching `text` (any case, spaces as underscores), or None."""
    key = text.strip().replace(" ", "_").lower()
    return _zones_by_lower_name().get(key)


def phone_is_possible(number: str, country_code: str) -> bool:
    """True when `number` could be a phone number, read in `country_code` when national."""
    try:
        parsed = phonenumbers.parse(number, country_code.upper() or None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(parsed)


def slugify(text: str, fallback: str) -> str:
    """Lower-case words joined by hyphens, for URLs; `fallback` when nothing is left."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]
    return slug or fallback


def _unique_slug(model: type[Location] | type[SessionType], name: str, fallback: str) -> str:
    base = slugify(name, fallback)
    taken = set(db.session.scalars(select(model.slug).where(model.slug.like(f"{base}%"))))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def _check_name(name: str, field: str = "name") -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput("Enter a name", field=field)
    if len(cleaned) > NAME_MAX:
        raise InvalidInput(f"Name must be {NAME_MAX} characters or fewer", field=field)
    return cleaned


def _audit(
    action: str,
    obj: Clinic | Location | Room | SessionType,
    actor: User,
    now: datetime,
    changed: Iterable[str],
) -> None:
    detail = ", ".join(sorted(changed))
    record_event(
        action,
        actor=actor,
        now=now,
        object_type=type(obj).__tablename__,
        object_id=obj.id,
        detail=(detail[:197] + "...") if len(detail) > 200 else (detail or None),
    )


def _apply(obj: object, values: dict[str, object]) -> list[str]:
    """Set attributes, returning the names whose value changed."""
    changed = []
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


# ---- Booking policies ------------------------------------------------------------------------


def update_policies(values: PolicyValues, *, actor: User, now: datetime) -> Clinic:
    """Change the clinic's default booking policies.

    Raises NotFound when no clinic is set up, InvalidInput (with `field`) for a value out of
    range, a slot step other than 5, 10, 15, 20 or 30, or an unknown late-cancel mode.
    """
    clinic = db.session.scalar(select(Clinic).order_by(Clinic.id).limit(1))
    if clinic is None:
        raise NotFound("No clinic is set up yet")
    for name in (
        "min_notice_minutes",
        "max_advance_days",
        "cancellation_cutoff_hours",
        "missed_threshold",
    ):
        LIMITS[name].check(getattr(values, name), name)
    _check_step(values.slot_step_minutes, optional=False)
    if values.late_cancel_mode not in {m.value for m in LateCancelMode}:
        raise InvalidInput("Select what happens inside the cut-off", field="late_cancel_mode")
    changed = _apply(
        clinic,
        {
            "min_notice_minutes": values.min_notice_minutes,
            "max_advance_days": values.max_advance_days,
            "slot_step_minutes": values.slot_step_minutes,
            "cancellation_cutoff_hours": values.cancellation_cutoff_hours,
            "late_cancel_mode": LateCancelMode(values.late_cancel_mode),
            "missed_threshold": values.missed_threshold,
        },
    )
    db.session.flush()
    _audit("setup.policies.update", clinic, actor, now, changed)
    return clinic


def _check_step(step: int | None, *, optional: bool) -> None:
    if step is None and optional:
        return
    if step not in SLOT_STEPS:
        raise InvalidInput("Select how often sessions can start", field="slot_step_minutes")


# ---- Locations -------------------------------------------------------------------------------


def _location_fields(values: LocationValues, location_id: int | None) -> dict[str, object]:
    name = _check_name(values.name)
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
    phone = " ".join(values.phone.split())
    if not phone:
        raise InvalidInput("Enter a phone number", field="phone")
    if len(phone) > 32 or not phone_is_possible(phone, country):
        raise InvalidInput(
            "Enter a phone number, like 020 7946 0321 or +44 20 7946 0321", field="phone"
        )
    zone = canonical_zone(values.timezone)
    if zone is None:
        raise InvalidInput(
            "Enter a time zone from the IANA list, like Europe/London", field="timezone"
        )
    for name_ in ("min_notice_minutes", "max_advance_days", "cancellation_cutoff_hours"):
        LIMITS[name_].check(getattr(values, name_), name_)
    _check_step(values.slot_step_minutes, optional=True)
    return {
        "name": name,
        "address": address,
        "phone": phone,
        "timezone": zone,
        "country_code": country,
        "is_active": values.is_active,
        "min_notice_minutes": values.min_notice_minutes,
        "max_advance_days": values.max_advance_days,
        "slot_step_minutes": values.slot_step_minutes,
        "cancellation_cutoff_hours": values.cancellation_cutoff_hours,
    }


def create_location(values: LocationValues, *, actor: User, now: datetime) -> Location:
    """Add a location; its slug comes from its name and never changes afterwards.

    Raises InvalidInput (with `field`) for an empty or taken name, an empty address, an unknown
    country, a phone number that cannot be one, an unknown IANA zone or a policy out of range.
    """
    fields = _location_fields(values, None)
    location = Location(slug=_unique_slug(Location, str(fields["name"]), "location"), **fields)
    db.session.add(location)
    db.session.flush()
    _audit("setup.location.create", location, actor, now, fields)
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
    changed = _apply(location, _location_fields(values, location.id))
    db.session.flush()
    _audit("setup.location.update", location, actor, now, changed)
    return location


# ---- Rooms -----------------------------------------------------------------------------------


def _room_fields(values: RoomValues, location_id: int, room_id: int | None) -> dict[str, object]:
    name = _check_name(values.name)
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
    _audit("setup.room.create", room, actor, now, fields)
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
    changed = _apply(room, fields)
    db.session.flush()
    _audit("setup.room.update", room, actor, now, changed)
    return room


# ---- Session types ---------------------------------------------------------------------------


def _session_type_fields(
    values: SessionTypeValues, session_type_id: int | None
) -> tuple[dict[str, object], list[Practitioner]]:
    name = _check_name(values.name)
    clash = db.session.scalar(
        select(SessionType.id).where(
            func.lower(SessionType.name) == name.lower(),
            SessionType.id != (session_type_id or 0),
        )
    )
    if clash is not None:
        raise InvalidInput(f"There is already a session type called {name}", field="name")
    description = values.description.strip()
    if len(description) > 500:
        raise InvalidInput("Description must be 500 characters or fewer", field="description")
    for field in (
        "duration_minutes",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "sort_order",
    ):
        LIMITS[field].check(getattr(values, field), field)
    if values.price_pence is not None and not 0 <= values.price_pence <= MAX_PRICE_PENCE:
        raise InvalidInput("Price must be between £0 and £1,000", field="price")
    if values.audience not in {a.value for a in Audience}:
        raise InvalidInput("Select who can book it online", field="audience")
    if values.room_kind is not None and values.room_kind not in {k.value for k in RoomKind}:
        raise InvalidInput("Select the room it needs", field="room_kind")
    unknown = set(values.modalities) - set(MODALITIES)
    if unknown:
        raise InvalidInput("Select treatments from the list", field="modalities")
    wanted = set(values.practitioner_ids)
    practitioners = list(
        db.session.scalars(select(Practitioner).where(Practitioner.id.in_(wanted)))
    )
    if len(practitioners) != len(wanted):
        raise InvalidInput("Select practitioners from the list", field="practitioner_ids")
    fields: dict[str, object] = {
        "name": name,
        "description": description,
        "duration_minutes": values.duration_minutes,
        "buffer_before_minutes": values.buffer_before_minutes,
        "buffer_after_minutes": values.buffer_after_minutes,
        "price_pence": values.price_pence,
        "audience": Audience(values.audience),
        "room_kind": RoomKind(values.room_kind) if values.room_kind else None,
        # Stored in the catalogue's order so a re-save with the same ticks changes nothing.
        "modalities": ",".join(m for m in MODALITIES if m in values.modalities),
        "sort_order": values.sort_order,
        "is_active": values.is_active,
    }
    return fields, practitioners


def _set_practitioners(session_type: SessionType, practitioners: list[Practitioner]) -> bool:
    """Make exactly these practitioners offer the type; True when that changed anything."""
    wanted = {p.id for p in practitioners}
    current = set(offered_by(session_type.id))
    if wanted == current:
        return False
    table = practitioner_session_type
    if current - wanted:
        db.session.execute(
            table.delete().where(
                table.c.session_type_id == session_type.id,
                table.c.practitioner_id.in_(current - wanted),
            )
        )
    for practitioner_id in sorted(wanted - current):
        db.session.execute(
            table.insert().values(session_type_id=session_type.id, practitioner_id=practitioner_id)
        )
    # The rows changed behind the ORM: loaded `Practitioner.session_types` lists are now stale.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Practitioner):
            db.session.expire(obj, ["session_types"])
    return True


def create_session_type(values: SessionTypeValues, *, actor: User, now: datetime) -> SessionType:
    """Add a session type; its slug comes from its name and never changes afterwards.

    Raises InvalidInput (with `field`) for an empty or taken name, a duration outside 20 to 40
    minutes, buffers outside 0 to 30, a price outside £0 to £1,000, or unknown choices.
    """
    fields, practitioners = _session_type_fields(values, None)
    session_type = SessionType(
        slug=_unique_slug(SessionType, str(fields["name"]), "session"), **fields
    )
    db.session.add(session_type)
    db.session.flush()
    _set_practitioners(session_type, practitioners)
    db.session.flush()
    _audit("setup.session_type.create", session_type, actor, now, fields)
    return session_type


def update_session_type(
    session_type_id: int, values: SessionTypeValues, *, actor: User, now: datetime
) -> SessionType:
    """Change a session type; booked sessions keep the times and buffers copied at booking.

    Raises NotFound for an unknown id, and InvalidInput as `create_session_type` does.
    """
    session_type = db.session.get(SessionType, session_type_id)
    if session_type is None:
        raise NotFound("Session type not found")
    fields, practitioners = _session_type_fields(values, session_type.id)
    changed = _apply(session_type, fields)
    if _set_practitioners(session_type, practitioners):
        changed.append("practitioners")
    db.session.flush()
    _audit("setup.session_type.update", session_type, actor, now, changed)
    return session_type
