"""Boundary tables for the availability engine (domain.md §3), no Flask, no database."""

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.domain.errors import DomainError, InvalidInput, NotFound, PolicyRefused, SlotTaken
from booking.domain.scheduling.availability import check_slot, compute_slots, nearest_slots
from booking.domain.scheduling.hours import appointments_outside_hours, validate_weekly_hours
from booking.domain.scheduling.intervals import overlaps
from booking.domain.scheduling.policy import Policy, SessionTypeSpec
from booking.domain.scheduling.values import (
    BusyRange,
    RoomInfo,
    ScheduleException,
    Slot,
    WeeklyHours,
    local_label,
)

ZONE = "Europe/London"
LONDON = ZoneInfo(ZONE)
LOCATION = 1
DAY = date(2026, 6, 15)  # a Monday in BST
SUNDAY = date(2026, 6, 21)
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
PLAIN = SessionTypeSpec(session_type_id=1, duration_minutes=20)
BUFFERED = SessionTypeSpec(session_type_id=2, duration_minutes=20, buffer_after_minutes=5)
LONG = SessionTypeSpec(session_type_id=3, duration_minutes=40)


def at(hhmm: str, day: date = DAY) -> datetime:
    """Aware UTC instant of a London wall time."""
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def weekly(
    practitioner_id: int = 1, start: str = "09:00", end: str = "17:00", weekday: int = 0
) -> WeeklyHours:
    return WeeklyHours(
        practitioner_id=practitioner_id,
        location_id=LOCATION,
        weekday=weekday,
        start_time=time.fromisoformat(start),
        end_time=time.fromisoformat(end),
    )


def booked(
    start: str,
    end: str,
    practitioner_id: int | None = 1,
    room_id: int | None = None,
    place: int | None = None,
    day: date = DAY,
    hold_expires_at: datetime | None = None,
    is_hold: bool = False,
) -> BusyRange:
    return BusyRange(
        practitioner_id=practitioner_id,
        room_id=room_id,
        room_place=place,
        busy_from=at(start, day),
        busy_until=at(end, day),
        hold_expires_at=hold_expires_at,
        is_hold=is_hold,
    )


def run(
    *,
    session_type: SessionTypeSpec = PLAIN,
    practitioner_ids: Iterable[int] = (1,),
    date_from: date = DAY,
    date_to: date = DAY,
    hours: Iterable[WeeklyHours] | None = None,
    exceptions: Iterable[ScheduleException] = (),
    busy: Iterable[BusyRange] = (),
    rooms: Iterable[RoomInfo] = (),
    policy: Policy | None = None,
    now: datetime = NOW,
) -> list[Slot]:
    return compute_slots(
        session_type=session_type,
        location_id=LOCATION,
        timezone=ZONE,
        practitioner_ids=practitioner_ids,
        date_from=date_from,
        date_to=date_to,
        hours=[weekly()] if hours is None else hours,
        exceptions=exceptions,
        busy=busy,
        rooms=rooms,
        policy=policy or Policy(),
        now=now,
    )


def starts(slots: Iterable[Slot], practitioner_id: int | None = 1) -> list[str]:
    """Local HH:MM starts, of one practitioner (or all with None)."""
    return [
        f"{s.local_start(ZONE):%H:%M}"
        for s in slots
        if practitioner_id is None or s.practitioner_id == practitioner_id
    ]


# --- buffers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("candidate", "offered"),
    [
        ("08:30", True),  # 08:30–08:50 + 5 after = 08:55, clear of the 09:00 booking
        ("08:45", False),  # busy range 08:45–09:10 runs into the booking
        ("09:00", False),  # the booking itself
        ("09:15", False),  # on the grid, but 09:15 < 09:25 (booking's buffer after)
        ("09:20", False),  # session end of the booking: its 5-minute buffer still runs
        ("09:25", True),  # back-to-back: right after the booking's busy range, off the grid
        ("09:30", True),  # next grid point
    ],
)
def test_buffers_20_plus_5_after_with_step_15(candidate: str, offered: bool) -> None:
    slots = run(
        session_type=BUFFERED,
        hours=[weekly(start="08:00")],
        busy=[booked("09:00", "09:25")],  # a 20-minute booking + 5 after
    )
    assert (candidate in starts(slots)) is offered


