"""Patients' erasure requests (GDPR Art. 17), handled by an admin from a queue."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.clock import utcnow
from booking.models.base import Base
from booking.models.patient import PatientProfile
from booking.models.types import str_enum


class ErasureStatus(enum.StrEnum):
    pending = "pending"
    done = "done"


class ErasureRequest(Base):
    """A patient's request to erase their personal data; carried out once, never undone."""

    __tablename__ = "erasure_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    status: Mapped[ErasureStatus] = mapped_column(
        str_enum(ErasureStatus, name="erasure_status"), default=ErasureStatus.pending, index=True
    )
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    patient: Mapped[PatientProfile] = relationship()
