"""Appointments listed for day sheets and calendars, loaded in bulk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from booking.extensions import db
from booking.models import (
    LIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    PatientProfile,
    Practitioner,
    Room,
    SessionType,
)
from booking.services.platform.id_lists import ids_in

# Patients by key in chunks of this many ids, as `selectinload` reads them.
PATIENT_CHUNK = 500


def appointments_between(
    starts_from: datetime,
    starts_before: datetime,
    *,
    practitioner_id: int | None = None,
    location_id: int | None = None,
    location_ids: Sequence[int] | None = None,
    include_holds: bool = False,
    statuses: Sequence[str] | None = None,
) -> list[Appointment]:
    """Appointments starting in a UTC range, with what a listing shows loaded in bulk.

    Live ones (holds only with `include_holds`) unless `statuses` names others. Practitioner,
    type, room and place (a few hundred rows at most) are joined in: a selectinload each was
    four more round trips and, on PostgreSQL, four more plans (issue 22). Patients come by
    primary key in a second statement (one per 500): joined in too, PostgreSQL merged the day's
    sessions with all 50,000 patients, planning the six-table join took 15 to 30 ms.
    """
    if statuses is None:
        statuses = [s for s in LIVE_STATUSES if include_holds or s != "held"]
    query = (
        select(Appointment)
        .where(
            Appointment.starts_at >= starts_from,
            Appointment.starts_at < starts_before,
            Appointment.status.in_(statuses),
        )
        .options(
            selectinload(Appointment.patient),  # by key: see above
            joinedload(Appointment.practitioner, innerjoin=True),
            joinedload(Appointment.session_type, innerjoin=True),
            joinedload(Appointment.room),
            joinedload(Appointment.location, innerjoin=True),
        )
        .order_by(Appointment.starts_at, Appointment.practitioner_id)
    )
    if practitioner_id is not None:
        query = query.where(Appointment.practitioner_id == practitioner_id)
    if location_id is not None:
        query = query.where(Appointment.location_id == location_id)
    if location_ids is not None:
        query = query.where(Appointment.location_id.in_(location_ids))
    return list(db.session.scalars(query))


def count_by_place(
    bounds: Mapping[int, tuple[datetime, datetime]], *, statuses: Sequence[str]
) -> dict[int, int]:
    """How many appointments start within each place's own UTC range: one grouped query.

    The overall range (earliest start to latest end) is asked for as well, though the
    places' ranges imply it: given it, SQLite and PostgreSQL read that one stretch of the
    (status, starts_at) index once; given only the places' ranges they searched it once
    per place (SQLite 2.9 ms against 0.6 ms at 1,000,000 appointments; PostgreSQL's
    planning alone 2.3 ms against 0.6 ms: issue 22).
    """
    if not bounds:
        return {}
    rows = db.session.execute(
        select(Appointment.location_id, func.count())
        .where(
            Appointment.status.in_(statuses),
            Appointment.starts_at >= min(start for start, _ in bounds.values()),
            Appointment.starts_at < max(end for _, end in bounds.values()),
            or_(
                *(
                    and_(
                        Appointment.location_id == place,
                        Appointment.starts_at >= start,
                        Appointment.starts_at < end,
                    )
                    for place, (start, end) in bounds.items()
                )
            ),
        )
        .group_by(Appointment.location_id)
    )
    return dict.fromkeys(bounds, 0) | dict(rows.all())


@dataclass(slots=True)
class SheetSession:
    """What the reception day sheet shows of one session: plain values, not ORM rows.

    Loading ~100 appointments with their practitioner, type, room and patient as mapped
    objects was about a third of the sheet's CPU (issue 22); these are read as plain rows.
    """

    id: int
    status: AppointmentStatus
    starts_at: datetime
    ends_at: datetime
    location_id: int
    patient_id: int
    is_first_visit: bool
    practitioner_name: str
    session_type_name: str
    room_name: str | None
    patient_name: str = ""


def sheet_sessions(
    starts_from: datetime,
    starts_before: datetime,
    *,
    location_ids: Sequence[int] | None = None,
    statuses: Sequence[str],
) -> list[SheetSession]:
    """Sessions starting in a UTC range (at these places), in start order, with the names
    the day sheet shows; never holds (`statuses` names others). One joined query, then the
    patients by primary key (one query per 500, as `appointments_between` reads them)."""
    query = (
        select(
            Appointment.id,
            Appointment.status,
            Appointment.starts_at,
            Appointment.ends_at,
            Appointment.location_id,
            Appointment.patient_id,
            Appointment.is_first_visit,
            Practitioner.display_name,
            SessionType.name,
            Room.name,
        )
        .join(Practitioner, Practitioner.id == Appointment.practitioner_id)
        .join(SessionType, SessionType.id == Appointment.session_type_id)
        .outerjoin(Room, Room.id == Appointment.room_id)
        .where(
            Appointment.starts_at >= starts_from,
            Appointment.starts_at < starts_before,
            Appointment.status.in_(statuses),
        )
        .order_by(Appointment.starts_at, Appointment.practitioner_id)
    )
    if location_ids is not None:
        query = query.where(
            Appointment.location_id == location_ids[0]
            if len(location_ids) == 1
            else Appointment.location_id.in_(location_ids)
        )
    # patient_id is typed optional, but only holds have none and `statuses` never asks for them
    sessions = [SheetSession(*row) for row in db.session.execute(query)]  # type: ignore[arg-type]
    ids = sorted({s.patient_id for s in sessions})
    names: dict[int, str] = {}
    for at in range(0, len(ids), PATIENT_CHUNK):
        # The ids as one parameter (an array on PostgreSQL: platform/id_lists.py, issue 22).
        rows = db.session.execute(
            select(PatientProfile.id, PatientProfile.given_name, PatientProfile.family_name).where(
                ids_in(PatientProfile.id)
            ),
            {"ids": ids[at : at + PATIENT_CHUNK]},
        )
        names.update((pid, f"{given} {family}") for pid, given, family in rows)
    for session in sessions:
        session.patient_name = names[session.patient_id]
    return sessions
