"""Treatment plans: a course of sessions in phases, its booked series and outcome measures
(domain.md §1 `TreatmentPlan`, `PlanPhase`, `OutcomeRecord`; §2 plan series)."""

from __future__ import annotations

import enum
from datetime import datetime, time

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Time, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.clock import utcnow
from booking.models.base import Base
from booking.models.clinic import Location
from booking.models.patient import PatientProfile
from booking.models.practitioner import Practitioner
from booking.models.session_type import SessionType
from booking.models.types import str_enum


class PlanStatus(enum.StrEnum):
    draft = "draft"
    active = "active"
    paused = "paused"
    completed = "completed"
    cancelled = "cancelled"


class OutcomeMeasure(enum.StrEnum):
    pain_nrs = "pain_nrs"  # pain 0-10
    peg3 = "peg3"  # PEG-3: mean of pain, enjoyment and activity items (Krebs et al., 2009)


class OutcomeSource(enum.StrEnum):
    """Who entered a score: the practitioner, reception on the patient's behalf, or the
    patient online (from the account or an emailed link)."""

    practitioner = "practitioner"
    reception = "reception"
    patient = "patient"


class ChangeRequestStatus(enum.StrEnum):
    open = "open"
    done = "done"


class TreatmentPlan(Base):
    """A course for one patient with one practitioner; total sessions = sum of phase counts."""

    __tablename__ = "treatment_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient_profile.id", ondelete="CASCADE"), index=True
    )
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    goal: Mapped[str] = mapped_column(String(500))
    condition_tag: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[PlanStatus] = mapped_column(
        str_enum(PlanStatus, name="plan_status"), default=PlanStatus.draft
    )
    measure: Mapped[OutcomeMeasure] = mapped_column(
        str_enum(OutcomeMeasure, name="outcome_measure"), default=OutcomeMeasure.pain_nrs
    )
    # Session numbers at which the practitioner reviews outcomes, comma-separated ("3,6").
    review_points: Mapped[str] = mapped_column(String(60), default="")
    allow_other_practitioner: Mapped[bool] = mapped_column(default=False)
    status_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    patient: Mapped[PatientProfile] = relationship()
    practitioner: Mapped[Practitioner] = relationship()
    location: Mapped[Location] = relationship()
    phases: Mapped[list[PlanPhase]] = relationship(
        back_populates="plan", order_by="PlanPhase.position", cascade="all, delete-orphan"
    )

    @property
    def total(self) -> int:
        return sum(phase.count for phase in self.phases)


class PlanPhase(Base):
    """E.g. weekly x 6 on Tuesdays at 10:00 (a wall time in the location's zone)."""

    __tablename__ = "plan_phase"
    __table_args__ = (
        CheckConstraint("count BETWEEN 1 AND 52", name="phase_count"),
        CheckConstraint("interval_weeks BETWEEN 1 AND 8", name="phase_interval"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="phase_weekday"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_plan.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=1)
    session_type_id: Mapped[int] = mapped_column(ForeignKey("session_type.id"))
    count: Mapped[int]
    interval_weeks: Mapped[int] = mapped_column(default=1)
    weekday: Mapped[int]
    local_time: Mapped[time] = mapped_column(Time())

    plan: Mapped[TreatmentPlan] = relationship(back_populates="phases")
    session_type: Mapped[SessionType] = relationship()


class PlanAppointment(Base):
    """Links a session to its plan: one plan per appointment. "Session k of N" is computed on
    read (k = rank by start among the plan's booked, checked-in and completed sessions)."""

    __tablename__ = "plan_appointment"
    __table_args__ = (Index("ix_plan_appointment_plan", "plan_id", "appointment_id"),)

    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), primary_key=True
    )
    plan_id: Mapped[int] = mapped_column(ForeignKey("treatment_plan.id", ondelete="CASCADE"))


class OutcomeRecord(Base):
    """One outcome measurement: items 0-10; PEG-3 score = mean of its three items."""

    __tablename__ = "outcome_record"
    __table_args__ = (
        CheckConstraint("item1 BETWEEN 0 AND 10", name="outcome_item1"),
        CheckConstraint("item2 IS NULL OR item2 BETWEEN 0 AND 10", name="outcome_item2"),
        CheckConstraint("item3 IS NULL OR item3 BETWEEN 0 AND 10", name="outcome_item3"),
        Index("ix_outcome_record_plan", "plan_id", "recorded_at"),
        # A patient answers once per session (the emailed link cannot be replayed).
        Index(
            "uq_outcome_record_patient_session",
            "appointment_id",
            unique=True,
            sqlite_where=text("source = 'patient'"),
            postgresql_where=text("source = 'patient'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("treatment_plan.id", ondelete="CASCADE"))
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment.id", ondelete="SET NULL")
    )
    measure: Mapped[OutcomeMeasure] = mapped_column(
        str_enum(OutcomeMeasure, name="outcome_measure")
    )
    item1: Mapped[int]
    item2: Mapped[int | None]
    item3: Mapped[int | None]
    score: Mapped[float] = mapped_column(Float())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[OutcomeSource] = mapped_column(
        str_enum(OutcomeSource, name="outcome_source"),
        default=OutcomeSource.practitioner,
        server_default=OutcomeSource.practitioner.value,
    )


class PlanChangeRequest(Base):
    """A patient's "request a change" message about their plan, for reception to act on.

    The message is the patient's own words (not clinical notes); reception marks it done.
    """

    __tablename__ = "plan_change_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_plan.id", ondelete="CASCADE"), index=True
    )
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient_profile.id", ondelete="CASCADE"), index=True
    )
    message: Mapped[str] = mapped_column(String(1000))
    status: Mapped[ChangeRequestStatus] = mapped_column(
        str_enum(ChangeRequestStatus, name="change_request_status"),
        default=ChangeRequestStatus.open,
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    handled_at: Mapped[datetime | None]

    plan: Mapped[TreatmentPlan] = relationship()
