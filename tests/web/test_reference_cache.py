"""The start page and the journey's first step keep the catalogue in memory, never stale.

Each worker reuses the session types, places and articles while `reference_version` is
unchanged; any ORM write to them bumps it in the same transaction (issue 22).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from booking.extensions import db
from booking.models import Article, ArticleStatus, SessionType
from tests.conftest import listening


def selects_of(app: Flask, path: str) -> list[str]:
    """The SELECT statements one GET of `path` runs (a fresh client: no session)."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(" ".join(statement.split())[:100])

    with listening([Engine], ("before_cursor_execute", note)):
        assert app.test_client().get(path).status_code == 200
    return seen


def test_the_start_page_reads_one_row_once_the_catalogue_is_cached(demo: Flask) -> None:
    selects_of(demo, "/")  # fills this process's copy
    found = selects_of(demo, "/")
    assert len(found) == 1, found
    assert found[0].startswith("SELECT reference_version.version FROM reference_version")


def test_writes_to_the_catalogue_show_at_once(demo: Flask) -> None:
    client = demo.test_client()
    assert "Cupping and moxibustion" in client.get("/").get_data(as_text=True)
    with demo.app_context():
        cupping = db.session.scalar(select(SessionType).where(SessionType.slug.like("cupping%")))
        cupping.name = "Cupping, renamed"
        cupping_id = cupping.id
        db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "Cupping, renamed" in page
    client.get("/book")
    assert "Cupping, renamed" in client.get("/book/type").get_data(as_text=True)
    # A bulk update through a session bumps the version too.
    with demo.app_context():
        db.session.execute(
            update(SessionType).where(SessionType.id == cupping_id).values(is_active=False)
        )
        db.session.commit()
    assert "Cupping, renamed" not in client.get("/").get_data(as_text=True)
    assert "Cupping, renamed" not in client.get("/book/type").get_data(as_text=True)
    # Unpublishing an article takes it off the start page.
    with demo.app_context():
        article = db.session.scalar(
            select(Article)
            .where(Article.status == ArticleStatus.published)
            .where(Article.tags.any())
            .order_by(Article.id)
        )
        title = article.title
        assert title in client.get("/").get_data(as_text=True)
        article.status = ArticleStatus.draft
        db.session.commit()
    assert title not in client.get("/").get_data(as_text=True)


def test_the_cached_start_page_is_only_for_visitors_who_are_not_signed_in(
    demo: Flask, login_as: Callable[[str], FlaskClient]
) -> None:
    anonymous = demo.test_client().get("/").get_data(as_text=True)
    assert demo.test_client().get("/").get_data(as_text=True) == anonymous
    assert "Sign out" not in anonymous
    signed_in = login_as("patient").get("/").get_data(as_text=True)
    assert "Sign out" in signed_in
