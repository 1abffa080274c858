"""Waitlist preferences (pure): which local starts an entry accepts, and how lists show them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from booking.domain.errors import InvalidInput
from booking.domain.waitlist import accepts, day_part, describe, encode_parts, encode_weekdays

WEDNESDAY_10AM = datetime(2027, 4, 14, 10, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.mark.parametrize(
    ("hour", "part"), [(0, "morning"), (11, "morning"), (12, "afternoon"), (17, "evening")]
)
def test_day_parts(hour: int, part: str) -> None:
    assert day_part(WEDNESDAY_10AM.replace(hour=hour)) == part


@pytest.mark.parametrize(
    ("weekdays", "parts", "accepted"),
    [
        ([], [], True),
        ([2], [], True),
        ([0, 4], [], False),
        ([], ["morning"], True),
        ([], ["afternoon", "evening"], False),
        ([2], ["morning"], True),
    ],
)
def test_accepts(weekdays: list[int], parts: list[str], accepted: bool) -> None:
    stored = encode_weekdays(weekdays), encode_parts(parts)
    assert accepts(*stored, WEDNESDAY_10AM) is accepted


def test_encoding_sorts_and_refuses_unknown_values() -> None:
    assert encode_weekdays([4, 0, 4]) == "0,4"
    assert encode_parts(["evening", "morning"]) == "morning,evening"
    with pytest.raises(InvalidInput):
        encode_weekdays([7])
    with pytest.raises(InvalidInput):
        encode_parts(["night"])


def test_describe() -> None:
    assert describe("", "") == "Any day; any time"
    assert describe("0,2", "morning") == "Monday, Wednesday; morning"
