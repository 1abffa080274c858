"""Manage links asked for again by email and not used yet (issue 13)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.clock import utcnow
from booking.models.base import Base


class ManageLink(Base):
    """A newer manage link waiting for its first use.

    The appointment's own `manage_token_hash` is the link in use. Anyone may ask for a new
    link for any address, so asking must not stop the link the patient already has: the new
    one waits here, and its first use makes it the appointment's link and retires every
    older one (this row and older rows, and the link that was in use).
    """

    __tablename__ = "manage_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
