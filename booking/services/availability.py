"""Loading what the availability engine needs, in a bounded number of queries.

Every call runs the same five Core selects whatever the date range or the number of
practitioners (the query-count test pins it): location, clinic policy, session type and the
chosen practitioner in one row; weekly hours; exceptions; rooms; busy ranges. The statements
are built once with bind parameters. Rows become the engine's frozen dataclasses and
`booking.domain.scheduling` does the maths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, bindparam, exists, func, null, or_, select, true

from booking.domain.errors import InvalidInput, NotFound
from booking.domain.scheduling.availability import check_slot, compute_slots, nearest_slots
from booking.domain.scheduling.dst import (
    SECONDS_PER_DAY,
    from_utc_seconds,
    get_zone,
    require_aware,
    wall_to_utc,
)
from booking.domain.scheduling.policy import Policy, SessionTypeSpec
from booking.domain.scheduling.values import (
    BusyRange,
    RoomInfo,
    ScheduleException,
    Slot,
    WeeklyHours,
)
from booking.extensions import db
from booking.models import (
    LIVE_STATUSES,
    Appointment,
    Clinic,
    Location,
    Practitioner,
    Room,
    SessionType,
    WorkingHours,
    practitioner_session_type,
)
from booking.models import ScheduleException as ExceptionRow

MAX_RANGE_DAYS = 62
# The longest busy range is 30 + 40 + 30 minutes, so a range starting more than 3 hours before
# the window cannot reach it: this bounds the index range scan (as the overlap guards do).
BUSY_SCAN = timedelta(hours=3)
# Widest buffer either side of a session (booking.domain.scheduling.policy.MAX_BUFFER_MINUTES).
MAX_BUFFER = timedelta(minutes=30)
NEAREST_WIDEN_DAYS = 14

_appointment = Appointment.__table__
_clinic = Clinic.__table__
_location = Location.__table__
_room = Room.__table__
_session_type = SessionType.__table__
_practitioner = Practitioner.__table__
_hours = WorkingHours.__table__
_exception = ExceptionRow.__table__
_offers = practitioner_session_type
_LIVE = [str(s) for s in LIVE_STATUSES]


@dataclass(frozen=True)
class AvailabilityQuery:
    """What a patient or staff member asks for: a session type at a location over local dates.

    `date_from` and `date_to` are local dates at the location, both included;
    `practitioner_id` None means any practitioner who offers the type there.
    """

    session_type_id: int
    location_id: int
    date_from: date
    date_to: date
    practitioner_id: int | None = None


@dataclass(frozen=True)
class _Context:
    """The per-call facts every engine call needs (one query)."""

    location_id: int
    timezone: str
    zone: ZoneInfo
    policy: Policy
    session_type: SessionTypeSpec
    practitioner_id: int | None
    offers: bool


def find_slots(query: AvailabilityQuery, *, now: datetime) -> list[Slot]:
    """Return the bookable slots for `query`, sorted by (start, practitioner id).

    Raises NotFound for an unknown or inactive session type, location or practitioner, and
    InvalidInput when `date_to` is before `date_from`, the range is longer than 62 days or
    `now` is naive.
    A chosen practitioner who does not offer the session type has no slots.
    """
    require_aware(now, "now")
    _check_range(query.date_from, query.date_to)
    context = _load_context(
        session_type_id=query.session_type_id,
        location_id=query.location_id,
        practitioner_id=query.practitioner_id,
    )
    return _slots(context, query.date_from, query.date_to, now=now)


def validate_start(
    *,
    session_type_id: int,
    location_id: int,
    practitioner_id: int,
    starts_at: datetime,
    now: datetime,
    ignore_hold_owner: str | None = None,
    ignore_appointment_id: int | None = None,
    override_limits: bool = False,
) -> Slot:
    """Check one chosen start right before it is written and return its slot (room and place).

    Only the start's local day is loaded. `ignore_hold_owner` skips this browser's own holds,
    `ignore_appointment_id` the appointment being moved; `override_limits` (staff, with a
    recorded reason) skips notice and horizon, never hours or overlaps.
    Raises NotFound (session type, location or practitioner), InvalidInput (a naive or
    off-grid start, or a practitioner who does not offer the type), PolicyRefused (`too_soon`,
    `too_far_ahead`) and SlotTaken (`outside_hours`, `slot_taken`, `room_full`).
    """
    require_aware(starts_at, "starts_at")
    require_aware(now, "now")
    context = _load_context(
        session_type_id=session_type_id,
        location_id=location_id,
        practitioner_id=practitioner_id,
    )
    if not context.offers:
        raise InvalidInput(
            "The practitioner does not offer this session type.", field="practitioner_id"
        )
    day = starts_at.astimezone(context.zone).date()
    spec = context.session_type
    # The whole local day, not just the session: an off-grid start is only offered right
    # after a busy block, so the engine must see the block that ends where the start begins.
    day_start, day_end = _day_bounds(day, day, context.zone)
    data = _load_data(
        context,
        day,
        day,
        busy_window=(day_start - MAX_BUFFER, day_end + MAX_BUFFER),
        now=now,
        ignore_hold_owner=ignore_hold_owner,
        ignore_appointment_id=ignore_appointment_id,
    )
    return check_slot(
        session_type=spec,
        location_id=context.location_id,
        timezone=context.timezone,
        hours=data.hours,
        exceptions=data.exceptions,
        busy=data.busy,
        rooms=data.rooms,
        policy=context.policy,
        now=now,
        starts_at=starts_at,
        practitioner_id=practitioner_id,
        override_limits=override_limits,
    )


def nearest_free(
    query_base: AvailabilityQuery, target: datetime, *, now: datetime, limit: int = 5
) -> list[Slot]:
    """Return up to `limit` free slots with distinct starts nearest `target`, nearest first.

    Searches the target's local week (Monday to Sunday at the location), then ±14 days around
    it when that week has nothing; `query_base`'s dates are ignored. Raises NotFound as
    `find_slots` does and InvalidInput for a naive `target` or `now`.
    """
    require_aware(target, "target")
    require_aware(now, "now")
    context = _load_context(
        session_type_id=query_base.session_type_id,
        location_id=query_base.location_id,
        practitioner_id=query_base.practitioner_id,
    )
    day = target.astimezone(context.zone).date()
    monday = day - timedelta(days=day.weekday())
    slots = _slots(context, monday, monday + timedelta(days=6), now=now)
    if not slots:
        widen = timedelta(days=NEAREST_WIDEN_DAYS)
        slots = _slots(context, day - widen, day + widen, now=now)
    return nearest_slots(slots, target, limit)


def effective_policy(location: Location, clinic: Clinic | None) -> Policy:
    """Return a location's booking policy: its own overrides, else the clinic's values.

    Raises nothing.
    """
    return _policy(
        (location.min_notice_minutes, location.max_advance_days, location.slot_step_minutes),
        None
        if clinic is None
        else (clinic.min_notice_minutes, clinic.max_advance_days, clinic.slot_step_minutes),
    )


# --- loading -------------------------------------------------------------------------------


def _check_range(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise InvalidInput("End date must be the same as or after the start date.", field="date_to")
    if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(f"Date range must be {MAX_RANGE_DAYS} days or fewer.", field="date_to")


def _policy(own: Sequence[int | None], clinic: Sequence[int] | None) -> Policy:
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


def _load_context(
    *, session_type_id: int, location_id: int, practitioner_id: int | None
) -> _Context:
    # Pending ORM changes (a hold just added) must be visible to the Core selects below.
    db.session.flush()
    params = {"location_id": location_id, "session_type_id": session_type_id}
    if practitioner_id is not None:
        params["practitioner_id"] = practitioner_id
    row = db.session.execute(_context_statement(practitioner_id is not None), params).first()
    if row is None:
        raise NotFound("That location does not exist.")
    (timezone, *own), (clinic_id, *inherited) = row[0:4], row[4:8]
    duration, before, after, room_kind, practitioner_active, offers_type = row[8:]
    if duration is None:
        raise NotFound("That session type does not exist.")
    if practitioner_id is not None and not practitioner_active:
        raise NotFound("That practitioner does not exist.")
    return _Context(
        location_id=location_id,
        timezone=timezone,
        zone=get_zone(timezone),
        policy=_policy(own, None if clinic_id is None else inherited),
        session_type=SessionTypeSpec(
            session_type_id=session_type_id,
            duration_minutes=duration,
            buffer_before_minutes=before,
            buffer_after_minutes=after,
            room_kind=None if room_kind is None else str(room_kind),
        ),
        practitioner_id=practitioner_id,
        offers=bool(offers_type),
    )


@dataclass(frozen=True)
class _Data:
    practitioner_ids: frozenset[int]
    hours: list[WeeklyHours]
    exceptions: list[ScheduleException]
    rooms: list[RoomInfo]
    busy: list[BusyRange]


def _day_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    # The engine's own wall-clock maths: the first instant of `first` and the last local
    # midnight ending `last` (its second occurrence, a DST gap moved to its end), so the
    # loaded window always covers what the engine may offer.
    start = wall_to_utc(first.toordinal(), 0, zone, 0)
    end = wall_to_utc(last.toordinal(), SECONDS_PER_DAY, zone, 1)
    return from_utc_seconds(start), from_utc_seconds(end)


def _slots(context: _Context, date_from: date, date_to: date, *, now: datetime) -> list[Slot]:
    if not context.offers:
        return []
    # The engine drops past dates and those beyond the horizon; don't load them either.
    today = now.astimezone(context.zone).date()
    first = max(date_from, today)
    last = min(date_to, today + timedelta(days=context.policy.max_advance_days))
    if first > last:
        return []
    day_start, day_end = _day_bounds(first, last, context.zone)
    busy_window = (day_start - MAX_BUFFER, day_end + MAX_BUFFER)
    data = _load_data(context, first, last, busy_window=busy_window, now=now)
    if not data.practitioner_ids:
        return []
    return compute_slots(
        session_type=context.session_type,
        location_id=context.location_id,
        timezone=context.timezone,
        practitioner_ids=data.practitioner_ids,
        date_from=first,
        date_to=last,
        hours=data.hours,
        exceptions=data.exceptions,
        busy=data.busy,
        rooms=data.rooms,
        policy=context.policy,
        now=now,
    )


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


@lru_cache(maxsize=2)
def _exceptions_statement(chosen: bool) -> Select[Any]:
    who = (
        _exception.c.practitioner_id == bindparam("practitioner_id")
        if chosen
        else _exception.c.practitioner_id.in_(_offering())
    )
    return select(
        _exception.c.kind,
        _exception.c.on_date,
        _exception.c.practitioner_id,
        _exception.c.location_id,
        _exception.c.start_time,
        _exception.c.end_time,
    ).where(
        _exception.c.on_date >= bindparam("first"),
        _exception.c.on_date <= bindparam("last"),
        or_(
            _exception.c.location_id.is_(None),
            _exception.c.location_id == bindparam("location_id"),
        ),
        or_(_exception.c.practitioner_id.is_(None), who),
    )


_ROOMS = select(
    _room.c.id, _room.c.location_id, _room.c.kind, _room.c.capacity, _room.c.sort_order
).where(
    _room.c.location_id == bindparam("location_id"),
    _room.c.kind == bindparam("room_kind"),
    _room.c.is_active.is_(True),
)


def _load_data(
    context: _Context,
    first: date,
    last: date,
    *,
    busy_window: tuple[datetime, datetime],
    now: datetime,
    ignore_hold_owner: str | None = None,
    ignore_appointment_id: int | None = None,
) -> _Data:
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
    exceptions = [
        ScheduleException(str(kind), *rest)
        for kind, *rest in execute(_exceptions_statement(chosen is not None), params)
    ]
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
        return _Data(practitioner_ids, hours, exceptions, rooms, [])
    busy = _load_busy(
        practitioner_ids,
        [r.room_id for r in rooms],
        busy_window,
        now=now,
        ignore_hold_owner=ignore_hold_owner,
        ignore_appointment_id=ignore_appointment_id,
    )
    return _Data(practitioner_ids, hours, exceptions, rooms, busy)


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
        a.practitioner_id, a.room_id, a.room_place, a.busy_from, a.busy_until, a.hold_expires_at
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
    return [BusyRange(*row) for row in db.session.execute(statement, params).all()]


__all__ = [
    "AvailabilityQuery",
    "MAX_RANGE_DAYS",
    "effective_policy",
    "find_slots",
    "nearest_free",
    "validate_start",
]
