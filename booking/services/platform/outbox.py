"""The transactional outbox: email is written with its cause and sent later, exactly once.

Senders (`send-outbox`, `worker`, on any number of machines) claim due rows with a lease,
re-check at send time that a session's message still applies (the session still starts
when the message says, is still booked and has not begun; the patient has not opted out of
non-essential mail), then deliver over SMTP and record the outcome. Failures back off
1, 2, 4 ... 60 minutes; after MAX_ATTEMPTS a message is `dead` until an admin retries it.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, cast

from sqlalchemy import Table, func, insert, or_, select, update

from booking.domain.errors import NotFound, PolicyRefused
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    IntakeResponse,
    IntakeStatus,
    OutboxMessage,
    OutboxStatus,
    PatientProfile,
)
from booking.models.patient import ContactPreference

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
SECURITY_MODES = ("none", "starttls", "tls")
PAGE_SIZE = 25
# The automatic health-questions reminder (planned by services.reminders.planning).
INTAKE_REMINDER_KIND = "reminder.intake"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    timeout: float = 10.0
    security: str = "none"  # "starttls" upgrades the connection, "tls" starts encrypted
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None  # a private CA to trust (tests, an internal relay)


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
    body_html: str | None = None,
    appointment: Appointment | None = None,
    patient_id: int | None = None,
    unsubscribe_url: str | None = None,
) -> OutboxMessage:
    """Add an email to the outbox in the caller's transaction (never sends).

    A message with an `unsubscribe_url` is non-essential: it honours the patient's opt-out
    and contact preference and carries a List-Unsubscribe header.
    """
    message = OutboxMessage(
        **_message_values(
            kind=kind,
            recipient=recipient,
            subject=subject,
            body_text=body_text,
            dedupe_key=dedupe_key,
            now=now,
            ics=ics,
            ics_method=ics_method,
            body_html=body_html,
            appointment=appointment,
            patient_id=patient_id,
            unsubscribe_url=unsubscribe_url,
        )
    )
    db.session.add(message)
    return message


def insert_message(
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
) -> None:
    """`enqueue` an essential email at once, as one Core INSERT (no ORM object to flush:
    for a caller that never reads the message back, such as every booking)."""
    values = _message_values(
        kind=kind,
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        dedupe_key=dedupe_key,
        now=now,
        ics=ics,
        ics_method=ics_method,
        body_html=None,
        appointment=None,
        patient_id=patient_id,
        unsubscribe_url=None,
    )
    values.update(status=OutboxStatus.pending, attempts=0)  # the model's defaults
    db.session.execute(insert(_OUTBOX).values(values))


_OUTBOX = cast(Table, OutboxMessage.__table__)


def _message_values(
    *,
    kind: str,
    recipient: str,
    subject: str,
    body_text: str,
    dedupe_key: str,
    now: datetime,
    ics: str | None,
    ics_method: str | None,
    body_html: str | None,
    appointment: Appointment | None,
    patient_id: int | None,
    unsubscribe_url: str | None,
) -> dict[str, Any]:
    for header in (recipient, subject):
        if "\r" in header or "\n" in header:
            raise ValueError("line breaks are not allowed in mail headers")
    return {
        "kind": kind,
        "recipient": recipient,
        "subject": subject,
        "body_text": body_text,
        "body_html": body_html,
        "ics": ics,
        "ics_method": ics_method,
        "dedupe_key": dedupe_key,
        "next_attempt_at": now,
        "created_at": now,
        "appointment_id": appointment.id if appointment is not None else None,
        "appointment_starts_at": appointment.starts_at if appointment is not None else None,
        "patient_id": patient_id,
        "essential": unsubscribe_url is None,
        "unsubscribe_url": unsubscribe_url,
    }


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
    """The MIME message: plain text always, HTML as an alternative when there is one."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain="meridian.example")
    if message.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    if message.ics:
        email.add_attachment(
            message.ics.encode(),
            maintype="text",
            subtype="calendar",
            filename="session.ics",
            params={"method": message.ics_method or "REQUEST"},
        )
    return email


def stale_reason(message: OutboxMessage, *, now: datetime) -> str | None:
    """Why a message must no longer go out, or None when it still applies.

    A session's message goes only while the session is booked, has not begun and still
    starts when the message says (a moved session has its own, re-planned message). A
    non-essential message goes only to a patient who takes email and has not opted out.
    """
    if message.appointment_id is not None:
        appointment = db.session.get(Appointment, message.appointment_id)
        if (
            appointment is None
            or appointment.status != AppointmentStatus.booked
            or appointment.starts_at <= now
        ):
            return "Not sent: the session was cancelled, missed or has begun."
        if appointment.starts_at != message.appointment_starts_at:
            return "Not sent: the session moved (its new time has its own reminder)."
        if message.kind == INTAKE_REMINDER_KIND and _intake_answered(appointment.id):
            return "Not sent: the health questions were answered."
    if not message.essential and message.patient_id is not None:
        patient = db.session.get(PatientProfile, message.patient_id)
        if patient is None or patient.opted_out:
            return "Not sent: the patient opted out of reminders."
        if patient.contact_preference != ContactPreference.email:
            return "Not sent: the patient prefers a phone call."
    return None


