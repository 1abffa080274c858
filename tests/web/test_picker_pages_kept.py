"""The day and time steps kept by what they are drawn from (booking/book/page_cache.py).

A GET of either picker reads the availability stamps of the journey's choices and looks its
page up by those, the choices, the answer it pre-selects, the back link, the path and the
reference version, before building a form or reading a free time. These tests check that a
page served that way is byte for byte a plain rendering, that a time booked by someone else
is gone from the next GET, and that times leave as the clock passes their notice boundary
or local midnight, on whichever engine the suite runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask, session
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.book import page_cache, slot_pages, steps, time_views
from booking.book.journey import (
    BOOKING_KEY,
    GET_WITH_STAMPS,
    STAMP_COLUMNS,
    Journey,
    load_journey,
)
from booking.db_hooks import read_rows
from booking.extensions import db
from booking.models import AvailabilityVersion, Room, SessionType, practitioner_session_type
from booking.services.booking.availability import AvailabilityQuery
from booking.services.booking.availability_cache import parse_stamp, read_stamp
from booking.services.platform.tokens import token_hash
from tests.web.booking_helpers import DAY, NOW, START, Clock, Demo, book, demo_ids, to_time

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
RADIO = re.compile(r'name="start" type="radio" value="([^"]+)"')
DAY_DATE = date.fromisoformat(DAY)
PICKERS = ("/book/day", "/book/day?week=2027-03-08", f"/book/time?day={DAY}")


# A minute past booking_helpers.NOW: at NOW itself Monday's first time is on its notice
# boundary, so what the pickers read holds for no time at all and nothing is kept.
AFTER_NOW = NOW + timedelta(minutes=1)


@pytest.fixture
def ids(demo: Flask, monkeypatch: pytest.MonkeyPatch) -> Demo:
    Clock(monkeypatch, AFTER_NOW)
    return demo_ids(demo)


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each time a picker's free times are worked out (not served from a kept page)."""
    calls: list[str] = []
    day_page, time_groups = time_views.day_page, time_views.time_groups

    def counted_day_page(*args: Any, **kwargs: Any) -> Any:
        calls.append("day")
        return day_page(*args, **kwargs)

    def counted_time_groups(*args: Any, **kwargs: Any) -> Any:
        calls.append("time")
        return time_groups(*args, **kwargs)

    monkeypatch.setattr(time_views, "day_page", counted_day_page)
    monkeypatch.setattr(time_views, "time_groups", counted_time_groups)
    return calls


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Callable[[FlaskClient, str], str]:
    def render(client: FlaskClient, path: str) -> str:
        with monkeypatch.context() as patch:
            patch.setattr(steps, "KEPT_QUESTIONS", frozenset())
            return _page(client, path)

    return render


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.location)
    return response.get_data(as_text=True)


def _same(kept: str, fresh: str) -> None:
    """Byte for byte once each page's own CSRF token stands for itself."""
    tokens = set(TOKEN.findall(kept)) | set(TOKEN.findall(fresh))
    for token in tokens:
        kept, fresh = kept.replace(token, "TOKEN"), fresh.replace(token, "TOKEN")
    assert kept == fresh


def _counted(made: Any, calls: list[str]) -> Any:
    return lambda: calls.append(made.__name__) or made()


def _by_facts(app: Flask) -> dict[Any, Any]:
    return app.extensions.get(page_cache.BY_FACTS, {})


