"""Loading what the availability engine needs, in a bounded number of queries.

Every call runs the same five Core selects whatever the date range or the number of
practitioners (the query-count test pins it): location, clinic policy, session type and the
chosen practitioner in one row; weekly hours; exceptions (with the public holidays admins
opened at the location); rooms; busy ranges. The statements are built once with bind
parameters. Rows become the engine's frozen dataclasses.

Public holidays are computed (booking.domain.scheduling.holidays, from the location's country
and subdivision) and passed to the engine as whole-day `holiday` closures, except those an
admin opened: the engine stays pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CompoundSelect,
    Select,
    String,
    and_,
    bindparam,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    true,
    type_coerce,
)

from booking.domain.errors import NotFound
from booking.domain.scheduling.dst import SECONDS_PER_DAY, from_utc_seconds, get_zone, wall_to_utc
from booking.domain.scheduling.holidays import holiday_closures, public_holidays
from booking.domain.scheduling.policy import Policy, SessionTypeSpec
from booking.domain.scheduling.values import BusyRange, RoomInfo, ScheduleException, WeeklyHours
from booking.extensions import db
from booking.models import (
    LIVE_STATUSES,
    Appointment,
    Clinic,
    HolidayOpening,
    Location,
    Practitioner,
    Room,
    SessionType,
    WorkingHours,
    practitioner_session_type,
)
from booking.models import ScheduleException as ExceptionRow

# The longest busy range is 30 + 40 + 30 minutes, so a range starting more than 3 hours before
# the window cannot reach it: this bounds the index range scan (as the overlap guards do).
BUSY_SCAN = timedelta(hours=3)


_appointment = Appointment.__table__


_clinic = Clinic.__table__


_location = Location.__table__


_room = Room.__table__


_session_type = SessionType.__table__


_practitioner = Practitioner.__table__


_hours = WorkingHours.__table__


_exception = ExceptionRow.__table__


_offers = practitioner_session_type


_opening = HolidayOpening.__table__


_LIVE = [str(s) for s in LIVE_STATUSES]


@dataclass(frozen=True)
class Context:
    """The per-call facts every engine call needs (one query)."""

    location_id: int
    timezone: str
    zone: ZoneInfo
    policy: Policy
    session_type: SessionTypeSpec
    practitioner_id: int | None
    offers: bool
    country_code: str = "GB"
    subdivision: str | None = None


def merge_policy(own: Sequence[int | None], clinic: Sequence[int] | None) -> Policy:
    base = Policy()
    inherited = clinic or (base.min_notice_minutes, base.max_advance_days, base.slot_step_minutes)
    values = [
        mine if mine is not None else theirs for mine, theirs in zip(own, inherited, strict=True)
    ]
    return Policy(
        min_notice_minutes=values[0], max_advance_days=values[1], slot_step_minutes=values[2]
    )


@lru_cache(maxsize=2)
def _context_statement(chosen: bool) -> Select[Any]:
    """Location, clinic policy, session type and the chosen practitioner in one row."""
    if chosen:
        practitioner_cols: tuple[Any, ...] = (
            select(_practitioner.c.is_active)
            .where(_practitioner.c.id == bindparam("practitioner_id"))
            .scalar_subquery(),
            exists().where(
                _offers.c.practitioner_id == bindparam("practitioner_id"),
                _offers.c.session_type_id == bindparam("session_type_id"),
            ),
        )
    else:
        practitioner_cols = (null(), true())
    first_clinic = select(func.min(_clinic.c.id)).scalar_subquery()
    return (
        select(
            _location.c.timezone,
            _location.c.country_code,
            _location.c.subdivision,
            _location.c.min_notice_minutes,
            _location.c.max_advance_days,
            _location.c.slot_step_minutes,
            _clinic.c.id,
            _clinic.c.min_notice_minutes,
            _clinic.c.max_advance_days,
            _clinic.c.slot_step_minutes,
            _session_type.c.duration_minutes,
            _session_type.c.buffer_before_minutes,
            _session_type.c.buffer_after_minutes,
            _session_type.c.room_kind,
            *practitioner_cols,
        )
        .select_from(
            _location.outerjoin(_clinic, _clinic.c.id == first_clinic).outerjoin(
                _session_type,
                and_(
                    _session_type.c.id == bindparam("session_type_id"),
                    _session_type.c.is_active.is_(True),
                ),
            )
        )
        .where(_location.c.id == bindparam("location_id"), _location.c.is_active.is_(True))
    )


def load_context(*, session_type_id: int, location_id: int, practitioner_id: int | None) -> Context:
    # Pending ORM changes (a hold just added) must be visible to the Core selects below.
    db.session.flush()
    params = {"location_id": location_id, "session_type_id": session_type_id}
    if practitioner_id is not None:
        params["practitioner_id"] = practitioner_id
    row = db.session.execute(_context_statement(practitioner_id is not None), params).first()
    if row is None:
        raise NotFound("That location does not exist.")
    timezone, country_code, subdivision = row[0:3]
    own, (clinic_id, *inherited) = row[3:6], row[6:10]
    duration, before, after, room_kind, practitioner_active, offers_type = row[10:]
    if duration is None:
        raise NotFound("That session type does not exist.")
    if practitioner_id is not None and not practitioner_active:
        raise NotFound("That practitioner does not exist.")
    return Context(
        location_id=location_id,
        timezone=timezone,
        zone=get_zone(timezone),
        policy=merge_policy(own, None if clinic_id is None else inherited),
        session_type=SessionTypeSpec(
            session_type_id=session_type_id,
            duration_minutes=duration,
            buffer_before_minutes=before,
            buffer_after_minutes=after,
            room_kind=None if room_kind is None else str(room_kind),
        ),
        practitioner_id=practitioner_id,
        offers=bool(offers_type),
        country_code=country_code,
        subdivision=subdivision,
    )


@dataclass(frozen=True)
class LoadedData:
    practitioner_ids: frozenset[int]
    hours: list[WeeklyHours]
    exceptions: list[ScheduleException]
    rooms: list[RoomInfo]
    busy: list[BusyRange]


def engine_day_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    # The engine's own wall-clock maths: the first instant of `first` and the last local
    # midnight ending `last` (its second occurrence, a DST gap moved to its end), so the
    # loaded window always covers what the engine may offer.
    start = wall_to_utc(first.toordinal(), 0, zone, 0)
    end = wall_to_utc(last.toordinal(), SECONDS_PER_DAY, zone, 1)
    return from_utc_seconds(start), from_utc_seconds(end)


def _offering() -> Select[Any]:
    return (
        select(_offers.c.practitioner_id)
        .join(_practitioner, _practitioner.c.id == _offers.c.practitioner_id)
        .where(
            _offers.c.session_type_id == bindparam("session_type_id"),
            _practitioner.c.is_active.is_(True),
        )
    )


@lru_cache(maxsize=2)
def _hours_statement(chosen: bool) -> Select[Any]:
    who = (
        _hours.c.practitioner_id == bindparam("practitioner_id")
        if chosen
        else _hours.c.practitioner_id.in_(_offering())
    )
    return select(
        _hours.c.practitioner_id,
        _hours.c.location_id,
        _hours.c.weekday,
        _hours.c.start_time,
        _hours.c.end_time,
        _hours.c.valid_from,
        _hours.c.valid_until,
    ).where(
        _hours.c.location_id == bindparam("location_id"),
        who,
        or_(_hours.c.valid_from.is_(None), _hours.c.valid_from <= bindparam("last")),
        or_(_hours.c.valid_until.is_(None), _hours.c.valid_until >= bindparam("first")),
    )


# The kind of the rows the exceptions statement adds for holidays opened at the location.
_OPENED = "opened_holiday"


@lru_cache(maxsize=2)
def _exceptions_statement(chosen: bool) -> CompoundSelect[Any]:
    who = (
        _exception.c.practitioner_id == bindparam("practitioner_id")
        if chosen
        else _exception.c.practitioner_id.in_(_offering())
    )
    return (
        select(
            type_coerce(_exception.c.kind, String(20)),  # text: opened rows are no ExceptionKind
            _exception.c.on_date,
            _exception.c.practitioner_id,
            _exception.c.location_id,
            _exception.c.start_time,
            _exception.c.end_time,
        )
        .where(
            _exception.c.on_date >= bindparam("first"),
            _exception.c.on_date <= bindparam("last"),
            or_(
                _exception.c.location_id.is_(None),
                _exception.c.location_id == bindparam("location_id"),
            ),
            or_(_exception.c.practitioner_id.is_(None), who),
        )
        .union_all(
            select(
                literal(_OPENED, String(20)),
                _opening.c.on_date,
                null(),
                _opening.c.location_id,
                null(),
                null(),
            ).where(
                _opening.c.location_id == bindparam("location_id"),
                _opening.c.on_date >= bindparam("first"),
                _opening.c.on_date <= bindparam("last"),
            )
        )
    )


_ROOMS = select(
    _room.c.id, _room.c.location_id, _room.c.kind, _room.c.capacity, _room.c.sort_order
).where(
    _room.c.location_id == bindparam("location_id"),
    _room.c.kind == bindparam("room_kind"),
    _room.c.is_active.is_(True),
)


def load_data(
    context: Context,
    first: date,
    last: date,
    *,
    busy_window: tuple[datetime, datetime],
    now: datetime,
    ignore_hold_owner: str | None = None,
    ignore_appointment_id: int | None = None,
) -> LoadedData:
    """Hours, exceptions, rooms and busy ranges for local dates `first..last` (≤ 4 queries)."""
    location_id, chosen = context.location_id, context.practitioner_id
    params: dict[str, Any] = {
        "location_id": location_id,
        "session_type_id": context.session_type.session_type_id,
        "first": first,
        "last": last,
    }
    if chosen is not None:
        params["practitioner_id"] = chosen
    execute = db.session.execute
    hours = [WeeklyHours(*row) for row in execute(_hours_statement(chosen is not None), params)]
    rows = execute(_exceptions_statement(chosen is not None), params).all()
    exceptions = [ScheduleException(str(kind), *rest) for kind, *rest in rows if kind != _OPENED]
    opened = frozenset(row[1] for row in rows if row[0] == _OPENED)
    exceptions += holiday_closures(
        public_holidays(context.country_code, context.subdivision, first, last),
        location_id=location_id,
        opened=opened,
    )
    if chosen is not None:
        practitioner_ids = frozenset((chosen,))
    else:
        # Anyone offering the type with weekly hours here, or extra hours at this location.
        practitioner_ids = frozenset(h.practitioner_id for h in hours) | frozenset(
            e.practitioner_id
            for e in exceptions
            if e.kind == "extra_hours"
            and e.location_id == location_id
            and e.practitioner_id is not None
        )

    rooms: list[RoomInfo] = []
    room_kind = context.session_type.room_kind
    if room_kind is not None:
        rooms = [
            RoomInfo(room_id, loc, str(kind), capacity, order)
            for room_id, loc, kind, capacity, order in execute(
                _ROOMS, {"location_id": location_id, "room_kind": room_kind}
            )
        ]
    if not practitioner_ids:
        return LoadedData(practitioner_ids, hours, exceptions, rooms, [])
    busy = _load_busy(
        practitioner_ids,
        [r.room_id for r in rooms],
        busy_window,
        now=now,
        ignore_hold_owner=ignore_hold_owner,
        ignore_appointment_id=ignore_appointment_id,
    )
    return LoadedData(practitioner_ids, hours, exceptions, rooms, busy)


@lru_cache(maxsize=8)
def _busy_statement(with_rooms: bool, ignore_owner: bool, ignore_id: bool) -> Select[Any]:
    a = _appointment.c
    scan = and_(a.busy_from >= bindparam("scan_from"), a.busy_from < bindparam("window_end"))
    scope = and_(a.practitioner_id.in_(bindparam("practitioner_ids", expanding=True)), scan)
    if with_rooms:
        scope = or_(scope, and_(a.room_id.in_(bindparam("room_ids", expanding=True)), scan))
    conditions = [
        scope,
        # Touching ranges cannot clash, but the engine needs them for back-to-back starts.
        a.busy_until >= bindparam("window_start"),
        a.status.in_(_LIVE),
        # Expired holds block nothing (the engine checks again against `now`).
        or_(a.status != "held", a.hold_expires_at > bindparam("now")),
    ]
    if ignore_owner:
        conditions.append(
            or_(a.status != "held", a.hold_owner.is_(None), a.hold_owner != bindparam("owner"))
        )
    if ignore_id:
        conditions.append(a.id != bindparam("appointment_id"))
    return select(
        a.practitioner_id,
        a.room_id,
        a.room_place,
        a.busy_from,
        a.busy_until,
        a.hold_expires_at,
        a.status,
    ).where(*conditions)


def _load_busy(
    practitioner_ids: frozenset[int],
    room_ids: list[int],
    window: tuple[datetime, datetime],
    *,
    now: datetime,
    ignore_hold_owner: str | None,
    ignore_appointment_id: int | None,
) -> list[BusyRange]:
    """Live ranges of the practitioners (at any location) and the rooms overlapping `window`.

    `busy_from >= start - 3 h` bounds each index range scan on (practitioner_id, busy_from)
    and (room_id, busy_from), so the cost follows the window, never the table's size.
    """
    start, end = window
    params: dict[str, Any] = {
        "practitioner_ids": sorted(practitioner_ids),
        "scan_from": start - BUSY_SCAN,
        "window_start": start,
        "window_end": end,
        "now": now,
    }
    if room_ids:
        params["room_ids"] = room_ids
    if ignore_hold_owner is not None:
        params["owner"] = ignore_hold_owner
    if ignore_appointment_id is not None:
        params["appointment_id"] = ignore_appointment_id
    statement = _busy_statement(
        bool(room_ids), ignore_hold_owner is not None, ignore_appointment_id is not None
    )
    # all() fetches in one call; iterating would fetch row by row.
    return [
        BusyRange(pid, room_id, place, busy_from, busy_until, expires, is_hold=status == "held")
        for pid, room_id, place, busy_from, busy_until, expires, status in db.session.execute(
            statement, params
        ).all()
    ]
