"""Tables behind the API's rate limits and Idempotency-Key replays (security.md §6, §7)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from booking.clock import utcnow
from booking.models.base import Base


class RateLimitCounter(Base):
    """One fixed-window counter of the `meridiandb://` rate-limit store, shared by all workers."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ApiIdempotencyKey(Base):
    """A POST answered under an Idempotency-Key: replayed for 24 hours to the same token."""

    __tablename__ = "api_idempotency_key"
    __table_args__ = (
        UniqueConstraint("token_id", "idempotency_key", name="uq_api_idempotency_key_token"),
        Index("ix_api_idempotency_key_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of method, path and body: the same key with another request is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
