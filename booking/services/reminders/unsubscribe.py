"""The patient's opt-out from non-essential email, through a signed link in each message."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from booking.domain.errors import NotFound
from booking.extensions import db
from booking.models import PatientProfile
from booking.services.platform.audit import record_event


def unsubscribe_token(patient_id: int, *, secret: str) -> str:
    """An HMAC of the patient's id: the link needs no table and cannot be guessed."""
    digest = hmac.new(secret.encode(), f"unsubscribe:{patient_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:24]).rstrip(b"=").decode()


def unsubscribe_url(patient_id: int, *, secret: str, base_url: str) -> str:
    token = unsubscribe_token(patient_id, secret=secret)
    return f"{base_url.rstrip('/')}/unsubscribe/{patient_id}/{token}"


def patient_for_token(patient_id: int, token: str, *, secret: str) -> PatientProfile:
    """The patient an unsubscribe link names.

    Raises NotFound for an unknown patient or a wrong token (the same answer for both).
    """
    expected = unsubscribe_token(patient_id, secret=secret)
    patient = db.session.get(PatientProfile, patient_id)
    if patient is None or len(token) > 64 or not hmac.compare_digest(expected, token):
        raise NotFound("That link is not valid.")
    return patient


def opt_out(patient: PatientProfile, *, now: datetime) -> None:
    """Stop reminders and other non-essential email to this patient (audited)."""
    if patient.opted_out:
        return
    patient.opted_out = True
    record_event(
        "patient.opt_out",
        actor=None,
        now=now,
        object_type="patient",
        object_id=patient.id,
        patient_id=patient.id,
    )
    db.session.flush()
