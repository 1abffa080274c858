"""The web layer's only clock: services and the scheduler receive `now` as an argument.

Call it as `clock.utcnow()` after `from booking import clock`, never import the function by
name: tests freeze time by patching `booking.clock.utcnow` once (tests/conftest.py
`frozen_clock`), and only a lookup through the module sees that patch. Model column defaults
bind the function at import and keep the real time; services pass `now` explicitly.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current instant as an aware UTC datetime."""
    return datetime.now(UTC)
