"""Operations: /healthz, JSON log lines with a request id, SQLite pragmas refused at start,
gunicorn access paths without tokens, `flask backup` and `flask restore` on both engines."""

from __future__ import annotations

import io
import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from booking import create_app, db_hooks
from booking.extensions import db
from booking.log import AccessLineFilter, safe_path
from booking.models import PatientProfile, SessionType, User
from tests.conftest import base_config, seed_demo
from tests.databases import empty_app
from tests.factories import make_patient

SECRET_WORDS = ("sqlite", "postgres", "password", "secret", "test-secret-key")


def _health(app: Flask) -> tuple[int, dict[str, object], str]:
    response = app.test_client().get("/healthz")
    body = response.get_data(as_text=True)
    return response.status_code, response.get_json(), body


def test_healthz_is_ok_on_a_migrated_database(app: Flask) -> None:
    status, data, body = _health(app)
    assert status == 200
    assert data == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}
    assert not any(word in body.lower() for word in SECRET_WORDS)


def test_healthz_is_503_when_migrations_are_behind(sqlite_app: Flask) -> None:
    with sqlite_app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = '20261125_initial'"))
        db.session.commit()
    status, data, _ = _health(sqlite_app)
    assert (status, data["checks"]) == (503, {"database": "ok", "migrations": "behind"})


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # Nothing listens on port 1: the connection is refused at once.
    app = create_app(
        base_config("postgresql+psycopg://meridian:hunter2@127.0.0.1:1/gone"),
        instance_path=tmp_path,
    )
    status, data, body = _health(app)
    assert (status, data) == (
        503,
        {"status": "unavailable", "checks": {"database": "unreachable", "migrations": "unknown"}},
    )
    assert "hunter2" not in body
    assert "127.0.0.1" not in body


def test_every_app_log_line_is_json_with_a_request_id(sqlite_app: Flask) -> None:
    stream = io.StringIO()
    handler = sqlite_app.logger.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)

    @sqlite_app.get("/test-log")
    def _log() -> str:
        sqlite_app.logger.warning("inside a request")
        return "ok"

    response = sqlite_app.test_client().get(
        "/test-log?token=abc", headers={"X-Request-Id": "req-12345678"}
    )
    with sqlite_app.app_context():
        sqlite_app.logger.warning("outside a request")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["inside a request", "outside a request"]
    assert lines[0]["request_id"] == "req-12345678" == response.headers["X-Request-Id"]
    assert "request_id" in lines[1]
    assert "token=abc" not in stream.getvalue()


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/manage/" + "A1b2-_" * 8, "/manage/:token"),
        ("/intake/12/start/" + "xY7-" * 11 + "?a=b", "/intake/12/start/:token"),
        ("/reception/patients?q=Alex+Morgan", "/reception/patients"),
        ("/book/time", "/book/time"),
        ("/articles/acupuncture-for-back-pain", "/articles/acupuncture-for-back-pain"),
    ],
)
def test_gunicorn_access_paths_carry_no_tokens_or_query_strings(path: str, logged: str) -> None:
    assert safe_path(path) == logged


def test_development_server_access_lines_lose_query_strings_and_tokens(sqlite_app: Flask) -> None:
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        "%s - - [%s] %s",
        ("127.0.0.1", "06/Dec/2026", f'"GET /manage/{"tK9_" * 11}?q=Alex HTTP/1.1" 200 -'),
        None,
    )
    assert any(isinstance(f, AccessLineFilter) for f in logging.getLogger("werkzeug").filters)
    AccessLineFilter().filter(record)
    assert record.getMessage() == '127.0.0.1 - - [06/Dec/2026] "GET /manage/:token HTTP/1.1" 200 -'


def test_sqlite_without_the_durability_pragmas_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path
) -> None:
    plain = create_engine(f"sqlite:///{tmp_path / 'plain.sqlite'}")
    assert db_hooks.pragma_problems(plain) == [
        "journal_mode is delete, not WAL",
        "foreign_keys is 0, not ON",
    ]
    plain.dispose()
    path = tmp_path / "app.sqlite"
    shutil.copyfile(sqlite_template, path)
    monkeypatch.setitem(db_hooks.REQUIRED_PRAGMAS, "synchronous", "3")  # ask for EXTRA
    with pytest.raises(SystemExit) as stopped:
        create_app(base_config(f"sqlite:///{path}"), instance_path=tmp_path)
    assert str(stopped.value) == (
        "Meridian: SQLite durability settings refused: synchronous is 2, not 3."
    )


def _counts(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        counts = (
            db.session.scalar(select(func.count(User.id))),
            db.session.scalar(select(func.count(SessionType.id))),
            db.session.scalar(select(func.count(PatientProfile.id))),
        )
        db.session.remove()
        return counts


@pytest.fixture
def empty_target(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """An app on a second, empty database of the same engine."""
    with empty_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path) as target:
        yield target


@pytest.mark.slow  # creating and dropping a PostgreSQL database
def test_backup_restores_into_an_empty_database_only(
    app: Flask, empty_target: Flask, engine_name: str, tmp_path: Path
) -> None:
    seed_demo(app)
    with app.app_context():
        make_patient(given_name="Backed", family_name="Up")
        db.session.commit()
        db.session.remove()
    before = _counts(app)
    path = tmp_path / "meridian.backup"
    backup = app.test_cli_runner().invoke(args=["backup", str(path)])
    if engine_name == "postgresql" and shutil.which("pg_dump") is None:
        assert backup.exit_code == 1
        assert "pg_dump is not installed" in backup.output
        return
    assert backup.exit_code == 0, backup.output
    assert backup.output.startswith(f"Backed up to {path} (")
    assert not list(tmp_path.glob("*.partial"))
    twice = app.test_cli_runner().invoke(args=["backup", str(path)])
    assert (twice.exit_code, twice.output.count("\n")) == (1, 1)

    restore = empty_target.test_cli_runner().invoke(args=["restore", str(path)])
    assert restore.exit_code == 0, restore.output
    assert _counts(empty_target) == before
    with empty_target.app_context():
        assert (
            db.session.scalar(
                select(PatientProfile.family_name).where(PatientProfile.given_name == "Backed")
            )
            == "Up"
        )
        if engine_name == "sqlite":
            assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        db.session.remove()

    again = empty_target.test_cli_runner().invoke(args=["restore", str(path)])
    assert again.exit_code == 1
    assert again.output.startswith("Error: The database is not empty (")
    assert again.output.count("\n") == 1
    assert _counts(empty_target) == before


def test_backup_on_postgresql_says_so_without_pg_dump(
    sqlite_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from booking.services.platform import backup as backup_module

    monkeypatch.setattr(backup_module.shutil, "which", lambda _name: None)
    with pytest.raises(backup_module.ToolMissing, match="pg_dump is not installed"):
        backup_module._run_pg("pg_dump", make_url("postgresql://u@h/d"), [], None)
