"""Patients: a profile per person, with or without an account."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.clock import utcnow
from booking.models.base import Base
from booking.models.types import str_enum
from booking.models.user import User


class ContactPreference(enum.StrEnum):
    email = "email"
    phone = "phone"


class PatientProfile(Base):
    __tablename__ = "patient_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date | None]
    # Not unique: families share an address (domain.md).
    email: Mapped[str] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    contact_preference: Mapped[ContactPreference] = mapped_column(
        str_enum(ContactPreference, name="contact_preference"), default=ContactPreference.email
    )
    opted_out: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Erasure (or retention) replaced the name, contact details and free text; irreversible.
    anonymised_at: Mapped[datetime | None]
    # Past the clinical retention period: the clinical content went too (apply-retention).
    clinical_purged_at: Mapped[datetime | None]

    user: Mapped[User | None] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"
