"""Booking policy: session-type bounds, notice and horizon (domain.md §1 and §3 rule 4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from booking.domain.errors import InvalidInput, PolicyRefused
from booking.domain.scheduling.dst import local_today

MIN_DURATION_MINUTES = 20
MAX_DURATION_MINUTES = 40
MAX_BUFFER_MINUTES = 30


@dataclass(frozen=True, slots=True)
class SessionTypeSpec:
    """What the engine needs of a session type."""

    session_type_id: int
    duration_minutes: int
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    room_kind: str | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    """A location's effective booking policy (clinic defaults with overrides applied)."""

    min_notice_minutes: int = 120
    max_advance_days: int = 90
    slot_step_minutes: int = 15


def check_session_type(session_type: SessionTypeSpec) -> None:
    """Check duration 20–40 minutes and buffers 0–30 minutes.

    Raises InvalidInput (field `duration_minutes` or the buffer's name).
    """
    duration = session_type.duration_minutes
    if not MIN_DURATION_MINUTES <= duration <= MAX_DURATION_MINUTES:
        raise InvalidInput(
            f"Sessions last {MIN_DURATION_MINUTES} to {MAX_DURATION_MINUTES} minutes, "
            f"not {duration}.",
            field="duration_minutes",
        )
    for name in ("buffer_before_minutes", "buffer_after_minutes"):
        value = getattr(session_type, name)
        if not 0 <= value <= MAX_BUFFER_MINUTES:
            raise InvalidInput(
                f"Buffers are 0 to {MAX_BUFFER_MINUTES} minutes, not {value}.", field=name
            )


def check_policy(policy: Policy) -> None:
    """Check the step is positive and notice and horizon are not negative.

    Raises InvalidInput naming the field.
    """
    if policy.slot_step_minutes <= 0:
        raise InvalidInput("The slot step must be positive.", field="slot_step_minutes")
    if policy.min_notice_minutes < 0:
        raise InvalidInput("Minimum notice cannot be negative.", field="min_notice_minutes")
    if policy.max_advance_days < 0:
        raise InvalidInput("Booking horizon cannot be negative.", field="max_advance_days")


def earliest_start(now: datetime, policy: Policy) -> datetime:
    """Return the first instant a patient may book: `now + min_notice`. Raises nothing."""
    return now + timedelta(minutes=policy.min_notice_minutes)


def last_bookable_date(now: datetime, zone: ZoneInfo, policy: Policy) -> date:
    """Return the last local date a session may start on: local today + `max_advance_days`.

    Raises nothing.
    """
    return local_today(zone, now=now) + timedelta(days=policy.max_advance_days)


def check_limits(starts_at: datetime, now: datetime, zone: ZoneInfo, policy: Policy) -> None:
    """Check one start against notice and horizon (staff may skip this with a reason).

    Raises PolicyRefused with code `too_soon` or `too_far_ahead`.
    """
    if starts_at < earliest_start(now, policy):
        raise PolicyRefused(
            f"Sessions must be booked at least {policy.min_notice_minutes} minutes ahead.",
            code="too_soon",
        )
    if starts_at.astimezone(zone).date() > last_bookable_date(now, zone, policy):
        raise PolicyRefused(
            f"Sessions can be booked up to {policy.max_advance_days} days ahead.",
            code="too_far_ahead",
        )
