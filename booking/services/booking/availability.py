"""Bookable slots for a session type at a location: load the facts, let the engine decide.

`availability_loading` reads what the engine needs in a bounded number of queries;
`booking.domain.scheduling` does the maths.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from booking.domain.errors import InvalidInput
from booking.domain.scheduling.availability import check_slot, compute_slots, nearest_slots
from booking.domain.scheduling.dst import (
    from_utc_seconds,
    local_day_start,
    local_today,
    require_aware,
)
from booking.domain.scheduling.policy import Policy
from booking.domain.scheduling.values import Slot
from booking.models import Clinic, Location
from booking.services.booking.availability_loading import (
    Context,
    engine_day_bounds,
    load_context,
    load_data,
    merge_policy,
)

MAX_RANGE_DAYS = 62


# Widest buffer either side of a session (booking.domain.scheduling.policy.MAX_BUFFER_MINUTES).
MAX_BUFFER = timedelta(minutes=30)


NEAREST_WIDEN_DAYS = 14

# How far ahead staff may book when overriding the horizon.
OVERRIDE_HORIZON_DAYS = 366


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


def find_slots(
    query: AvailabilityQuery, *, now: datetime, override_limits: bool = False
) -> list[Slot]:
    """Return the bookable slots for `query`, sorted by (start, practitioner id).

    `override_limits` (staff, who record why when booking) offers times inside the minimum
    notice and up to `OVERRIDE_HORIZON_DAYS` ahead; hours, buffers and rooms still apply.

    Raises NotFound for an unknown or inactive session type, location or practitioner, and
    InvalidInput when `date_to` is before `date_from`, the range is longer than 62 days or
    `now` is naive.
    A chosen practitioner who does not offer the session type has no slots.
    """
    require_aware(now, "now")
    _check_range(query.date_from, query.date_to)
    context = load_context(
        session_type_id=query.session_type_id,
        location_id=query.location_id,
        practitioner_id=query.practitioner_id,
    )
    if override_limits:
        context = replace(
            context,
            policy=replace(
                context.policy,
                min_notice_minutes=0,
                max_advance_days=max(context.policy.max_advance_days, OVERRIDE_HORIZON_DAYS),
            ),
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
    context = load_context(
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
    day_start, day_end = engine_day_bounds(day, day, context.zone)
    data = load_data(
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
    context = load_context(
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
    return merge_policy(
        (location.min_notice_minutes, location.max_advance_days, location.slot_step_minutes),
        None
        if clinic is None
        else (clinic.min_notice_minutes, clinic.max_advance_days, clinic.slot_step_minutes),
    )


def _check_range(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise InvalidInput("End date must be the same as or after the start date.", field="date_to")
    if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(f"Date range must be {MAX_RANGE_DAYS} days or fewer.", field="date_to")


def find_slots_until(query: AvailabilityQuery, *, now: datetime) -> tuple[list[Slot], datetime]:
    """Return `find_slots(query)` and the first instant the same facts may answer otherwise.

    Only time changes an answer without a write: a slot falls inside the minimum notice, a
    hold expires, or the local date turns (past days drop, the horizon moves). Until the
    returned instant (exclusive) the answer stays right for as long as no write bumps an
    availability stamp. Raises as `find_slots` does.
    """
    require_aware(now, "now")
    _check_range(query.date_from, query.date_to)
    context = load_context(
        session_type_id=query.session_type_id,
        location_id=query.location_id,
        practitioner_id=query.practitioner_id,
    )
    return _slots_until(context, query.date_from, query.date_to, now=now)


def _slots(context: Context, date_from: date, date_to: date, *, now: datetime) -> list[Slot]:
    return _slots_until(context, date_from, date_to, now=now)[0]


def _slots_until(
    context: Context, date_from: date, date_to: date, *, now: datetime
) -> tuple[list[Slot], datetime]:
    # The engine drops past dates and those beyond the horizon; don't load them either.
    today = local_today(context.zone, now=now)
    until = from_utc_seconds(local_day_start(today + timedelta(days=1), context.zone))
    if not context.offers:
        return [], until
    first = max(date_from, today)
    last = min(date_to, today + timedelta(days=context.policy.max_advance_days))
    if first > last:
        return [], until
    day_start, day_end = engine_day_bounds(first, last, context.zone)
    busy_window = (day_start - MAX_BUFFER, day_end + MAX_BUFFER)
    data = load_data(context, first, last, busy_window=busy_window, now=now)
    if not data.practitioner_ids:
        return [], until
    for item in data.busy:
        expires = item.hold_expires_at
        if item.is_hold and expires is not None and now < expires < until:
            until = expires
    slots = compute_slots(
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
    if slots:
        # Slots only leave as `now` moves on; the earliest start is the first to go.
        notice = timedelta(minutes=context.policy.min_notice_minutes)
        until = min(until, min(slot.starts_at for slot in slots) - notice)
    return slots, until


__all__ = [
    "AvailabilityQuery",
    "MAX_RANGE_DAYS",
    "effective_policy",
    "find_slots",
    "find_slots_until",
    "nearest_free",
    "validate_start",
]
