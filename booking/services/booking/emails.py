"""The patient's booking emails: confirmation, change and cancellation, with the calendar file."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from booking.models import Appointment
from booking.services.booking.calendar import appointment_ics
from booking.services.platform import outbox

SUBJECTS = {
    "confirmation": "Your session is booked",
    "change": "Your session has changed",
    "cancellation": "Your session is cancelled",
}


def queue_patient_email(
    appointment: Appointment,
    *,
    kind: str,
    manage_token: str | None,
    base_url: str,
    clinic_name: str,
    now: datetime,
) -> None:
    """Queue the patient's email; only time, place, practitioner and session type."""
    from booking.domain.formatting import format_date, format_time

    patient = appointment.patient
    if patient is None:
        return
    zone = ZoneInfo(appointment.location.timezone)
    start = appointment.starts_at.astimezone(zone)
    place = appointment.location.name
    when = f"{format_date(start)} at {format_time(start)} ({place} time, {start.tzname()})"
    lines = {
        "confirmation": f"Your {appointment.session_type.name} is booked for {when}.",
        "change": f"Your {appointment.session_type.name} has moved to {when}.",
        "cancellation": f"Your {appointment.session_type.name} on {when} is cancelled.",
    }
    body = [
        f"Hello {patient.given_name},",
        "",
        lines[kind],
        f"Practitioner: {appointment.practitioner.display_name}",
        f"Place: {appointment.location.name}, {appointment.location.address}",
        "",
    ]
    if manage_token:
        body += ["Change or cancel online:", f"{base_url.rstrip('/')}/manage/{manage_token}", ""]
    body += [f"Questions? Call {appointment.location.phone}.", "", clinic_name]
    method = "CANCEL" if kind == "cancellation" else "REQUEST"
    outbox.enqueue(
        kind=f"appointment.{kind}",
        recipient=patient.email,
        subject=f"{SUBJECTS[kind]} – {clinic_name}",
        body_text="\n".join(body),
        dedupe_key=f"appointment:{appointment.id}:{kind}:{appointment.ics_sequence}",
        now=now,
        ics=appointment_ics(appointment, clinic_name=clinic_name, method=method, now=now),
        ics_method=method,
    )
