"""Patients: a profile per person, with or without an account."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from booking.clock import utcnow
from booking.domain.patients.search import name_key, soundex
from booking.models.base import Base
from booking.models.types import str_enum
from booking.models.user import User


class ContactPreference(enum.StrEnum):
    email = "email"
    phone = "phone"


class PatientProfile(Base):
    __tablename__ = "patient_profile"
    __table_args__ = (
        # Desk search (issue 15): name prefixes, Soundex buckets, date of birth, phone, email.
        Index("ix_patient_profile_search_family", "search_family", "search_given"),
        Index("ix_patient_profile_search_given", "search_given"),
        Index("ix_patient_profile_sound_family", "sound_family", "sound_given"),
        Index("ix_patient_profile_sound_given", "sound_given"),
        Index("ix_patient_profile_date_of_birth", "date_of_birth"),
        Index("ix_patient_profile_phone", "phone"),
        Index("ix_patient_profile_search_email", "search_email"),
    )

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
    # Kept in step with the names by `_keep_search_keys` (booking.domain.patients.search).
    search_given: Mapped[str] = mapped_column(String(100), default="", server_default="")
    search_family: Mapped[str] = mapped_column(String(100), default="", server_default="")
    sound_given: Mapped[str] = mapped_column(String(4), default="", server_default="")
    sound_family: Mapped[str] = mapped_column(String(4), default="", server_default="")
    search_email: Mapped[str] = mapped_column(String(254), default="", server_default="")

    user: Mapped[User | None] = relationship()

    @validates("given_name", "family_name")
    def _keep_search_keys(self, name: str, value: str) -> str:
        key = name_key(value or "")
        if name == "given_name":
            self.search_given, self.sound_given = key, soundex(key)
        else:
            self.search_family, self.sound_family = key, soundex(key)
        return value

    @validates("email")
    def _keep_email_key(self, _name: str, value: str) -> str:
        self.search_email = (value or "").strip().lower()
        return value

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"
