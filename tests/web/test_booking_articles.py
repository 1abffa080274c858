"""Issue 8: the booking start and confirmation pages link the articles of the session type."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import Article
from booking.services.articles.queries import articles_for_session_type
from tests.web.booking_helpers import Clock, book, demo_ids, text


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def _titles(app: Flask, slug: str) -> list[str]:
    with app.app_context():
        return [article.title for article in articles_for_session_type(slug)]


def test_confirmation_page_links_the_articles_of_the_booked_session_type(
    demo: Flask, clock: Clock
) -> None:
    titles = _titles(demo, "first-acupuncture-session")
    assert titles, "the demo articles are tagged for the first session"
    client = demo.test_client()
    book(client, demo_ids(demo))
    page = text(client.get("/book/confirmation"))
    for title in titles:
        assert title in page
    cupping_only = set(_titles(demo, "cupping-and-moxibustion")) - set(titles)
    for title in cupping_only:
        assert title not in page


def test_start_page_links_each_session_types_articles(demo: Flask) -> None:
    page = text(demo.test_client().get("/"))
    for slug in ("first-acupuncture-session", "cupping-and-moxibustion"):
        for title in _titles(demo, slug):
            assert title in page


def test_drafts_are_not_linked_from_booking_pages(demo: Flask, clock: Clock) -> None:
    with demo.app_context():
        article = db.session.scalar(select(Article).order_by(Article.id))
        title = article.title
        article.status = "draft"
        db.session.commit()
    client = demo.test_client()
    assert title not in text(client.get("/"))
    book(client, demo_ids(demo))
    assert title not in text(client.get("/book/confirmation"))
