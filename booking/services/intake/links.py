"""Guest access to an intake: the link after booking and the browser that opened it.

The link is `/intake/start/<appointment id>/<token>` where the token is
HMAC-SHA256(SECRET_KEY, appointment id + the appointment's manage-token hash). Nothing new is
stored; the link dies with the manage link (a new manage link or the session ending), and the
database alone cannot forge it. Starting binds the intake to the browser's random key (its
SHA-256 is kept), so later pages carry no token.

Only the first browser binds that way, and it keeps the binding. Once an intake has a browser,
a saved page or has been sent, any other browser opening the link must first give the
patient's date of birth (`prove_link_browser`, 5 misses a day): a draft then gains that
browser too; a sent intake gains nothing, as its answers are never shown through the link
to a new browser (issue 13).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from booking.domain.errors import NotFound, PolicyRefused
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    IntakeBrowser,
    IntakeResponse,
    IntakeStatus,
    Role,
)
from booking.services.platform.audit import record_event

BAD_LINK = "This link has expired or is not valid."
# Wrong dates of birth allowed on a guest link in a new browser, per intake, in a sliding
# window; each is an audit row, which is also what is counted.
PROOF_ATTEMPTS = 5
PROOF_WINDOW = timedelta(hours=24)
PROOF_FAILED = "intake.link_proof_failed"


def link_token(appointment: Appointment, *, secret: str) -> str | None:
    """The intake link token for an appointment, or None when it has no manage link."""
    if not appointment.manage_token_hash:
        return None
    message = f"intake:{appointment.id}:{appointment.manage_token_hash}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def appointment_for_link(
    appointment_id: int, token: str, *, secret: str, now: datetime
) -> Appointment:
    """The appointment an intake link opens.

    Raises NotFound for a wrong or stale token, or a session that has ended or is not live.
    """
    appointment = db.session.get(Appointment, appointment_id)
    expected = link_token(appointment, secret=secret) if appointment is not None else None
    if (
        appointment is None
        or expected is None
        or not token
        or len(token) > 100
        or not hmac.compare_digest(expected, token)
        or appointment.patient_id is None
        or appointment.status not in (AppointmentStatus.booked, AppointmentStatus.checked_in)
        or appointment.ends_at <= now
    ):
        raise NotFound(BAD_LINK)
    return appointment


def may_answer(intake: IntakeResponse, *, user: Any, guest_key_hash: str | None) -> bool:
    """The patient who owns the intake, or the browser that opened its link.

    A signed-in patient never reaches another account's intake, link or not.
    """
    owner_user_id = intake.patient.user_id
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    if signed_in and user.role == Role.patient and owner_user_id == user.id:
        return True
    if signed_in and owner_user_id is not None:
        return False
    if guest_key_hash is None:
        return False
    if hmac.compare_digest(intake.guest_key_hash or "", guest_key_hash):
        return True
    return (
        db.session.scalar(
            select(IntakeBrowser.id).where(
                IntakeBrowser.intake_id == intake.id, IntakeBrowser.key_hash == guest_key_hash
            )
        )
        is not None
    )


def is_unclaimed(intake: IntakeResponse) -> bool:
    """No browser holds it, nobody has saved a page and it is not sent: the link may bind it.

    An intake a reminder created, or one a signed-in patient opened without answering.
    """
    return (
        intake.guest_key_hash is None
        and intake.status == IntakeStatus.draft
        and intake.current_page is None
    )


def needs_proof(intake: IntakeResponse, *, user: Any, guest_key_hash: str | None) -> bool:
    """True when this browser opened the link but may not answer, and may not bind it either."""
    if may_answer(intake, user=user, guest_key_hash=guest_key_hash):
        return False
    return not is_unclaimed(intake)


def proof_attempts_left(intake: IntakeResponse, *, now: datetime) -> int:
    """Wrong dates of birth still allowed on this intake's link in the current window."""
    misses = db.session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.patient_id == intake.patient_id,
            AuditEvent.action == PROOF_FAILED,
            AuditEvent.object_id == intake.id,
            AuditEvent.occurred_at > now - PROOF_WINDOW,
        )
    )
    return max(0, PROOF_ATTEMPTS - int(misses or 0))


def prove_link_browser(
    intake: IntakeResponse,
    *,
    date_of_birth: date,
    guest_key_hash: str,
    now: datetime,
    ip_address: str | None = None,
    request_id: str | None = None,
) -> bool:
    """Check the date of birth a new browser gave on the guest link; True when it matches.

    A match lets the browser answer a draft (the first browser keeps its access); a sent
    intake gains no browser, so its answers stay unseen there. A miss is counted.
    Raises PolicyRefused once PROOF_ATTEMPTS misses fall in PROOF_WINDOW, and NotFound
    when no date of birth is on record (nothing to check against).
    """
    born = intake.patient.date_of_birth
    if born is None:
        raise NotFound("We do not hold a date of birth to check.")
    if proof_attempts_left(intake, now=now) <= 0:
        raise PolicyRefused("Too many wrong dates of birth.", code="proof_locked")
    matched = born == date_of_birth
    if (
        matched
        and intake.status == IntakeStatus.draft
        and not may_answer(intake, user=None, guest_key_hash=guest_key_hash)
    ):
        db.session.add(IntakeBrowser(intake_id=intake.id, key_hash=guest_key_hash, created_at=now))
    record_event(
        "intake.link_proof_passed" if matched else PROOF_FAILED,
        actor=None,
        now=now,
        object_type="intake",
        object_id=intake.id,
        patient_id=intake.patient_id,
        ip_address=ip_address,
        request_id=request_id,
    )
    db.session.flush()
    return matched


@dataclass(frozen=True, slots=True)
class FirstVisitIntake:
    """Whether a first visit's health questions are sent, and the link to answer them."""

    done: bool
    started: bool
    url: str | None  # None once sent, or when the session has no manage link


def first_visit_intake(
    appointment: Appointment, *, base_url: str, secret: str, fresh: bool = False
) -> FirstVisitIntake | None:
    """The health questions of a first visit, for its pages and emails; None for other visits.

    The url is the guest link (`/intake/start/<id>/<token>`, no account needed), under
    `base_url` ("" gives a path); it is left out once the answers are sent, or without `secret`.
    `fresh`: the appointment was inserted by this transaction, so it has no answers yet.
    """
    if not appointment.is_first_visit:
        return None
    status = (
        None
        if fresh
        else db.session.scalar(
            select(IntakeResponse.status).where(IntakeResponse.appointment_id == appointment.id)
        )
    )
    done = status is not None and status != IntakeStatus.draft
    token = link_token(appointment, secret=secret) if secret and not done else None
    url = f"{base_url.rstrip('/')}/intake/start/{appointment.id}/{token}" if token else None
    return FirstVisitIntake(done=done, started=status is not None, url=url)
