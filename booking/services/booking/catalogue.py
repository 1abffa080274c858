"""What patients can book: session types, locations and practitioners, in list order."""

from __future__ import annotations

from sqlalchemy import select, true

from booking.extensions import db
from booking.models import (
    Location,
    Practitioner,
    Room,
    SessionType,
    WorkingHours,
    practitioner_session_type,
)


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


def locations_offering(session_type_id: int) -> list[Location]:
    """Active locations where someone who offers the type has hours, with a room it needs."""
    room_kind = db.session.scalar(
        select(SessionType.room_kind).where(SessionType.id == session_type_id)
    )
    with_room = (
        Location.id.in_(
            select(Room.location_id).where(Room.kind == room_kind, Room.is_active.is_(True))
        )
        if room_kind is not None
        else true()
    )
    return list(
        db.session.scalars(
            select(Location)
            .where(
                Location.is_active.is_(True),
                with_room,
                Location.id.in_(
                    select(WorkingHours.location_id)
                    .join(
                        practitioner_session_type,
                        practitioner_session_type.c.practitioner_id == WorkingHours.practitioner_id,
                    )
                    .join(Practitioner, Practitioner.id == WorkingHours.practitioner_id)
                    .where(
                        practitioner_session_type.c.session_type_id == session_type_id,
                        Practitioner.is_active.is_(True),
                    )
                ),
            )
            .order_by(Location.name, Location.id)
        )
    )


def practitioners_offering(session_type_id: int, location_id: int) -> list[Practitioner]:
    """Active practitioners who offer the type and have hours at the location."""
    return list(
        db.session.scalars(
            select(Practitioner)
            .where(
                Practitioner.is_active.is_(True),
                Practitioner.id.in_(
                    select(WorkingHours.practitioner_id).where(
                        WorkingHours.location_id == location_id
                    )
                ),
                Practitioner.id.in_(
                    select(practitioner_session_type.c.practitioner_id).where(
                        practitioner_session_type.c.session_type_id == session_type_id
                    )
                ),
            )
            .order_by(Practitioner.display_name, Practitioner.id)
        )
    )
