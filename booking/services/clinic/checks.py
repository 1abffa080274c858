"""Checks shared by clinic set-up: ranges, names, slugs, zones; audit rows.

Each write checks its own rules (the forms check them first; these checks are the backstop for
any other caller), writes an audit row and flushes; the view commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import available_timezones

from sqlalchemy import select

from booking.domain.errors import InvalidInput
from booking.extensions import db
from booking.models import Clinic, Location, Practitioner, Room, SessionType, User
from booking.models.clinic import SLOT_STEPS
from booking.services.platform.audit import record_event


@dataclass(frozen=True, slots=True)
class Limit:
    """An inclusive whole-number range and how messages name it."""

    noun: str
    low: int
    high: int
    unit: str = ""

    def message(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.noun} must be between {self.low} and {self.high}{unit}"

    def check(self, value: int | None, field: str) -> None:
        """Raise InvalidInput naming `field` when a given value is out of range."""
        if value is not None and not self.low <= value <= self.high:
            raise InvalidInput(self.message(), field=field)


# One catalogue for the forms and the services; the database CHECKs agree where they exist.
LIMITS = {
    "min_notice_minutes": Limit("Minimum notice", 0, 10080, "minutes"),
    "max_advance_days": Limit("How far ahead patients can book", 1, 730, "days"),
    "cancellation_cutoff_hours": Limit("The cancellation cut-off", 0, 168, "hours"),
    "missed_threshold": Limit("The number of missed sessions", 1, 20),
    "capacity": Limit("Places", 1, 12),
    "sort_order": Limit("Position in lists", 0, 999),
    "duration_minutes": Limit("Duration", 20, 40, "minutes"),
    "buffer_before_minutes": Limit("Time before the session", 0, 30, "minutes"),
    "buffer_after_minutes": Limit("Time after the session", 0, 30, "minutes"),
}


MAX_PRICE_PENCE = 100_000


NAME_MAX = 100


@lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()}


def canonical_zone(text: str) -> str | None:
    """The IANA zone name matching `text` (any case, spaces as underscores), or None."""
    key = text.strip().replace(" ", "_").lower()
    return _zones_by_lower_name().get(key)


def slugify(text: str, fallback: str) -> str:
    """Lower-case words joined by hyphens, for URLs; `fallback` when nothing is left."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]
    return slug or fallback


def unique_slug(model: type[Location] | type[SessionType], name: str, fallback: str) -> str:
    base = slugify(name, fallback)
    taken = set(db.session.scalars(select(model.slug).where(model.slug.like(f"{base}%"))))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def check_name(name: str, field: str = "name") -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput("Enter a name", field=field)
    if len(cleaned) > NAME_MAX:
        raise InvalidInput(f"Name must be {NAME_MAX} characters or fewer", field=field)
    return cleaned


def audit_change(
    action: str,
    obj: Clinic | Location | Room | SessionType | Practitioner,
    actor: User,
    now: datetime,
    changed: Iterable[str],
) -> None:
    """Add the audit row of a set-up change, naming the fields that changed."""
    detail = ", ".join(sorted(changed))
    record_event(
        action,
        actor=actor,
        now=now,
        object_type=type(obj).__tablename__,
        object_id=obj.id,
        detail=(detail[:197] + "...") if len(detail) > 200 else (detail or None),
    )


def apply_changes(obj: object, values: dict[str, object]) -> list[str]:
    """Set attributes, returning the names whose value changed."""
    changed = []
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def check_step(step: int | None, *, optional: bool) -> None:
    if step is None and optional:
        return
    if step not in SLOT_STEPS:
        raise InvalidInput("Select how often sessions can start", field="slot_step_minutes")
