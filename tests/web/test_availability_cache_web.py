"""The availability API and the booking journey's pickers read through the stamp-checked cache.

Warm reads run a fixed number of queries, answer 304 to a matching If-None-Match, and never
show a time booked (by another client) before the read began. Both engines.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking.extensions import availability_cache
from tests.conftest import count_queries
from tests.web.booking_helpers import DAY, START, Clock, Demo, demo_ids, to_time
from tests.web.test_api import app_only, book, booking_body, make_tokens


@pytest.fixture
def ids(demo: Flask) -> Demo:
    return demo_ids(demo)


@pytest.fixture
def tokens(demo: Flask) -> dict[str, str]:
    return make_tokens(demo)


@pytest.fixture
def api(demo: Flask, monkeypatch: pytest.MonkeyPatch, tokens: dict[str, str]) -> FlaskClient:
    Clock(monkeypatch)
    return demo.test_client()


def path(ids: Demo, to: str = DAY, **extra: int) -> str:
    query = f"session_type_id={ids.follow_up}&location_id={ids.islington}&from={DAY}&to={to}"
    return "/api/v1/availability?" + query + "".join(f"&{k}={v}" for k, v in extra.items())


@pytest.mark.parametrize("to", [DAY, "2027-03-16"], ids=["one-day", "two-weeks"])
def test_a_warm_read_runs_the_same_one_query(
    demo: Flask, api: FlaskClient, ids: Demo, to: str
) -> None:
    url = path(ids, to, practitioner_id=ids.mei)
    cold = api.get(url)
    assert cold.status_code == 200
    with count_queries(demo) as warm:
        again = api.get(url)
    assert again.get_data() == cold.get_data()
    # The stamps only, whatever the range: the location's zone is kept per clinic stamp.
    assert len(app_only(warm)) == 1, app_only(warm)
    assert "availability_version" in app_only(warm)[0]


def test_if_none_match_answers_304_without_a_body(demo: Flask, api: FlaskClient, ids: Demo) -> None:
    first = api.get(path(ids))
    assert first.headers["Cache-Control"] == "no-cache"
    with count_queries(demo) as revalidate:
        again = api.get(path(ids), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == "no-cache"
    assert len(app_only(revalidate)) == 1  # the stamps only
    # Another page of the same answer is another representation.
    assert api.get(path(ids, limit=1)).headers["ETag"] != first.headers["ETag"]


def test_a_booking_by_another_client_is_gone_from_the_next_read(
    api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    url = path(ids, practitioner_id=ids.mei)
    first = api.get(url)
    assert START in [i["start"] for i in first.get_json()["items"]]
    assert api.get(url).status_code == 200  # warm
    assert book(api, tokens, booking_body(ids)).status_code == 201
    after = api.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200
    assert START not in [i["start"] for i in after.get_json()["items"]]


def test_the_time_step_never_shows_a_time_booked_before_it_was_read(
    demo: Flask, api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    patient = demo.test_client()
    to_time(patient, ids)
    page = f"/book/time?day={DAY}"
    assert START in patient.get(page).get_data(as_text=True)
    with demo.app_context():
        assert len(availability_cache.store._local) > 0  # the day and time steps are cached
    assert book(api, tokens, booking_body(ids)).status_code == 201
    assert START not in patient.get(page).get_data(as_text=True)


def test_a_kept_answer_is_the_same_response_as_a_computed_one(
    demo: Flask, api: FlaskClient, ids: Demo
) -> None:
    """The encoded body is kept per ETag (booking/api/answer_cache.py): same bytes, same
    headers as when computed, for each page of the answer."""
    from booking.api.answer_cache import answers

    for url in (path(ids, practitioner_id=ids.mei), path(ids, limit=1)):
        computed = api.get(url)
        assert computed.status_code == 200
        with demo.test_request_context():
            assert answers().get(computed.headers["ETag"].strip('"')) == computed.get_data()
        kept = api.get(url)
        assert kept.get_data() == computed.get_data()
        assert _without_request_id(kept.headers) == _without_request_id(computed.headers)


def _without_request_id(headers: Any) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers.items() if k != "X-Request-Id"]


def test_a_kept_answer_is_never_sent_after_the_times_changed(
    api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    """A booking bumps the stamps, so the tag and the body kept for it go together."""
    url = path(ids, practitioner_id=ids.mei)
    first = api.get(url)
    assert api.get(url).get_data() == first.get_data()  # kept
    assert book(api, tokens, booking_body(ids)).status_code == 201
    after = api.get(url)
    assert after.headers["ETag"] != first.headers["ETag"]
    assert START in [i["start"] for i in first.get_json()["items"]]
    assert START not in [i["start"] for i in after.get_json()["items"]]


def test_the_answer_cache_is_bounded_by_size_least_recently_used_out() -> None:
    from booking.api.answer_cache import AnswerCache

    kept = AnswerCache(max_bytes=160)
    kept.put("a", b"x" * 8)
    kept.put("b", b"y" * 8)
    assert kept.get("a") == b"x" * 8  # now the most recently used
    kept.put("big", b"z" * 11)  # over a sixteenth of the budget: not kept
    assert kept.get("big") is None
    for n in range(20):
        kept.put(f"k{n}", b"w" * 8)
    assert kept.size <= 160
    assert kept.get("b") is None
    assert kept.get("k19") == b"w" * 8
    kept.put("k19", b"v" * 4)  # a tag kept again replaces its body
    assert kept.get("k19") == b"v" * 4
    assert kept.size == sum(len(kept.get(k) or b"") for k in list(kept._bodies))
