"""The availability engine: open hours, busy ranges and rooms in, bookable slots out.

Pure and deterministic (domain.md §3): every input is a frozen dataclass, `now` is an argument
and the result is sorted by (start, practitioner id), so input order never changes it. The maths
runs on integer UTC seconds; busy ranges are merged into per-practitioner and per (room, place)
block lists and searched with bisect, never scanned per candidate.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from math import ceil, floor
from typing import NamedTuple
from zoneinfo import ZoneInfo

from booking.scheduling.dst import (
    SECONDS_PER_DAY,
    from_utc_seconds,
    get_zone,
    local_day_bounds,
    local_day_start,
    require_aware,
    second_of_day,
    wall_to_utc,
)
from booking.scheduling.errors import InvalidInput, SlotTaken
from booking.scheduling.intervals import BlockIndex, Span, merge, subtract
from booking.scheduling.policy import (
    Policy,
    SessionTypeSpec,
    check_limits,
    check_policy,
    check_session_type,
    local_today,
)

EXCEPTION_KINDS = frozenset({"time_off", "extra_hours", "closure", "holiday"})
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """A practitioner's recurring hours at a location on one weekday (0 = Monday)."""

    practitioner_id: int
    location_id: int
    weekday: int
    start_time: time
    end_time: time
    valid_from: date | None = None  # inclusive
    valid_until: date | None = None  # inclusive

    def valid_on(self, day: date) -> bool:
        """Return whether these hours apply on local `day`. Raises nothing."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass(frozen=True, slots=True)
class ScheduleException:
    """A dated change to hours; no times means the whole day.

    A closure or holiday with only `location_id` applies to everyone there; with neither id it
    is clinic-wide. Extra hours need a practitioner; without `location_id` they apply at any
    location the engine is asked about.
    """

    kind: str
    on_date: date
    practitioner_id: int | None = None
    location_id: int | None = None
    start_time: time | None = None
    end_time: time | None = None


@dataclass(frozen=True, slots=True)
class BusyRange:
    """An occupied range (live appointment or hold) of a practitioner and/or a room place.

    A hold whose `hold_expires_at` is at or before `now` is ignored. A room range with no place
    counts as place 1.
    """

    practitioner_id: int | None
    room_id: int | None
    room_place: int | None
    busy_from: datetime
    busy_until: datetime
    hold_expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RoomInfo:
    """A room and how many sessions it takes at once."""

    room_id: int
    location_id: int
    kind: str
    capacity: int
    sort_order: int = 0


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable time: the session `[starts_at, ends_at)` and its busy range, all aware UTC."""

    starts_at: datetime
    ends_at: datetime
    busy_from: datetime
    busy_until: datetime
    practitioner_id: int
    room_id: int | None
    room_place: int | None

    def local_start(self, zone: str) -> datetime:
        """Return the start in the IANA zone `zone`. Raises InvalidInput for an unknown zone."""
        return self.starts_at.astimezone(get_zone(zone))

    def label(self, zone: str, *, with_date: bool = False) -> str:
        """Return the start as shown to people, e.g. `09:00 GMT`.

        Raises InvalidInput for an unknown zone.
        """
        return local_label(self.starts_at, zone, with_date=with_date)


class AppointmentSpan(NamedTuple):
    """An existing appointment, as `appointments_outside_hours` reads it (a plain tuple works)."""

    appointment_id: int
    practitioner_id: int
    location_id: int
    starts_at: datetime
    ends_at: datetime


def _wall_span(start: time | None, end: time | None) -> tuple[int, int]:
    # Sub-second parts round inwards so an open interval never grows.
    start_s = 0 if start is None else second_of_day(start, round_up=True)
    end_s = SECONDS_PER_DAY if end is None else second_of_day(end)
    return start_s, end_s


