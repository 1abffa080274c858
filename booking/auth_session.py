"""The sign-in session's cookie key and its limits: the auth layer's settings.

Free of web imports, so the request hooks (security), the templates' helpers (templating)
and the auth views share them without importing one another.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from cryptography.fernet import Fernet, MultiFernet

from booking.services.accounts.sessions import SessionLimits

SESSION_TOKEN_KEY = "sid"  # noqa: S105 - the name of a session key, not a secret


def session_limits(config: Mapping[str, Any]) -> SessionLimits:
    """Idle and absolute session limits from the app's config."""
    return SessionLimits(
        staff_idle=timedelta(minutes=config["STAFF_IDLE_MINUTES"]),
        patient_idle=timedelta(minutes=config["PATIENT_IDLE_MINUTES"]),
        absolute=timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
    )


def totp_cipher(config: Mapping[str, Any]) -> MultiFernet:
    """The Fernet keys that encrypt staff TOTP secrets at rest.

    `TOTP_ENCRYPTION_KEYS` (comma-separated Fernet keys, the first encrypts, all decrypt) lets
    `SECRET_KEY` be rotated without losing enrolments; without it the key is derived from
    `SECRET_KEY`, so rotating that means staff enrol again (an admin resets them).
    """
    configured = [k.strip() for k in str(config.get("TOTP_ENCRYPTION_KEYS") or "").split(",")]
    keys = [Fernet(k) for k in configured if k]
    if not keys:
        digest = hashlib.sha256(b"meridian-totp:" + str(config["SECRET_KEY"]).encode()).digest()
        keys = [Fernet(base64.urlsafe_b64encode(digest))]
    return MultiFernet(keys)
