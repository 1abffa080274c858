"""Appointments listed for day sheets and calendars, loaded in bulk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, case, exists, false, func, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from booking.extensions import db
from booking.models import (
    LIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    Clinic,
    IntakeResponse,
    PatientFlag,
    PatientProfile,
    PlanAppointment,
    Practitioner,
    Room,
    SessionType,
)


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
    planning alone 2.3 ms against 0.6 ms: issue 22); each place's own range is then a
    CASE on the place (see `_count_query`). The statement is built once per number of
    places, its values bound as parameters.
    """
    if not bounds:
        return {}
    params: dict[str, object] = {
        "statuses": list(statuses),
        "lo": min(start for start, _ in bounds.values()),
        "hi": max(end for _, end in bounds.values()),
    }
    for n, (place, (start, end)) in enumerate(bounds.items()):
        params |= {f"place_{n}": place, f"from_{n}": start, f"until_{n}": end}
    rows = db.session.execute(_count_query(len(bounds)), params)
    return dict.fromkeys(bounds, 0) | dict(rows.all())


@cache
def _count_query(places: int) -> Any:  # a Select of two columns
    """`count_by_place`'s statement for this many places: building it per request (an OR
    of a range per place) cost ~1 ms of CPU, more than running it (issue 22)."""
    a = Appointment
    return (
        select(a.location_id, func.count())
        .where(
            a.status.in_(bindparam("statuses", expanding=True)),
            a.starts_at >= bindparam("lo"),
            a.starts_at < bindparam("hi"),
            # Each place's own range, as a CASE on the place rather than an OR of ranges:
            # PostgreSQL looked for index paths in each arm of the OR (planning 1.4-5.5 ms
            # against 0.9 ms; the same plan, the one range above, either way).
            case(
                *(
                    (
                        a.location_id == bindparam(f"place_{n}"),
                        and_(
                            a.starts_at >= bindparam(f"from_{n}"),
                            a.starts_at < bindparam(f"until_{n}"),
                        ),
                    )
                    for n in range(places)
                ),
                else_=false(),
            ),
        )
        .group_by(a.location_id)
    )


@dataclass(slots=True)
class SheetSession:
    """What the reception day sheet shows of one session: plain values, not ORM rows.

    Loading ~100 appointments with their practitioner, type, room and patient as mapped
    objects was about a third of the sheet's CPU (issue 22); these are read as plain rows,
    with what the sheet's notes need to know per row (plan, intake, flags, missed sessions).
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
    patient_name: str
    plan_id: int | None  # the treatment plan this session belongs to, if any
    intake_id: int | None  # its health questions, if started
    flagged: bool  # the patient has an active flag
    missed: int  # the patient's late cancels and no-shows in the 12 months to `now`
    missed_threshold: int | None  # the clinic's (the same on every row): shown from there


def sheet_sessions(
    starts_from: datetime,
    starts_before: datetime,
    *,
    location_ids: Sequence[int] | None = None,
    statuses: Sequence[str],
    now: datetime,
) -> list[SheetSession]:
    """Sessions starting in a UTC range (at these places), in start order, with the names
    the day sheet shows; never holds (`statuses` names others). ONE query.

    The patient's name, the session's plan and intake, whether the patient has an active
    flag and their missed sessions in the 12 months to `now` (`record.missed_since`) are
    correlated subqueries, each an index look-up per row, and the clinic's missed threshold
    an uncorrelated one (read once): they were six more statements (names, plans touched,
    intakes, flags, missed counts, threshold), each ~0.3-0.5 ms of client CPU and a round
    trip on PostgreSQL (issue 22). Subqueries rather than joins: joined in, the
    patients were hash-joined in full on a many-location page (20 ms at 50,000 patients),
    and each further join made PostgreSQL's planning slower than the look-ups it saved.
    """
    from booking.services.patients.record import MISSED_WINDOW

    places = [] if location_ids is None else list(location_ids)
    shape = "all" if location_ids is None else "one" if len(places) == 1 else "some"
    params: dict[str, object] = {
        "starts_from": starts_from,
        "starts_before": starts_before,
        "statuses": list(statuses),
        "missed_from": now - MISSED_WINDOW,
        "missed_until": now,
    }
    if shape == "one":
        params["location"] = places[0]
    elif shape == "some":
        params["locations"] = places
    # patient_id is typed optional, but only holds have none and `statuses` never asks for
    # them; with more than ten columns mypy sees the row as a tuple of Any.
    rows = db.session.execute(_sheet_query(shape), params)
    return [SheetSession(*row) for row in rows]


@cache
def _sheet_query(shape: str) -> Any:  # a Select of fifteen columns
    """`sheet_sessions`' statement, built once per process for each shape of location
    filter: building it (five aliased subqueries) cost ~3 ms of CPU a request, and a
    statement object reused keeps its SQLAlchemy cache key."""
    from booking.services.patients.record import missed_since  # record imports booking.*

    a = Appointment
    patient = aliased(PatientProfile)
    plan = aliased(PlanAppointment)
    intake = aliased(IntakeResponse)
    flag = aliased(PatientFlag)
    query = (
        select(
            a.id,
            a.status,
            a.starts_at,
            a.ends_at,
            a.location_id,
            a.patient_id,
            a.is_first_visit,
            Practitioner.display_name,
            SessionType.name,
            Room.name,
            select(patient.given_name + " " + patient.family_name)
            .where(patient.id == a.patient_id)
            .scalar_subquery(),
            select(plan.plan_id).where(plan.appointment_id == a.id).scalar_subquery(),
            select(intake.id).where(intake.appointment_id == a.id).scalar_subquery(),
            exists().where(flag.patient_id == a.patient_id, flag.cleared_at.is_(None)),
            missed_since(
                a.patient_id, since=bindparam("missed_from"), until=bindparam("missed_until")
            ),
            select(Clinic.missed_threshold).limit(1).scalar_subquery(),
        )
        .join(Practitioner, Practitioner.id == a.practitioner_id)
        .join(SessionType, SessionType.id == a.session_type_id)
        .outerjoin(Room, Room.id == a.room_id)
        .where(
            a.starts_at >= bindparam("starts_from"),
            a.starts_at < bindparam("starts_before"),
            a.status.in_(bindparam("statuses", expanding=True)),
        )
        .order_by(a.starts_at, a.practitioner_id)
    )
    if shape == "one":
        query = query.where(a.location_id == bindparam("location"))
    elif shape == "some":
        query = query.where(a.location_id.in_(bindparam("locations", expanding=True)))
    return query
