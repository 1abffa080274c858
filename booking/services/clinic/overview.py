"""The admin home's summary: how many of each thing the clinic has."""

from __future__ import annotations

from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Location, Practitioner, Room, SessionType, User
from booking.models.base import Base

COUNTED: tuple[tuple[str, type[Base]], ...] = (
    ("Locations", Location),
    ("Rooms", Room),
    ("Session types", SessionType),
    ("Practitioners", Practitioner),
    ("Accounts", User),
)


def setup_counts() -> dict[str, int]:
    """Rows of each kind, active or not, by the label the admin home shows, in its order."""
    return {
        label: db.session.scalar(select(func.count()).select_from(model)) or 0
        for label, model in COUNTED
    }
