"""A practitioner's secret calendar feed: an .ics of their coming sessions (issue 15).

The feed URL carries a random token; only its SHA-256 is stored on the practitioner. Creating
again rotates it (the old URL stops at once), revoking clears it; an unknown, rotated or revoked
token is NotFound. The feed holds no health details: the patient's initials and the session
type, the time and the location's name, nothing from intake forms or notes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.domain.errors import NotFound
from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, Practitioner, User
from booking.services.booking.calendar import PRODID
from booking.services.platform.audit import record_event
from booking.services.platform.tokens import new_token, token_hash

FEED_PAST = timedelta(days=1)
FEED_AHEAD = timedelta(days=180)
FEED_STATUSES = (
    AppointmentStatus.booked,
    AppointmentStatus.checked_in,
    AppointmentStatus.completed,
)


def create_feed(practitioner: Practitioner, *, actor: User, now: datetime) -> str:
    """Give the practitioner a new feed token and return it (shown once, never stored).

    A practitioner who already has a feed gets a new token: the old URL answers 404 from now on.
    """
    rotating = practitioner.feed_token_hash is not None
    token = new_token()
    practitioner.feed_token_hash = token_hash(token)
    practitioner.feed_token_created_at = now
    _audit("calendar_feed.rotate" if rotating else "calendar_feed.create", practitioner, actor, now)
    db.session.flush()
    return token


def revoke_feed(practitioner: Practitioner, *, actor: User, now: datetime) -> None:
    """Stop the practitioner's feed URL; does nothing when there is none."""
    if practitioner.feed_token_hash is None:
        return
    practitioner.feed_token_hash = None
    practitioner.feed_token_created_at = None
    _audit("calendar_feed.revoke", practitioner, actor, now)
    db.session.flush()


def practitioner_by_feed_token(token: str) -> Practitioner:
    """The active practitioner whose current feed token this is; NotFound otherwise."""
    if not token or len(token) > 100:
        raise NotFound("This feed does not exist.")
    practitioner = db.session.scalar(
        select(Practitioner).where(
            Practitioner.feed_token_hash == token_hash(token), Practitioner.is_active.is_(True)
        )
    )
    if practitioner is None:
        raise NotFound("This feed does not exist.")
    return practitioner


def initials(given_name: str, family_name: str) -> str:
    """ "Jane Smith" -> "J.S."; what a calendar shows of a patient."""
    letters = [part[0].upper() for part in (given_name.strip(), family_name.strip()) if part]
    return "".join(f"{letter}." for letter in letters) or "Patient"


def feed_ics(practitioner: Practitioner, *, now: datetime, clinic_name: str) -> str:
    """The practitioner's sessions from yesterday to 180 days ahead as an iCalendar file.

    One VEVENT per session: the booking's UID and SEQUENCE, start and end in UTC, "J.S. –
    Follow-up acupuncture" as summary and the location's name; no description.
    """
    appointments = db.session.scalars(
        select(Appointment)
        .where(
            Appointment.practitioner_id == practitioner.id,
            Appointment.status.in_(FEED_STATUSES),
            Appointment.starts_at >= now - FEED_PAST,
            Appointment.starts_at < now + FEED_AHEAD,
        )
        .options(
            selectinload(Appointment.patient),
            selectinload(Appointment.session_type),
            selectinload(Appointment.location),
        )
        .order_by(Appointment.starts_at)
    )
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{practitioner.display_name} – {clinic_name}")
    for appointment in appointments:
        patient = appointment.patient
        who = initials(patient.given_name, patient.family_name) if patient else "Patient"
        event = Event()
        event.add("uid", appointment.ics_uid)
        event.add("sequence", appointment.ics_sequence)
        event.add("dtstamp", now)
        event.add("dtstart", appointment.starts_at)
        event.add("dtend", appointment.ends_at)
        event.add("summary", f"{who} – {appointment.session_type.name}")
        event.add("location", appointment.location.name)
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical().decode()


def _audit(action: str, practitioner: Practitioner, actor: User, now: datetime) -> None:
    record_event(
        action, actor=actor, now=now, object_type="practitioner", object_id=practitioner.id
    )
