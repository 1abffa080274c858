"""Browsers that proved who they are on a guest intake link after the first (issue 13)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from booking.clock import utcnow
from booking.models.base import Base


class IntakeBrowser(Base):
    """Another browser allowed to answer a draft intake, after giving the date of birth.

    The first browser to open the link is `IntakeResponse.guest_key_hash` and keeps it;
    these rows only add browsers, never move the binding.
    """

    __tablename__ = "intake_browser"
    __table_args__ = (UniqueConstraint("intake_id", "key_hash", name="uq_intake_browser_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(
        ForeignKey("intake_response.id", ondelete="CASCADE"), index=True
    )
    # SHA-256 of the browser's random key, as for guest_key_hash.
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
