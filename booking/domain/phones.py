"""Phone numbers: read in a location's country, stored in E.164, shown in national format.

One place for the rules, so the booking journey, the staff forms, the API and patient search
read numbers the same way. `phonenumbers` is pure (no I/O), so this module stays in the core.

A number must be one `phonenumbers.is_valid_number` accepts: possible lengths are not enough
("0777 123" is refused). Ofcom's drama ranges (07700 900xxx, 01632 960xxx, 020 7946 0xxx) are
not valid numbers to it, so examples come from its own example numbers.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from booking.domain.errors import InvalidInput

PHONE_MAX = 30


@lru_cache(maxsize=32)
def example_numbers(region: str) -> tuple[str, str]:
    """A mobile number of `region` as people there write it, and in international format."""
    number = phonenumbers.example_number_for_type(region.upper(), PhoneNumberType.MOBILE)
    if number is None:  # a region without an example mobile: GB's (phonenumbers ships one)
        return example_numbers("GB")
    return (
        phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL),
        phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
    )


def phone_format_message(region: str) -> str:
    """The error shown for a number that cannot be a real one, with this country's example."""
    national, international = example_numbers(region)
    return f"Enter a phone number, like {national} or {international}"


def parse_phone(text: str, region: str, *, field: str = "phone") -> str:
    """The E.164 form of `text`, read as a national number of `region` unless it starts with +.

    Spaces, hyphens, dots and brackets are ignored. Raises InvalidInput (with `field`) for an
    empty text, more than 30 characters, or anything `phonenumbers` does not accept as a valid
    number (too short, too long, an unused range such as Ofcom's drama numbers).
    """
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise InvalidInput("Enter a phone number", field=field)
    if len(cleaned) > PHONE_MAX:
        raise InvalidInput(f"Phone number must be {PHONE_MAX} characters or fewer", field=field)
    try:
        number = phonenumbers.parse(cleaned, region.upper() or None)
    except phonenumbers.NumberParseException as error:
        raise InvalidInput(phone_format_message(region), field=field) from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(phone_format_message(region), field=field)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _parsed(e164: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None


@lru_cache(maxsize=4096)
def format_national(e164: str | None, region: str) -> str:
    """'07400 123456' for people in the number's own country; '+353 85 012 3456' otherwise.

    Text that is not an E.164 number (an old row) comes back unchanged; None becomes "".
    Cached: parsing with phonenumbers cost a tenth of the start page (issue 22).
    """
    if not e164:
        return ""
    number = _parsed(e164)
    if number is None:
        return e164
    if phonenumbers.region_code_for_number(number) == region.upper():
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


@lru_cache(maxsize=4096)
def tel_uri(e164: str | None) -> str | None:
    """'tel:+447400123456' for a stored number, None when it is not one."""
    if not e164:
        return None
    number = _parsed(e164)
    if number is None:
        return None
    return "tel:" + phonenumbers.format_number(number, PhoneNumberFormat.E164)
