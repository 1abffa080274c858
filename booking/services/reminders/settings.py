"""The clinic's reminder settings, changed by admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking.domain.errors import NotFound
from booking.extensions import db
from booking.models import Clinic, User
from booking.services.clinic.checks import apply_changes, audit_change
from booking.services.clinic.settings import get_clinic


@dataclass(frozen=True, slots=True)
class ReminderValues:
    reminder_24h: bool
    reminder_2h: bool
    intake_reminder_auto: bool
    reminder_details: bool


def update_reminder_settings(values: ReminderValues, *, actor: User, now: datetime) -> Clinic:
    """Change which reminders the clinic sends and whether they may name the session type.

    Raises NotFound when no clinic is set up. Locations may override the two session
    reminders on their own page.
    """
    clinic = get_clinic()
    if clinic is None:
        raise NotFound("No clinic is set up yet")
    changed = apply_changes(
        clinic,
        {
            "reminder_24h": values.reminder_24h,
            "reminder_2h": values.reminder_2h,
            "intake_reminder_auto": values.intake_reminder_auto,
            "reminder_details": values.reminder_details,
        },
    )
    db.session.flush()
    audit_change("setup.reminders.update", clinic, actor, now, changed)
    return clinic
