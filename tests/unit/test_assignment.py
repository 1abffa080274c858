"""Who gets a "no preference" booking: fewest booked minutes that day, then lowest id."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.domain.errors import InvalidInput
from booking.domain.scheduling.assignment import least_booked_practitioner
from booking.domain.scheduling.dst import day_bounds
from booking.domain.scheduling.values import AppointmentSpan

LONDON = "Europe/London"
DAY = date(2027, 4, 14)  # BST: local midnight is 23:00 UTC the day before


def span(pid: int, start: str, minutes: int) -> AppointmentSpan:
    """A session of `minutes` starting at a UTC ISO time on practitioner `pid`."""
    starts_at = datetime.fromisoformat(start).replace(tzinfo=UTC)
    return AppointmentSpan(0, pid, 1, starts_at, starts_at + timedelta(minutes=minutes))


@pytest.mark.parametrize(
    ("booked", "expected"),
    [
        # nobody has bookings: the lowest id wins the tie
        ([], 1),
        # more sessions but fewer minutes wins: 3 x 20 = 60 beats 2 x 40 = 80
        (
            [
                span(1, "2027-04-14T09:00", 40),
                span(1, "2027-04-14T10:00", 40),
                span(2, "2027-04-14T09:00", 20),
                span(2, "2027-04-14T10:00", 20),
                span(2, "2027-04-14T11:00", 20),
            ],
            2,
        ),
        # equal minutes: the lowest id wins
        ([span(1, "2027-04-14T09:00", 30), span(2, "2027-04-14T09:00", 30)], 1),
        # a session on the previous local day does not count (22:00 UTC = 23:00 BST on the 13th)
        ([span(1, "2027-04-13T22:00", 40), span(2, "2027-04-14T09:00", 20)], 1),
        # 23:30 UTC on the 13th is 00:30 BST on the 14th: it counts
        ([span(1, "2027-04-13T23:30", 40), span(2, "2027-04-14T09:00", 20)], 2),
        # only the part inside the local day counts: 22:40-23:20 UTC gives 20 minutes on the 14th
        ([span(1, "2027-04-13T22:40", 40), span(2, "2027-04-14T09:00", 30)], 1),
        # a session on the next local day does not count (23:00 UTC on the 14th = 00:00 on the 15th)
        ([span(1, "2027-04-14T23:00", 40), span(2, "2027-04-14T09:00", 20)], 1),
        # bookings of practitioners who are not candidates are ignored
        ([span(9, "2027-04-14T09:00", 40), span(1, "2027-04-14T09:00", 20)], 2),
    ],
)
def test_fewest_booked_minutes_that_local_day_then_lowest_id(
    booked: list[AppointmentSpan], expected: int
) -> None:
    assert least_booked_practitioner([2, 1], booked, DAY, LONDON) == expected


def test_input_order_never_changes_the_choice() -> None:
    booked = [span(2, "2027-04-14T09:00", 20), span(1, "2027-04-14T10:00", 20)]
    assert least_booked_practitioner([1, 2], booked, DAY, LONDON) == 1
    assert least_booked_practitioner([2, 1], booked[::-1], DAY, LONDON) == 1


def test_no_candidates_is_refused() -> None:
    with pytest.raises(InvalidInput):
        least_booked_practitioner([], [], DAY, LONDON)


def test_a_naive_session_time_is_refused() -> None:
    naive = AppointmentSpan(0, 1, 1, datetime(2027, 4, 14, 9), datetime(2027, 4, 14, 10))  # noqa: DTZ001
    with pytest.raises(InvalidInput):
        least_booked_practitioner([1], [naive], DAY, LONDON)


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (date(2027, 3, 28), 23),  # London springs forward
        (date(2027, 10, 31), 25),  # London falls back
        (DAY, 24),
    ],
)
def test_day_bounds_follow_dst(day: date, hours: int) -> None:
    start, end = day_bounds(day, ZoneInfo(LONDON))
    assert end - start == timedelta(hours=hours)
    assert start.astimezone(ZoneInfo(LONDON)).date() == day
