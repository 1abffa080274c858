"""Failed password attempts per normalised email, shared by every worker (security.md §3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base


class SignInThrottle(Base):
    """Failures for one email, account or not, in a 15-minute window, and any lock-out.

    Keyed by the SHA-256 of the normalised email, so addresses that hold no account are
    never stored. A row exists only while it matters: a successful password check deletes
    it, and rows whose window and lock-out have both passed are swept.
    """

    __tablename__ = "sign_in_throttle"

    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int]
    window_started_at: Mapped[datetime] = mapped_column(index=True)
    locked_until: Mapped[datetime | None]
