"""Version stamps of what availability is computed from, bumped by database triggers."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base


class AvailabilityVersion(Base):
    """One counter per scope that availability reads; any write to its facts bumps it.

    `kind`: "p" a practitioner (appointments and holds, weekly hours, their time off and
    extra hours), "r" a room (the sessions booked in it), "l" a location (its rooms,
    closures and opened holidays), "c" the clinic (settings, locations, session types,
    practitioners and what they offer; `ref_id` 0). Triggers from the migration
    20261207_s22cache_versions write these rows in the writer's own transaction, so no
    code path can change availability without changing a stamp. A new row starts at a
    random value, so a recreated database never repeats a stamp a cache has seen.
    """

    __tablename__ = "availability_version"

    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    ref_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
