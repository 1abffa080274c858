"""Intake: versioned questionnaires, patients' answers, derived flags and consent per modality."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.clock import utcnow
from booking.models.appointment import Appointment
from booking.models.base import Base
from booking.models.patient import PatientProfile
from booking.models.types import str_enum
from booking.models.user import User


class IntakeStatus(enum.StrEnum):
    draft = "draft"
    submitted = "submitted"
    reviewed = "reviewed"


class FlagSeverity(enum.StrEnum):
    contraindication = "contraindication"
    precaution = "precaution"
    red_flag = "red_flag"


class Modality(enum.StrEnum):
    needling = "needling"
    electro_acupuncture = "electro_acupuncture"
    cupping = "cupping"
    moxibustion = "moxibustion"
    gua_sha = "gua_sha"


class ConsentMethod(enum.StrEnum):
    online = "online"
    paper = "paper"
    verbal = "verbal"


class QuestionnaireVersion(Base):
    """A published questionnaire: never edited; a change is a new version."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_questionnaire_version_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(50))
    version: Mapped[int]
    # pages → questions (key, type, options, red_flag, flags): domain/intake/questionnaire_v1.py
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntakeResponse(Base):
    __tablename__ = "intake_response"
    __table_args__ = (Index("ix_intake_response_queue", "status", "urgent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), unique=True)
    status: Mapped[IntakeStatus] = mapped_column(
        str_enum(IntakeStatus, name="intake_status"), default=IntakeStatus.draft
    )
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Page keys whose answers passed validation; resume goes to the first page not in here.
    completed_pages: Mapped[list[str]] = mapped_column(JSON, default=list)
    current_page: Mapped[str | None] = mapped_column(String(50))
    urgent: Mapped[bool] = mapped_column(default=False)
    prefilled_from_id: Mapped[int | None] = mapped_column(ForeignKey("intake_response.id"))
    # SHA-256 of the random browser key of a guest who opened the intake link.
    guest_key_hash: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    review_comment: Mapped[str | None] = mapped_column(String(1000))
    reminded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}

    patient: Mapped[PatientProfile] = relationship()
    questionnaire: Mapped[QuestionnaireVersion] = relationship()
    appointment: Mapped[Appointment | None] = relationship()
    reviewer: Mapped[User | None] = relationship()


class PatientFlag(Base):
    """A flag derived by the pure rules in booking.domain.intake.rules, never typed in."""

    __tablename__ = "patient_flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    severity: Mapped[FlagSeverity] = mapped_column(str_enum(FlagSeverity, name="flag_severity"))
    source: Mapped[str] = mapped_column(String(60))
    intake_id: Mapped[int | None] = mapped_column(ForeignKey("intake_response.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cleared_at: Mapped[datetime | None]
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    cleared_reason: Mapped[str | None] = mapped_column(String(200))

    intake: Mapped[IntakeResponse | None] = relationship()


class ConsentText(Base):
    """The wording a patient agrees to, per modality; published texts are never edited."""

    __tablename__ = "consent_text"
    __table_args__ = (UniqueConstraint("modality", "version", name="uq_consent_text_modality"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    modality: Mapped[Modality] = mapped_column(str_enum(Modality, name="modality"))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class Consent(Base):
    __tablename__ = "consent"
    __table_args__ = (
        # One current consent per patient and modality.
        Index(
            "uq_consent_current",
            "patient_id",
            "modality",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    modality: Mapped[Modality] = mapped_column(str_enum(Modality, name="modality"))
    consent_text_id: Mapped[int] = mapped_column(ForeignKey("consent_text.id"))
    given_at: Mapped[datetime]
    method: Mapped[ConsentMethod] = mapped_column(str_enum(ConsentMethod, name="consent_method"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    intake_id: Mapped[int | None] = mapped_column(ForeignKey("intake_response.id"))
    # Set when withdrawn or replaced by a newer consent; null = current.
    ended_at: Mapped[datetime | None]
    withdrawn: Mapped[bool] = mapped_column(default=False)

    consent_text: Mapped[ConsentText] = relationship()
    recorded_by: Mapped[User | None] = relationship()
