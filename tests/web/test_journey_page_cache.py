"""Journey question pages kept per worker (booking/book/page_cache.py, issue 22).

Each step of a walked journey, served from the kept copy, is byte for byte the page a plain
rendering gives (the CSRF token in its places, the hold line, typed values escaped); pages
with an error, a flashed message or a signed-in visitor are rendered afresh; typed values are
never kept; a change to the reference data shows at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask, session
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.book import page_cache, steps
from booking.book.journey import BOOKING_KEY, load_journey
from booking.extensions import db
from booking.models import Location, OutboxMessage, Practitioner, SessionType
from tests.web.booking_helpers import (
    DAY,
    NOW,
    Clock,
    Demo,
    demo_ids,
    hold,
    post,
    to_check,
    to_time,
)

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
# The kept steps a new patient sees, in order, after check answers was reached.
STEPS = (
    "/book/type",
    "/book/type?change=check",
    "/book/location",
    "/book/practitioner",
    "/book/day",
    "/book/day?week=2027-03-08",
    f"/book/time?day={DAY}",
    "/book/returning",
    "/book/name",
    "/book/name?change=check",
    "/book/date-of-birth",
    "/book/contact",
    "/book/contact-preference",
    "/book/safety",
    "/book/check",
)
NAME = {"given_name": "Jo <b>&amp;", "family_name": 'O\'Brien "quoted"'}


@pytest.fixture
def ids(demo: Flask, monkeypatch: pytest.MonkeyPatch) -> Demo:
    Clock(monkeypatch)
    return demo_ids(demo)


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def _same(kept: str, fresh: str) -> None:
    """Byte for byte once each page's own CSRF token stands for itself."""
    tokens = set(TOKEN.findall(kept)) | set(TOKEN.findall(fresh))
    assert len(set(TOKEN.findall(kept))) == 1
    for token in tokens:
        kept, fresh = kept.replace(token, "TOKEN"), fresh.replace(token, "TOKEN")
    assert kept == fresh


@pytest.fixture
def fresh(
    demo: Flask, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[FlaskClient, str], str]]:
    def render(client: FlaskClient, path: str) -> str:
        with monkeypatch.context() as patch:
            patch.setattr(steps, "KEPT_QUESTIONS", frozenset())
            return _page(client, path)

    return render


def _store(app: Flask) -> dict[object, object]:
    return app.extensions.get(page_cache.EXTENSION, {})


def test_every_kept_step_is_the_page_a_plain_rendering_gives(
    demo: Flask, ids: Demo, fresh: Callable[[FlaskClient, str], str]
) -> None:
    client = demo.test_client()
    to_check(client, ids)
    assert post(client, "/book/name", NAME).status_code == 303
    for path in STEPS:
        first = _page(client, path)
        kept = _page(client, path)
        _same(kept, fresh(client, path))
        assert kept == first or TOKEN.findall(kept) != TOKEN.findall(first)
    kept_pages = [v for v in _store(demo).values() if v]
    assert len(kept_pages) >= len(STEPS)
    assert not [k for k, v in _store(demo).items() if v is False]
    name_page = _page(client, "/book/name")
    assert 'value="Jo &lt;b&gt;&amp;amp;"' in name_page
    assert "O&#39;Brien &#34;quoted&#34;" in name_page
    assert 'id="hold-line"' in name_page
    assert 'name="next" type="hidden" value="/book/name"' in name_page


def test_a_page_kept_before_the_hold_serves_the_hold_line_after(
    demo: Flask, ids: Demo, fresh: Callable[[FlaskClient, str], str]
) -> None:
    client = demo.test_client()
    to_time(client, ids)
    before = _page(client, f"/book/time?day={DAY}")
    assert 'id="hold-line"' not in before
    assert hold(client).status_code == 303
    for path in ("/book/returning", "/book/returning"):
        _same(_page(client, path), fresh(client, path))
    # A second browser on the same step gets its own token and no one else's answers.
    other = demo.test_client()
    to_time(other, ids)
    assert hold(other, "2027-03-03T11:00:00+00:00").status_code == 303
    mine, theirs = _page(client, "/book/returning"), _page(other, "/book/returning")
    assert TOKEN.findall(mine) != TOKEN.findall(theirs)
    assert "holding 10am on Wednesday 3 March" in mine
    assert "holding 11am on Wednesday 3 March" in theirs


def test_typed_values_are_never_kept(demo: Flask, ids: Demo) -> None:
    client = demo.test_client()
    to_check(client, ids)
    assert post(client, "/book/name", NAME).status_code == 303
    for path in ("/book/name", "/book/date-of-birth", "/book/contact", "/book/name"):
        _page(client, path)
    for _ in range(2):
        check = _page(client, "/book/check")
    assert "Jo &lt;b&gt;&amp;amp; O&#39;Brien &#34;quoted&#34;" in check
    assert "3 January 1980" in check
    kept = repr(_store(demo))
    for typed in ("Jo &lt;b&gt;", "O&#39;Brien", "jo@example.com", 'value="07400', "1980"):
        assert typed not in kept
    for shown in ("Jo <b>", "10am to", "until"):  # (the phone is the example number)
        assert shown not in kept
    check_pages = [v for k, v in _store(demo).items() if k[0] == "book/check.html" and v]  # type: ignore[index]
    assert len(check_pages) == 1
    own = {"name_text", "date_of_birth_text", "email_text", "phone_text", "when_text"}
    assert own <= set(check_pages[0][1::2])  # type: ignore[index]
    name_pages = [v for k, v in _store(demo).items() if k[0] == "book/name.html" and v]  # type: ignore[index]
    assert name_pages
    for parts in name_pages:
        assert isinstance(parts, list)
        assert {"csrf", "hold_line", "given_name", "family_name"} <= set(parts[1::2])


