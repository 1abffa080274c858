"""The audit trail (security.md §5, L2): a hash chain that `audit verify` checks, rows the
database refuses to change or delete, and appends that stay chained under concurrent writers."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from booking import db_hooks
from booking.extensions import db
from booking.models import AuditEvent
from booking.services.platform.audit import record_event
from tests.conftest import seed_demo

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def verify(app: Flask) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def add_events(app: Flask, count: int, *, start: int = 0) -> None:
    with app.app_context():
        for n in range(start, start + count):
            record_event(
                "test.event",
                actor=None,
                now=NOW + timedelta(seconds=n),
                object_type="test",
                object_id=n,
                detail=f"row {n} ✓",
            )
        db.session.commit()


@contextmanager
def triggers_off(app: Flask) -> Iterator[None]:
    """Let this test change audit rows behind the application's back."""
    with app.app_context(), db.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
            conn.execute(text("DROP TRIGGER audit_event_no_delete"))
        else:
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
    try:
        yield
    finally:
        with app.app_context(), db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))


def test_verify_passes_on_a_fresh_database(app: Flask) -> None:
    code, output = verify(app)
    assert code == 0, output
    assert output.strip() == "Audit chain intact: 0 row(s) checked."


def test_verify_passes_on_a_busy_database(app: Flask) -> None:
    seed_demo(app)
    add_events(app, 300)
    with app.app_context():
        rows = db.session.scalar(select(func.count(AuditEvent.id)))
    code, output = verify(app)
    assert code == 0, output
    assert f"{rows} row(s) checked" in output


def test_concurrent_writers_keep_one_chain(app: Flask) -> None:
    # Four threads append at once; the chain lock makes them take turns, so every row
    # links to the one before it in id order.
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                for n in range(15):
                    record_event("test.concurrent", actor=None, now=NOW, object_id=worker * 100 + n)
                    db.session.commit()
                db.session.remove()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    code, output = verify(app)
    assert code == 0, output
    assert "60 row(s) checked" in output


def test_deferred_rows_are_appended_in_order_with_the_next_row_or_at_commit(app: Flask) -> None:
    """A deferred row waits for the transaction's next row (one chain read, one INSERT for
    both, in the order they were recorded) or its commit; a rollback forgets it."""
    add_events(app, 2)
    with app.app_context():
        record_event("test.deferred", actor=None, now=NOW, object_type="test", defer=True)
        assert db.session.scalar(select(func.count(AuditEvent.id))) == 2  # not yet
        record_event("test.next", actor=None, now=NOW, object_type="test")
        record_event("test.at_commit", actor=None, now=NOW, object_type="test", defer=True)
        db.session.commit()
        record_event("test.rolled_back", actor=None, now=NOW, object_type="test", defer=True)
        db.session.rollback()
        db.session.commit()
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["test.event"] * 2 + ["test.deferred", "test.next", "test.at_commit"]
    assert verify(app)[0] == 0


def test_commit_hooks_run_at_the_outer_commit_only_and_are_forgotten_on_rollback(
    app: Flask,
) -> None:
    ran: list[str] = []
    with app.app_context():
        session = db.session()
        db.session.execute(select(1))
        db_hooks.before_commit(session, lambda: ran.append("before"))
        db_hooks.after_commit(session, lambda: ran.append("after"))
        db_hooks.after_rollback(session, lambda: ran.append("rolled back"))
        with db.session.begin_nested():
            db.session.execute(select(1))
        assert ran == []  # a savepoint's release is not the commit
        db.session.commit()
        assert ran == ["before", "after"]
        db.session.execute(select(1))
        db_hooks.before_commit(session, lambda: ran.append("before again"))
        db_hooks.after_commit(session, lambda: ran.append("after again"))
        db_hooks.after_rollback(session, lambda: ran.append("rolled back"))
        db.session.rollback()
        db.session.commit()
    assert ran == ["before", "after", "rolled back"]


def test_verify_names_the_row_changed_directly_in_sql(app: Flask) -> None:
    add_events(app, 5)
    with app.app_context():
        third = db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()[2]
    with triggers_off(app), app.app_context():
        db.session.execute(
            text("UPDATE audit_event SET detail = 'quietly changed' WHERE id = :id"), {"id": third}
        )
        db.session.commit()
    code, output = verify(app)
    assert code == 1
    assert output.strip().count("\n") == 0  # one line
    assert re.search(rf"\brow {third}\b", output), output
    assert "contents do not match" in output


def test_verify_names_the_row_after_one_deleted_directly_in_sql(app: Flask) -> None:
    add_events(app, 5)
    with app.app_context():
        ids = db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
    with triggers_off(app), app.app_context():
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[1]})
        db.session.commit()
    code, output = verify(app)
    assert code == 1
    assert f"row {ids[2]}:" in output


@pytest.mark.matrix("L2")
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'rewritten'",
        "UPDATE audit_event SET row_hash = prev_hash",
        "DELETE FROM audit_event",
    ],
)
def test_sql_update_and_delete_are_refused(app: Flask, statement: str) -> None:
    add_events(app, 2)
    with app.app_context():
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
        assert db.session.scalar(select(func.count(AuditEvent.id))) == 2
    assert verify(app)[0] == 0


def test_the_migration_chains_rows_written_before_it(app: Flask) -> None:
    # Rows from before the chain existed get their hashes from the migration, with the same
    # recipe as the application: downgrade, write an unchained row, upgrade, verify.
    from flask_migrate import downgrade, upgrade

    add_events(app, 2)
    with app.app_context():
        downgrade(revision="20261127_intake_browser")
        db.session.execute(
            text(
                "INSERT INTO audit_event (occurred_at, action, detail) "
                "VALUES (:at, 'legacy.row', 'before the chain')"
            ),
            {"at": NOW.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else NOW},
        )
        db.session.commit()
        upgrade()
        db.engine.dispose()
    code, output = verify(app)
    assert code == 0, output
    assert "3 row(s) checked" in output


def test_no_application_code_updates_or_deletes_audit_rows() -> None:
    pattern = re.compile(r"(update|delete)\(\s*AuditEvent|audit_event\b.*\b(UPDATE|DELETE)\b")
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "booking").rglob("*.py"))
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
