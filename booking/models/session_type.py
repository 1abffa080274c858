"""Kinds of session a patient can book."""

from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base
from booking.models.clinic import RoomKind
from booking.models.types import str_enum

MIN_DURATION_MINUTES = 20
MAX_DURATION_MINUTES = 40


class Audience(enum.StrEnum):
    new = "new"
    follow_up = "follow_up"
    any = "any"


class SessionType(Base):
    __tablename__ = "session_type"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 20 AND 40", name="duration"),
        CheckConstraint("buffer_before_minutes BETWEEN 0 AND 30", name="buffer_before"),
        CheckConstraint("buffer_after_minutes BETWEEN 0 AND 30", name="buffer_after"),
        CheckConstraint("price_pence IS NULL OR price_pence >= 0", name="price"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int]
    buffer_before_minutes: Mapped[int] = mapped_column(default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(default=0)
    price_pence: Mapped[int | None]
    audience: Mapped[Audience] = mapped_column(
        str_enum(Audience, name="audience"), default=Audience.any
    )
    room_kind: Mapped[RoomKind | None] = mapped_column(str_enum(RoomKind, name="st_room_kind"))
    modalities: Mapped[str] = mapped_column(String(200), default="")  # comma-separated
    sort_order: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