class _Calendar:
    """Open UTC spans per (practitioner, local date) at one location (domain.md §3 rules 1–2)."""

    def __init__(
        self,
        location_id: int,
        zone: ZoneInfo,
        hours: Iterable[WeeklyHours],
        exceptions: Iterable[ScheduleException],
    ) -> None:
        self.zone = zone
        self.hours: dict[tuple[int, int], list[WeeklyHours]] = defaultdict(list)
        for item in hours:
            if item.location_id == location_id and item.start_time < item.end_time:
                self.hours[item.practitioner_id, item.weekday].append(item)
        self.extra: dict[tuple[int, date], list[tuple[int, int]]] = defaultdict(list)
        self.blocking: dict[date, list[tuple[int | None, tuple[int, int]]]] = defaultdict(list)
        for exc in exceptions:
            if exc.kind not in EXCEPTION_KINDS:
                raise InvalidInput(f"Unknown schedule exception kind {exc.kind!r}.", field="kind")
            if exc.location_id is not None and exc.location_id != location_id:
                continue
            span = _wall_span(exc.start_time, exc.end_time)
            if exc.kind == "extra_hours":
                if exc.practitioner_id is not None:
                    self.extra[exc.practitioner_id, exc.on_date].append(span)
            else:
                self.blocking[exc.on_date].append((exc.practitioner_id, span))

    def _to_utc(self, ordinal: int, spans: Iterable[tuple[int, int]]) -> list[Span]:
        zone = self.zone
        return merge(
            (wall_to_utc(ordinal, start, zone, 0), wall_to_utc(ordinal, end, zone, 1))
            for start, end in spans
            if start < end
        )

    def open_spans(self, practitioner_id: int, day: date) -> list[Span]:
        """Return sorted disjoint open UTC spans of one practitioner on local `day`."""
        wall = [
            _wall_span(h.start_time, h.end_time)
            for h in self.hours.get((practitioner_id, day.weekday()), ())
            if h.valid_on(day)
        ]
        wall.extend(self.extra.get((practitioner_id, day), ()))
        if not wall:
            return []
        ordinal = day.toordinal()
        spans = self._to_utc(ordinal, wall)
        blocks = [
            span
            for who, span in self.blocking.get(day, ())
            if who is None or who == practitioner_id
        ]
        # Time off, closures and holidays beat extra hours: subtracted after the union.
        if blocks:
            spans = subtract(spans, self._to_utc(ordinal, blocks))
        return spans


_EPOCH = from_utc_seconds(0)
_SECOND = timedelta(seconds=1)


