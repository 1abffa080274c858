"""DST days in three zones (domain.md §3 edge cases, security.md §2); dates checked by zoneinfo."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.domain.scheduling.availability import compute_slots
from booking.domain.scheduling.dst import is_ambiguous, is_gap, resolve_local
from booking.domain.scheduling.policy import Policy, SessionTypeSpec
from booking.domain.scheduling.values import ScheduleException, Slot, WeeklyHours, local_label

SPEC = SessionTypeSpec(session_type_id=1, duration_minutes=20)
POLICY = Policy(min_notice_minutes=0, max_advance_days=90, slot_step_minutes=15)

# (zone, day of change, "spring" = clocks go forward / "autumn" = clocks go back)
TRANSITIONS = [
    ("Europe/London", date(2026, 3, 29), "spring"),
    ("Europe/London", date(2026, 10, 25), "autumn"),
    ("Europe/London", date(2027, 3, 28), "spring"),
    ("Europe/London", date(2027, 10, 31), "autumn"),
    ("America/New_York", date(2026, 3, 8), "spring"),
    ("America/New_York", date(2026, 11, 1), "autumn"),
    ("America/New_York", date(2027, 3, 14), "spring"),
    ("America/New_York", date(2027, 11, 7), "autumn"),
    ("Australia/Sydney", date(2026, 4, 5), "autumn"),
    ("Australia/Sydney", date(2026, 10, 4), "spring"),
    ("Australia/Sydney", date(2027, 4, 4), "autumn"),
    ("Australia/Sydney", date(2027, 10, 3), "spring"),
]
IDS = [f"{zone.split('/')[1]}-{day}" for zone, day, _ in TRANSITIONS]


def hours(
    spans: list[tuple[str, str]], practitioner_id: int = 1, location_id: int = 1
) -> list[WeeklyHours]:
    return [
        WeeklyHours(
            practitioner_id, location_id, weekday, time.fromisoformat(a), time.fromisoformat(b)
        )
        for weekday in range(7)
        for a, b in spans
    ]


def slots_for(
    zone: str,
    first: date,
    last: date,
    spans: list[tuple[str, str]],
    exceptions: list[ScheduleException] | None = None,
) -> list[Slot]:
    now = datetime.combine(first - timedelta(days=3), time(0), tzinfo=UTC)
    return compute_slots(
        session_type=SPEC,
        location_id=1,
        timezone=zone,
        practitioner_ids=[1],
        date_from=first,
        date_to=last,
        hours=hours(spans),
        exceptions=exceptions or [],
        busy=[],
        rooms=[],
        policy=POLICY,
        now=now,
    )


@pytest.mark.parametrize(("zone", "day", "kind"), TRANSITIONS, ids=IDS)
def test_transition_dates_are_real(zone: str, day: date, kind: str) -> None:
    tz = ZoneInfo(zone)

    def offset(d: date) -> timedelta | None:
        return datetime.combine(d, time(12), tzinfo=tz).utcoffset()

    before, after = offset(day - timedelta(days=1)), offset(day)
    assert before is not None
    assert after is not None
    assert (after > before) is (kind == "spring")
    assert before != after


@pytest.mark.parametrize(("zone", "day", "kind"), TRANSITIONS, ids=IDS)
def test_wall_clock_grid_survives_the_change(zone: str, day: date, kind: str) -> None:
    slots = slots_for(
        zone,
        day - timedelta(days=1),
        day + timedelta(days=1),
        [("09:00", "12:00"), ("13:00", "19:00")],
    )
    tz = ZoneInfo(zone)
    by_day: dict[date, list[str]] = {}
    for slot in slots:
        local = slot.starts_at.astimezone(tz)
        by_day.setdefault(local.date(), []).append(f"{local:%H:%M}")
    # Every 15 minutes from 09:00 to 11:30 (ends 11:50) and from 13:00 to 18:30 (ends 18:50).
    grid = [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 15, 30, 45)]
    expected = grid[grid.index("09:00") : grid.index("11:30") + 1]
    expected += grid[grid.index("13:00") : grid.index("18:30") + 1]
    assert sorted(by_day) == [day - timedelta(days=1), day, day + timedelta(days=1)]
    for local_day, times in by_day.items():
        assert times == expected, local_day  # 09:00 local the day before, on and after
    # 09:00 local is a different UTC instant once the offset changes: the day of a spring change
    # is 23 h long, of an autumn change 25 h (30 min shorter/longer nowhere in these zones).
    nine = [s.starts_at for s in slots if f"{s.starts_at.astimezone(tz):%H:%M}" == "09:00"]
    change = timedelta(hours=-1 if kind == "spring" else 1)
    assert [b - a for a, b in zip(nine, nine[1:], strict=False)] == [
        timedelta(days=1) + change,
        timedelta(days=1),
    ]


def labels(slots: list[Slot], zone: str) -> list[str]:
    return [local_label(s.starts_at, zone) for s in slots]


@pytest.mark.parametrize(
    ("zone", "day", "spans", "expected"),
    [
        # London spring: 01:00–02:00 does not exist; hours across it skip it.
        (
            "Europe/London",
            date(2026, 3, 29),
            [("00:30", "04:00")],
            ["00:30 GMT", "00:45 GMT"]
            + [f"{h} BST" for h in ("02:00", "02:15", "02:30", "02:45", "03:00", "03:15", "03:30")],
        ),
        # Hours starting inside the gap start at the gap's end.
        (
            "Europe/London",
            date(2027, 3, 28),
            [("01:30", "03:00")],
            ["02:00 BST", "02:15 BST", "02:30 BST"],
        ),
        # Hours ending inside the gap end at the gap's end: 00:30–01:00 GMT only.
        ("Europe/London", date(2026, 3, 29), [("00:15", "01:30")], ["00:15 GMT", "00:30 GMT"]),
        # New York spring: 02:00–03:00 does not exist.
        (
            "America/New_York",
            date(2026, 3, 8),
            [("02:30", "04:00")],
            ["03:00 EDT", "03:15 EDT", "03:30 EDT"],
        ),
        (
            "America/New_York",
            date(2027, 3, 14),
            [("01:00", "04:00")],
            [
                "01:00 EST",
                "01:15 EST",
                "01:30 EST",
                "01:45 EST",
                "03:00 EDT",
                "03:15 EDT",
                "03:30 EDT",
            ],
        ),
        # Sydney spring: 02:00–03:00 does not exist.
        ("Australia/Sydney", date(2026, 10, 4), [("02:00", "03:40")], ["03:00 AEDT", "03:15 AEDT"]),
        (
            "Australia/Sydney",
            date(2027, 10, 3),
            [("01:30", "03:30")],
            ["01:30 AEST", "01:45 AEST", "03:00 AEDT"],
        ),
    ],
)
def test_gap_is_not_offered(
    zone: str, day: date, spans: list[tuple[str, str]], expected: list[str]
) -> None:
    slots = slots_for(zone, day, day, spans)
    assert labels(slots, zone) == expected
    tz = ZoneInfo(zone)
    for slot in slots:  # no offered wall time lies in the gap
        local = slot.starts_at.astimezone(tz)
        assert not is_gap(local.date(), local.time(), tz)


@pytest.mark.parametrize(
    ("zone", "day", "spans", "expected"),
    [
        # London autumn: 01:00–02:00 happens twice; starts use the first, ends the second.
        (
            "Europe/London",
            date(2026, 10, 25),
            [("01:00", "02:00")],
            [
                "01:00 BST",
                "01:15 BST",
                "01:30 BST",
                "01:45 BST",
                "01:00 GMT",
                "01:15 GMT",
                "01:30 GMT",
            ],
        ),
        (
            "Europe/London",
            date(2027, 10, 31),
            [("01:30", "02:00")],
            ["01:30 BST", "01:45 BST", "01:00 GMT", "01:15 GMT", "01:30 GMT"],
        ),
        # New York autumn: 01:00–02:00 twice.
        (
            "America/New_York",
            date(2026, 11, 1),
            [("01:30", "02:00")],
            ["01:30 EDT", "01:45 EDT", "01:00 EST", "01:15 EST", "01:30 EST"],
        ),
        # An end at 01:00 uses fold=1, the second 01:00 (EST): the whole first hour is open.
        (
            "America/New_York",
            date(2027, 11, 7),
            [("00:30", "01:00")],
            ["00:30 EDT", "00:45 EDT", "01:00 EDT", "01:15 EDT", "01:30 EDT"],
        ),
        # Sydney autumn: 02:00–03:00 twice.
        (
            "Australia/Sydney",
            date(2026, 4, 5),
            [("02:30", "03:00")],
            ["02:30 AEDT", "02:45 AEDT", "02:00 AEST", "02:15 AEST", "02:30 AEST"],
        ),
        ("Australia/Sydney", date(2027, 4, 4), [("09:00", "09:30")], ["09:00 AEST"]),
    ],
)
def test_repeated_hour_gives_distinct_instants(
    zone: str, day: date, spans: list[tuple[str, str]], expected: list[str]
) -> None:
    slots = slots_for(zone, day, day, spans)
    assert labels(slots, zone) == expected
    instants = [s.starts_at for s in slots]
    assert instants == sorted(set(instants))  # strictly increasing UTC instants
    assert all(b - a >= timedelta(minutes=15) for a, b in zip(instants, instants[1:], strict=False))


def test_repeated_hour_labels_name_the_abbreviation() -> None:
    day = date(2026, 10, 25)
    slots = slots_for("Europe/London", day, day, [("01:30", "01:55")])
    by_label = {local_label(s.starts_at, "Europe/London"): s.starts_at for s in slots}
    assert by_label["01:30 BST"] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert by_label["01:30 GMT"] == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert local_label(by_label["01:30 GMT"], "Europe/London", with_date=True) == (
        "Sun 25 Oct 2026, 01:30 GMT"
    )


def test_time_off_in_the_repeated_hour_covers_both() -> None:
    day = date(2026, 10, 25)
    off = ScheduleException(
        "time_off", day, practitioner_id=1, start_time=time(1, 0), end_time=time(2, 0)
    )
    slots = slots_for("Europe/London", day, day, [("00:00", "03:00")], [off])
    # Time off runs from the first 01:00 (BST) to the second 02:00 (GMT): 2 real hours.
    assert labels(slots, "Europe/London") == [
        "00:00 BST", "00:15 BST", "00:30 BST",
        "02:00 GMT", "02:15 GMT", "02:30 GMT",
    ]  # fmt: skip


def test_time_off_in_the_gap() -> None:
    day = date(2026, 3, 29)
    off = ScheduleException(
        "time_off", day, practitioner_id=1, start_time=time(1, 30), end_time=time(2, 30)
    )
    slots = slots_for("Europe/London", day, day, [("00:00", "04:00")], [off])
    # 01:30 does not exist: time off starts at 02:00 BST and ends 02:30 BST.
    assert "00:30 GMT" in labels(slots, "Europe/London")
    assert "02:00 BST" not in labels(slots, "Europe/London")
    assert "02:30 BST" in labels(slots, "Europe/London")


@pytest.mark.parametrize(
    ("zone", "day", "wall", "fold", "expected_utc", "moved"),
    [
        (
            "Europe/London",
            date(2026, 3, 29),
            time(1, 30),
            0,
            datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
            True,
        ),  # gap → 02:00 BST
        (
            "Europe/London",
            date(2026, 3, 29),
            time(2, 0),
            0,
            datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
            False,
        ),  # gap end exists
        (
            "Europe/London",
            date(2026, 10, 25),
            time(1, 30),
            0,
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
            False,
        ),  # first 01:30 (BST)
        (
            "Europe/London",
            date(2026, 10, 25),
            time(1, 30),
            1,
            datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
            False,
        ),  # second 01:30 (GMT)
        (
            "America/New_York",
            date(2027, 3, 14),
            time(2, 30),
            0,
            datetime(2027, 3, 14, 7, 0, tzinfo=UTC),
            True,
        ),  # gap → 03:00 EDT
        (
            "Australia/Sydney",
            date(2027, 10, 3),
            time(2, 0),
            0,
            datetime(2027, 10, 2, 16, 0, tzinfo=UTC),
            True,
        ),  # gap → 03:00 AEDT
        (
            "Europe/London",
            date(2026, 6, 1),
            time(9, 0),
            0,
            datetime(2026, 6, 1, 8, 0, tzinfo=UTC),
            False,
        ),  # ordinary BST
    ],
)
def test_resolve_local(
    zone: str, day: date, wall: time, fold: int, expected_utc: datetime, moved: bool
) -> None:
    assert resolve_local(day, wall, zone, fold=fold) == (expected_utc, moved)


@pytest.mark.parametrize(
    ("zone", "day", "wall", "gap", "ambiguous"),
    [
        ("Europe/London", date(2026, 3, 29), time(1, 0), True, False),  # gap start
        ("Europe/London", date(2026, 3, 29), time(1, 59), True, False),  # last gap minute
        ("Europe/London", date(2026, 3, 29), time(2, 0), False, False),  # gap end exists
        ("Europe/London", date(2026, 10, 25), time(1, 0), False, True),  # repeated
        ("Europe/London", date(2026, 10, 25), time(2, 0), False, False),  # once only
        ("Australia/Sydney", date(2026, 4, 5), time(2, 30), False, True),  # repeated
        ("America/New_York", date(2026, 3, 8), time(2, 15), True, False),  # gap
    ],
)
def test_gap_and_ambiguous(zone: str, day: date, wall: time, gap: bool, ambiguous: bool) -> None:
    assert is_gap(day, wall, zone) is gap
    assert is_ambiguous(day, wall, zone) is ambiguous
