"""Waitlist preferences: which local days and parts of the day an entry accepts (pure)."""

from __future__ import annotations

from datetime import datetime

from booking.domain.errors import InvalidInput

DAY_PARTS = ("morning", "afternoon", "evening")
DAY_PART_LABELS = {
    "morning": "Morning (before 12pm)",
    "afternoon": "Afternoon (12pm to 5pm)",
    "evening": "Evening (after 5pm)",
}
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def day_part(local: datetime) -> str:
    """The part of the day a local start falls in."""
    if local.hour < 12:
        return "morning"
    if local.hour < 17:
        return "afternoon"
    return "evening"


def encode_weekdays(weekdays: list[int]) -> str:
    if any(not 0 <= day <= 6 for day in weekdays):
        raise InvalidInput("A weekday is 0 (Monday) to 6 (Sunday).")
    return ",".join(str(day) for day in sorted(set(weekdays)))


def encode_parts(parts: list[str]) -> str:
    if any(part not in DAY_PARTS for part in parts):
        raise InvalidInput("Choose morning, afternoon or evening.")
    return ",".join(part for part in DAY_PARTS if part in parts)


def decode_weekdays(stored: str) -> list[int]:
    return [int(day) for day in stored.split(",") if day]


def decode_parts(stored: str) -> list[str]:
    return [part for part in stored.split(",") if part]


def accepts(weekdays: str, day_parts: str, local_start: datetime) -> bool:
    """Whether an entry's stored preferences accept this local start (empty = any)."""
    days = decode_weekdays(weekdays)
    parts = decode_parts(day_parts)
    if days and local_start.weekday() not in days:
        return False
    return not parts or day_part(local_start) in parts


def describe(weekdays: str, day_parts: str) -> str:
    """'Monday, Wednesday; morning' or 'Any day; any time', for staff and patient lists."""
    days = decode_weekdays(weekdays)
    parts = decode_parts(day_parts)
    day_text = ", ".join(WEEKDAY_NAMES[d] for d in days) if days else "Any day"
    part_text = ", ".join(parts) if parts else "any time"
    return f"{day_text}; {part_text}"
