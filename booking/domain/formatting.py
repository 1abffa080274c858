"""Dates and times in words, as pages and emails show them, and the week a date is in."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta


def format_date(value: date | datetime) -> str:
    """'Tuesday 14 April 2027'."""
    return f"{value:%A} {value.day} {value:%B %Y}"


def format_time(value: datetime | time) -> str:
    """'10:30am', '2pm'."""
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


def format_price(pence: int) -> str:
    """'£45', '£37.50' (the clinic's prices are in pounds)."""
    pounds, rest = divmod(pence, 100)
    return f"£{pounds}" if not rest else f"£{pounds}.{rest:02d}"


def day_label(day: date) -> str:
    """'Tuesday 14 April' (the year only when it is not this year's)."""
    return f"{day:%A} {day.day} {day:%B}"


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


# Month names and abbreviations as people type them, lower case, to their numbers.
MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
