"""The waitlist: patients waiting for a time, and the offers emailed when one frees up."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.clock import utcnow
from booking.models.base import Base
from booking.models.clinic import Location
from booking.models.patient import PatientProfile
from booking.models.practitioner import Practitioner
from booking.models.session_type import SessionType
from booking.models.types import str_enum


class WaitlistStatus(enum.StrEnum):
    waiting = "waiting"
    booked = "booked"
    removed = "removed"


class OfferStatus(enum.StrEnum):
    open = "open"
    booked = "booked"
    taken = "taken"  # someone else confirmed first, or the time went another way


class WaitlistEntry(Base):
    """A patient waiting for a session type at a location (practitioner null = any).

    `weekdays` and `day_parts` are comma-separated (0 = Monday; morning, afternoon,
    evening); empty means any. An entry stops being offered at `expires_at`.
    """

    __tablename__ = "waitlist_entry"
    __table_args__ = (Index("ix_waitlist_entry_match", "status", "location_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient_profile.id", ondelete="CASCADE"), index=True
    )
    session_type_id: Mapped[int] = mapped_column(ForeignKey("session_type.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioner.id"))
    weekdays: Mapped[str] = mapped_column(String(20), default="")
    day_parts: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[WaitlistStatus] = mapped_column(
        str_enum(WaitlistStatus, name="waitlist_status"), default=WaitlistStatus.waiting
    )
    source: Mapped[str] = mapped_column(String(10), default="online")  # online | staff
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    patient: Mapped[PatientProfile] = relationship()
    session_type: Mapped[SessionType] = relationship()
    location: Mapped[Location] = relationship()
    practitioner: Mapped[Practitioner | None] = relationship()


class WaitlistOffer(Base):
    """One freed time offered to one entry; it reserves nothing (its link places a hold)."""

    __tablename__ = "waitlist_offer"
    __table_args__ = (
        UniqueConstraint("entry_id", "practitioner_id", "starts_at", name="uq_waitlist_offer_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("waitlist_entry.id", ondelete="CASCADE"), index=True
    )
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id"))
    starts_at: Mapped[datetime]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[OfferStatus] = mapped_column(
        str_enum(OfferStatus, name="waitlist_offer_status"), default=OfferStatus.open
    )
    expires_at: Mapped[datetime]
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    entry: Mapped[WaitlistEntry] = relationship()
    practitioner: Mapped[Practitioner] = relationship()
