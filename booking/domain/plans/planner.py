"""The plan planner: every occurrence of a course at a weekday and wall time, and for each one
that is not free up to three nearest alternatives (domain.md §2 "Plan series", §3).

Pure: the caller loads hours, exceptions, rooms and busy ranges ONCE for the whole plan window
and this module runs the availability engine over them a single time. An occurrence is a local
date plus a wall time in the location's zone, so 10:00 stays 10:00 local across a clock change;
a wall time in a spring gap moves to the first valid time after it and is marked for review.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from booking.domain.errors import InvalidInput
from booking.domain.scheduling.availability import compute_slots
from booking.domain.scheduling.dst import get_zone, resolve_local
from booking.domain.scheduling.policy import Policy, SessionTypeSpec
from booking.domain.scheduling.values import (
    BusyRange,
    RoomInfo,
    ScheduleException,
    Slot,
    WeeklyHours,
)

MAX_SESSIONS = 52
MAX_INTERVAL_WEEKS = 8
ALTERNATIVES = 3
# Days searched around a taken occurrence, in the order they are offered: same day, then the
# day before before the day after (earlier first on ties), then two days either side.
DAY_OFFSETS = (0, -1, 1, -2, 2)
SEARCH_DAYS = max(DAY_OFFSETS)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One planned session: `sequence` counts from 1; `moved` = its wall time fell in a gap."""

    sequence: int
    local_date: date
    starts_at: datetime
    moved: bool = False


@dataclass(frozen=True, slots=True)
class ProposedSession:
    """An occurrence with its verdict: the free slot, or up to three alternatives."""

    occurrence: Occurrence
    ends_at: datetime
    free: bool
    slot: Slot | None
    alternatives: tuple[Slot, ...] = ()


def plan_occurrences(
    *, first_date: date, wall_time: time, timezone: str, count: int, interval_weeks: int
) -> list[Occurrence]:
    """Return `count` occurrences from `first_date`, every `interval_weeks` weeks, at `wall_time`
    local in `timezone`. Raises InvalidInput for a count outside 1–52, an interval outside 1–8
    weeks or an unknown zone."""
    if not 1 <= count <= MAX_SESSIONS:
        raise InvalidInput(f"A plan has 1 to {MAX_SESSIONS} sessions.", field="count")
    if not 1 <= interval_weeks <= MAX_INTERVAL_WEEKS:
        raise InvalidInput(
            f"The interval is 1 to {MAX_INTERVAL_WEEKS} weeks.", field="interval_weeks"
        )
    zone = get_zone(timezone)
    wall = wall_time.replace(tzinfo=None, second=0, microsecond=0)
    out: list[Occurrence] = []
    for index in range(count):
        day = first_date + timedelta(weeks=index * interval_weeks)
        instant, moved = resolve_local(day, wall, zone)
        out.append(Occurrence(index + 1, day, instant, moved))
    return out


def phase_first_date(start: date, weekday: int) -> date:
    """The first date on or after `start` that falls on `weekday` (0 = Monday)."""
    if not 0 <= weekday <= 6:
        raise InvalidInput("Choose a weekday.", field="weekday")
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def plan_window(occurrences: Sequence[Occurrence]) -> tuple[date, date]:
    """The local dates whose availability the proposal needs (±2 days around the course)."""
    if not occurrences:
        raise InvalidInput("A plan needs at least one session.", field="count")
    span = timedelta(days=SEARCH_DAYS)
    return occurrences[0].local_date - span, occurrences[-1].local_date + span


def propose(
    occurrences: Sequence[Occurrence],
    *,
    session_type: SessionTypeSpec,
    location_id: int,
    timezone: str,
    practitioner_id: int,
    other_practitioner_ids: Iterable[int] = (),
    hours: Iterable[WeeklyHours],
    exceptions: Iterable[ScheduleException],
    busy: Iterable[BusyRange],
    rooms: Iterable[RoomInfo],
    policy: Policy,
    now: datetime,
) -> list[ProposedSession]:
    """Run the engine once over the plan window and judge every occurrence.

    Alternatives (at most three): the plan practitioner
    on the same day nearest the wall time, then ±1 and ±2 days (earlier first on ties), then
    `other_practitioner_ids` (only when the plan allows another practitioner) in the same order.
    Raises InvalidInput as `compute_slots` does.
    """
    if not occurrences:
        return []
    first, last = plan_window(occurrences)
    others = sorted(set(other_practitioner_ids) - {practitioner_id})
    slots = compute_slots(
        session_type=session_type,
        location_id=location_id,
        timezone=timezone,
        practitioner_ids=[practitioner_id, *others],
        date_from=first,
        date_to=last,
        hours=hours,
        exceptions=exceptions,
        busy=busy,
        rooms=rooms,
        policy=policy,
        now=now,
    )
    return judge(
        occurrences,
        slots,
        timezone=timezone,
        practitioner_id=practitioner_id,
        duration=timedelta(minutes=session_type.duration_minutes),
    )


def judge(
    occurrences: Sequence[Occurrence],
    slots: Iterable[Slot],
    *,
    timezone: str,
    practitioner_id: int,
    duration: timedelta,
) -> list[ProposedSession]:
    """Judge occurrences against the free `slots` of the whole window (see `propose`)."""
    zone = get_zone(timezone)
    by_day: dict[tuple[int, date], list[Slot]] = defaultdict(list)
    exact: dict[datetime, Slot] = {}
    for slot in slots:
        mine = slot.practitioner_id == practitioner_id
        by_day[0 if mine else 1, slot.starts_at.astimezone(zone).date()].append(slot)
        if mine:
            exact[slot.starts_at] = slot
    out: list[ProposedSession] = []
    for occ in occurrences:
        found = exact.get(occ.starts_at)
        if found is not None:
            out.append(ProposedSession(occ, found.ends_at, True, found))
            continue
        wall = occ.starts_at.astimezone(zone).time().replace(tzinfo=None)
        alternatives: list[Slot] = []
        seen: set[tuple[datetime, int]] = set()
        for tier in (0, 1):
            for offset in DAY_OFFSETS:
                day = occ.local_date + timedelta(days=offset)
                target, _ = resolve_local(day, wall, zone)
                ranked = sorted(
                    by_day.get((tier, day), ()),
                    key=lambda s, t=target: (abs(s.starts_at - t), s.starts_at, s.practitioner_id),
                )
                for candidate in ranked:
                    key = (candidate.starts_at, candidate.practitioner_id)
                    if key in seen:
                        continue
                    seen.add(key)
                    alternatives.append(candidate)
                    if len(alternatives) == ALTERNATIVES:
                        break
                if len(alternatives) == ALTERNATIVES:
                    break
            if len(alternatives) == ALTERNATIVES:
                break
        out.append(ProposedSession(occ, occ.starts_at + duration, False, None, tuple(alternatives)))
    return out
