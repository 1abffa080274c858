"""Until when a patient may change or cancel online, in words that are true (domain.md §5).

Online changes are open until `starts_at - cutoff`. A session booked inside the cut-off has
no such deadline left: only the 15 minutes after booking (the grace, never late), then the
phone (`call` mode) or a late record (`record` mode). No sentence here ever names a deadline
that has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from booking.domain.formatting import format_date, format_time

GRACE = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class ChangeWindow:
    """Where `now` stands against the cut-off of one session.

    `until` is the last instant online changes are not late: the deadline while it is ahead,
    else the end of the grace; None when neither is ahead. `booked_inside` says the session
    was (or, not yet booked, is being) booked after its deadline.
    """

    deadline: datetime
    until: datetime | None
    in_grace: bool
    booked_inside: bool
    cutoff_hours: int


def change_window(
    *, starts_at: datetime, cutoff_hours: int, now: datetime, booked_at: datetime | None
) -> ChangeWindow:
    """The window of a session; `booked_at` None means it is being booked at `now`."""
    deadline = starts_at - timedelta(hours=cutoff_hours)
    booked = now if booked_at is None else booked_at
    booked_inside = booked >= deadline
    if now < deadline:
        return ChangeWindow(deadline, deadline, False, booked_inside, cutoff_hours)
    grace_end = booked + GRACE
    if now <= grace_end and now < starts_at:  # the 15th minute still counts (never late)
        return ChangeWindow(deadline, min(grace_end, starts_at), True, booked_inside, cutoff_hours)
    return ChangeWindow(deadline, None, False, booked_inside, cutoff_hours)


def _hours(n: int) -> str:
    return "1 hour" if n == 1 else f"{n} hours"


def when(instant: datetime, zone: ZoneInfo) -> str:
    """'10:30am on Tuesday 14 April 2027' in the location's zone."""
    local = instant.astimezone(zone)
    return f"{format_time(local)} on {format_date(local)}"


@dataclass(frozen=True, slots=True)
class Contact:
    """How a patient reaches the location, and what a late change does there."""

    place: str
    phone: str
    late_mode: str  # "call" or "record"

    def after(self) -> str:
        if self.late_mode == "call":
            return f"After that, call {self.place} on {self.phone}."
        return "After that, a change or cancellation is recorded as late."


def window_sentences(
    window: ChangeWindow, *, zone: ZoneInfo, contact: Contact, booking: bool = False
) -> tuple[str, ...]:
    """What the check, confirmation and manage pages and the emails say about changing.

    `booking` is the check page, before the session is booked.
    """
    ahead = f"less than {_hours(window.cutoff_hours)} ahead"
    if window.until is not None and not window.in_grace:
        return (
            f"You can change or cancel online until {when(window.until, zone)}.",
            contact.after(),
        )
    if booking:
        return (
            f"You are booking {ahead}. You can change or cancel online for 15 minutes "
            "after you book.",
            contact.after(),
        )
    if window.until is not None:  # the grace after booking
        opening = f"You booked {ahead}. " if window.booked_inside else ""
        return (
            f"{opening}You can change or cancel online until {when(window.until, zone)}.",
            contact.after(),
        )
    if contact.late_mode == "call":
        if window.booked_inside:
            return (
                f"You booked {ahead}: to change or cancel, call {contact.place} on "
                f"{contact.phone}.",
            )
        return (
            f"It is too late to change or cancel online. Call {contact.place} on {contact.phone}.",
        )
    opening = (
        f"You booked {ahead}." if window.booked_inside else "It is less than the notice we ask for."
    )
    return (f"{opening} A change or cancellation now is recorded as late.",)