def test_buffered_slot_reports_busy_range() -> None:
    slot = next(s for s in run(session_type=BUFFERED) if s.starts_at == at("09:00"))
    assert (slot.ends_at, slot.busy_from, slot.busy_until) == (
        at("09:20"),
        at("09:00"),
        at("09:25"),
    )


def test_buffer_before_may_spill_outside_hours() -> None:
    spec = replace(PLAIN, buffer_before_minutes=10, buffer_after_minutes=10)
    slots = run(session_type=spec, hours=[weekly(start="09:00", end="10:00")])
    # The session lies inside 09:00–10:00; the buffers may run 08:50–10:10.
    assert starts(slots) == ["09:00", "09:15", "09:30"]


def test_buffer_before_sets_back_to_back_start() -> None:
    spec = replace(PLAIN, buffer_before_minutes=5)
    slots = run(session_type=spec, busy=[booked("09:00", "09:20")])
    assert starts(slots)[:2] == ["09:25", "09:30"]  # 09:20 + 5 before, then the grid


# --- half-open ranges, back-to-back, different lengths ---------------------------------------


@pytest.mark.parametrize(
    ("busy", "candidate", "offered"),
    [
        ([("10:00", "10:20")], "10:20", True),  # starts as the booking ends: touching is fine
        ([("10:00", "10:21")], "10:21", True),  # back-to-back even off the grid
        ([("10:00", "10:21")], "10:15", False),  # one minute overlap
        ([("10:35", "10:55")], "10:15", True),  # ends 10:35 as the next begins: touching
        ([("10:34", "10:55")], "10:15", False),  # ends one minute into the next booking
        ([("10:00", "10:20"), ("10:40", "11:00")], "10:20", True),  # exact fit between two
        ([("10:00", "10:20"), ("10:39", "11:00")], "10:20", False),  # one minute short
        ([("10:00", "10:20"), ("10:20", "10:40")], "10:20", False),  # touching pair = one block
        ([("10:00", "10:20"), ("10:20", "10:40")], "10:40", True),  # after the merged block
    ],
)
def test_back_to_back_half_open(busy: list[tuple[str, str]], candidate: str, offered: bool) -> None:
    slots = run(busy=[booked(a, b) for a, b in busy])
    assert (candidate in starts(slots)) is offered


@pytest.mark.parametrize(
    ("candidate", "offered"),
    [
        ("09:45", True),  # 09:45–10:25 ends before the 10:30 booking
        ("10:00", False),  # 10:00–10:40 clashes with 10:30–10:50: compare ranges, not starts
        ("10:15", False),  # 10:15–10:55 clashes
        ("10:30", False),  # same start
        ("10:45", False),  # starts inside the booking
        ("10:50", True),  # back-to-back after the booking
        ("11:00", True),  # grid again
    ],
)
def test_forty_minutes_against_twenty_minute_booking(candidate: str, offered: bool) -> None:
    slots = run(session_type=LONG, busy=[booked("10:30", "10:50")])
    assert (candidate in starts(slots)) is offered


def test_busy_at_another_location_blocks() -> None:
    # Busy ranges carry no location: a practitioner is busy wherever the booking is.
    slots = run(busy=[booked("10:00", "11:00")])
    assert "10:15" not in starts(slots)
    assert "11:00" in starts(slots)


def test_other_practitioners_busy_does_not_block() -> None:
    slots = run(busy=[booked("10:00", "11:00", practitioner_id=2)])
    assert "10:15" in starts(slots)


# --- rooms -----------------------------------------------------------------------------------

TREATMENT = replace(PLAIN, room_kind="treatment")
COMMUNITY = replace(PLAIN, room_kind="community")


@pytest.mark.parametrize(
    ("practitioner_id", "candidate", "offered"),
    [
        (2, "10:00", False),  # free, but the only treatment room holds practitioner 1
        (2, "09:45", False),  # 09:45–10:05 overlaps the room's 10:00 range
        (2, "09:40", False),  # off the grid: not offered although room and practitioner free
        (2, "10:30", True),  # room free again (touching)
        (1, "10:30", True),  # practitioner 1 back-to-back, room free
        (2, "09:30", True),  # ends 09:50, before the room is taken
    ],
)
def test_shared_treatment_room(practitioner_id: int, candidate: str, offered: bool) -> None:
    slots = run(
        session_type=TREATMENT,
        practitioner_ids=[1, 2],
        hours=[weekly(1), weekly(2)],
        busy=[booked("10:00", "10:30", practitioner_id=1, room_id=5, place=1)],
        rooms=[RoomInfo(room_id=5, location_id=LOCATION, kind="treatment", capacity=1)],
    )
    assert (candidate in starts(slots, practitioner_id)) is offered


