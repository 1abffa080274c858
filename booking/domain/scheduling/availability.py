"""The availability engine: open hours, busy ranges and rooms in, bookable slots out.

Pure and deterministic (domain.md §3): every input is a frozen dataclass, `now` is an argument
and the result is sorted by (start, practitioner id), so input order never changes it. The maths
runs on integer UTC seconds; busy ranges are merged into per-practitioner and per (room, place)
block lists and searched with bisect, never scanned per candidate.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from math import ceil, floor
from zoneinfo import ZoneInfo

from booking.domain.errors import InvalidInput, SlotTaken
from booking.domain.scheduling.calendar import Calendar, ceil_seconds, floor_seconds
from booking.domain.scheduling.dst import (
    SECONDS_PER_DAY,
    from_utc_seconds,
    get_zone,
    local_day_start,
    local_today,
    require_aware,
)
from booking.domain.scheduling.intervals import BlockIndex, Span
from booking.domain.scheduling.policy import (
    Policy,
    SessionTypeSpec,
    check_limits,
    check_policy,
    check_session_type,
)
from booking.domain.scheduling.values import (
    BusyRange,
    RoomInfo,
    ScheduleException,
    Slot,
    WeeklyHours,
)


class _Engine:
    """Everything one request needs, indexed once."""

    def __init__(
        self,
        *,
        session_type: SessionTypeSpec,
        location_id: int,
        zone: ZoneInfo,
        practitioner_ids: set[int],
        hours: Iterable[WeeklyHours],
        exceptions: Iterable[ScheduleException],
        busy: Iterable[BusyRange],
        rooms: Iterable[RoomInfo],
        policy: Policy,
        now: datetime,
        window: Span,
    ) -> None:
        self.calendar = Calendar(location_id, zone, hours, exceptions)
        self.duration = session_type.duration_minutes * 60
        self.before = session_type.buffer_before_minutes * 60
        self.after = session_type.buffer_after_minutes * 60
        self.step = policy.slot_step_minutes * 60
        kind = session_type.room_kind
        self.needs_room = kind is not None
        room_list = sorted(
            (r.sort_order, r.room_id, r.capacity)
            for r in rooms
            if kind is not None and r.location_id == location_id and r.kind == kind
        )
        self.rooms = [(room_id, capacity) for _, room_id, capacity in room_list if capacity > 0]
        room_ids = {room_id for room_id, _ in self.rooms}

        win_lo, win_hi = window
        by_practitioner: dict[int, list[Span]] = defaultdict(list)
        by_place: dict[tuple[int, int], list[Span]] = defaultdict(list)
        for item in busy:
            pid, room_id = item.practitioner_id, item.room_id
            in_room = room_id is not None and room_id in room_ids
            if not in_room and pid not in practitioner_ids:
                continue
            busy_from, busy_until = item.busy_from, item.busy_until
            if busy_from.tzinfo is None or busy_until.tzinfo is None:
                require_aware(busy_from, "busy_from")
                require_aware(busy_until, "busy_until")
            # Whole seconds, widened outwards: a range can only grow, never shrink.
            start = floor(busy_from.timestamp())
            end = ceil(busy_until.timestamp())
            if start >= win_hi or end <= win_lo or start >= end:
                continue
            # Only holds expire: a booking keeps its range whatever hold_expires_at says.
            expires = item.hold_expires_at
            if (
                item.is_hold
                and expires is not None
                and require_aware(expires, "hold_expires_at") <= now
            ):
                continue
            if pid in practitioner_ids:
                by_practitioner[pid].append((start, end))
            if in_room and room_id is not None:
                by_place[room_id, item.room_place or 1].append((start, end))
        self.busy = {pid: BlockIndex(spans) for pid, spans in by_practitioner.items()}
        self.places = {key: BlockIndex(spans) for key, spans in by_place.items()}
        self._no_blocks = BlockIndex(())

    def practitioner_blocks(self, practitioner_id: int) -> BlockIndex:
        return self.busy.get(practitioner_id, self._no_blocks)

    def place_for(self, start: int) -> tuple[int, int] | None:
        """Return (room id, place) for a session starting at `start`, or None if all full."""
        busy_from, busy_until = start - self.before, start + self.duration + self.after
        places = self.places
        for room_id, capacity in self.rooms:
            for place in range(1, capacity + 1):
                index = places.get((room_id, place))
                if index is None or not index.hits(busy_from, busy_until):
                    return room_id, place
        return None

    def starts(self, span: Span, blocks: BlockIndex, earliest: int, latest: int) -> list[int]:
        """Return the candidate starts inside one open span (rule 3) within [earliest, latest)."""
        span_start, span_end = span
        duration, before, step = self.duration, self.before, self.step
        hi = span_end - duration  # the last start whose session still fits
        if hi < span_start:
            return []
        reach = duration + self.after
        b_starts, b_ends = blocks.starts, blocks.ends
        n = len(b_starts)
        # A block [bs, be) forbids the open start range (bs - duration - after, be + before);
        # the closed stretches between forbidden ranges are free, and each one that begins at a
        # block's end is also a back-to-back candidate even off the grid.
        segments: list[Span] = []
        cursor = span_start
        j = bisect_right(b_ends, span_start - before)
        while j < n:
            forbid_lo = b_starts[j] - reach
            if forbid_lo >= hi:
                break
            if forbid_lo >= cursor:
                segments.append((cursor, forbid_lo))
            cursor = max(cursor, b_ends[j] + before)
            if cursor > hi:
                break
            j += 1
        if cursor <= hi:
            segments.append((cursor, hi))

        out: list[int] = []
        last_ok = latest - 1
        for seg_lo, seg_hi in segments:
            lo, top = max(seg_lo, earliest), min(seg_hi, last_ok)
            if lo > top:
                continue
            offset = (seg_lo - span_start) % step
            if offset and seg_lo == lo and seg_lo > span_start:
                out.append(seg_lo)  # back-to-back after a busy block
            first = span_start + -(-(lo - span_start) // step) * step
            out.extend(range(first, top + 1, step))
        return out


def _prepare(
    *,
    session_type: SessionTypeSpec,
    timezone: str,
    policy: Policy,
    now: datetime,
) -> ZoneInfo:
    check_session_type(session_type)
    check_policy(policy)
    require_aware(now, "now")
    return get_zone(timezone)


class _SlotMaker:
    """Builds output slots; the four datetimes of a start are made once and shared."""

    def __init__(self, engine: _Engine) -> None:
        self.engine = engine
        self.instants: dict[int, tuple[datetime, datetime, datetime, datetime]] = {}

    def _instants(self, start: int) -> tuple[datetime, datetime, datetime, datetime]:
        engine = self.engine
        end = start + engine.duration
        value = self.instants[start] = (
            from_utc_seconds(start),
            from_utc_seconds(end),
            from_utc_seconds(start - engine.before),
            from_utc_seconds(end + engine.after),
        )
        return value

    def __call__(self, start: int, practitioner_id: int, room: tuple[int, int] | None) -> Slot:
        instants = self.instants.get(start) or self._instants(start)
        if room is None:
            return Slot(*instants, practitioner_id, None, None)
        return Slot(*instants, practitioner_id, *room)


def compute_slots(
    *,
    session_type: SessionTypeSpec,
    location_id: int,
    timezone: str,
    practitioner_ids: Iterable[int],
    date_from: date,
    date_to: date,
    hours: Iterable[WeeklyHours],
    exceptions: Iterable[ScheduleException],
    busy: Iterable[BusyRange],
    rooms: Iterable[RoomInfo],
    policy: Policy,
    now: datetime,
) -> list[Slot]:
    """Return every bookable slot for the practitioners on local dates `date_from..date_to`.

    `busy` must hold the practitioners' live ranges and unexpired holds at every location, and
    every range in the location's rooms. Past dates and dates beyond the horizon are dropped.
    Raises InvalidInput for a duration outside 20–40 minutes, bad buffers or policy, an unknown
    zone or exception kind, a naive datetime, or `date_to` before `date_from`.
    """
    zone = _prepare(session_type=session_type, timezone=timezone, policy=policy, now=now)
    if date_to < date_from:
        raise InvalidInput("The end date is before the start date.", field="date_to")
    today = local_today(zone, now=now)
    horizon = today + timedelta(days=policy.max_advance_days)
    first, last = max(date_from, today), min(date_to, horizon)
    pids = sorted(set(practitioner_ids))
    if first > last or not pids:
        return []
    window = (
        local_day_start(first - timedelta(days=1), zone),
        local_day_start(last + timedelta(days=2), zone),
    )
    engine = _Engine(
        session_type=session_type,
        location_id=location_id,
        zone=zone,
        practitioner_ids=set(pids),
        hours=hours,
        exceptions=exceptions,
        busy=busy,
        rooms=rooms,
        policy=policy,
        now=now,
        window=window,
    )
    if engine.needs_room and not engine.rooms:
        return []
    earliest = ceil_seconds(now) + policy.min_notice_minutes * 60
    latest = local_day_start(horizon + timedelta(days=1), zone)
    calendar = engine.calendar
    rows: list[tuple[int, int]] = []
    for ordinal in range(first.toordinal(), last.toordinal() + 1):
        day = date.fromordinal(ordinal)
        for pid in pids:
            spans = calendar.open_spans(pid, day)
            if not spans:
                continue
            blocks = engine.practitioner_blocks(pid)
            for span in spans:
                rows.extend((start, pid) for start in engine.starts(span, blocks, earliest, latest))
    rows.sort()

    make = _SlotMaker(engine)
    slots: list[Slot] = []
    previous: tuple[int, int] | None = None
    needs_room, place_for = engine.needs_room, engine.place_for
    for row in rows:
        if row == previous:  # only when a local midnight repeats; keep one
            continue
        previous = row
        start, pid = row
        room = place_for(start) if needs_room else None
        if needs_room and room is None:
            continue
        slots.append(make(start, pid, room))
    return slots


def check_slot(
    *,
    session_type: SessionTypeSpec,
    location_id: int,
    timezone: str,
    hours: Iterable[WeeklyHours],
    exceptions: Iterable[ScheduleException],
    busy: Iterable[BusyRange],
    rooms: Iterable[RoomInfo],
    policy: Policy,
    now: datetime,
    starts_at: datetime,
    practitioner_id: int,
    override_limits: bool = False,
) -> Slot:
    """Validate one chosen start and return the slot `compute_slots` would offer for it.

    Only that local day is examined. `override_limits` skips notice and horizon (staff, with a
    recorded reason); nothing skips hours, overlaps or rooms.
    Raises InvalidInput (bad inputs, or a start that is neither on the grid nor back-to-back),
    PolicyRefused (`too_soon` / `too_far_ahead`), SlotTaken (`outside_hours`, `slot_taken`,
    `room_full`).
    """
    zone = _prepare(session_type=session_type, timezone=timezone, policy=policy, now=now)
    require_aware(starts_at, "starts_at")
    start = floor_seconds(starts_at)
    if from_utc_seconds(start) != starts_at:
        raise InvalidInput("That is not an offered time.", field="starts_at")
    if not override_limits:
        check_limits(starts_at, now, zone, policy)
    day = starts_at.astimezone(zone).date()
    engine = _Engine(
        session_type=session_type,
        location_id=location_id,
        zone=zone,
        practitioner_ids={practitioner_id},
        hours=hours,
        exceptions=exceptions,
        busy=busy,
        rooms=rooms,
        policy=policy,
        now=now,
        window=(start - SECONDS_PER_DAY, start + SECONDS_PER_DAY),
    )
    end = start + engine.duration
    span = next(
        (
            s
            for s in engine.calendar.open_spans(practitioner_id, day)
            if s[0] <= start < end <= s[1]
        ),
        None,
    )
    if span is None:
        raise SlotTaken("That time is outside the practitioner's hours.", code="outside_hours")
    blocks = engine.practitioner_blocks(practitioner_id)
    if blocks.hits(start - engine.before, end + engine.after):
        raise SlotTaken("That time has just been taken.")
    on_grid = (start - span[0]) % engine.step == 0
    if not on_grid:
        j = bisect_left(blocks.ends, start - engine.before)
        if not (j < len(blocks.ends) and blocks.ends[j] == start - engine.before):
            raise InvalidInput("That is not an offered time.", field="starts_at")
    room = None
    if engine.needs_room:
        room = engine.place_for(start)
        if room is None:
            raise SlotTaken("No room is free at that time.", code="room_full")
    return _SlotMaker(engine)(start, practitioner_id, room)


def nearest_slots(slots: Sequence[Slot], target: datetime, limit: int = 5) -> list[Slot]:
    """Return up to `limit` slots with distinct start times nearest `target`, nearest first.

    Ties go to the earlier time; for a start offered by several practitioners the lowest
    practitioner id is kept. Raises InvalidInput for a naive `target` or a negative limit.
    """
    require_aware(target, "target")
    if limit < 0:
        raise InvalidInput("The limit cannot be negative.", field="limit")
    best: dict[datetime, Slot] = {}
    for slot in slots:
        kept = best.get(slot.starts_at)
        if kept is None or slot.practitioner_id < kept.practitioner_id:
            best[slot.starts_at] = slot
    ranked = sorted(best.values(), key=lambda s: (abs(s.starts_at - target), s.starts_at))
    return ranked[:limit]
