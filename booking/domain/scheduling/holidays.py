"""Public holidays of a country or subdivision (the `holidays` package), as closures.

Pure: the package computes dates from rules, with no I/O. The engine never calls this: the
loader turns the holidays a location keeps into whole-day `holiday` exceptions and passes
them in, as it does closures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import holidays

from booking.domain.errors import InvalidInput
from booking.domain.scheduling.values import ScheduleException


@dataclass(frozen=True, slots=True)
class PublicHoliday:
    on_date: date
    name: str


@lru_cache(maxsize=16)
def subdivisions(country: str) -> tuple[str, ...]:
    """The subdivision codes `holidays` knows for `country` ("ENG", "SCT", ...); () if none."""
    try:
        return tuple(holidays.country_holidays(country.upper()).subdivisions)
    except NotImplementedError:
        return ()


def check_region(country: str, subdivision: str | None) -> str | None:
    """The subdivision code to store ("ENG" from "eng" or "GB-ENG"), None for the whole country.

    Raises InvalidInput (field `subdivision`) for a code `holidays` does not know for `country`.
    """
    text = (subdivision or "").strip().upper()
    if not text:
        return None
    prefix = f"{country.upper()}-"
    if text.startswith(prefix):
        text = text[len(prefix) :]
    known = subdivisions(country)
    if text not in known:
        example = f", like {prefix}{known[0]}" if known else ""
        raise InvalidInput(
            f"Enter a region of {country.upper()} for public holidays{example}, or leave it empty",
            field="subdivision",
        )
    return text


@lru_cache(maxsize=64)
def _year(country: str, subdivision: str | None, year: int) -> tuple[PublicHoliday, ...]:
    try:
        calendar = holidays.country_holidays(
            country, subdiv=subdivision, years=year, language="en_GB"
        )
    except NotImplementedError:  # a country the package does not cover: no holidays
        return ()
    return tuple(PublicHoliday(day, name) for day, name in sorted(calendar.items()))


def public_holidays(
    country: str, subdivision: str | None, first: date, last: date
) -> list[PublicHoliday]:
    """The public holidays from `first` to `last` inclusive, by date.

    Substitute days ("Christmas Day (observed)") are holidays too. Several names on one date
    come as one holiday whose name joins them.
    """
    found: list[PublicHoliday] = []
    for year in range(first.year, last.year + 1):
        found.extend(
            h for h in _year(country.upper(), subdivision, year) if first <= h.on_date <= last
        )
    return found


def holiday_closures(
    days: list[PublicHoliday], *, location_id: int, opened: frozenset[date]
) -> list[ScheduleException]:
    """Whole-day `holiday` exceptions at the location for the holidays it keeps."""
    return [
        ScheduleException("holiday", h.on_date, None, location_id)
        for h in days
        if h.on_date not in opened
    ]
