"""`make_*` factories: one row each, with sane defaults, keyword overrides and a flush.

Use them inside an app context; they work on both engines. Each creates what it needs and was
not given (an appointment gets a location, practitioner, session type and patient), so a test
names only what it asserts about instead of depending on the demo seed's names and ids.
Values that must be unique (emails, slugs, ics uids) come from one counter.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    IntakeResponse,
    Location,
    PatientProfile,
    Practitioner,
    Role,
    Room,
    RoomKind,
    SessionType,
    User,
    WorkingHours,
)
from booking.services.accounts.passwords import hash_password

CHEAP_COST = (1, 8, 1)  # argon2 (time, memory, parallelism): fast, for tests only
PASSWORD = "factory-password-2026"
_unique = itertools.count(1)
_password_hash: dict[str, str] = {}


def _next() -> int:
    return next(_unique)


def _saved(row: Any) -> Any:
    db.session.add(row)
    db.session.flush()
    return row


def make_clinic(**overrides: Any) -> Clinic:
    """The clinic row (one per install): London, the domain's policy defaults."""
    values: dict[str, Any] = {"name": "Test Clinic", "timezone": "Europe/London"}
    return _saved(Clinic(**{**values, **overrides}))


def the_clinic() -> Clinic:
    """The install's clinic, made on first use."""
    return db.session.scalar(select(Clinic).order_by(Clinic.id).limit(1)) or make_clinic()


def make_location(*, rooms: Iterable[dict[str, Any]] = (), **overrides: Any) -> Location:
    """A location in London (the clinic is made too if there is none), with optional rooms."""
    the_clinic()
    n = _next()
    values: dict[str, Any] = {
        "name": f"Location {n}",
        "slug": f"location-{n}",
        "address": f"{n} Test Street, London",
        "timezone": "Europe/London",
    }
    location = _saved(Location(**{**values, **overrides}))
    for room in rooms:
        make_room(location=location, **room)
    return location


def make_room(*, location: Location | None = None, **overrides: Any) -> Room:
    """A one-place treatment room."""
    location = location or make_location()
    values: dict[str, Any] = {
        "name": f"Room {_next()}",
        "kind": RoomKind.treatment,
        "capacity": 1,
        "location_id": location.id,
    }
    return _saved(Room(**{**values, **overrides}))


def make_user(*, role: Role | str = Role.admin, password: str = PASSWORD, **overrides: Any) -> User:
    """A user of `role` whose password is `password` (hashed cheaply)."""
    if password not in _password_hash:
        _password_hash[password] = hash_password(password, cost=CHEAP_COST)
    n = _next()
    values: dict[str, Any] = {
        "email": f"user{n}@factory.example",
        "password_hash": _password_hash[password],
        "role": Role(role),
        "display_name": f"User {n}",
    }
    return _saved(User(**{**values, **overrides}))


def make_practitioner(
    *,
    session_types: Iterable[SessionType] = (),
    user: User | None = None,
    **overrides: Any,
) -> Practitioner:
    """A practitioner with a sign-in account, offering `session_types`."""
    name = overrides.pop("display_name", f"Practitioner {_next()}")
    user = user or make_user(role=Role.practitioner, display_name=name)
    practitioner = Practitioner(user_id=user.id, display_name=name, **overrides)
    practitioner.session_types = list(session_types)
    return _saved(practitioner)


def make_hours(
    *,
    practitioner: Practitioner,
    location: Location,
    weekdays: Iterable[int] = range(5),
    start: str = "09:00",
    end: str = "17:00",
    **overrides: Any,
) -> list[WorkingHours]:
    """Weekly hours for `practitioner` at `location` on each of `weekdays` (0 = Monday)."""
    rows = [
        WorkingHours(
            practitioner_id=practitioner.id,
            location_id=location.id,
            weekday=weekday,
            start_time=time.fromisoformat(start),
            end_time=time.fromisoformat(end),
            **overrides,
        )
        for weekday in weekdays
    ]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def make_session_type(
    *, practitioners: Iterable[Practitioner] = (), **overrides: Any
) -> SessionType:
    """A 30-minute session needing no room, offered by `practitioners`."""
    n = _next()
    values: dict[str, Any] = {
        "name": f"Session type {n}",
        "slug": f"session-type-{n}",
        "duration_minutes": 30,
        "price_pence": 6000,
    }
    session_type = _saved(SessionType(**{**values, **overrides}))
    for practitioner in practitioners:
        practitioner.session_types.append(session_type)
    db.session.flush()
    return session_type


def make_patient(**overrides: Any) -> PatientProfile:
    """A guest patient (no account) with a unique email."""
    n = _next()
    values: dict[str, Any] = {
        "given_name": f"Given{n}",
        "family_name": f"Family{n}",
        "email": f"patient{n}@factory.example",
    }
    return _saved(PatientProfile(**{**values, **overrides}))


def make_appointment(
    *,
    starts_at: datetime | None = None,
    practitioner: Practitioner | None = None,
    location: Location | None = None,
    session_type: SessionType | None = None,
    patient: PatientProfile | None = None,
    status: AppointmentStatus | str = AppointmentStatus.booked,
    minutes: int | None = None,
    **overrides: Any,
) -> Appointment:
    """A session written straight to the table (the overlap guards still apply).

    The busy range adds the session type's buffers, as booking does. A hold (`status="held"`)
    gets no patient and a 10-minute expiry; anything else gets a new patient unless given one.
    """
    status = AppointmentStatus(status)
    session_type = session_type or make_session_type()
    practitioner = practitioner or make_practitioner(session_types=[session_type])
    location = location or make_location()
    starts_at = starts_at or datetime(2027, 4, 14, 9, 0, tzinfo=UTC)
    ends_at = starts_at + timedelta(minutes=minutes or session_type.duration_minutes)
    held = status == AppointmentStatus.held
    if patient is None and not held:
        patient = make_patient()
    values: dict[str, Any] = {
        "status": status,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "busy_from": starts_at - timedelta(minutes=session_type.buffer_before_minutes),
        "busy_until": ends_at + timedelta(minutes=session_type.buffer_after_minutes),
        "practitioner_id": practitioner.id,
        "location_id": location.id,
        "session_type_id": session_type.id,
        "patient_id": None if patient is None else patient.id,
        "ics_uid": f"factory-{_next()}@meridian",
        "booked_at": None if held else starts_at - timedelta(days=7),
        "hold_owner": "factory-owner" if held else None,
        "hold_created_at": starts_at - timedelta(minutes=1) if held else None,
        "hold_expires_at": starts_at + timedelta(minutes=9) if held else None,
    }
    return _saved(Appointment(**{**values, **overrides}))


def make_intake(
    *,
    appointment: Appointment | None = None,
    now: datetime | None = None,
    **overrides: Any,
) -> IntakeResponse:
    """The first-visit intake of `appointment` (a new booked one by default), as patients start it.

    Made by the intake service against the published questionnaire; `overrides` then set
    columns (e.g. `status`, `answers`).
    """
    from booking.services.intake.answers import start_intake

    appointment = appointment or make_appointment()
    intake = start_intake(appointment, now=now or appointment.starts_at - timedelta(days=1))
    for name, value in overrides.items():
        setattr(intake, name, value)
    db.session.flush()
    return intake
