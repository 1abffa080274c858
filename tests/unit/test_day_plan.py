"""What the practitioner's calendar says about hours, time off and closures (pure)."""

from __future__ import annotations

from datetime import date, time

from booking.domain.scheduling.day_plan import (
    CLOSED,
    OFF,
    OPEN,
    TIME_OFF,
    hour_rows,
    hour_state,
    plan_days,
)
from booking.domain.scheduling.values import ScheduleException, WeeklyHours

MONDAY = date(2027, 4, 12)
NAMES = {1: "Islington", 2: "Dublin"}


def _plans(*exceptions: ScheduleException) -> dict:
    hours = [
        WeeklyHours(7, 1, 0, time(9), time(13)),
        WeeklyHours(7, 1, 0, time(14), time(18)),
        WeeklyHours(7, 2, 4, time(9), time(17)),
        WeeklyHours(7, 1, 1, time(9), time(17), valid_until=date(2027, 4, 1)),  # expired
    ]
    days = [MONDAY, MONDAY.replace(day=13), MONDAY.replace(day=16)]
    return plan_days(
        days, practitioner_id=7, hours=hours, exceptions=exceptions, location_names=NAMES
    )


def test_open_hours_by_location_and_days_off() -> None:
    plans = _plans()
    monday, tuesday, friday = plans.values()
    assert [(s.label, s.start, s.end) for s in monday.open] == [
        ("Islington", time(9), time(13)),
        ("Islington", time(14), time(18)),
    ]
    assert hour_state(monday, 9) == (OPEN, "")
    assert hour_state(monday, 13) == (OFF, "Not working")
    assert not tuesday.working
    assert hour_state(tuesday, 10) == (OFF, "Not working")
    assert [s.label for s in friday.open] == ["Dublin"]


def test_time_off_and_closures_win_over_open_hours() -> None:
    plans = _plans(
        ScheduleException(
            "time_off", MONDAY, practitioner_id=7, start_time=time(12), end_time=time(13)
        ),
        ScheduleException("time_off", MONDAY, practitioner_id=8),  # someone else
        ScheduleException("closure", date(2027, 4, 16), location_id=2),
        ScheduleException("closure", MONDAY, location_id=2),  # Dublin: not working there Monday
        ScheduleException(
            "extra_hours",
            date(2027, 4, 13),
            practitioner_id=7,
            location_id=1,
            start_time=time(10),
            end_time=time(12),
        ),
    )
    monday, tuesday, friday = plans.values()
    assert [b.label for b in monday.blocks] == ["Time off"]
    assert hour_state(monday, 12) == (TIME_OFF, "Time off")
    assert hour_state(monday, 11) == (OPEN, "")
    assert hour_state(friday, 10) == (CLOSED, "Closed: Dublin")
    assert hour_state(tuesday, 10) == (OPEN, "")


def test_hour_rows_cover_8_to_6_and_widen_to_hours_and_sessions() -> None:
    plans = _plans()
    assert hour_rows(plans.values(), []) == list(range(8, 18))
    assert hour_rows(plans.values(), [19, 7]) == list(range(7, 20))
