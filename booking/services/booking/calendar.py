"""iCalendar files for appointments: same UID for life, SEQUENCE rises with each change."""

from __future__ import annotations

from datetime import datetime

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

    Times are written in UTC so every calendar shows the right local time.
    """
    return series_ics([appointment], clinic_name=clinic_name, method=method, now=now)


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
