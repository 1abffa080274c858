"""Day and time pickers without a calendar widget (ux.md §3), shared by booking and changes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from booking.domain.formatting import day_label, format_date, format_time, monday_of
from booking.domain.scheduling.dst import local_today
from booking.domain.scheduling.values import Slot
from booking.services.booking.availability import AvailabilityQuery, nearest_free
from booking.services.booking.availability_cache import Stamp, cached_slots, read_stamp
from booking.services.booking.availability_loading import merge_policy

CHUNK_DAYS = 60
MORNING, AFTERNOON, EVENING = "Morning", "Afternoon", "Evening"


def parse_day(raw: str | None) -> date | None:
    if not raw or len(raw) > 10:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def parse_start(raw: str | None) -> datetime | None:
    """An aware start time from a radio value, or None when malformed."""
    if not raw or len(raw) > 40:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return None
    return value.astimezone(UTC)


def start_value(starts_at: datetime) -> str:
    return starts_at.astimezone(UTC).isoformat()


def zone_line(zone_name: str, on: date) -> str:
    """'Times are in London time (GMT)': the location's zone by city and abbreviation."""
    zone = ZoneInfo(zone_name)
    noon = datetime(on.year, on.month, on.day, 12, tzinfo=zone)
    city = zone_name.rsplit("/", 1)[-1].replace("_", " ")
    return f"Times are in {city} time ({noon.tzname()})"


def is_overlap_day(zone_name: str, on: date) -> bool:
    """True when the clocks go back that day, so a wall time can happen twice."""
    zone = ZoneInfo(zone_name)
    start = datetime(on.year, on.month, on.day, tzinfo=zone)
    end = start + timedelta(days=1)
    return start.utcoffset() is not None and (start.utcoffset() or timedelta()) > (
        end.utcoffset() or timedelta()
    )


def time_label(slot_start: datetime, slot_end: datetime, zone_name: str, *, abbrev: bool) -> str:
    """'10:30am to 11:10am' (with 'BST'/'GMT' after each time on a clocks-back day)."""
    zone = ZoneInfo(zone_name)
    start, end = slot_start.astimezone(zone), slot_end.astimezone(zone)
    if abbrev:
        return f"{format_time(start)} {start.tzname()} to {format_time(end)} {end.tzname()}"
    return f"{format_time(start)} to {format_time(end)}"


class PolicyValues(Protocol):
    """A location's or the clinic's policy columns (an ORM row or a cached copy)."""

    @property
    def min_notice_minutes(self) -> int | None: ...
    @property
    def max_advance_days(self) -> int | None: ...
    @property
    def slot_step_minutes(self) -> int | None: ...


class PlaceValues(PolicyValues, Protocol):
    @property
    def timezone(self) -> str: ...


def _policy(own: PolicyValues) -> tuple[int | None, int | None, int | None]:
    return (own.min_notice_minutes, own.max_advance_days, own.slot_step_minutes)


@dataclass
class Booking:
    """What a picker needs: the query, the location zone and its policy.

    A picker lives for one request. It reads the availability stamps once (they do not
    depend on the dates asked) and remembers the earliest instant at which an answer it
    read stops being right without a write (`until`), so a page drawn from it can be kept
    under those stamps until then (`steps.picker_facts`).
    """

    query: AvailabilityQuery
    location: PlaceValues
    clinic: PolicyValues | None
    stamp: Stamp | None = field(default=None, compare=False)
    until: datetime | None = field(default=None, compare=False)

    def read_stamp(self) -> Stamp:
        """The stamps of every fact this picker's answers depend on, read once."""
        if self.stamp is None:
            self.stamp = read_stamp(self.query)
        return self.stamp

    @property
    def zone_name(self) -> str:
        return self.location.timezone

    def today(self, now: datetime) -> date:
        return local_today(ZoneInfo(self.zone_name), now=now)

    def last_day(self, now: datetime) -> date:
        # `availability.effective_policy`'s merge, over ORM rows or the journey's copies.
        inherited = None if self.clinic is None else _policy(self.clinic)
        policy = merge_policy(_policy(self.location), inherited)  # type: ignore[arg-type]
        return self.today(now) + timedelta(days=policy.max_advance_days)

    def slots(self, first: date, last: date, *, now: datetime) -> list[Slot]:
        q = self.query
        # The day and time pickers read through the availability cache (stamp-checked).
        answer = cached_slots(
            AvailabilityQuery(
                session_type_id=q.session_type_id,
                location_id=q.location_id,
                date_from=first,
                date_to=last,
                practitioner_id=q.practitioner_id,
            ),
            now=now,
            stamp=self.read_stamp(),
        )
        self.until = answer.until if self.until is None else min(self.until, answer.until)
        return list(answer.slots)

    def first_free_day(self, start: date, *, now: datetime) -> date | None:
        """The first local date from `start` with a free time, within the horizon."""
        zone = ZoneInfo(self.zone_name)
        first, last = max(start, self.today(now)), self.last_day(now)
        while first <= last:
            chunk_end = min(last, first + timedelta(days=CHUNK_DAYS - 1))
            slots = self.slots(first, chunk_end, now=now)
            if slots:
                return min(s.starts_at for s in slots).astimezone(zone).date()
            first = chunk_end + timedelta(days=1)
        return None

    def nearest(self, target: datetime, *, now: datetime, limit: int = 5) -> list[Slot]:
        return nearest_free(self.query, target, now=now, limit=limit)


