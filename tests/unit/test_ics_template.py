"""The booking email's .ics from a per-process template (issue 22) is, byte for byte, the file
the icalendar library builds in full: words that need escaping or folding, both methods, any
sequence, times with microseconds, and non-UTC times (which take the full build)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.models import Appointment, Location, Practitioner, SessionType
from booking.services.booking import calendar
from booking.services.booking.calendar import appointment_ics, series_ics

START = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
NOW = datetime(2027, 2, 20, 14, 5, 59, 123456, tzinfo=UTC)


def appointment(
    *,
    session_type: str = "Initial consultation",
    place: str = "Islington",
    address: str = "12 Upper Street, London N1 0PQ",
    practitioner: str = "Mei Lin Chen",
    uid: str = "3a31e704-d4d6-4a8b-825c-5a7f451cb8d1@meridian",
    sequence: int = 0,
    starts_at: datetime = START,
) -> Appointment:
    row = Appointment(
        ics_uid=uid,
        ics_sequence=sequence,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=50),
    )
    row.session_type = SessionType(name=session_type)
    row.location = Location(name=place, address=address)
    row.practitioner = Practitioner(display_name=practitioner)
    return row


CASES = [
    pytest.param({}, id="plain"),
    pytest.param({"sequence": 7}, id="sequence"),
    pytest.param({"address": "Flat 2; 3 Mill Lane, Leeds\\North"}, id="escaped"),
    pytest.param({"address": "a\nb"}, id="newline"),
    pytest.param({"session_type": "Sports massage " * 6}, id="folded summary"),
    pytest.param({"practitioner": "Siobhán Ní Mhaoldomhnaigh-Ó Súilleabháin " * 3}, id="utf8 fold"),
    pytest.param({"place": "", "address": ""}, id="no place"),
    pytest.param({"uid": "x" * 80 + "@meridian"}, id="long uid (full build)"),
    pytest.param({"uid": "a,b@meridian"}, id="uid to escape (full build)"),
    pytest.param(
        {"starts_at": datetime(2027, 3, 1, 9, 30, tzinfo=ZoneInfo("Europe/London"))},
        id="zoned (full build)",
    ),
]


@pytest.mark.parametrize("fields", CASES)
@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
@pytest.mark.parametrize("clinic", ["Meridian", "Meridian, Physio & Co; Leeds"])
def test_the_template_writes_what_the_library_writes(
    fields: dict[str, object], method: str, clinic: str
) -> None:
    row = appointment(**fields)  # type: ignore[arg-type]
    expected = series_ics([row], clinic_name=clinic, method=method, now=NOW)
    assert appointment_ics(row, clinic_name=clinic, method=method, now=NOW) == expected


def test_a_booking_reuses_the_template_of_its_words() -> None:
    calendar._ics_template.cache_clear()
    for minutes in range(3):
        row = appointment(
            uid=f"{minutes}-uid@meridian", starts_at=START + timedelta(minutes=minutes)
        )
        appointment_ics(row, clinic_name="Meridian", method="REQUEST", now=NOW)
    info = calendar._ics_template.cache_info()
    assert (info.misses, info.hits) == (1, 2)
