"""Public holidays of England and Ireland in 2027 become closures of the location (issue 19)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from booking.domain.errors import InvalidInput
from booking.domain.scheduling.availability import compute_slots
from booking.domain.scheduling.holidays import (
    check_region,
    holiday_closures,
    public_holidays,
)
from booking.domain.scheduling.policy import Policy, SessionTypeSpec
from booking.domain.scheduling.values import WeeklyHours

YEAR = (date(2027, 1, 1), date(2027, 12, 31))


def dates(country: str, subdivision: str | None) -> dict[date, str]:
    return {h.on_date: h.name for h in public_holidays(country, subdivision, *YEAR)}


def test_england_2027() -> None:
    england = dates("GB", "ENG")
    assert england[date(2027, 3, 26)] == "Good Friday"
    assert england[date(2027, 3, 29)] == "Easter Monday"
    assert england[date(2027, 12, 25)] == "Christmas Day"
    assert date(2027, 5, 3) in england
    assert date(2027, 8, 30) in england
    assert date(2027, 3, 17) not in england  # St Patrick's Day is not a holiday in England
    assert len(england) == 10  # 8 bank holidays and 2 substitute days (25, 26 Dec a weekend)


def test_ireland_2027() -> None:
    ireland = dates("IE", None)
    assert ireland[date(2027, 3, 17)] == "Saint Patrick's Day"
    assert ireland[date(2027, 3, 29)] == "Easter Monday"
    assert ireland[date(2027, 2, 1)] == "Saint Brigid's Day"
    assert date(2027, 3, 26) not in ireland  # Good Friday is not a public holiday in Ireland
    assert date(2027, 12, 25) in ireland


def test_a_range_across_new_year_and_a_country_without_rules() -> None:
    found = public_holidays("GB", "ENG", date(2027, 12, 27), date(2028, 1, 3))
    assert [h.on_date for h in found] == [
        date(2027, 12, 27),
        date(2027, 12, 28),
        date(2028, 1, 1),
        date(2028, 1, 3),
    ]
    assert public_holidays("ZZ", None, *YEAR) == []


def test_regions_are_read_with_or_without_the_country() -> None:
    assert check_region("GB", "gb-eng") == "ENG"
    assert check_region("GB", "SCT") == "SCT"
    assert check_region("IE", "") is None
    with pytest.raises(InvalidInput) as refused:
        check_region("GB", "XYZ")
    assert refused.value.field == "subdivision"
    assert "like GB-ENG" in refused.value.message


def test_the_engine_offers_nothing_on_a_kept_holiday_and_times_on_an_opened_one() -> None:
    zone = ZoneInfo("Europe/London")
    easter_monday, tuesday = date(2027, 3, 29), date(2027, 3, 30)
    hours = [
        WeeklyHours(1, 1, day.weekday(), time(9), time(12)) for day in (easter_monday, tuesday)
    ]
    holidays = public_holidays("GB", "ENG", easter_monday, tuesday)

    def offered(opened: frozenset[date]) -> set[date]:
        slots = compute_slots(
            session_type=SessionTypeSpec(1, 40),
            location_id=1,
            timezone="Europe/London",
            policy=Policy(),
            practitioner_ids=[1],
            hours=hours,
            exceptions=holiday_closures(holidays, location_id=1, opened=opened),
            rooms=[],
            busy=[],
            date_from=easter_monday,
            date_to=tuesday,
            now=datetime(2027, 3, 1, tzinfo=ZoneInfo("UTC")),
        )
        return {slot.starts_at.astimezone(zone).date() for slot in slots}

    assert offered(frozenset()) == {tuesday}
    assert offered(frozenset({easter_monday})) == {easter_monday, tuesday}