@dataclass
class Week:
    start: date
    free: list[tuple[date, int]] = field(default_factory=list)
    none: list[date] = field(default_factory=list)

    @property
    def legend(self) -> str:
        return f"Week starting {format_date(self.start)}"

    @property
    def none_line(self) -> str | None:
        if not self.none:
            return None
        names = [f"{d:%A}" for d in self.none]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return f"No free times on {listed}."


@dataclass
class DayPage:
    weeks: list[Week]
    earlier: date | None
    later: date | None
    next_free: date | None
    window: tuple[date, date]

    @property
    def choices(self) -> list[tuple[str, str]]:
        return [(d.isoformat(), day_label(d)) for w in self.weeks for d, _ in w.free]

    @property
    def empty(self) -> bool:
        return not self.choices

    @property
    def empty_line(self) -> str:
        first, last = self.window
        if first.month == last.month:
            span = f"{first.day} to {last.day} {last:%B}"
        else:
            span = f"{first.day} {first:%B} to {last.day} {last:%B}"
        return f"No free times from {span}"


def day_page(booking: Booking, week: date | None, *, now: datetime) -> DayPage | None:
    """Two Monday-to-Sunday weeks of free days; None when nothing is free in the horizon."""
    today, last = booking.today(now), booking.last_day(now)
    lowest, highest = monday_of(today), monday_of(last)
    if week is None:
        first_free = booking.first_free_day(today, now=now)
        if first_free is None:
            return None
        week = monday_of(first_free)
    week = min(max(monday_of(week), lowest), highest)
    window_end = week + timedelta(days=13)
    zone = ZoneInfo(booking.zone_name)
    counts: dict[date, set[datetime]] = defaultdict(set)
    for slot in booking.slots(week, window_end, now=now):
        counts[slot.starts_at.astimezone(zone).date()].add(slot.starts_at)
    weeks = []
    for offset in (0, 7):
        current = Week(start=week + timedelta(days=offset))
        for n in range(7):
            day = current.start + timedelta(days=n)
            if day in counts:
                current.free.append((day, len(counts[day])))
            elif today <= day <= last:
                current.none.append(day)
        weeks.append(current)
    next_free = None
    if not counts:
        next_free = booking.first_free_day(window_end + timedelta(days=1), now=now)
        if next_free is None and booking.first_free_day(today, now=now) is None:
            return None
    earlier = max(week - timedelta(days=14), lowest) if week > lowest else None
    later = week + timedelta(days=14) if week + timedelta(days=14) <= last else None
    return DayPage(
        weeks=weeks,
        earlier=earlier,
        later=later,
        next_free=next_free,
        window=(max(week, today), min(window_end, last)),
    )


@dataclass
class TimeGroup:
    name: str
    items: list[tuple[str, str]]


def time_groups(slots: list[Slot], zone_name: str, day: date) -> list[TimeGroup]:
    """Distinct starts on `day`, as radios grouped Morning / Afternoon (12pm) / Evening (5pm)."""
    zone = ZoneInfo(zone_name)
    abbrev = is_overlap_day(zone_name, day)
    seen: dict[datetime, Slot] = {}
    for slot in slots:
        if slot.starts_at.astimezone(zone).date() == day:
            seen.setdefault(slot.starts_at, slot)
    groups: dict[str, list[tuple[str, str]]] = {MORNING: [], AFTERNOON: [], EVENING: []}
    for start in sorted(seen):
        slot = seen[start]
        hour = start.astimezone(zone).hour
        name = MORNING if hour < 12 else AFTERNOON if hour < 17 else EVENING
        label = time_label(slot.starts_at, slot.ends_at, zone_name, abbrev=abbrev)
        groups[name].append((start_value(start), label))
    return [TimeGroup(name, items) for name, items in groups.items() if items]


def nearest_items(slots: list[Slot], zone_name: str) -> list[tuple[str, str]]:
    """Nearest free times as radio items, 'Tuesday 14 April, 10:30am to 11:10am', by time."""
    zone = ZoneInfo(zone_name)
    items = []
    for slot in sorted(slots, key=lambda s: s.starts_at):
        local = slot.starts_at.astimezone(zone)
        abbrev = is_overlap_day(zone_name, local.date())
        label = time_label(slot.starts_at, slot.ends_at, zone_name, abbrev=abbrev)
        items.append((start_value(slot.starts_at), f"{day_label(local.date())}, {label}"))
    return items
