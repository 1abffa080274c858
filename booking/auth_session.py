"""The sign-in session's cookie key and its limits: the auth layer's settings.

Free of web imports, so the request hooks (security), the templates' helpers (templating)
and the auth views share them without importing one another.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from booking.services.accounts.sessions import SessionLimits

SESSION_TOKEN_KEY = "sid"  # noqa: S105 - the name of a session key, not a secret


def session_limits(config: Mapping[str, Any]) -> SessionLimits:
    """Idle and absolute session limits from the app's config."""
    return SessionLimits(
        staff_idle=timedelta(minutes=config["STAFF_IDLE_MINUTES"]),
        patient_idle=timedelta(minutes=config["PATIENT_IDLE_MINUTES"]),
        absolute=timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
    )
