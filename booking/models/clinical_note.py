"""Clinical notes (SOAP with TCM fields), their addenda, and reception's follow-up of them.

A signed note is locked: the services refuse changes and database triggers (migration
20261206_s16notes_clinical_notes) refuse an UPDATE or DELETE of a signed row on both engines.
Addenda are append-only the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.clock import utcnow
from booking.models.appointment import Appointment
from booking.models.base import Base
from booking.models.patient import PatientProfile
from booking.models.practitioner import Practitioner
from booking.models.user import User


def _codes(value: str) -> list[str]:
    return [code for code in value.split(",") if code]


class ClinicalNote(Base):
    """One note per appointment, written by its practitioner; a draft until signed."""

    __tablename__ = "clinical_note"
    __table_args__ = (
        CheckConstraint("pain_score BETWEEN 0 AND 10", name="pain_score_range"),
        CheckConstraint("needles_in >= 0 AND needles_out >= 0", name="needle_counts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # Subjective
    chief_complaint: Mapped[str] = mapped_column(Text, default="")
    pain_score: Mapped[int | None]
    response: Mapped[str] = mapped_column(Text, default="")  # to the last treatment
    # Objective
    tongue_colour: Mapped[str] = mapped_column(String(20), default="")
    tongue_coating: Mapped[str] = mapped_column(String(20), default="")
    tongue_shape: Mapped[str] = mapped_column(String(100), default="")  # comma-separated
    pulse_positions: Mapped[str] = mapped_column(String(100), default="")
    pulse_qualities: Mapped[str] = mapped_column(String(200), default="")
    observations: Mapped[str] = mapped_column(Text, default="")
    # Assessment
    patterns: Mapped[str] = mapped_column(String(200), default="")
    pattern_text: Mapped[str] = mapped_column(Text, default="")
    # Plan and treatment
    plan: Mapped[str] = mapped_column(Text, default="")
    points: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    modalities: Mapped[str] = mapped_column(String(100), default="")
    electro_hz: Mapped[int | None]
    electro_minutes: Mapped[int | None]
    needles_in: Mapped[int | None]
    needles_out: Mapped[int | None]
    adverse_events: Mapped[str] = mapped_column(String(100), default="")  # "" = none
    adverse_detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_at: Mapped[datetime | None]
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    appointment: Mapped[Appointment] = relationship()
    patient: Mapped[PatientProfile] = relationship()
    practitioner: Mapped[Practitioner] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    addenda: Mapped[list[NoteAddendum]] = relationship(
        back_populates="note", order_by="(NoteAddendum.created_at, NoteAddendum.id)"
    )

    @property
    def signed(self) -> bool:
        return self.signed_at is not None

    @property
    def modality_codes(self) -> list[str]:
        return _codes(self.modalities)

    @property
    def adverse_codes(self) -> list[str]:
        return _codes(self.adverse_events)


class NoteAddendum(Base):
    """A correction or later remark under a signed note, with its author and time."""

    __tablename__ = "note_addendum"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("clinical_note.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    text: Mapped[str] = mapped_column(Text)

    note: Mapped[ClinicalNote] = relationship(back_populates="addenda")
    author: Mapped[User] = relationship()


class NoteFollowUp(Base):
    """A signed note recorded fainting or a forgotten needle: reception calls the patient."""

    __tablename__ = "note_follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("clinical_note.id"), unique=True)
    events: Mapped[str] = mapped_column(String(100))  # the adverse event codes, comma-separated
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    followed_up_at: Mapped[datetime | None]
    followed_up_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    note: Mapped[ClinicalNote] = relationship()
    followed_up_by: Mapped[User | None] = relationship()

    @property
    def event_codes(self) -> list[str]:
        return _codes(self.events)
