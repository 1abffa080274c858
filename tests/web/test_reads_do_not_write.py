"""Every patient journey page's GET is a plain read, on both engines (issue 22).

A GET that writes (or, on SQLite, opens BEGIN IMMEDIATE) queues behind every other writer:
journey pages did so to keep their draft. The journey is walked with POSTs between the
pages, and every statement any engine runs during the GETs is recorded and checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from booking.extensions import db
from booking.models import Article, ArticleStatus
from tests.conftest import listening
from tests.web.booking_helpers import (
    DAY,
    NEW_PATIENT,
    START,
    Clock,
    confirm,
    demo_ids,
    hold,
    post,
    text,
)

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|BEGIN\s+IMMEDIATE)\b|\bFOR UPDATE\b", re.I)


class Statements:
    """The SQL every engine in the process runs while `reading` is on."""

    def __init__(self) -> None:
        self.reading: str | None = None
        self.writes: list[tuple[str, str]] = []
        self.seen = 0

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.reading is None:
            return
        self.seen += 1
        if WRITES.search(statement):
            self.writes.append((self.reading, statement.split("\n")[0][:120]))


@contextmanager
def recording() -> Iterator[Statements]:
    statements = Statements()
    with listening([Engine], ("before_cursor_execute", statements)):
        yield statements


def read(client: FlaskClient, statements: Statements, path: str, status: int = 200) -> str:
    statements.reading = path
    try:
        response = client.get(path)
    finally:
        statements.reading = None
    assert response.status_code == status, (path, response.status_code, text(response)[:500])
    return response.get_data(as_text=True)


def test_every_journey_get_is_a_plain_read(demo: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    Clock(monkeypatch)
    ids = demo_ids(demo)
    with demo.app_context():
        article = db.session.scalars(
            db.select(Article.slug).where(Article.status == ArticleStatus.published).limit(1)
        ).one()
    client = demo.test_client()
    with recording() as statements:
        # The start page, the articles, and starting a journey (it used to write a draft).
        for path in ("/", "/articles/", f"/articles/{article}"):
            read(client, statements, path)
        read(client, statements, "/book", 302)
        read(client, statements, "/book/type")
        read(client, statements, "/book?type=first-acupuncture-session", 302)
        read(client, statements, "/book/type")
        read(client, statements, "/book/location")
        assert post(client, "/book/location", {"location": str(ids.islington)}).status_code == 303
        read(client, statements, "/book/practitioner")
        assert post(client, "/book/practitioner", {"practitioner": str(ids.mei)}).status_code == 303
        read(client, statements, "/book/day")
        assert post(client, "/book/day", {"day": DAY}).status_code == 303
        read(client, statements, f"/book/time?day={DAY}")
        assert hold(client).status_code == 303
        for path, data in NEW_PATIENT:
            read(client, statements, path)
            assert post(client, path, data).status_code == 303, path
        read(client, statements, "/book/check")
        read(client, statements, "/book/urgent")
        token = confirm(client)
        read(client, statements, "/book/confirmation")
        # The manage link's journey: the session, a new day and time, check, cancel.
        session_page = read(client, statements, f"/manage/{token}")
        read(client, statements, f"/manage/{token}/day")
        read(client, statements, f"/manage/{token}/time?day={DAY}")
        read(client, statements, f"/manage/{token}/check?start={START.replace('+', '%2B')}")
        read(client, statements, f"/manage/{token}/cancel")
        read(client, statements, f"/manage/{token}/calendar.ics")
        read(client, statements, "/manage-link")
        # The first visit's health questions, from the link on "Your session".
        intake_link = re.search(r'href="(/intake/start/[^"]+)"', session_page)
        assert intake_link, "a first visit links its health questions"
        read(client, statements, intake_link.group(1))
    assert statements.seen > 50  # the listener saw the reads
    assert statements.writes == []


def test_a_returning_patient_is_found_without_writes_on_get(
    demo: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other branch: "booked before?" yes, the find-you page, the link sent, taken page."""
    Clock(monkeypatch)
    ids = demo_ids(demo)
    client = demo.test_client()
    with recording() as statements:
        read(client, statements, "/book?type=first-acupuncture-session", 302)
        post(client, "/book/location", {"location": str(ids.islington)})
        post(client, "/book/practitioner", {"practitioner": str(ids.mei)})
        post(client, "/book/day", {"day": DAY})
        assert hold(client).status_code == 303
        assert post(client, "/book/returning", {"returning": "yes"}).status_code == 303
        read(client, statements, "/book/find-you")
        assert post(client, "/book/find-you", {"email": "jo@example.com"}).status_code == 303
        read(client, statements, "/book/find-you/sent")
        # Another browser holds the same time: this one is sent to the taken page.
        other = demo.test_client()
        other.get("/book?type=first-acupuncture-session")
        post(other, "/book/location", {"location": str(ids.islington)})
        post(other, "/book/practitioner", {"practitioner": str(ids.mei)})
        post(other, "/book/day", {"day": DAY})
        assert hold(other).headers["Location"] == "/book/taken"
        read(other, statements, "/book/taken")
    assert statements.writes == []
