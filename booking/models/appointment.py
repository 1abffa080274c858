"""Appointments and slot holds share one table so one set of guards covers both."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.clock import utcnow
from booking.models.base import Base
from booking.models.clinic import Location, Room
from booking.models.patient import PatientProfile
from booking.models.practitioner import Practitioner
from booking.models.session_type import SessionType
from booking.models.types import str_enum


class AppointmentStatus(enum.StrEnum):
    held = "held"
    booked = "booked"
    checked_in = "checked_in"
    completed = "completed"
    cancelled = "cancelled"
    no_show = "no_show"


LIVE_STATUSES = (
    AppointmentStatus.held,
    AppointmentStatus.booked,
    AppointmentStatus.checked_in,
    AppointmentStatus.completed,
)


# What booking.services.patients.record.missed_counts counts (ix_appointment_missed).
MISSED_SQL = "status = 'no_show' OR (status = 'cancelled' AND late_cancel IS TRUE)"


class BookingSource(enum.StrEnum):
    online = "online"
    staff = "staff"
    api = "api"


class Appointment(Base):
    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="session_range"),
        CheckConstraint("busy_until > busy_from", name="busy_range"),
        CheckConstraint("busy_from <= starts_at AND busy_until >= ends_at", name="busy_covers"),
        CheckConstraint("(status = 'held') = (patient_id IS NULL)", name="held_has_no_patient"),
        CheckConstraint("room_place IS NULL OR room_place >= 1", name="room_place"),
        Index("ix_appointment_practitioner_busy", "practitioner_id", "busy_from"),
        # A practitioner's day and week views: their sessions by start.
        Index("ix_appointment_practitioner_start", "practitioner_id", "starts_at"),
        Index("ix_appointment_room_busy", "room_id", "busy_from"),
        Index("ix_appointment_patient_start", "patient_id", "starts_at"),
        # The check-in planner: first sessions that ended 24 to 48 hours ago.
        Index("ix_appointment_first_visit_end", "is_first_visit", "ends_at"),
        # The reminder planner reads booked sessions starting in the next day or two.
        Index("ix_appointment_status_start", "status", "starts_at"),
        # Missed sessions (no-shows, late cancels) per patient: the day sheet's counts.
        Index(
            "ix_appointment_missed",
            "patient_id",
            "starts_at",
            sqlite_where=text(MISSED_SQL),
            postgresql_where=text(MISSED_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[AppointmentStatus] = mapped_column(
        str_enum(AppointmentStatus, name="appointment_status")
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    busy_from: Mapped[datetime]
    busy_until: Mapped[datetime]
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id"))
    room_place: Mapped[int | None]
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient_profile.id"))
    session_type_id: Mapped[int] = mapped_column(ForeignKey("session_type.id"))
    source: Mapped[BookingSource] = mapped_column(
        str_enum(BookingSource, name="booking_source"), default=BookingSource.online
    )
    hold_expires_at: Mapped[datetime | None]
    hold_created_at: Mapped[datetime | None]
    hold_owner: Mapped[str | None] = mapped_column(String(64), index=True)
    manage_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    ics_uid: Mapped[str] = mapped_column(String(100), unique=True)
    ics_sequence: Mapped[int] = mapped_column(default=0)
    is_first_visit: Mapped[bool] = mapped_column(default=False)
    late_cancel: Mapped[bool] = mapped_column(default=False)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    cancelled_at: Mapped[datetime | None]
    booked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    practitioner: Mapped[Practitioner] = relationship()
    location: Mapped[Location] = relationship()
    room: Mapped[Room | None] = relationship()
    patient: Mapped[PatientProfile | None] = relationship()
    session_type: Mapped[SessionType] = relationship()

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES
