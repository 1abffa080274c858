"""Practitioners, the session types they offer, their weekly hours and exceptions."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.models.base import Base
from booking.models.session_type import SessionType
from booking.models.types import str_enum
from booking.models.user import User


class ExceptionKind(enum.StrEnum):
    time_off = "time_off"
    extra_hours = "extra_hours"
    closure = "closure"
    holiday = "holiday"


practitioner_session_type = Table(
    "practitioner_session_type",
    Base.metadata,
    Column("practitioner_id", ForeignKey("practitioner.id", ondelete="CASCADE"), primary_key=True),
    Column("session_type_id", ForeignKey("session_type.id", ondelete="CASCADE"), primary_key=True),
)


class Practitioner(Base):
    __tablename__ = "practitioner"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    bio: Mapped[str] = mapped_column(Text, default="")
    can_review_articles: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    # The secret calendar feed: only the SHA-256 of its token is kept (issue 15).
    feed_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    feed_token_created_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    session_types: Mapped[list[SessionType]] = relationship(
        secondary=practitioner_session_type, order_by="SessionType.sort_order"
    )


class WorkingHours(Base):
    """A weekly interval in clinic-local wall-clock time at one location."""

    __tablename__ = "working_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_time < end_time", name="start_before_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("practitioner.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    weekday: Mapped[int]
    start_time: Mapped[time]
    end_time: Mapped[time]
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]


class ScheduleException(Base):
    """Time off, extra hours, closures and holidays on one local date."""

    __tablename__ = "schedule_exception"
    __table_args__ = (
        CheckConstraint(
            "(start_time IS NULL AND end_time IS NULL) OR "
            "(start_time IS NOT NULL AND end_time IS NOT NULL AND start_time < end_time)",
            name="times",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ExceptionKind] = mapped_column(str_enum(ExceptionKind, name="exception_kind"))
    practitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("practitioner.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"), index=True)
    on_date: Mapped[date] = mapped_column(index=True)
    start_time: Mapped[time | None]
    end_time: Mapped[time | None]
    reason: Mapped[str] = mapped_column(String(200), default="")
