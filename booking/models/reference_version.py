"""One counter bumped by every write to the data most pages show (issue 22)."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base


class ReferenceVersion(Base):
    """A single row (id 1) whose `version` changes with session types, places, articles, ...

    Each worker keeps the start page's and the journey's reference data in memory and
    reads only this row per request; see `booking/reference_cache.py`.
    """

    __tablename__ = "reference_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