@pytest.mark.parametrize(
    ("occupied", "expected_place"),
    [
        ([], 1),  # empty room: lowest place
        ([(1, "10:00", "10:20")], 2),  # one session in: next place
        ([(1, "10:00", "10:20"), (3, "09:50", "10:10")], 2),  # lowest free place, not count + 1
        ([(1, "10:00", "10:20"), (2, "10:00", "10:20"), (3, "10:10", "10:30")], 4),  # 4th admitted
        ([(p, "10:00", "10:20") for p in (1, 2, 3, 4)], None),  # the 5th is refused
        ([(p, "10:00", "10:20") for p in (1, 2, 3)] + [(4, "10:20", "10:40")], 4),  # 4th touches
        # Two back-to-back sessions on place 1 overlap 10:00–10:20; place 4 is still free.
        (
            [
                (1, "09:50", "10:05"),
                (1, "10:05", "10:30"),
                (2, "10:00", "10:20"),
                (3, "10:00", "10:20"),
            ],
            4,
        ),
    ],
)
def test_community_room_capacity_four(
    occupied: list[tuple[int, str, str]], expected_place: int | None
) -> None:
    room = RoomInfo(room_id=7, location_id=LOCATION, kind="community", capacity=4)
    busy = [
        booked(start, end, practitioner_id=10 + n, room_id=7, place=place)
        for n, (place, start, end) in enumerate(occupied)
    ]
    slots = run(session_type=COMMUNITY, busy=busy, rooms=[room])
    at_ten = [(s.room_id, s.room_place) for s in slots if s.starts_at == at("10:00")]
    assert at_ten == ([] if expected_place is None else [(7, expected_place)])


@pytest.mark.parametrize(
    ("rooms", "busy_room", "expected_room"),
    [
        # Two rooms: lower sort_order first, then lower id.
        ([(3, 1), (4, 0)], None, 4),  # sort_order beats id
        ([(3, 0), (4, 0)], None, 3),  # tie on sort_order: lowest id
        ([(3, 0), (4, 0)], 3, 4),  # first room busy: the next one
        ([(3, 0), (4, 0)], 4, 3),  # a busy later room does not matter
    ],
)
def test_room_order(
    rooms: list[tuple[int, int]], busy_room: int | None, expected_room: int
) -> None:
    infos = [RoomInfo(r, LOCATION, "treatment", 1, sort_order=o) for r, o in rooms]
    busy = [booked("10:00", "10:20", practitioner_id=9, room_id=busy_room, place=1)]
    slots = run(session_type=TREATMENT, rooms=infos, busy=busy if busy_room else [])
    slot = next(s for s in slots if s.starts_at == at("10:00"))
    assert slot.room_id == expected_room


def test_rooms_of_other_kind_or_location_are_ignored() -> None:
    rooms = [
        RoomInfo(1, LOCATION, "community", 4),  # wrong kind
        RoomInfo(2, LOCATION + 1, "treatment", 1),  # another location
    ]
    assert run(session_type=TREATMENT, rooms=rooms) == []


def test_no_room_kind_means_no_room() -> None:
    slots = run(rooms=[RoomInfo(1, LOCATION, "treatment", 1)])
    assert slots
    assert {(s.room_id, s.room_place) for s in slots} == {(None, None)}


# --- exceptions ------------------------------------------------------------------------------


def exc(
    kind: str,
    start: str | None = None,
    end: str | None = None,
    *,
    practitioner_id: int | None = 1,
    location_id: int | None = None,
    on_date: date = DAY,
) -> ScheduleException:
    return ScheduleException(
        kind=kind,
        on_date=on_date,
        practitioner_id=practitioner_id,
        location_id=location_id,
        start_time=time.fromisoformat(start) if start else None,
        end_time=time.fromisoformat(end) if end else None,
    )


@pytest.mark.parametrize(
    ("exceptions", "expect"),
    [
        # Time off, whole day: nothing.
        ([exc("time_off")], {"09:00": False, "16:30": False}),
        # Time off, part of the day: sessions may touch it, not cross it.
        ([exc("time_off", "12:00", "14:00")], {"11:30": True, "11:45": False, "14:00": True}),
        # Time off of another practitioner changes nothing.
        ([exc("time_off", practitioner_id=2)], {"09:00": True}),
        # Extra hours after the day's hours: grid from their own start.
        ([exc("extra_hours", "18:00", "19:00")], {"18:00": True, "18:30": True, "18:45": False}),
        # Extra hours joining the weekly hours extend one interval.
        ([exc("extra_hours", "17:00", "18:00")], {"16:45": True, "17:30": True}),
        # Closure beats extra hours.
        ([exc("extra_hours", "18:00", "19:00"), exc("closure")], {"09:00": False, "18:00": False}),
        # Time off beats extra hours.
        (
            [exc("extra_hours", "18:00", "19:00"), exc("time_off", "18:00", "18:30")],
            {"18:00": False, "18:30": True},
        ),
        # A location closure (no practitioner) applies to everyone there.
        ([exc("closure", practitioner_id=None, location_id=LOCATION)], {"09:00": False}),
        # A partial location closure in the morning.
        (
            [exc("closure", "09:00", "10:00", practitioner_id=None, location_id=LOCATION)],
            {"09:45": False, "10:00": True},
        ),
        # A closure at another location changes nothing here.
        ([exc("closure", practitioner_id=None, location_id=LOCATION + 1)], {"09:00": True}),
        # A clinic-wide holiday (no practitioner, no location).
        ([exc("holiday", practitioner_id=None)], {"09:00": False, "12:00": False}),
        # A holiday on another date changes nothing.
        ([exc("holiday", practitioner_id=None, on_date=DAY + timedelta(days=1))], {"09:00": True}),
    ],
)
def test_schedule_exceptions(exceptions: list[ScheduleException], expect: dict[str, bool]) -> None:
    offered = starts(run(exceptions=exceptions))
    assert {t: t in offered for t in expect} == expect


def test_extra_hours_on_a_day_without_weekly_hours() -> None:
    slots = run(
        date_from=SUNDAY,
        date_to=SUNDAY,
        exceptions=[exc("extra_hours", "10:00", "11:00", on_date=SUNDAY)],
    )
    assert starts(slots) == ["10:00", "10:15", "10:30"]


def test_unknown_exception_kind_is_refused() -> None:
    with pytest.raises(InvalidInput):
        run(exceptions=[exc("sabbatical")])


@pytest.mark.parametrize(
    ("hours", "expect"),
    [
        # Two intervals a day: each interval fits its own sessions.
        (
            [("09:00", "12:00"), ("13:00", "19:00")],
            {"11:30": True, "11:45": False, "12:15": False, "13:00": True, "18:30": True},
        ),
        # The grid restarts at each interval's start.
        ([("09:00", "12:00"), ("13:10", "15:00")], {"13:10": True, "13:25": True, "13:15": False}),
        # Overlapping rows of one practitioner are a union, not a double.
        ([("09:00", "12:00"), ("11:00", "13:00")], {"12:30": True, "12:45": False}),
        # No hours that day: nothing.
        ([], {"09:00": False}),
    ],
)
def test_several_intervals_a_day(hours: list[tuple[str, str]], expect: dict[str, bool]) -> None:
    offered = starts(run(hours=[weekly(start=a, end=b) for a, b in hours]))
    assert {t: t in offered for t in expect} == expect


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "offered"),
    [
        (None, None, True),  # always valid
        (DAY, None, True),  # valid from today, inclusive
        (None, DAY, True),  # valid until today, inclusive
        (DAY + timedelta(days=1), None, False),  # starts tomorrow
        (None, DAY - timedelta(days=1), False),  # ended yesterday
    ],
)
def test_weekly_hours_validity(
    valid_from: date | None, valid_until: date | None, offered: bool
) -> None:
    hours = [replace(weekly(), valid_from=valid_from, valid_until=valid_until)]
    assert bool(run(hours=hours)) is offered


def test_hours_at_another_location_are_ignored() -> None:
    assert run(hours=[replace(weekly(), location_id=LOCATION + 1)]) == []


# --- notice, horizon, holds ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "first"),
    [
        (at("08:00"), "10:00"),  # 120-minute notice: 10:00 is exactly allowed
        (at("08:01"), "10:15"),  # a minute later: next grid point (grid stays at 09:00)
        (at("07:00"), "09:00"),  # enough notice for the first slot
        (at("16:00"), None),  # 18:00 is after hours: nothing left today
    ],
)
def test_min_notice(now: datetime, first: str | None) -> None:
    offered = starts(run(now=now))
    assert (offered[0] if offered else None) == first


@pytest.mark.parametrize(
    ("days_before", "offered"),
    [
        (90, True),  # today + 90 days is the last bookable date
        (91, False),  # one day beyond the horizon
        (0, True),  # today, given the notice
    ],
)
def test_max_advance(days_before: int, offered: bool) -> None:
    now = at("06:00") - timedelta(days=days_before)
    assert bool(run(now=now)) is offered


def test_past_dates_are_dropped() -> None:
    slots = run(date_from=DAY - timedelta(days=7), date_to=DAY, now=at("06:00"))
    assert {s.local_start(ZONE).date() for s in slots} == {DAY}
    assert (
        run(date_from=DAY - timedelta(days=7), date_to=DAY - timedelta(days=1), now=at("06:00"))
        == []
    )


def test_reversed_dates_are_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        run(date_from=DAY, date_to=DAY - timedelta(days=1))
    assert info.value.field == "date_to"


@pytest.mark.parametrize(
    ("hold_expires_at", "offered"),
    [
        (NOW, True),  # expired exactly now: ignored
        (NOW - timedelta(minutes=1), True),  # expired a minute ago: ignored
        (NOW + timedelta(seconds=1), False),  # still live: blocks
        (None, False),  # a booking, not a hold: blocks
    ],
)
def test_holds(hold_expires_at: datetime | None, offered: bool) -> None:
    slots = run(busy=[booked("10:00", "10:20", hold_expires_at=hold_expires_at, is_hold=True)])
    assert ("10:00" in starts(slots)) is offered


@pytest.mark.parametrize(
    "hold_expires_at",
    [
        NOW - timedelta(minutes=1),  # a booked hold whose expiry was never cleared (issue 13.1)
        NOW,  # the expiry is exactly now
        NOW + timedelta(minutes=5),  # not yet passed
        None,  # cleared when it was booked
    ],
)
def test_only_holds_expire(hold_expires_at: datetime | None) -> None:
    slots = run(busy=[booked("10:00", "10:20", hold_expires_at=hold_expires_at)])
    assert "10:00" not in starts(slots)
    assert "10:20" in starts(slots)


# --- durations and inputs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "ok"),
    [
        (19, False),  # below 20
        (20, True),  # lower bound
        (40, True),  # upper bound
        (41, False),  # above 40
        (0, False),  # nonsense
    ],
)
def test_duration_bounds(duration: int, ok: bool) -> None:
    spec = replace(PLAIN, duration_minutes=duration)
    if ok:
        assert run(session_type=spec)
    else:
        with pytest.raises(InvalidInput) as info:
            run(session_type=spec)
        assert info.value.field == "duration_minutes"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"session_type": replace(PLAIN, buffer_after_minutes=-1)},  # negative buffer
        {"session_type": replace(PLAIN, buffer_before_minutes=31)},  # buffer above 30
        {"policy": Policy(slot_step_minutes=0)},  # no step
        {"now": datetime(2026, 6, 1, 8, 0)},  # noqa: DTZ001 - a naive now must be refused
        {"busy": [replace(booked("10:00", "10:20"), busy_from=datetime(2026, 6, 15, 9))]},  # noqa: DTZ001 - naive busy
    ],
)
def test_invalid_inputs(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        run(**kwargs)  # type: ignore[arg-type]


def test_unknown_zone() -> None:
    with pytest.raises(InvalidInput) as info:
        compute_slots(
            session_type=PLAIN,
            location_id=1,
            timezone="Mars/Olympus",
            practitioner_ids=[1],
            date_from=DAY,
            date_to=DAY,
            hours=[],
            exceptions=[],
            busy=[],
            rooms=[],
            policy=Policy(),
            now=NOW,
        )
    assert info.value.field == "timezone"


def test_output_sorted_by_start_then_practitioner() -> None:
    slots = run(practitioner_ids=[2, 1, 2], hours=[weekly(2), weekly(1)])
    keys = [(s.starts_at, s.practitioner_id) for s in slots]
    assert keys == sorted(keys)
    assert keys[:2] == [(at("09:00"), 1), (at("09:00"), 2)]


def test_generators_are_accepted() -> None:
    slots = run(hours=(h for h in [weekly()]), busy=(b for b in [booked("09:00", "10:00")]))
    assert starts(slots)[0] == "10:00"


# --- check_slot ------------------------------------------------------------------------------


def check(starts_at: datetime, **overrides: object) -> Slot:
    kwargs: dict[str, object] = {
        "session_type": PLAIN,
        "location_id": LOCATION,
        "timezone": ZONE,
        "hours": [weekly()],
        "exceptions": [],
        "busy": [],
        "rooms": [],
        "policy": Policy(),
        "now": NOW,
        "starts_at": starts_at,
        "practitioner_id": 1,
    }
    kwargs.update(overrides)
    return check_slot(**kwargs)  # type: ignore[arg-type]


def test_check_slot_returns_the_offered_slot() -> None:
    busy = [booked("09:00", "09:25")]
    for slot in run(session_type=BUFFERED, busy=busy):
        assert check(slot.starts_at, session_type=BUFFERED, busy=busy) == slot


@pytest.mark.parametrize(
    ("starts_at", "overrides", "error", "code"),
    [
        (at("08:45"), {}, SlotTaken, "outside_hours"),  # before hours
        (at("16:45"), {}, SlotTaken, "outside_hours"),  # session would end 17:05
        (at("10:00"), {"busy": [booked("10:10", "10:30")]}, SlotTaken, "slot_taken"),  # overlap
        (at("10:05"), {}, InvalidInput, "invalid_input"),  # off the grid, not back-to-back
        (at("10:00"), {"now": at("08:01")}, PolicyRefused, "too_soon"),  # notice
        (at("10:00"), {"now": at("10:00") - timedelta(days=92)}, PolicyRefused, "too_far_ahead"),
        (
            at("10:00"),
            {
                "session_type": TREATMENT,
                "rooms": [RoomInfo(5, LOCATION, "treatment", 1)],
                "busy": [booked("10:00", "10:20", practitioner_id=2, room_id=5, place=1)],
            },
            SlotTaken,
            "room_full",
        ),  # room taken by someone else
        (datetime(2026, 6, 15, 10), {}, InvalidInput, "invalid_input"),  # noqa: DTZ001 - naive
        (at("10:00") + timedelta(seconds=30), {}, InvalidInput, "invalid_input"),  # not a minute
    ],
)
def test_check_slot_refusals(
    starts_at: datetime, overrides: dict[str, object], error: type[DomainError], code: str
) -> None:
    with pytest.raises(error) as info:
        check(starts_at, **overrides)
    assert info.value.code == code


def test_check_slot_back_to_back_off_grid() -> None:
    slot = check(at("10:20"), busy=[booked("10:00", "10:20")])
    assert slot.starts_at == at("10:20")


def test_check_slot_staff_override_skips_limits_only() -> None:
    assert check(at("09:00"), now=at("08:30"), override_limits=True).starts_at == at("09:00")
    with pytest.raises(SlotTaken):
        check(at("09:00"), now=at("08:30"), override_limits=True, busy=[booked("09:00", "09:20")])


# --- hours validation, appointments outside hours --------------------------------------------


@pytest.mark.parametrize(
    ("hours", "problems"),
    [
        ([weekly(start="09:00", end="12:00"), weekly(start="12:00", end="17:00")], 0),  # touching
        ([weekly(start="09:00", end="12:00"), weekly(start="11:00", end="17:00")], 1),  # overlap
        ([weekly(start="12:00", end="12:00")], 1),  # empty interval
        ([weekly(start="13:00", end="12:00")], 1),  # start after end
        ([weekly(), replace(weekly(), location_id=2)], 1),  # across locations
        ([weekly(), weekly(practitioner_id=2)], 0),  # different practitioners
        ([weekly(), weekly(weekday=1)], 0),  # different weekdays
        (
            [
                replace(weekly(), valid_until=date(2026, 6, 30)),
                replace(weekly(), valid_from=date(2026, 7, 1)),
            ],
            0,
        ),  # successive validity periods
        (
            [
                replace(weekly(), valid_until=date(2026, 7, 1)),
                replace(weekly(), valid_from=date(2026, 7, 1)),
            ],
            1,
        ),  # validity shares one (inclusive) day
        ([weekly(weekday=7)], 1),  # no such weekday
    ],
)
def test_validate_weekly_hours(hours: list[WeeklyHours], problems: int) -> None:
    assert len(validate_weekly_hours(hours)) == problems


def test_validate_weekly_hours_message_names_the_clash() -> None:
    [message] = validate_weekly_hours(
        [weekly(end="12:00"), replace(weekly(start="11:00"), location_id=2)]
    )
    assert "Monday" in message
    assert "location 2" in message


def test_appointments_outside_hours() -> None:
    appointments = [
        (1, 1, LOCATION, at("09:00"), at("09:20")),  # inside
        (2, 1, LOCATION, at("16:50"), at("17:10")),  # runs past the new 17:00 end
        (3, 1, LOCATION, at("12:30"), at("12:50")),  # inside new time off
        (4, 2, LOCATION, at("09:00"), at("09:20")),  # practitioner 2 has no hours
        (5, 1, LOCATION, at("16:40"), at("17:00")),  # ends exactly at closing
    ]
    outside = appointments_outside_hours(
        hours=[weekly()],
        exceptions=[exc("time_off", "12:00", "13:00")],
        timezone={LOCATION: ZONE},
        appointments=appointments,
    )
    assert outside == [2, 3, 4]


def test_appointments_outside_hours_needs_a_zone() -> None:
    with pytest.raises(InvalidInput):
        appointments_outside_hours(
            hours=[], exceptions=[], timezone={}, appointments=[(1, 1, 9, at("09:00"), at("09:20"))]
        )


# --- nearest slots, labels, overlaps, errors ---------------------------------------------------


def test_nearest_slots_distinct_nearest_first_earlier_on_ties() -> None:
    slots = run(practitioner_ids=[1, 2], hours=[weekly(1), weekly(2)])
    nearest = nearest_slots(slots, at("10:07") + timedelta(seconds=30), limit=4)
    assert [f"{s.local_start(ZONE):%H:%M}" for s in nearest] == ["10:00", "10:15", "09:45", "10:30"]
    assert {s.practitioner_id for s in nearest} == {1}  # lowest id for a shared start
    tie = nearest_slots(slots, at("10:07") + timedelta(seconds=30), limit=1)
    assert tie[0].starts_at == at("10:00")  # 7.5 min either side: the earlier wins


def test_nearest_slots_empty_and_limit() -> None:
    assert nearest_slots([], at("10:00")) == []
    assert len(nearest_slots(run(), at("10:00"))) == 5


def test_local_label() -> None:
    assert local_label(at("09:00"), ZONE) == "09:00 BST"
    assert local_label(at("09:00"), ZONE, with_date=True) == "Mon 15 Jun 2026, 09:00 BST"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0, 10), (10, 20), False),  # touching
        ((0, 10), (9, 20), True),  # one unit shared
        ((0, 10), (2, 3), True),  # contained
        ((5, 6), (0, 10), True),  # containing
        ((0, 10), (11, 20), False),  # apart
    ],
)
def test_overlaps_half_open(a: tuple[int, int], b: tuple[int, int], expected: bool) -> None:
    assert overlaps(*a, *b) is expected
    assert overlaps(*b, *a) is expected


def test_errors_carry_code_and_message() -> None:
    error = NotFound("No such appointment.")
    assert (error.code, error.message, str(error)) == (
        "not_found",
        "No such appointment.",
        "No such appointment.",
    )
    assert SlotTaken("x", code="room_full").code == "room_full"
    assert InvalidInput("bad", field="email").field == "email"
    assert isinstance(PolicyRefused("late"), DomainError)
