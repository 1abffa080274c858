"""Phone numbers: valid for the location's country, stored in E.164, shown nationally (issue 19)."""

from __future__ import annotations

import pytest

from booking.domain.errors import InvalidInput
from booking.domain.phones import format_national, parse_phone, phone_format_message, tel_uri

GB_MESSAGE = "Enter a phone number, like 07400 123456 or +44 7400 123456"
IE_MESSAGE = "Enter a phone number, like 085 012 3456 or +353 85 012 3456"


@pytest.mark.parametrize(
    ("typed", "region", "stored"),
    [
        ("07400 123456", "GB", "+447400123456"),  # mobile
        ("07400-123-456", "GB", "+447400123456"),  # hyphens ignored
        ("+44 7400 123456", "GB", "+447400123456"),
        ("020 7123 4567", "GB", "+442071234567"),  # London landline
        ("0121 496 0000", "GB", "+441214960000"),  # Birmingham landline
        ("(0161) 496 0000", "GB", "+441614960000"),  # brackets ignored
        ("085 012 3456", "IE", "+353850123456"),  # Irish mobile
        ("01 234 5678", "IE", "+35312345678"),  # Dublin landline
        ("021 234 5678", "IE", "+353212345678"),  # Cork landline
        ("+353 85 012 3456", "GB", "+353850123456"),  # international form read anywhere
        ("07400 123456", "IE", None),  # a GB mobile is not an Irish number
    ],
)
def test_valid_numbers_are_stored_in_e164(typed: str, region: str, stored: str | None) -> None:
    if stored is None:
        with pytest.raises(InvalidInput):
            parse_phone(typed, region)
    else:
        assert parse_phone(typed, region) == stored


@pytest.mark.parametrize(
    ("typed", "region", "message"),
    [
        ("0777 123", "GB", GB_MESSAGE),  # too short: possible-length checks are not enough
        ("07700 900982", "GB", GB_MESSAGE),  # Ofcom drama range: not a valid number
        ("01632 960123", "GB", GB_MESSAGE),  # Ofcom drama range (landline)
        ("0740 0123 4567 8", "GB", GB_MESSAGE),  # too long
        ("call me", "GB", GB_MESSAGE),
        ("087 123", "IE", IE_MESSAGE),  # short Irish mobile
        ("01 234", "IE", IE_MESSAGE),  # short Dublin landline
        ("", "GB", "Enter a phone number"),
        ("   ", "IE", "Enter a phone number"),
        ("0" * 31, "GB", "Phone number must be 30 characters or fewer"),
    ],
)
def test_numbers_that_are_not_valid_are_refused_clearly(
    typed: str, region: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_phone(typed, region, field="phone")
    assert refused.value.message == message
    assert refused.value.field == "phone"


def test_the_example_in_the_message_is_itself_valid() -> None:
    for region in ("GB", "IE", "FR"):
        example = phone_format_message(region).removeprefix("Enter a phone number, like ")
        national, international = example.split(" or ")
        assert parse_phone(national, region) == parse_phone(international, "GB")


@pytest.mark.parametrize(
    ("stored", "region", "shown"),
    [
        ("+447400123456", "GB", "07400 123456"),
        ("+442071234567", "GB", "020 7123 4567"),
        ("+353850123456", "IE", "085 012 3456"),
        ("+353850123456", "GB", "+353 85 012 3456"),  # someone abroad sees the country code
        ("+447400123456", "IE", "+44 7400 123456"),
        ("020 7946 0321", "GB", "020 7946 0321"),  # an old row that is not E.164: as it is
        (None, "GB", ""),
    ],
)
def test_people_in_the_country_see_the_national_format(
    stored: str | None, region: str, shown: str
) -> None:
    assert format_national(stored, region) == shown


def test_tel_links_use_e164() -> None:
    assert tel_uri("+447400123456") == "tel:+447400123456"
    assert tel_uri(None) is None
    assert tel_uri("not a number") is None
