"""Checks shared by the rota's writes: a known location, a sensible time range; audit rows.

Each write checks its own rules (the forms check them first; these checks are the backstop for
any other caller), writes an audit row and flushes; the view commits. Nothing in the rota ever
moves an appointment.
"""

from __future__ import annotations

from datetime import datetime, time

from booking.domain.errors import InvalidInput
from booking.extensions import db
from booking.models import Location, Practitioner, ScheduleException, User, WorkingHours
from booking.services.platform.audit import record_event


def check_location(location_id: int | None, message: str) -> Location:
    location = db.session.get(Location, location_id) if location_id is not None else None
    if location is None:
        raise InvalidInput(message, field="location_id")
    return location


def check_times(start: time | None, end: time | None, *, needed: bool) -> None:
    if start is None and end is None and not needed:
        return
    if start is None:
        raise InvalidInput("Enter a start time, like 9:00 or 2:30pm", field="start_time")
    if end is None:
        raise InvalidInput("Enter an end time, like 5:30pm or 17:30", field="end_time")
    if end <= start:
        raise InvalidInput("End time must be after start time", field="end_time")


def audit_row(
    action: str,
    obj: Practitioner | WorkingHours | ScheduleException,
    actor: User,
    now: datetime,
    detail: str,
) -> None:
    record_event(
        action,
        actor=actor,
        now=now,
        object_type=type(obj).__tablename__,
        object_id=obj.id,
        detail=detail[:200] or None,
    )
