"""Migrations: one head; up, down to base and up again; guards present; no model drift."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

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
