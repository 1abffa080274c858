"""Email waiting to be sent, written in the same transaction as its cause."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from booking.clock import utcnow
from booking.models.base import Base
from booking.models.types import str_enum


class OutboxStatus(enum.StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    dead = "dead"
    # Never to be sent: withdrawn by an admin, or stale (its session moved, was cancelled or
    # has begun, or the patient opted out) when a sender picked it up.
    cancelled = "cancelled"


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    # A reminder is planned once per session, kind and start: a moved session gets a new one,
    # and two planners racing on the same session insert one row (the other hits this).
    __table_args__ = (UniqueConstraint("appointment_id", "kind", "appointment_starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    ics: Mapped[str | None] = mapped_column(Text)
    ics_method: Mapped[str | None] = mapped_column(String(20))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus, name="outbox_status"), default=OutboxStatus.pending, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # Set on messages about one session; the sender checks the session still starts then.
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    appointment_starts_at: Mapped[datetime | None]
    # The patient the email is about: their data export (families share an address), and
    # whose contact preference and opt-out apply to a non-essential message.
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient_profile.id"), index=True)
    # Essential mail (confirmations, cancellations, account security) ignores the opt-out;
    # non-essential mail carries a List-Unsubscribe link.
    essential: Mapped[bool] = mapped_column(default=True)
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
