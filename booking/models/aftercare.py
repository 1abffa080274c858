"""The post-treatment check-in after a first session, and the side effects patients report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.clock import utcnow
from booking.models.appointment import Appointment
from booking.models.base import Base
from booking.models.user import User


class AftercareCheckin(Base):
    """One "how are you feeling?" email per first session (unique appointment)."""

    __tablename__ = "aftercare_checkin"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), unique=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    appointment: Mapped[Appointment] = relationship()


class SideEffectReport(Base):
    """What the patient reported through the check-in link; reception follows it up."""

    __tablename__ = "side_effect_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(
        ForeignKey("aftercare_checkin.id", ondelete="CASCADE"), index=True
    )
    effects: Mapped[str] = mapped_column(String(100))  # comma-separated codes, or "none"
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    followed_up_at: Mapped[datetime | None]
    followed_up_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    checkin: Mapped[AftercareCheckin] = relationship()
    followed_up_by: Mapped[User | None] = relationship()
