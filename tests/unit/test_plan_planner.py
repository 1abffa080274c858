"""The plan planner (domain.md §2 plan series, §3 plan time in a gap): pure, no database."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.domain.errors import InvalidInput
from booking.domain.plans.planner import (
    Occurrence,
    ProposedSession,
    phase_first_date,
    plan_occurrences,
    propose,
)
from booking.domain.scheduling.policy import Policy, SessionTypeSpec
from booking.domain.scheduling.values import BusyRange, WeeklyHours

ZONE = "Europe/London"
LONDON = ZoneInfo(ZONE)
FIRST = date(2027, 9, 20)  # a Monday; ten weekly sessions cross the end of BST (31 Oct 2027)
NOW = datetime(2027, 9, 1, 8, 0, tzinfo=UTC)
TYPE = SessionTypeSpec(session_type_id=1, duration_minutes=30)
POLICY = Policy(max_advance_days=200)


def hours(practitioner_id: int = 1) -> list[WeeklyHours]:
    return [
        WeeklyHours(practitioner_id, 1, weekday, time(9), time(17))
        for weekday in range(0, 5)  # Monday to Friday
    ]


def taken(start: datetime, practitioner_id: int = 1) -> BusyRange:
    return BusyRange(practitioner_id, None, None, start, start + timedelta(minutes=30))


def local(instant: datetime) -> datetime:
    return instant.astimezone(LONDON)


def run(busy: list[BusyRange]) -> tuple[list[Occurrence], list[ProposedSession]]:
    occurrences = plan_occurrences(
        first_date=FIRST, wall_time=time(10), timezone=ZONE, count=10, interval_weeks=1
    )
    return occurrences, propose(
        occurrences,
        session_type=TYPE,
        location_id=1,
        timezone=ZONE,
        practitioner_id=1,
        hours=hours(),
        exceptions=(),
        busy=busy,
        rooms=(),
        policy=POLICY,
        now=NOW,
    )


def test_ten_weekly_sessions_keep_ten_local_across_the_end_of_bst() -> None:
    occurrences, proposal = run([])
    assert [local(o.starts_at).strftime("%H:%M") for o in occurrences] == ["10:00"] * 10
    assert {local(o.starts_at).tzname() for o in occurrences[:6]} == {"BST"}
    assert {local(o.starts_at).tzname() for o in occurrences[6:]} == {"GMT"}
    # The UTC hour moves with the clock: 09:00 UTC in BST, 10:00 UTC in GMT.
    assert occurrences[5].starts_at.hour == 9
    assert occurrences[6].starts_at.hour == 10
    assert all(p.free and not p.alternatives for p in proposal)
    assert [p.occurrence.sequence for p in proposal] == list(range(1, 11))


def test_taken_occurrences_three_and_seven_get_alternatives_only_they() -> None:
    occurrences = plan_occurrences(
        first_date=FIRST, wall_time=time(10), timezone=ZONE, count=10, interval_weeks=1
    )
    busy = [taken(occurrences[2].starts_at), taken(occurrences[6].starts_at)]
    _, proposal = run(busy)
    not_free = [p.occurrence.sequence for p in proposal if not p.free]
    assert not_free == [3, 7]
    assert [p.occurrence.sequence for p in proposal if p.alternatives] == [3, 7]
    for p in proposal:
        if p.free:
            continue
        alternatives = [local(s.starts_at) for s in p.alternatives]
        assert len(alternatives) == 3
        # Same day, nearest the wall time, earlier first on ties: 09:30, 10:30, then 09:15.
        assert [a.strftime("%H:%M") for a in alternatives] == ["09:30", "10:30", "09:15"]
        assert {a.date() for a in alternatives} == {p.occurrence.local_date}
        assert all(s.practitioner_id == 1 for s in p.alternatives)


def test_a_full_day_offers_the_day_before_then_after() -> None:
    occurrences = plan_occurrences(
        first_date=FIRST, wall_time=time(10), timezone=ZONE, count=1, interval_weeks=1
    )
    day = occurrences[0].local_date
    busy = [
        BusyRange(
            1,
            None,
            None,
            datetime.combine(day, time(9), tzinfo=LONDON),
            datetime.combine(day, time(17), tzinfo=LONDON),
        )
    ]
    occ = plan_occurrences(
        first_date=FIRST, wall_time=time(10), timezone=ZONE, count=1, interval_weeks=1
    )
    # Monday full: Sunday has no hours, so Tuesday (day +1) 10:00, then its nearest times.
    result = propose(
        occ,
        session_type=TYPE,
        location_id=1,
        timezone=ZONE,
        practitioner_id=1,
        hours=hours(),
        exceptions=(),
        busy=busy,
        rooms=(),
        policy=POLICY,
        now=NOW,
    )
    alts = [local(s.starts_at) for s in result[0].alternatives]
    assert [(a.date() - day).days for a in alts] == [1, 1, 1]
    assert [a.strftime("%H:%M") for a in alts] == ["10:00", "09:45", "10:15"]


def test_another_practitioner_only_after_the_own_days_run_out() -> None:
    occurrences = plan_occurrences(
        first_date=FIRST, wall_time=time(10), timezone=ZONE, count=1, interval_weeks=1
    )
    only_monday = [WeeklyHours(1, 1, 0, time(10), time(10, 30))]
    busy = [taken(occurrences[0].starts_at)]
    result = propose(
        occurrences,
        session_type=TYPE,
        location_id=1,
        timezone=ZONE,
        practitioner_id=1,
        other_practitioner_ids=[2],
        hours=only_monday + hours(2),
        exceptions=(),
        busy=busy,
        rooms=(),
        policy=POLICY,
        now=NOW,
    )
    alts = result[0].alternatives
    assert [s.practitioner_id for s in alts] == [2, 2, 2]
    assert local(alts[0].starts_at).strftime("%H:%M") == "10:00"


def test_a_wall_time_in_the_spring_gap_moves_after_it_and_is_marked() -> None:
    occ = plan_occurrences(
        first_date=date(2027, 3, 21),
        wall_time=time(1, 30),
        timezone=ZONE,
        count=2,
        interval_weeks=1,
    )
    assert not occ[0].moved
    assert occ[1].moved
    assert local(occ[1].starts_at).strftime("%H:%M %Z") == "02:00 BST"


def test_bad_counts_and_weekdays_are_refused() -> None:
    with pytest.raises(InvalidInput):
        plan_occurrences(
            first_date=FIRST, wall_time=time(10), timezone=ZONE, count=0, interval_weeks=1
        )
    with pytest.raises(InvalidInput):
        plan_occurrences(
            first_date=FIRST, wall_time=time(10), timezone=ZONE, count=3, interval_weeks=0
        )
    with pytest.raises(InvalidInput):
        phase_first_date(FIRST, 7)
    assert phase_first_date(date(2027, 9, 22), 0) == date(2027, 9, 27)
