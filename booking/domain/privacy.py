"""Pure rules of patients' data rights: how long clinical records are kept, what is free text.

Retention (security.md §5): a clinical record is kept `years` after the patient's last
clinical event (default 8 for adults). A record of someone who was a child at that event is
kept at least until their 25th birthday, the usual rule for children's health records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from booking.domain.formatting import format_date, format_time

DEFAULT_RETENTION_YEARS = 8
CHILD_RECORDS_UNTIL_AGE = 25
ADULT_AGE = 18
FREE_TEXT_TYPES = frozenset({"text", "textarea", "tel", "email"})
# Links that act as keys (manage, intake, scores and sign-in links): never repeated in exports.
_TOKEN_LINK = re.compile(
    r"(https?://\S+?/(?:manage|intake|scores|book/find-you|auth)/)[A-Za-z0-9_\-/.]+"
)
ERASED_NAME = ("Erased", "patient")


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def age_on(date_of_birth: date, day: date) -> int:
    before_birthday = (day.month, day.day) < (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - (1 if before_birthday else 0)


def retention_ends(last_clinical: date, date_of_birth: date | None, years: int) -> date:
    """The first day a record may be anonymised: `years` after the last clinical event,
    and for a child at that event not before their 25th birthday."""
    if years < 1:
        raise ValueError("the retention period is at least one year")
    ends = add_years(last_clinical, years)
    if date_of_birth is not None and age_on(date_of_birth, last_clinical) < ADULT_AGE:
        ends = max(ends, add_years(date_of_birth, CHILD_RECORDS_UNTIL_AGE))
    return ends


def free_text_keys(definition: Mapping[str, Any]) -> set[str]:
    """Keys of a questionnaire's questions that take typed text rather than a choice."""
    keys: set[str] = set()
    for page in definition.get("pages", []):
        for question in page.get("questions", []):
            if question.get("type") in FREE_TEXT_TYPES:
                keys.add(question["key"])
    return keys


def without_free_text(answers: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The answers with every free-text answer removed; choices and scales stay."""
    drop = set(keys)
    return {key: value for key, value in answers.items() if key not in drop}


def hide_link_tokens(text: str) -> str:
    """Email text with the secret part of each emailed link replaced."""
    return _TOKEN_LINK.sub(r"\1[link removed]", text)


def readable_value(value: Any, zone: ZoneInfo) -> str:
    """One exported value in words: instants in the clinic's zone, dates, yes/no, lists."""
    if value is None or value == "" or value == []:
        return "Not recorded"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict):
        return ", ".join(
            f"{str(key).replace('_', ' ')}: {readable_value(item, zone)}"
            for key, item in value.items()
        )
    if isinstance(value, list):
        separator = "; " if any(isinstance(item, dict) for item in value) else ", "
        return separator.join(readable_value(item, zone) for item in value)
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            if len(value) == 10:
                return format_date(date.fromisoformat(value))
            instant = datetime.fromisoformat(value)
        except ValueError:
            return value
        if instant.tzinfo is not None:
            local = instant.astimezone(zone)
            return f"{format_date(local)} at {format_time(local)}"
    if isinstance(value, str):
        return value.replace("_", " ") if value.isidentifier() else value
    return str(value)