def _intake_answered(appointment_id: int) -> bool:
    status = db.session.scalar(
        select(IntakeResponse.status).where(IntakeResponse.appointment_id == appointment_id)
    )
    return status is not None and status != IntakeStatus.draft


def open_smtp(settings: SmtpSettings) -> smtplib.SMTP:
    """A connected, authenticated SMTP client as the settings ask (TLS, STARTTLS, login)."""
    context = ssl.create_default_context(cafile=settings.ca_file)
    if settings.security == "tls":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        if settings.security == "starttls":
            smtp.starttls(context=context)
        if settings.username:
            smtp.login(settings.username, settings.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


class SmtpConnection:
    """One SMTP session reused for the messages of a pass; reopened after any error."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def send(self, email: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = open_smtp(self.settings)
        try:
            self._smtp.send_message(email)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def __enter__(self) -> SmtpConnection:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def deliver(
    message_id: int,
    *,
    settings: SmtpSettings,
    now: datetime,
    connection: SmtpConnection | None = None,
) -> bool:
    """Send one leased message and record the outcome; True when sent.

    A message that no longer applies (`stale_reason`) is cancelled instead of sent. Without
    a `connection`, the message gets an SMTP session of its own.
    """
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status != OutboxStatus.sending:
        return False
    reason = stale_reason(message, now=now)
    if reason is not None:
        message.status = OutboxStatus.cancelled
        message.last_error = reason
        message.lease_until = None
        return False
    try:
        if connection is not None:
            connection.send(to_email(message, settings.sender))
        else:
            with SmtpConnection(settings) as own:
                own.send(to_email(message, settings.sender))
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


# ---- The admin page --------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxPage:
    messages: list[OutboxMessage]
    page: int
    pages: int
    total: int
    counts: dict[str, int]


LISTED = {
    "pending": (OutboxStatus.pending, OutboxStatus.sending),
    "sent": (OutboxStatus.sent,),
    "failed": (OutboxStatus.dead,),
    "cancelled": (OutboxStatus.cancelled,),
}


def list_messages(status: str, *, page: int) -> OutboxPage:
    """One page of messages in a listed state (`LISTED`), newest first, with each state's count.

    Raises NotFound for an unknown state or a page past the end.
    """
    if status not in LISTED:
        raise NotFound("There is no such list of messages.")
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    by_status = {str(row[0]): int(row[1]) for row in rows}
    counts = {name: sum(by_status.get(s, 0) for s in states) for name, states in LISTED.items()}
    total = counts[status]
    pages = max(1, -(-total // PAGE_SIZE))
    if page < 1 or page > pages:
        raise NotFound("There is no such page.")
    messages = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status.in_(LISTED[status]))
            .order_by(OutboxMessage.next_attempt_at.desc(), OutboxMessage.id.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    )
    return OutboxPage(messages, page, pages, total, counts)


def _message(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound("That message does not exist.")
    return message


def retry_message(message_id: int, *, now: datetime) -> OutboxMessage:
    """Send a failed or cancelled message again at the next run, with fresh attempts.

    Raises NotFound for an unknown message, PolicyRefused for one that is not failed or
    cancelled. A stale reminder is checked again at send time, so retrying never sends it.
    """
    message = _message(message_id)
    if message.status not in (OutboxStatus.dead, OutboxStatus.cancelled):
        raise PolicyRefused("Only failed or cancelled messages can be retried.")
    message.status = OutboxStatus.pending
    message.attempts = 0
    message.next_attempt_at = now
    message.lease_until = None
    db.session.flush()
    return message


def cancel_message(message_id: int, *, now: datetime) -> OutboxMessage:
    """Stop a pending or failed message from being sent.

    Raises NotFound for an unknown message, PolicyRefused for one already sent, being sent
    or cancelled.
    """
    message = _message(message_id)
    if message.status not in (OutboxStatus.pending, OutboxStatus.dead):
        raise PolicyRefused("Only waiting or failed messages can be cancelled.")
    message.status = OutboxStatus.cancelled
    message.last_error = f"Cancelled by an admin at {now:%Y-%m-%d %H:%M} UTC."
    message.lease_until = None
    db.session.flush()
    return message
