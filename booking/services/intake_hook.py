"""What a patient is asked to do after booking; the Intake issue fills this in."""

from __future__ import annotations

from booking.models import Appointment


def next_step_after_booking(appointment: Appointment) -> tuple[str, str] | None:
    """The (link text, URL) of the next step for this booking, or None when there is none.

    First-visit patients will be sent to the health questions here once intake exists.
    """
    del appointment
    return None
