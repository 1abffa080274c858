"""Emailed account links: password reset, staff invitation, patient sign-up (issue 19)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.clock import utcnow
from booking.models.base import Base
from booking.models.types import str_enum
from booking.models.user import User


class AccountLinkPurpose(enum.StrEnum):
    reset = "reset"
    invite = "invite"
    sign_up = "sign_up"


class AccountLink(Base):
    """One emailed link, found by the SHA-256 of its random token (security.md §3).

    Single use: spending it deletes the row, so a second use finds nothing. A newer link of
    the same purpose for the same person deletes the older ones. Reset and invitation links
    belong to a user; a sign-up link holds the proven address and date of birth instead.
    """

    __tablename__ = "account_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[AccountLinkPurpose] = mapped_column(
        str_enum(AccountLinkPurpose, name="account_link_purpose")
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), index=True)
    date_of_birth: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
