"""Two-step sign-in in the demo clinic: mandatory, with every staff account enrolled.

Each demo staff account gets a fixed TOTP secret derived from its email, so `seed-demo`
prints the same secrets every run and a developer adds them to an authenticator app once.
These secrets are public: they only ever protect the demo clinic's made-up data.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

from cryptography.fernet import MultiFernet
from sqlalchemy import select

from booking.extensions import db
from booking.models import STAFF_ROLES, Clinic, User


def demo_totp_secret(email: str) -> str:
    """The demo account's fixed base32 TOTP secret (32 characters)."""
    digest = hashlib.sha256(f"meridian-demo-totp:{email}".encode()).digest()
    return base64.b32encode(digest[:20]).decode("ascii")


def enrol_demo_staff(*, cipher: MultiFernet, now: datetime) -> list[tuple[str, str]]:
    """Require two-step sign-in in the demo clinic and enrol its staff; (email, secret) pairs.

    Accounts already enrolled keep what they have; the printed secret is the demo's own.
    """
    clinic = db.session.scalar(select(Clinic).where(Clinic.is_demo.is_(True)).limit(1))
    if clinic is None:
        return []
    clinic.mfa_required = True
    staff = db.session.scalars(
        select(User).where(User.role.in_(STAFF_ROLES)).order_by(User.role, User.email)
    ).all()
    pairs = []
    for user in staff:
        secret = demo_totp_secret(user.email)
        if not user.has_second_factor:
            user.totp_secret = cipher.encrypt(secret.encode("ascii")).decode("ascii")
            user.totp_enabled_at = now
            user.totp_last_step = None
        pairs.append((user.email, secret))
    return pairs
