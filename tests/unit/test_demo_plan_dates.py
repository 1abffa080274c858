"""The demo's weekly plan crosses the next clock change when the demo's dates allow."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.demo.plans import LATEST_START_WEEK, clock_change_week

LONDON = ZoneInfo("Europe/London")


def crosses(today: date, week: int) -> bool:
    first = today + timedelta(weeks=week)
    offsets = {
        datetime.combine(first + timedelta(weeks=k), time(10), LONDON).utcoffset() for k in range(6)
    }
    return len(offsets) == 2


@pytest.mark.parametrize("today", [date(2027, 2, 20), date(2027, 3, 10), date(2027, 10, 1)])
def test_near_a_clock_change_the_plan_crosses_it(today: date) -> None:
    week = clock_change_week(today, LONDON)
    assert 1 <= week <= LATEST_START_WEEK
    assert crosses(today, week)


def test_far_from_a_clock_change_the_plan_starts_next_week() -> None:
    # Seeded on 7 December 2026 the next change (28 March 2027) is past the demo's weeks.
    assert clock_change_week(date(2026, 12, 7), LONDON) == 1
    assert clock_change_week(date(2026, 12, 7), ZoneInfo("Asia/Tokyo")) == 1