def test_a_kept_picker_is_a_plain_rendering_and_builds_nothing(
    demo: Flask,
    ids: Demo,
    computed: list[str],
    fresh: Callable[[FlaskClient, str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = demo.test_client()
    to_time(client, ids)
    for path in PICKERS:
        first = _page(client, path)
        computed.clear()
        forms: list[str] = []
        with monkeypatch.context() as patch:
            for name in ("DayForm", "TimeForm"):
                patch.setattr(time_views, name, _counted(getattr(time_views, name), forms))
            kept = _page(client, path)
        assert computed == [], path  # no free times worked out on a hit
        assert forms == [], path  # and no form built
        assert TOKEN.findall(kept)  # this request's token (it carries the second it was made)
        _same(kept, fresh(client, path))
        _same(kept, first)
    assert len(_by_facts(demo)) == len(PICKERS)
    assert RADIO.findall(_page(client, f"/book/time?day={DAY}"))


def test_the_pre_selected_answer_and_the_change_link_are_part_of_the_key(
    demo: Flask, ids: Demo, fresh: Callable[[FlaskClient, str], str]
) -> None:
    client = demo.test_client()
    to_time(client, ids)
    path = f"/book/time?day={DAY}"
    before = _page(client, path)
    assert "checked" not in before
    # Holding a time makes it the time page's answer (and bumps the stamps).
    response = client.post(path, data={"csrf_token": TOKEN.findall(before)[0], "start": START})
    assert response.status_code == 303
    for shown in (path, f"{path}&change=check", "/book/day", "/book/day?change=check"):
        _page(client, shown)
        _same(_page(client, shown), fresh(client, shown))
    after = _page(client, path)
    assert START in RADIO.findall(before)
    assert START not in RADIO.findall(after)  # held, by this browser as by any other


def test_a_time_booked_by_someone_else_is_gone_from_the_next_get(
    demo: Flask, ids: Demo, computed: list[str], fresh: Callable[[FlaskClient, str], str]
) -> None:
    mine, theirs = demo.test_client(), demo.test_client()
    to_time(mine, ids)
    path = f"/book/time?day={DAY}"
    _page(mine, path)
    computed.clear()
    before = _page(mine, path)
    assert computed == []  # served kept
    assert START in RADIO.findall(before)
    book(theirs, ids, START)  # the same practitioner's 10am, held and booked
    after = _page(mine, path)
    assert START not in RADIO.findall(after)
    assert RADIO.findall(after)  # the rest of the day is still there
    _same(after, fresh(mine, path))


@pytest.mark.parametrize(
    ("start", "moves"),
    [
        # The time step on the day itself: each time leaves at its notice boundary.
        (datetime(2027, 3, 3, 7, 0, tzinfo=UTC), (80, 30, 10, 5, 5, 1, 30)),
        # The day step across local midnight (London, GMT): today moves on.
        (datetime(2027, 3, 2, 23, 50, tzinfo=UTC), (9, 1, 1, 60)),
    ],
)
def test_kept_pickers_move_with_the_clock(
    demo: Flask,
    monkeypatch: pytest.MonkeyPatch,
    fresh: Callable[[FlaskClient, str], str],
    start: datetime,
    moves: tuple[int, ...],
) -> None:
    clock = Clock(monkeypatch, start)
    ids = demo_ids(demo)
    client = demo.test_client()
    to_time(client, ids)
    seen = set()
    for minutes in (0, *moves):
        clock.advance(minutes=minutes)
        for path in ("/book/day", f"/book/time?day={DAY}"):
            kept = _page(client, path)
            _same(kept, fresh(client, path))
            _same(_page(client, path), kept)
            seen.add(kept.replace(TOKEN.findall(kept)[0], ""))
    assert len(seen) > 2  # the pages did change as the clock moved


def test_a_picker_reads_the_stamps_once(demo: Flask, ids: Demo, monkeypatch: Any) -> None:
    """The stamps are read once for every range a page asks (the first free day's too): on
    its own on SQLite, with the draft on PostgreSQL."""
    reads: list[object] = []
    read_stamp = slot_pages.read_stamp

    def counted(query: Any) -> Any:
        reads.append(query)
        return read_stamp(query)

    monkeypatch.setattr(slot_pages, "read_stamp", counted)
    client = demo.test_client()
    to_time(client, ids)
    reads.clear()
    _page(client, "/book/day?week=2027-06-07")  # a week with no free times after a horizon
    postgres = demo.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    assert len(reads) == (0 if postgres else 1)


def test_a_kept_picker_holds_only_until_its_answers_change_by_time(demo: Flask, ids: Demo) -> None:
    client = demo.test_client()
    to_time(client, ids)
    _page(client, f"/book/time?day={DAY}")
    (kept,) = _by_facts(demo).values()
    assert kept.since == AFTER_NOW
    # Nothing is held or due within the notice, so until local midnight (London, GMT).
    assert kept.until <= datetime(2027, 3, 2, tzinfo=UTC)
    assert kept.until - kept.since <= timedelta(days=1)


@pytest.mark.parametrize("anyone", [False, True])
def test_the_stamps_read_with_the_draft_are_the_pickers_own(
    demo: Flask, ids: Demo, anyone: bool
) -> None:
    """The one-statement read (PostgreSQL's) finds the very stamps `read_stamp` does, for a
    chosen practitioner and for "No preference"; a picker uses them only for its choices."""
    client = demo.test_client()
    to_time(client, ids, practitioner="any" if anyone else None)
    with client.session_transaction() as cookie:
        key = cookie[BOOKING_KEY]
    with demo.test_request_context("/book/day"):
        session[BOOKING_KEY] = key
        row = read_rows(GET_WITH_STAMPS, {"key_hash": token_hash(key)})[0]
        journey = load_journey(now=AFTER_NOW)
        assert journey is not None
        query = journey.picker.query
        assert (query.practitioner_id is None) is anyone
        assert parse_stamp(row._mapping[n] for n in STAMP_COLUMNS) == read_stamp(query)
        assert {kind for kind, _, _ in read_stamp(query)} >= {"c", "l", "p"}
    with demo.test_request_context("/book/day"):
        session[BOOKING_KEY] = key
        journey = load_journey(now=AFTER_NOW, stamps=True)
        assert journey is not None
        postgres = db.engine.dialect.name == "postgresql"
        assert (journey.picker.stamp == read_stamp(journey.picker.query)) is postgres
        # Stamps read for other choices are never used.
        journey = load_journey(now=AFTER_NOW, stamps=True)
        assert journey is not None
        if journey.read_stamp is not None:
            (type_id, place_id, person), stamp = journey.read_stamp
            journey.read_stamp = ((type_id, place_id + 1, person), stamp)
        assert journey.picker.stamp is None


def test_a_day_whose_times_have_all_gone_is_kept_too(
    demo: Flask,
    monkeypatch: pytest.MonkeyPatch,
    computed: list[str],
    fresh: Callable[[FlaskClient, str], str],
) -> None:
    """The time step with no times left shows no form, hence no token: kept as it is."""
    clock = Clock(monkeypatch, datetime(2027, 3, 3, 13, 0, tzinfo=UTC))
    client = demo.test_client()
    to_time(client, demo_ids(demo))
    clock.advance(hours=2, minutes=20)  # the last time, 5:15pm, left at 3:15pm (2h notice)
    path = f"/book/time?day={DAY}"
    first = _page(client, path)
    assert "no free times on this day any more" in first
    assert not TOKEN.findall(first)
    computed.clear()
    assert _page(client, path) == first
    assert computed == []
    assert fresh(client, path) == first


def test_read_stamp_finds_every_fact_of_a_query_and_no_other(demo: Flask, ids: Demo) -> None:
    """`read_stamp`'s lookups against the rule they implement, over the whole table."""
    v = AvailabilityVersion
    with demo.app_context():
        # A room's row is made by the first write to its sessions: make them all.
        have = set(db.session.scalars(select(v.ref_id).where(v.kind == "r")))
        for n, room in enumerate(db.session.scalars(select(Room.id))):
            if room not in have:
                db.session.add(v(kind="r", ref_id=room, version=1000 + n))
        db.session.commit()
        versions = db.session.execute(select(v.kind, v.ref_id, v.version)).all()
        offers = db.session.execute(select(practitioner_session_type)).all()
        rooms = db.session.execute(select(Room.id, Room.location_id, Room.kind)).all()
        kinds = dict(db.session.execute(select(SessionType.id, SessionType.room_kind)).all())
        seen: set[str] = set()
        for type_id in kinds:
            for place in (ids.islington, ids.dublin):
                for person in (None, ids.mei, ids.tom):
                    query = AvailabilityQuery(type_id, place, DAY_DATE, DAY_DATE, person)
                    people = {p for p, t in offers if t == type_id} if person is None else {person}
                    wanted = {
                        r.id for r in rooms if r.location_id == place and r.kind == kinds[type_id]
                    }
                    expected = sorted(
                        (kind, ref, version)
                        for kind, ref, version in versions
                        if kind == "c"
                        or (kind == "l" and ref == place)
                        or (kind == "p" and ref in people)
                        or (kind == "r" and ref in wanted)
                    )
                    assert list(read_stamp(query)) == expected
                    seen.update(kind for kind, _, _ in expected)
    assert seen == {"c", "l", "p", "r"}


def test_a_gets_journey_works_out_its_questions_once(
    demo: Flask, ids: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GET's journey cannot change, so its steps are worked out once; a POST's each time
    (its answers change as it saves)."""
    client = demo.test_client()
    to_time(client, ids)
    calls: list[bool] = []
    work_out = Journey._work_out_steps

    def counted(journey: Journey) -> list[str]:
        calls.append(journey.read_only)
        return work_out(journey)

    monkeypatch.setattr(Journey, "_work_out_steps", counted)
    for path in ("/book/day", "/book/type", f"/book/time?day={DAY}"):
        calls.clear()
        _page(client, path)
        assert calls == [True], path
    calls.clear()
    page = _page(client, f"/book/time?day={DAY}")
    response = client.post(
        f"/book/time?day={DAY}", data={"csrf_token": TOKEN.findall(page)[0], "start": START}
    )
    assert response.status_code == 303
    assert calls[0]  # the GET
    assert len(calls) > 2  # the POST: the guard, then again after the hold was saved
    assert not any(calls[1:])
