"""iCalendar files for appointments: same UID for life, SEQUENCE rises with each change."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import cast

from icalendar import Calendar, Event, vCalAddress, vText

from booking.models import Appointment

PRODID = "-//Meridian//Booking//EN"


def _event(appointment: Appointment, *, clinic_name: str, method: str, now: datetime) -> Event:
    event = Event()
    event.add("uid", appointment.ics_uid)
    event.add("sequence", appointment.ics_sequence)
    event.add("dtstamp", now)
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("summary", f"{appointment.session_type.name} at {clinic_name}")
    location = appointment.location
    event.add("location", vText(f"{location.name}, {location.address}".strip(", ")))
    event.add(
        "description",
        f"{appointment.session_type.name} with {appointment.practitioner.display_name}.",
    )
    organizer = vCalAddress("mailto:bookings@meridian.example")
    organizer.params["cn"] = vText(clinic_name)
    event.add("organizer", organizer)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    return event


def appointment_ics(
    appointment: Appointment, *, clinic_name: str, method: str, now: datetime
) -> str:
    """An .ics for one appointment; METHOD:CANCEL marks the event cancelled.

    Times are written in UTC so every calendar shows the right local time. The same text
    as `series_ics([appointment], ...)`, made from a per-process copy of that file for the
    appointment's words (`_ics_template`), with its UID, SEQUENCE and times put in (issue 22:
    building the file through the icalendar library was a tenth of a booking's CPU).
    """
    fields = _changing_fields(appointment, now)
    if fields is None:
        return series_ics([appointment], clinic_name=clinic_name, method=method, now=now)
    location = appointment.location
    template = _ics_template(
        clinic_name,
        method,
        appointment.session_type.name,
        location.name,
        location.address,
        appointment.practitioner.display_name,
    )
    for placeholder, value in zip(_PLACEHOLDER_LINES, fields, strict=True):
        template = template.replace(placeholder, value, 1)
    return template


# Values no real appointment has, whose lines the template's copy is made with.
_PLACEHOLDER_UID = "meridian-ics-placeholder-uid"
_PLACEHOLDER_SEQUENCE = 987654321
_PLACEHOLDER_TIMES = (
    datetime(1901, 1, 1, 1, 1, 1, tzinfo=UTC),  # DTSTAMP
    datetime(1901, 2, 2, 2, 2, 2, tzinfo=UTC),  # DTSTART
    datetime(1901, 3, 3, 3, 3, 3, tzinfo=UTC),  # DTEND
)
_PLACEHOLDER_LINES = (
    f"\r\nUID:{_PLACEHOLDER_UID}\r\n",
    f"\r\nSEQUENCE:{_PLACEHOLDER_SEQUENCE}\r\n",
    *(
        f"\r\n{name}:{t:%Y%m%dT%H%M%SZ}\r\n"
        for name, t in zip(("DTSTAMP", "DTSTART", "DTEND"), _PLACEHOLDER_TIMES, strict=True)
    ),
)
# A UID written as it stands (nothing to escape) on one line of at most 75 octets.
_PLAIN_UID = re.compile(r"[A-Za-z0-9@._-]{1,71}")


def _utc_text(value: datetime) -> str | None:
    """`value` as the library writes a UTC time (seconds, "Z"), or None for another zone."""
    if value.tzinfo is not UTC or value.year < 1000:
        return None
    return f"{value:%Y%m%dT%H%M%SZ}"  # the library drops microseconds too


def _changing_fields(appointment: Appointment, now: datetime) -> tuple[str, ...] | None:
    """The appointment's own lines, as the library writes them; None where the template
    cannot say the same (then the file is built in full)."""
    uid, sequence = appointment.ics_uid, appointment.ics_sequence
    times = [_utc_text(value) for value in (now, appointment.starts_at, appointment.ends_at)]
    if not _PLAIN_UID.fullmatch(uid) or not isinstance(sequence, int) or None in times:
        return None
    return (
        f"\r\nUID:{uid}\r\n",
        f"\r\nSEQUENCE:{sequence}\r\n",
        *(
            f"\r\n{name}:{text}\r\n"
            for name, text in zip(("DTSTAMP", "DTSTART", "DTEND"), times, strict=True)
        ),
    )


@lru_cache(maxsize=512)
def _ics_template(
    clinic_name: str,
    method: str,
    session_type: str,
    place: str,
    address: str,
    practitioner: str,
) -> str:
    """The .ics of an appointment with these words and the placeholder UID, SEQUENCE and
    times (each on a line of its own, so exactly one line to replace)."""
    stand_in = SimpleNamespace(
        ics_uid=_PLACEHOLDER_UID,
        ics_sequence=_PLACEHOLDER_SEQUENCE,
        starts_at=_PLACEHOLDER_TIMES[1],
        ends_at=_PLACEHOLDER_TIMES[2],
        session_type=SimpleNamespace(name=session_type),
        location=SimpleNamespace(name=place, address=address),
        practitioner=SimpleNamespace(display_name=practitioner),
    )
    text = series_ics(
        [cast(Appointment, stand_in)],
        clinic_name=clinic_name,
        method=method,
        now=_PLACEHOLDER_TIMES[0],
    )
    if any(text.count(line) != 1 for line in _PLACEHOLDER_LINES):
        raise RuntimeError("the icalendar library no longer writes the placeholder lines")
    return text


def series_ics(
    appointments: list[Appointment], *, clinic_name: str, method: str, now: datetime
) -> str:
    """One .ics holding every session of a plan series, each event with its own UID."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    for appointment in appointments:
        calendar.add_component(_event(appointment, clinic_name=clinic_name, method=method, now=now))
    return calendar.to_ical().decode()
