"""Migrations: one head; up, down to base and up again; guards present; no model drift."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from booking.extensions import db

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def test_exactly_one_head() -> None:
    script = ScriptDirectory(str(MIGRATIONS))
    assert len(script.get_heads()) == 1


def _guard_names(app: Flask) -> set[str]:
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        else:
            rows = conn.execute(text("SELECT conname FROM pg_constraint WHERE contype = 'x'"))
        return {row[0] for row in rows}


@pytest.mark.matrix("D3")
def test_upgrade_downgrade_upgrade_keeps_guards(app: Flask) -> None:
    before = _guard_names(app)
    assert {n for n in before if "practitioner" in n}
    assert {n for n in before if "room" in n}
    with app.app_context():
        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
        db.engine.dispose()
    assert _guard_names(app) == before


def test_models_match_migrations(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_postgres_truncation_keeps_the_rows_migrations_seed(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The PostgreSQL harness empties tables after each test but keeps data the migrations wrote.

    Every migrated database has intake version 1 and its consent texts; a test must see them no
    matter which test ran before it on this worker, without a production repair service.
    """
    from booking.models import ConsentText, QuestionnaireVersion, User
    from tests.conftest import make_app, truncate_all

    with make_app("postgresql", tmp_path, request) as app:
        with app.app_context():
            expected = {
                "questionnaire_version": _rows(QuestionnaireVersion),
                "consent_text": _rows(ConsentText),
            }
            assert expected["questionnaire_version"]
            assert len(expected["consent_text"]) == 5
            db.session.add(
                QuestionnaireVersion(
                    key="first_visit_intake",
                    version=2,
                    definition={"pages": []},
                    published_at=expected["consent_text"][0][-1],
                )
            )
            db.session.add(
                User(email="someone@example.com", password_hash="x", role="admin", display_name="S")
            )
            db.session.commit()
        truncate_all(app)
        with app.app_context():
            assert _rows(QuestionnaireVersion) == expected["questionnaire_version"]
            assert _rows(ConsentText) == expected["consent_text"]
            assert db.session.scalar(select(func.count(User.id))) == 0
            # Identities restart after the kept rows: the next version gets the next id.
            added = QuestionnaireVersion(
                key="other", version=1, definition={}, published_at=expected["consent_text"][0][-1]
            )
            db.session.add(added)
            db.session.flush()
            assert added.id == len(expected["questionnaire_version"]) + 1
            db.session.rollback()


def _rows(model: type) -> list[tuple]:
    table = model.__table__
    return [tuple(row) for row in db.session.execute(select(table).order_by(table.c.id))]