def test_errors_flashes_and_signed_in_visitors_are_rendered_afresh(
    demo: Flask, ids: Demo, login_as: Callable[[str], FlaskClient]
) -> None:
    client = demo.test_client()
    to_check(client, ids)
    _page(client, "/book/name")
    entries = len(_store(demo))
    response = post(client, "/book/name", {"given_name": "", "family_name": "Bloggs"})
    assert response.status_code == 200
    assert "Error:" in response.get_data(as_text=True)
    assert "Bloggs" in response.get_data(as_text=True)
    # Holding for longer flashes a message: the next page shows it, then the plain page.
    response = post(client, "/book/hold", {"next": "/book/returning"})
    assert response.status_code == 303
    with_banner = _page(client, "/book/returning")
    assert "govuk-notification-banner" in with_banner
    assert "govuk-notification-banner" not in _page(client, "/book/returning")
    patient = login_as("patient")
    assert patient.get("/book?type=first-acupuncture-session").status_code == 302
    signed_in = _page(patient, "/book/type")
    assert "Sign out" in signed_in
    assert len(_store(demo)) <= entries + 2  # returning once, without the banner


def test_a_renamed_session_type_shows_on_the_kept_type_step(demo: Flask, ids: Demo) -> None:
    client = demo.test_client()
    to_time(client, ids)
    assert "First session, renamed" not in _page(client, "/book/type")
    with demo.app_context():
        kind = db.session.get_one(SessionType, ids.first_type)
        old_name = kind.name
        kind.name = "First session, renamed"
        db.session.commit()
    page = _page(client, "/book/type")
    assert "First session, renamed" in page
    assert old_name not in page


def test_the_store_is_bounded(demo: Flask, ids: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(page_cache, "MAX_PAGES", 3)
    client = demo.test_client()
    to_time(client, ids)
    for week in ("2027-03-01", "2027-03-08", "2027-03-15", "2027-03-22", "2027-03-29"):
        _page(client, f"/book/day?week={week}")
        assert len(_store(demo)) <= 3


def _changing(page: str) -> str:
    return page.split("Changing or cancelling", 1)[1].split("<form", 1)[0]


def test_check_answers_shows_a_renamed_practitioner_and_a_new_cut_off_at_once(
    demo: Flask, ids: Demo
) -> None:
    """The held practitioner and the place's change policy are the worker's copies."""
    client = demo.test_client()
    to_check(client, ids)
    before = _page(client, "/book/check")
    assert "Mei Lin Chen" in before
    with demo.app_context():
        person = db.session.get_one(Practitioner, ids.mei)
        person.display_name = "Mei Lin Chen-Park"
        place = db.session.get_one(Location, ids.islington)
        place.cancellation_cutoff_hours = 24 * 365
        db.session.commit()
    after = _page(client, "/book/check")
    assert "Mei Lin Chen-Park" in after
    assert _changing(after) != _changing(before)


def test_a_journey_read_by_a_get_is_never_saved(demo: Flask, ids: Demo) -> None:
    client = demo.test_client()
    to_check(client, ids)
    with client.application.test_request_context("/book/check"):
        with client.session_transaction() as cookie:
            key = cookie[BOOKING_KEY]
        session[BOOKING_KEY] = key
        journey = load_journey(now=NOW)
        assert journey is not None
        assert journey.read_only
        assert journey.hold is not None  # read with the draft, in the same statement
        with pytest.raises(RuntimeError):
            steps.save(journey, safety="no")


def test_two_people_at_check_answers_share_a_kept_page_and_see_only_their_own(
    demo: Flask, ids: Demo, fresh: Callable[[FlaskClient, str], str]
) -> None:
    mine, theirs = demo.test_client(), demo.test_client()
    to_check(mine, ids)
    assert post(mine, "/book/name", NAME).status_code == 303
    to_check(theirs, ids, "2027-03-03T11:00:00+00:00")
    for _ in range(2):
        my_page, their_page = _page(mine, "/book/check"), _page(theirs, "/book/check")
    _same(my_page, fresh(mine, "/book/check"))
    _same(their_page, fresh(theirs, "/book/check"))
    assert "O&#39;Brien" in my_page
    assert "O&#39;Brien" not in their_page
    assert "Jo Bloggs" in their_page
    assert "10am to" in my_page
    assert "11am to" in their_page
    kept = [k for k, v in _store(demo).items() if k[0] == "book/check.html" and v]  # type: ignore[index]
    assert len(kept) == 1


def test_a_known_patients_check_answers_is_kept_without_their_details(
    demo: Flask, ids: Demo, fresh: Callable[[FlaskClient, str], str]
) -> None:
    """Found by the emailed link: their own record's name and email are slots too."""
    client = demo.test_client()
    to_time(client, ids)
    hold(client)
    assert post(client, "/book/returning", {"returning": "yes"}).status_code == 303
    post(client, "/book/find-you", {"email": "Priya.Shah@meridian.example"})
    with demo.app_context():
        message = db.session.scalar(
            select(OutboxMessage).where(
                func.lower(OutboxMessage.recipient) == "priya.shah@meridian.example"
            )
        )
        assert message is not None
        link = message.body_text.split(demo.config["BASE_URL"])[1].split()[0]
    assert post(client, link).status_code == 303
    assert post(client, "/book/safety", {"safety": "no"}).status_code == 303
    for _ in range(2):
        page = _page(client, "/book/check")
    _same(page, fresh(client, "/book/check"))
    assert "Priya Shah" in page
    kept = repr(_store(demo))
    assert "Priya" not in kept
    assert "priya.shah" not in kept.lower()
    assert [k for k, v in _store(demo).items() if k[0] == "book/check.html" and v]  # type: ignore[index]
