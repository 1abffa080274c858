"""What patients can book: active session types and locations, in list order."""

from __future__ import annotations

from sqlalchemy import select

from booking.extensions import db
from booking.models import Location, SessionType


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
