"""The one reader of dates typed in three boxes, behind the admin date inputs and date of birth."""

from datetime import date

import pytest

from booking.forms.fields import DATE_PARTS, DatePartsError, read_date_parts


def typed(day: str, month: str, year: str) -> dict[str, str]:
    return dict(zip(DATE_PARTS, (day, month, year), strict=True))


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (typed("3", "4", "2027"), date(2027, 4, 3)),
        (typed(" 03 ", "Apr", "2027"), date(2027, 4, 3)),  # spaces ignored, month by name
        (typed("3", "september", "2-0-2-7"), date(2027, 9, 3)),  # hyphens ignored
        (typed("", " ", ""), None),  # nothing typed: the caller says whether that is fine
    ],
)
def test_reads_a_date(parts: dict[str, str], expected: date | None) -> None:
    assert read_date_parts(parts, noun="Date") == expected


@pytest.mark.parametrize(
    ("parts", "message", "boxes"),
    [
        (typed("3", "", ""), "Date must include a month and year", ("month", "year")),
        (typed("", "4", "2027"), "Date must include a day", ("day",)),
        (typed("31", "2", "2027"), "Date must be a real date", DATE_PARTS),
        (typed("3", "4", "27"), "Year must include 4 numbers", ("year",)),
        (typed("3", "smarch", "2027"), "Date must be a real date", DATE_PARTS),
        (typed("²", "1", "2027"), "Date must be a real date", DATE_PARTS),  # int() refuses it
        (typed(str(2**63), "1", "2027"), "Date must be a real date", DATE_PARTS),
        (typed("9999999999", "1", "2027"), "Date must be a real date", DATE_PARTS),  # overflows
        (typed("1", "9" * 5000, "2027"), "Date must be a real date", DATE_PARTS),  # too long
    ],
)
def test_refuses_what_is_not_a_date(
    parts: dict[str, str], message: str, boxes: tuple[str, ...]
) -> None:
    with pytest.raises(DatePartsError) as refused:
        read_date_parts(parts, noun="Date")
    assert (refused.value.message, refused.value.parts) == (message, boxes)


def test_max_length_bounds_each_box() -> None:
    leading_zeros = typed("00000000003", "4", "2027")  # 11 characters
    with pytest.raises(DatePartsError):
        read_date_parts(leading_zeros, noun="Date")
    assert read_date_parts(leading_zeros, noun="Date", max_length=20) == date(2027, 4, 3)
