"""The transactional outbox: email is written with its cause and sent later, exactly once."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import or_, select, update

from booking.extensions import db
from booking.models import OutboxMessage, OutboxStatus

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    timeout: float = 10.0


def enqueue(
    *,
    kind: str,
    recipient: str,
    subject: str,
    body_text: str,
    dedupe_key: str,
    now: datetime,
    ics: str | None = None,
    ics_method: str | None = None,
    patient_id: int | None = None,
) -> OutboxMessage:
    """Add an email to the outbox in the caller's transaction (never sends)."""
    for header in (recipient, subject):
        if "\r" in header or "\n" in header:
            raise ValueError("line breaks are not allowed in mail headers")
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        patient_id=patient_id,
        subject=subject,
        body_text=body_text,
        ics=ics,
        ics_method=ics_method,
        dedupe_key=dedupe_key,
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(message)
    return message


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes, capped at an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def claim_due(*, now: datetime, limit: int = 50) -> list[int]:
    """Lease due messages to this sender; a message leased elsewhere is skipped.

    PostgreSQL uses FOR UPDATE SKIP LOCKED; SQLite's IMMEDIATE write lock serialises
    claimers. A crashed sender's lease runs out and the message becomes due again.
    """
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.next_attempt_at <= now,
            or_(
                OutboxMessage.status == OutboxStatus.pending,
                (OutboxMessage.status == OutboxStatus.sending) & (OutboxMessage.lease_until <= now),
            ),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(due))
    if ids:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status=OutboxStatus.sending, lease_until=now + LEASE)
        )
    return ids


def to_email(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain="meridian.example")
    email.set_content(message.body_text)
    if message.ics:
        email.add_attachment(
            message.ics.encode(),
            maintype="text",
            subtype="calendar",
            filename="session.ics",
            params={"method": message.ics_method or "REQUEST"},
        )
    return email


def deliver(message_id: int, *, settings: SmtpSettings, now: datetime) -> bool:
    """Send one leased message and record the outcome; True when sent."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status != OutboxStatus.sending:
        return False
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
            smtp.send_message(to_email(message, settings.sender))
    except (OSError, smtplib.SMTPException) as error:
        message.attempts += 1
        message.last_error = str(error)[:500]
        message.lease_until = None
        if message.attempts >= MAX_ATTEMPTS:
            message.status = OutboxStatus.dead
        else:
            message.status = OutboxStatus.pending
            message.next_attempt_at = now + backoff(message.attempts)
        return False
    message.status = OutboxStatus.sent
    message.sent_at = now
    message.attempts += 1
    message.lease_until = None
    return True
