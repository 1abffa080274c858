"""Hypothesis properties of the availability engine (domain.md §3), with a brute-force oracle.

Hours and partial exceptions stay within 05:00–24:00 local, so a wall-clock check per instant is
an exact oracle (DST changes in these zones happen between 01:00 and 03:00; test_dst covers
them). All boundaries are multiples of 5 minutes, so scanning every 5 minutes finds them all.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.domain.errors import InvalidInput
from booking.domain.scheduling.availability import check_slot, compute_slots
from booking.domain.scheduling.intervals import overlaps
from booking.domain.scheduling.policy import Policy, SessionTypeSpec
from booking.domain.scheduling.values import (
    BusyRange,
    RoomInfo,
    ScheduleException,
    Slot,
    WeeklyHours,
)

# Hypothesis searches hundreds of generated clinics: `make test-fast` leaves these out.
pytestmark = pytest.mark.slow

LOCATION = 1
ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]
BASE_DAYS = [
    date(2026, 3, 29),  # London spring change
    date(2026, 10, 25),  # London autumn change
    date(2026, 3, 8),  # New York spring change
    date(2027, 11, 7),  # New York autumn change
    date(2026, 4, 5),  # Sydney autumn change
    date(2027, 10, 3),  # Sydney spring change
    date(2026, 6, 15),  # an ordinary Monday
]
FIVE = timedelta(minutes=5)
EXAMPLES = settings(max_examples=150)


@dataclass(frozen=True)
class Scenario:
    session_type: SessionTypeSpec
    timezone: str
    practitioner_ids: tuple[int, ...]
    date_from: date
    date_to: date
    hours: tuple[WeeklyHours, ...]
    exceptions: tuple[ScheduleException, ...]
    busy: tuple[BusyRange, ...]
    rooms: tuple[RoomInfo, ...]
    policy: Policy
    now: datetime

    def kwargs(self) -> dict[str, object]:
        return {
            "session_type": self.session_type,
            "location_id": LOCATION,
            "timezone": self.timezone,
            "practitioner_ids": self.practitioner_ids,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "hours": self.hours,
            "exceptions": self.exceptions,
            "busy": self.busy,
            "rooms": self.rooms,
            "policy": self.policy,
            "now": self.now,
        }

    def run(self) -> list[Slot]:
        return compute_slots(**self.kwargs())  # type: ignore[arg-type]

    def live(self, item: BusyRange) -> bool:
        # Only holds expire (issue 13.1): a booking blocks whatever its hold_expires_at says.
        return not item.is_hold or item.hold_expires_at is None or item.hold_expires_at > self.now


def _wall(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


@st.composite
def wall_span(draw: st.DrawFn) -> tuple[time, time]:
    start = draw(st.integers(5 * 12, 23 * 12)) * 5  # 05:00..23:00
    length = draw(st.integers(3, 12 * 12)) * 5  # 15 min .. 12 h
    return _wall(start), _wall(min(start + length, 23 * 60 + 55))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    zone_name = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(zone_name)
    base = draw(st.sampled_from(BASE_DAYS))
    date_from = base + timedelta(days=draw(st.integers(-1, 0)))
    date_to = date_from + timedelta(days=draw(st.integers(0, 2)))
    days = [date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1)]
    pids = st.sampled_from([1, 2, 3])

    hours = []
    for _ in range(draw(st.integers(1, 6))):
        start, end = draw(wall_span())
        hours.append(
            WeeklyHours(
                practitioner_id=draw(pids),
                # The first row is always here, so most scenarios offer something.
                location_id=draw(st.sampled_from([LOCATION, LOCATION, 2])) if hours else LOCATION,
                weekday=draw(st.sampled_from([d.weekday() for d in days])),
                start_time=start,
                end_time=end,
                valid_from=draw(st.sampled_from([None, None, None, date_from, date_to]))
                if hours
                else None,
                valid_until=draw(st.sampled_from([None, None, None, date_from, date_to])),
            )
        )
    exceptions = []
    for _ in range(draw(st.integers(0, 3))):
        whole = draw(st.integers(0, 3)) == 0
        start, end = (None, None) if whole else draw(wall_span())
        exceptions.append(
            ScheduleException(
                kind=draw(st.sampled_from(["time_off", "extra_hours", "closure", "holiday"])),
                on_date=draw(st.sampled_from(days)),
                practitioner_id=draw(st.sampled_from([None, 1, 2, 3])),
                location_id=draw(st.sampled_from([None, LOCATION, 2])),
                start_time=start,
                end_time=end,
            )
        )
    day0 = datetime.combine(date_from, time(0), tzinfo=zone).astimezone(UTC)
    # Mostly before the window (a patient looking ahead), sometimes inside it.
    now = day0 + timedelta(minutes=5 * draw(st.integers(-2 * 288, 144)))
    busy = []
    for _ in range(draw(st.integers(0, 30))):
        start = day0 + timedelta(minutes=5 * draw(st.integers(-12, 3 * 288)))
        hold = draw(st.sampled_from([None, None, -5, 0, 5]))
        busy.append(
            BusyRange(
                practitioner_id=draw(st.sampled_from([1, 2, 3, None, 9])),
                room_id=draw(st.sampled_from([None, None, 1, 2, 3])),
                room_place=draw(st.sampled_from([None, 1, 2, 3, 4])),
                busy_from=start,
                busy_until=start + timedelta(minutes=5 * draw(st.integers(2, 18))),
                hold_expires_at=None if hold is None else now + timedelta(minutes=hold),
                # Mostly holds when an expiry is set; sometimes a booking that kept one.
                is_hold=hold is not None and draw(st.sampled_from([True, True, False])),
            )
        )
    rooms = (
        RoomInfo(1, LOCATION, "treatment", 1, sort_order=draw(st.integers(0, 1))),
        RoomInfo(2, LOCATION, "community", draw(st.integers(1, 4))),
        RoomInfo(3, 2, "treatment", 1),
        RoomInfo(4, LOCATION, "treatment", 1, sort_order=1),
    )
    session_type = SessionTypeSpec(
        session_type_id=1,
        duration_minutes=draw(st.integers(20, 40)),
        buffer_before_minutes=draw(st.sampled_from([0, 0, 5, 10, 15])),
        buffer_after_minutes=draw(st.sampled_from([0, 0, 5, 10, 15])),
        room_kind=draw(st.sampled_from([None, "treatment", "community"])),
    )
    policy = Policy(
        min_notice_minutes=draw(st.sampled_from([0, 60, 120, 120, 120, 1440])),
        max_advance_days=draw(st.sampled_from([0, 2, 3, 90, 90])),
        slot_step_minutes=draw(st.sampled_from([5, 10, 15, 20, 30])),
    )
    return Scenario(
        session_type=session_type,
        timezone=zone_name,
        practitioner_ids=(hours[0].practitioner_id, *draw(st.lists(pids, max_size=2))),
        date_from=date_from,
        date_to=date_to,
        hours=tuple(hours),
        exceptions=tuple(exceptions),
        busy=tuple(busy),
        rooms=rooms,
        policy=policy,
        now=now,
    )


# --- the wall-clock oracle ---------------------------------------------------------------------


def _covers(start: time | None, end: time | None, wall: time) -> bool:
    return (start is None or start <= wall) and (end is None or wall < end)


def open_at(sc: Scenario, pid: int, instant: datetime) -> bool:
    """Whether `pid` works at `instant`, read off the local wall clock (rule 1)."""
    local = instant.astimezone(ZoneInfo(sc.timezone))
    day, wall = local.date(), local.time().replace(tzinfo=None, fold=0)
    here = (None, LOCATION)
    weekly = any(
        h.practitioner_id == pid
        and h.location_id == LOCATION
        and h.weekday == day.weekday()
        and (h.valid_from is None or h.valid_from <= day)
        and (h.valid_until is None or day <= h.valid_until)
        and h.start_time <= wall < h.end_time
        for h in sc.hours
    )
    extra = any(
        e.kind == "extra_hours"
        and e.practitioner_id == pid
        and e.location_id in here
        and e.on_date == day
        and _covers(e.start_time, e.end_time, wall)
        for e in sc.exceptions
    )
    blocked = any(
        e.kind != "extra_hours"
        and e.practitioner_id in (None, pid)
        and e.location_id in here
        and e.on_date == day
        and _covers(e.start_time, e.end_time, wall)
        for e in sc.exceptions
    )
    return (weekly or extra) and not blocked


def free_place(sc: Scenario, busy_from: datetime, busy_until: datetime) -> tuple[int, int] | None:
    kind = sc.session_type.room_kind
    rooms = sorted(
        (r for r in sc.rooms if r.kind == kind and r.location_id == LOCATION),
        key=lambda r: (r.sort_order, r.room_id),
    )
    for room in rooms:
        for place in range(1, room.capacity + 1):
            if not any(
                sc.live(b)
                and b.room_id == room.room_id
                and (b.room_place or 1) == place
                and overlaps(busy_from, busy_until, b.busy_from, b.busy_until)
                for b in sc.busy
            ):
                return room.room_id, place
    return None


def reference(sc: Scenario) -> list[tuple[datetime, int, int | None, int | None]]:
    """Brute force: scan each local day every 5 minutes, then test every candidate directly."""
    zone = ZoneInfo(sc.timezone)
    spec, policy = sc.session_type, sc.policy
    duration = timedelta(minutes=spec.duration_minutes)
    before = timedelta(minutes=spec.buffer_before_minutes)
    after = timedelta(minutes=spec.buffer_after_minutes)
    today = sc.now.astimezone(zone).date()
    horizon = today + timedelta(days=policy.max_advance_days)
    earliest = sc.now + timedelta(minutes=policy.min_notice_minutes)
    out = set()
    day = max(sc.date_from, today)
    while day <= min(sc.date_to, horizon):
        lo = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        hi = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        for pid in set(sc.practitioner_ids):
            own = sorted(
                (b.busy_from, b.busy_until)
                for b in sc.busy
                if b.practitioner_id == pid and sc.live(b)
            )
            merged: list[list[datetime]] = []
            for a, b in own:
                if merged and a <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], b)
                else:
                    merged.append([a, b])
            runs, t, run_start = [], lo, None
            while t <= hi:
                is_open = t < hi and open_at(sc, pid, t)
                if is_open and run_start is None:
                    run_start = t
                elif not is_open and run_start is not None:
                    runs.append((run_start, t))
                    run_start = None
                t += FIVE
            for run_lo, run_hi in runs:
                candidates = set()
                t = run_lo
                while t <= run_hi:
                    candidates.add(t)
                    t += timedelta(minutes=policy.slot_step_minutes)
                candidates |= {end + before for _, end in merged}
                for start in candidates:
                    b_from, b_until = start - before, start + duration + after
                    if not (run_lo <= start and start + duration <= run_hi):
                        continue
                    if start < earliest or start.astimezone(zone).date() > horizon:
                        continue
                    if any(overlaps(b_from, b_until, a, b) for a, b in merged):
                        continue
                    room = free_place(sc, b_from, b_until) if spec.room_kind else (None, None)
                    if room is not None:
                        out.add((start, pid, *room))
        day += timedelta(days=1)
    return sorted(out)


# --- properties --------------------------------------------------------------------------------


@EXAMPLES
@given(scenarios())
def test_matches_brute_force_reference(sc: Scenario) -> None:
    slots = sc.run()
    got = [(s.starts_at, s.practitioner_id, s.room_id, s.room_place) for s in slots]
    assert got == reference(sc)


@EXAMPLES
@given(scenarios())
def test_no_slot_overlaps_live_busy_or_unexpired_hold(sc: Scenario) -> None:
    for slot in sc.run():
        for b in sc.busy:
            if b.practitioner_id == slot.practitioner_id and sc.live(b):
                assert not overlaps(slot.busy_from, slot.busy_until, b.busy_from, b.busy_until)


@EXAMPLES
@given(scenarios())
def test_no_slot_uses_a_full_room(sc: Scenario) -> None:
    rooms = {r.room_id: r for r in sc.rooms}
    for slot in sc.run():
        if sc.session_type.room_kind is None:
            assert (slot.room_id, slot.room_place) == (None, None)
            continue
        assert slot.room_id is not None
        assert slot.room_place is not None
        room = rooms[slot.room_id]
        assert room.kind == sc.session_type.room_kind
        assert room.location_id == LOCATION
        assert 1 <= slot.room_place <= room.capacity
        for b in sc.busy:
            if sc.live(b) and b.room_id == slot.room_id and (b.room_place or 1) == slot.room_place:
                assert not overlaps(slot.busy_from, slot.busy_until, b.busy_from, b.busy_until)


@EXAMPLES
@given(scenarios())
def test_every_session_lies_inside_working_hours(sc: Scenario) -> None:
    for slot in sc.run():
        assert slot.ends_at - slot.starts_at == timedelta(minutes=sc.session_type.duration_minutes)
        t = slot.starts_at
        while t < slot.ends_at:
            assert open_at(sc, slot.practitioner_id, t), (slot, t)
            t += timedelta(minutes=1)


@EXAMPLES
@given(scenarios())
def test_every_slot_respects_notice_and_horizon(sc: Scenario) -> None:
    zone = ZoneInfo(sc.timezone)
    last = sc.now.astimezone(zone).date() + timedelta(days=sc.policy.max_advance_days)
    for slot in sc.run():
        assert slot.starts_at >= sc.now + timedelta(minutes=sc.policy.min_notice_minutes)
        assert slot.starts_at.astimezone(zone).date() <= last
        assert sc.date_from <= slot.local_start(sc.timezone).date() <= sc.date_to


@EXAMPLES
@given(scenarios(), st.randoms(use_true_random=False))
def test_input_order_never_changes_the_result(sc: Scenario, rnd: "object") -> None:
    shuffled = {}
    for name in ("hours", "exceptions", "busy", "rooms", "practitioner_ids"):
        items = list(getattr(sc, name))
        rnd.shuffle(items)  # type: ignore[attr-defined]
        shuffled[name] = tuple(items)
    again = Scenario(**{**sc.__dict__, **shuffled})
    assert again.run() == sc.run()


@settings(max_examples=60)
@given(scenarios())
def test_check_slot_accepts_every_offered_slot(sc: Scenario) -> None:
    kwargs = sc.kwargs()
    del kwargs["practitioner_ids"], kwargs["date_from"], kwargs["date_to"]
    for slot in sc.run()[:15]:
        assert (
            check_slot(**kwargs, starts_at=slot.starts_at, practitioner_id=slot.practitioner_id)
            == slot
        )  # type: ignore[arg-type]


@settings(max_examples=100)
@given(scenarios(), st.integers(-10, 200))
def test_durations_outside_20_to_40_are_refused(sc: Scenario, duration: int) -> None:
    spec = SessionTypeSpec(1, duration)
    if 20 <= duration <= 40:
        compute_slots(**{**sc.kwargs(), "session_type": spec})  # type: ignore[arg-type]
    else:
        with pytest.raises(InvalidInput):
            compute_slots(**{**sc.kwargs(), "session_type": spec})  # type: ignore[arg-type]
