"""The clinic (one row per install), its locations and rooms."""

from __future__ import annotations

import enum
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.models.base import Base
from booking.models.types import UTCDateTime, str_enum


class LateCancelMode(enum.StrEnum):
    call = "call"
    record = "record"


class RoomKind(enum.StrEnum):
    treatment = "treatment"
    community = "community"


SLOT_STEPS = (5, 10, 15, 20, 30)


class Clinic(Base):
    __tablename__ = "clinic"
    __table_args__ = (
        CheckConstraint("slot_step_minutes IN (5, 10, 15, 20, 30)", name="slot_step"),
        CheckConstraint("min_notice_minutes >= 0", name="min_notice"),
        CheckConstraint("max_advance_days BETWEEN 1 AND 730", name="max_advance"),
        CheckConstraint("cancellation_cutoff_hours BETWEEN 0 AND 168", name="cutoff"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    is_demo: Mapped[bool] = mapped_column(default=False)
    min_notice_minutes: Mapped[int] = mapped_column(default=120)
    max_advance_days: Mapped[int] = mapped_column(default=90)
    slot_step_minutes: Mapped[int] = mapped_column(default=15)
    cancellation_cutoff_hours: Mapped[int] = mapped_column(default=24)
    late_cancel_mode: Mapped[LateCancelMode] = mapped_column(
        str_enum(LateCancelMode, name="late_cancel_mode"), default=LateCancelMode.call
    )
    missed_threshold: Mapped[int] = mapped_column(default=3)
    hold_minutes: Mapped[int] = mapped_column(default=10)
    # Every staff sign-in needs a second factor (TOTP); staff without one must enrol first.
    mfa_required: Mapped[bool] = mapped_column(default=False)
    # Session reminders by email, planned from the session's UTC start (issue 18).
    reminder_24h: Mapped[bool] = mapped_column(default=True)
    reminder_2h: Mapped[bool] = mapped_column(default=False)
    # First visits whose health questions are still unanswered 48 hours before.
    intake_reminder_auto: Mapped[bool] = mapped_column(default=True)
    # Off by default: a session type's name can reveal a condition (security.md §5).
    reminder_details: Mapped[bool] = mapped_column(default=False)

    @property
    def zone(self) -> ZoneInfo:
        """The clinic's IANA time zone (`timezone` names it)."""
        return ZoneInfo(self.timezone)


class Location(Base):
    __tablename__ = "location"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64))
    country_code: Mapped[str] = mapped_column(String(2), default="GB")
    # The ISO 3166-2 part after the country ("ENG" of GB-ENG), None for the whole country:
    # which public holidays (the `holidays` package) close this location.
    subdivision: Mapped[str | None] = mapped_column(String(3))
    # Policy overrides; None inherits the clinic's value.
    min_notice_minutes: Mapped[int | None]
    max_advance_days: Mapped[int | None]
    slot_step_minutes: Mapped[int | None]
    cancellation_cutoff_hours: Mapped[int | None]
    reminder_24h: Mapped[bool | None]
    reminder_2h: Mapped[bool | None]
    is_active: Mapped[bool] = mapped_column(default=True)

    rooms: Mapped[list[Room]] = relationship(
        back_populates="location", order_by="(Room.sort_order, Room.id)"
    )

    @property
    def holiday_region(self) -> str:
        """'GB-ENG', or 'IE' for a whole country."""
        return f"{self.country_code}-{self.subdivision}" if self.subdivision else self.country_code

    @property
    def zone(self) -> ZoneInfo:
        """The location's IANA time zone: where its wall-clock times and dates are read."""
        return ZoneInfo(self.timezone)


class HolidayOpening(Base):
    """A public holiday an admin opened at one location: it is not a closure there.

    Public holidays come from the `holidays` package for the location's country and
    subdivision; each one closes the location unless a row here opens it.
    """

    __tablename__ = "holiday_opening"
    __table_args__ = (UniqueConstraint("location_id", "on_date", name="uq_holiday_opening"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id", ondelete="CASCADE"))
    on_date: Mapped[date]
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class Room(Base):
    __tablename__ = "room"
    __table_args__ = (CheckConstraint("capacity BETWEEN 1 AND 12", name="capacity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[RoomKind] = mapped_column(str_enum(RoomKind, name="room_kind"))
    capacity: Mapped[int] = mapped_column(default=1)
    sort_order: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)

    location: Mapped[Location] = relationship(back_populates="rooms")
