"""Where a first-visit patient goes after booking: the health questions (intake)."""

from __future__ import annotations

from flask import current_app, url_for

from booking.models import Appointment
from booking.services.intake.links import link_token


def next_step_after_booking(appointment: Appointment) -> tuple[str, str] | None:
    """The (link text, url) of the step after booking, or None when there is none.

    The url works for guests: it carries a token derived from the appointment's manage
    link (see booking.services.intake.links), so it stops working when that link does.
    """
    if not appointment.is_first_visit:
        return None
    token = link_token(appointment, secret=current_app.config["SECRET_KEY"])
    if token is None:
        return None
    url = url_for("intake.start_guest", appointment_id=appointment.id, token=token)
    return ("Answer the health questions", url)
