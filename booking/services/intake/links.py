"""Guest access to an intake: the link after booking and the browser that opened it.

The link is `/intake/start/<appointment id>/<token>` where the token is
HMAC-SHA256(SECRET_KEY, appointment id + the appointment's manage-token hash). Nothing new is
stored; the link dies with the manage link (a new manage link or the session ending), and the
database alone cannot forge it. Starting binds the intake to the browser's random key (its
SHA-256 is kept), so later pages carry no token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any

from booking.domain.errors import NotFound
from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, IntakeResponse, Role

BAD_LINK = "This link has expired or is not valid."


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
    return guest_key_hash is not None and hmac.compare_digest(
        intake.guest_key_hash or "", guest_key_hash
    )
