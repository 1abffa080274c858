"""Migrations: one head; up, down to base and up again; guards present; no model drift."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text, update

from booking.demo.activity import seed_demo_activity
from booking.extensions import db
from booking.models import Appointment, Location, Practitioner, SessionType
from booking.services.booking.availability import AvailabilityQuery, find_slots
from booking.services.booking.holds import hold_slot
from tests.conftest import seed_demo

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


def test_the_hold_expiry_repair_clears_it_on_every_row_but_holds(app: Flask) -> None:
    # Issue 13.1: bookings made from holds kept hold_expires_at and were offered again.
    seed_demo(app)
    stale = datetime(2027, 4, 12, 7, 10, tzinfo=UTC)
    with app.app_context():
        now = datetime(2027, 4, 12, 7, 0, tzinfo=UTC)
        seed_demo_activity(now=now)  # booked, completed, cancelled and no-show rows
        st, loc, mei = (
            db.session.scalar(
                select(SessionType.id).where(SessionType.slug == "follow-up-acupuncture")
            ),
            db.session.scalar(select(Location.id).where(Location.slug == "islington")),
            db.session.scalar(
                select(Practitioner.id).where(Practitioner.display_name == "Mei Lin Chen")
            ),
        )
        query = AvailabilityQuery(
            session_type_id=st,
            location_id=loc,
            date_from=date(2027, 4, 14),
            date_to=date(2027, 4, 14),
            practitioner_id=mei,
        )
        start = find_slots(query, now=now)[0].starts_at
        hold = hold_slot(
            session_type_id=st,
            location_id=loc,
            practitioner_id=mei,
            starts_at=start,
            hold_owner="owner-a",
            now=now,
        )
        hold_id = hold.id
        db.session.commit()
        db.session.remove()
        downgrade(revision="20261126_throttle")
        # Rows as the old code left them: every non-held status with an expiry set.
        with db.engine.begin() as conn:
            conn.execute(
                update(Appointment)
                .where(Appointment.status != "held")
                .values(hold_expires_at=stale)
            )
        upgrade()
        db.engine.dispose()
        rows = db.session.execute(
            select(Appointment.id, Appointment.status, Appointment.hold_expires_at)
        ).all()
    statuses = {str(status) for _, status, _ in rows}
    assert {"booked", "completed", "cancelled", "no_show"} <= statuses
    assert [r for r in rows if r.status != "held" and r.hold_expires_at is not None] == []
    assert [(r.id, r.hold_expires_at) for r in rows if r.status == "held"] == [
        (hold_id, now + timedelta(minutes=10))
    ]


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