def _floor_seconds(value: datetime) -> int:
    return int((value - _EPOCH) // _SECOND)


def _ceil_seconds(value: datetime) -> int:
    return -int((_EPOCH - value) // _SECOND)


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
        self.calendar = _Calendar(location_id, zone, hours, exceptions)
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
            expires = item.hold_expires_at
            if expires is not None and require_aware(expires, "hold_expires_at") <= now:
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
    today = local_today(now, zone)
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
    earliest = _ceil_seconds(now) + policy.min_notice_minutes * 60
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
    start = _floor_seconds(starts_at)
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


def validate_weekly_hours(hours: Iterable[WeeklyHours]) -> list[str]:
    """Return a message per problem in a set of weekly hours; an empty list means valid.

    Finds start not before end, weekdays outside 0–6, validity ending before it begins, and
    intervals of one practitioner on the same weekday that overlap while both are valid, across
    locations too (touching is fine). Raises nothing.
    """
    problems: list[str] = []
    by_key: dict[tuple[int, int], list[WeeklyHours]] = defaultdict(list)
    ordered = sorted(
        hours,
        key=lambda h: (h.practitioner_id, h.weekday, h.start_time, h.end_time, h.location_id),
    )
    for item in ordered:
        where = f"practitioner {item.practitioner_id}, location {item.location_id}"
        if not 0 <= item.weekday <= 6:
            problems.append(f"{where}: weekday {item.weekday} is not 0 (Monday) to 6 (Sunday).")
            continue
        day = WEEKDAY_NAMES[item.weekday]
        if item.start_time >= item.end_time:
            problems.append(
                f"{where}, {day}: {_hhmm(item.start_time)} must be before {_hhmm(item.end_time)}."
            )
            continue
        if item.valid_from and item.valid_until and item.valid_until < item.valid_from:
            problems.append(f"{where}, {day}: valid until is before valid from.")
            continue
        by_key[item.practitioner_id, item.weekday].append(item)
    for (pid, weekday), items in by_key.items():
        for i, a in enumerate(items):
            for b in items[i + 1 :]:
                if b.start_time >= a.end_time:
                    break
                if _validity_overlaps(a, b):
                    problems.append(
                        f"Practitioner {pid}, {WEEKDAY_NAMES[weekday]}: "
                        f"{_hhmm(a.start_time)}–{_hhmm(a.end_time)} at location {a.location_id} "
                        f"overlaps {_hhmm(b.start_time)}–{_hhmm(b.end_time)} "
                        f"at location {b.location_id}."
                    )
    return problems


def _validity_overlaps(a: WeeklyHours, b: WeeklyHours) -> bool:
    lo = max(a.valid_from or date.min, b.valid_from or date.min)
    hi = min(a.valid_until or date.max, b.valid_until or date.max)
    return lo <= hi


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def appointments_outside_hours(
    *,
    hours: Iterable[WeeklyHours],
    exceptions: Iterable[ScheduleException],
    timezone: str | Mapping[int, str],
    appointments: Iterable[tuple[int, int, int, datetime, datetime]],
) -> list[int]:
    """Return ids of appointments whose session no longer lies inside open hours, ascending.

    Used after staff edit hours or exceptions: appointments are never moved, only listed.
    `timezone` is one zone or a map location id → zone; each item is (appointment id,
    practitioner id, location id, starts_at, ends_at). Buffers may spill outside hours.
    Raises InvalidInput for an unknown zone or location, or a naive datetime.
    """
    hours = list(hours)
    exceptions = list(exceptions)
    calendars: dict[int, _Calendar] = {}
    outside: list[int] = []
    for appointment_id, pid, location_id, starts_at, ends_at in appointments:
        calendar = calendars.get(location_id)
        if calendar is None:
            if isinstance(timezone, str):
                name = timezone
            elif location_id in timezone:
                name = timezone[location_id]
            else:
                raise InvalidInput(f"No time zone for location {location_id}.", field="timezone")
            calendar = calendars[location_id] = _Calendar(
                location_id, get_zone(name), hours, exceptions
            )
        start = _floor_seconds(require_aware(starts_at, "starts_at"))
        end = _ceil_seconds(require_aware(ends_at, "ends_at"))
        day = starts_at.astimezone(calendar.zone).date()
        # A session may run past local midnight into the next day's hours.
        spans = merge(
            calendar.open_spans(pid, day) + calendar.open_spans(pid, day + timedelta(days=1))
        )
        if not any(lo <= start and end <= hi for lo, hi in spans):
            outside.append(appointment_id)
    return sorted(outside)


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


def least_booked_practitioner(
    candidates: Iterable[int],
    booked: Iterable[AppointmentSpan],
    day: date,
    zone: str | ZoneInfo,
) -> int:
    """Return the candidate with the fewest booked minutes on local `day`, then the lowest id.

    "No preference" assigns this way (domain.md §3). `booked` holds the sessions that count
    (booked, checked in, completed; never holds or cancelled rows) at any location; only the
    minutes of each session inside the local day count. Raises InvalidInput for no candidates,
    an unknown zone or a naive time.
    """
    zone_info = get_zone(zone) if isinstance(zone, str) else zone
    day_start, day_end = local_day_bounds(day, zone_info)
    minutes: dict[int, float] = dict.fromkeys(candidates, 0.0)
    if not minutes:
        raise InvalidInput("Nobody is free at that time.", field="practitioner_id")
    for _id, pid, _location_id, starts_at, ends_at in booked:
        start = max(require_aware(starts_at, "starts_at"), day_start)
        end = min(require_aware(ends_at, "ends_at"), day_end)
        if pid in minutes and end > start:
            minutes[pid] += (end - start) / timedelta(minutes=1)
    return min(minutes, key=lambda pid: (minutes[pid], pid))


def local_label(instant: datetime, zone: str, *, with_date: bool = False) -> str:
    """Return an instant as shown to people in `zone`: `09:00 GMT` or `Sun 29 Mar 2026, 09:00 BST`.

    The zone abbreviation is always shown, so the repeated autumn hour reads `01:30 BST` and
    `01:30 GMT`. Raises InvalidInput for a naive instant or an unknown zone.
    """
    local = require_aware(instant, "instant").astimezone(get_zone(zone))
    clock = f"{local:%H:%M} {local.tzname()}"
    if not with_date:
        return clock
    return f"{local:%a} {local.day} {local:%b %Y}, {clock}"


__all__ = [
    "AppointmentSpan",
    "BusyRange",
    "RoomInfo",
    "ScheduleException",
    "Slot",
    "WeeklyHours",
    "appointments_outside_hours",
    "check_slot",
    "compute_slots",
    "least_booked_practitioner",
    "local_label",
    "nearest_slots",
    "validate_weekly_hours",
]
