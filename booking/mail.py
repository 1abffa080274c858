"""Email bodies: one plain-text body per message, rendered by name.

Services decide who gets which message and pass its values (names, local times, links);
`render_email` writes the words. Behind this one function the words can move to templates
(`templates/email/<name>.txt`) without a service changing. Pure: it imports only
`booking.domain`, so every layer may call it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from booking.domain.formatting import format_date, format_time

APPOINTMENT_LINES = {
    "confirmation": "Your {session_type} is booked for {when}.",
    "change": "Your {session_type} has moved to {when}.",
    "cancellation": "Your {session_type} on {when} is cancelled.",
}


def _appointment(
    *,
    kind: str,
    given_name: str,
    session_type: str,
    start: datetime,
    practitioner: str,
    place: str,
    address: str,
    phone: str | None,
    manage_url: str | None,
    clinic_name: str,
) -> list[str]:
    # Only time, place, practitioner and session type: never anything clinical.
    when = f"{format_date(start)} at {format_time(start)} ({place} time, {start.tzname()})"
    body = [
        f"Hello {given_name},",
        "",
        APPOINTMENT_LINES[kind].format(session_type=session_type, when=when),
        f"Practitioner: {practitioner}",
        f"Place: {place}, {address}",
        "",
    ]
    if manage_url:
        body += ["Change or cancel online:", manage_url, ""]
    return [*body, f"Questions? Call {phone}.", "", clinic_name]


def _manage_link(
    *, given_name: str, session_type: str, start: datetime, link: str, clinic_name: str
) -> list[str]:
    return [
        f"Hello {given_name},",
        "",
        f"Here is a new link for your {session_type} on "
        f"{format_date(start)} at {format_time(start)}:",
        link,
        "",
        "Your earlier link keeps working until you use this one.",
        "",
        clinic_name,
    ]


def _find_you(*, link: str, clinic_name: str) -> list[str]:
    return [
        "Hello,",
        "",
        "Use this link to carry on booking your session. It works once, for 20 minutes:",
        link,
        "",
        "If you did not ask for this, you can ignore this email.",
        "",
        clinic_name,
    ]


def _intake_reminder(*, given_name: str, start: datetime, link: str, clinic_name: str) -> list[str]:
    return [
        f"Hello {given_name},",
        "",
        f"Before your session on {format_date(start)} at {format_time(start)}, answer a few "
        "health questions so your practitioner can prepare:",
        link,
        "",
        "Your answers are saved as you go, so you can stop and come back.",
        "",
        clinic_name,
    ]


def _password_changed(
    *, display_name: str, changed_at: datetime, phone: str | None, clinic_name: str
) -> list[str]:
    contact = f"call us on {phone}" if phone else "contact the clinic"
    return [
        f"Hello {display_name},",
        "",
        f"The password for your {clinic_name} account was changed on {format_date(changed_at)} "
        f"at {format_time(changed_at)} {changed_at:%Z}. You have been signed out on your other "
        "devices.",
        "",
        f"If you did not change it, {contact} straight away.",
        "",
        clinic_name,
    ]


BODIES: dict[str, Callable[..., list[str]]] = {
    "appointment": _appointment,
    "manage_link": _manage_link,
    "find_you": _find_you,
    "intake_reminder": _intake_reminder,
    "password_changed": _password_changed,
}


def render_email(name: str, **context: Any) -> str:
    """The plain-text body of the message `name` with `context` filled in.

    Raises KeyError for an unknown message and TypeError for a missing or unknown value.
    """
    return "\n".join(BODIES[name](**context))
