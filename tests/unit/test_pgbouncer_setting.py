"""BOOKING_PGBOUNCER: psycopg prepares no statements on the server behind PgBouncer.

In transaction pooling mode the next transaction may run on another server connection, where
a statement psycopg prepared earlier does not exist (docs/deploy.md). tests/scaleout runs the
app through a real PgBouncer with the setting on.
"""

from __future__ import annotations

from typing import Any

import pytest

from booking.config import finish_config

PG = "postgresql+psycopg://meridian@127.0.0.1:6432/meridian"


def _options(**config: Any) -> dict[str, Any]:
    finish_config(config)
    return config["SQLALCHEMY_ENGINE_OPTIONS"]


def test_pgbouncer_turns_off_server_side_prepared_statements() -> None:
    options = _options(
        SQLALCHEMY_DATABASE_URI=PG,
        PGBOUNCER=True,
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 5}},
    )
    assert options["connect_args"] == {"connect_timeout": 5, "prepare_threshold": None}
    assert options["hide_parameters"] is True


def test_without_pgbouncer_or_on_sqlite_psycopg_keeps_its_default() -> None:
    assert "connect_args" not in _options(SQLALCHEMY_DATABASE_URI=PG, PGBOUNCER=False)
    assert "connect_args" not in _options(SQLALCHEMY_DATABASE_URI=PG)
    sqlite = _options(SQLALCHEMY_DATABASE_URI="sqlite:///x.sqlite", PGBOUNCER=True)
    assert "connect_args" not in sqlite


def test_the_environment_variable_reaches_the_engine_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from booking import create_app

    monkeypatch.setenv("BOOKING_PGBOUNCER", "true")
    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": PG})
    assert app.config["PGBOUNCER"] is True
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["prepare_threshold"] is None
