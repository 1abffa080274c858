"""The cancellation cut-off of a session and what it means in words (domain.md §5).

Used by the change and cancel rules (`changes`), the pages and the emails (`emails`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from booking.domain.change_window import ChangeWindow, Contact, change_window, window_sentences
from booking.domain.errors import NotFound
from booking.domain.phones import format_national
from booking.models import Appointment, Clinic, Location
from booking.services.clinic.settings import get_clinic


def policy_for(location: Location, *, clinic: Clinic | None = None) -> tuple[Clinic, int]:
    """The clinic row (`clinic`, when the caller has read it already) and the location's
    effective cancellation cut-off in hours."""
    clinic = clinic or get_clinic()
    if clinic is None:
        raise NotFound("The clinic has not been set up.")
    cutoff = location.cancellation_cutoff_hours
    return clinic, clinic.cancellation_cutoff_hours if cutoff is None else cutoff


def location_phone(location: Location) -> str:
    """The location's phone as people in its country write it ("020 7946 0321")."""
    return format_national(location.phone, location.country_code)


def change_deadline(appointment: Appointment, cutoff_hours: int) -> datetime:
    return appointment.starts_at - timedelta(hours=cutoff_hours)


def window(appointment: Appointment, *, cutoff_hours: int, now: datetime) -> ChangeWindow:
    """Until when this session may be changed online without being late (and why)."""
    return change_window(
        starts_at=appointment.starts_at,
        cutoff_hours=cutoff_hours,
        now=now,
        # A row without a booking time (none is written so) gets no grace.
        booked_at=appointment.booked_at or appointment.starts_at - timedelta(days=3650),
    )


def is_late(appointment: Appointment, *, cutoff_hours: int, now: datetime) -> bool:
    """Inside the cut-off, except in the 15 minutes after booking (never late)."""
    return window(appointment, cutoff_hours=cutoff_hours, now=now).until is None


def contact(location: Location, clinic: Clinic) -> Contact:
    """How a patient reaches `location` about a change, and the clinic's late mode."""
    return Contact(
        place=location.name,
        phone=location_phone(location) or clinic.phone or "",
        late_mode=str(clinic.late_cancel_mode),
    )


def change_sentences(
    appointment: Appointment, *, now: datetime, clinic: Clinic | None = None
) -> tuple[str, ...]:
    """What the confirmation and manage pages and the emails say about changing online
    (`clinic`: the clinic's row, when the caller has read it already)."""
    clinic, cutoff = policy_for(appointment.location, clinic=clinic)
    return window_sentences(
        window(appointment, cutoff_hours=cutoff, now=now),
        zone=appointment.location.zone,
        contact=contact(appointment.location, clinic),
    )


@dataclass(frozen=True)
class BookingPolicy:
    """What the check page's change sentences need from a location and the clinic."""

    cutoff_hours: int
    timezone: str
    contact: Contact


def booking_policy(location: Location) -> BookingPolicy:
    """`location`'s cut-off, zone and contact (plain values: they may be kept per worker)."""
    clinic, cutoff = policy_for(location)
    return BookingPolicy(cutoff, location.timezone, contact(location, clinic))


def booking_sentences(location: Location, starts_at: datetime, *, now: datetime) -> tuple[str, ...]:
    """What the check page says, before booking, about changing online afterwards."""
    return policy_sentences(booking_policy(location), starts_at, now=now)


def policy_sentences(
    policy: BookingPolicy, starts_at: datetime, *, now: datetime
) -> tuple[str, ...]:
    """`booking_sentences` from a location's `booking_policy`."""
    return window_sentences(
        change_window(
            starts_at=starts_at, cutoff_hours=policy.cutoff_hours, now=now, booked_at=None
        ),
        zone=ZoneInfo(policy.timezone),
        contact=policy.contact,
        booking=True,
    )
