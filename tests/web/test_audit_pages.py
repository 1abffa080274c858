"""The audit trail people can read: the admin's filtered, paged list and, on a patient's
health record, who has read it. Plus CSRF, headers and enumeration on the new routes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from booking.extensions import db
from booking.services.platform.audit import record_event
from tests.conftest import count_queries
from tests.factories import make_patient
from tests.web.test_two_step import user_id_of

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _patients(app: Flask) -> tuple[int, int]:
    with app.app_context():
        first, second = make_patient(given_name="Robin"), make_patient(given_name="Sasha")
        db.session.commit()
        return first.id, second.id


def _events(
    app: Flask, count: int, *, patient_id: int | None = None, action: str = "x.read"
) -> None:
    with app.app_context():
        for n in range(count):
            record_event(action, actor=None, now=NOW + timedelta(days=n), patient_id=patient_id)
        db.session.commit()


def test_the_health_record_shows_who_read_it(
    demo: Flask, login_as: Callable[[str], FlaskClient]
) -> None:
    robin, sasha = _patients(demo)
    reception, mei = login_as("receptionist"), login_as("practitioner")
    reception.get(f"/reception/patients/{robin}/health")
    reception.get(f"/reception/patients/{robin}/health")
    reception.get(f"/reception/patients/{sasha}/health")
    page = reception.get(f"/reception/patients/{robin}/health").get_data(as_text=True)
    assert "Who has read this record" in page
    # The earlier reads of Robin's record, not Sasha's (this read too where the engine's
    # snapshot already sees it: PostgreSQL reads committed rows, SQLite keeps its snapshot).
    assert page.count("(receptionist)") in (2, 3)
    assert "flags.read" in page
    assert mei.get(f"/practitioner/patients/{robin}/health").status_code == 404  # not treating


def test_the_admin_filters_the_audit_by_patient_user_action_and_date(
    demo: Flask, login_as: Callable[[str], FlaskClient]
) -> None:
    robin, sasha = _patients(demo)
    reception = login_as("receptionist")
    reception.get(f"/reception/patients/{robin}/health")
    reception.get(f"/reception/patients/{sasha}/health")
    _events(demo, 3, patient_id=sasha, action="test.dated")
    admin = login_as("admin")
    by_patient = admin.get(f"/admin/audit?patient={robin}").get_data(as_text=True)
    assert "Robin" in by_patient
    assert "Sasha" not in by_patient
    staff = user_id_of(demo, "receptionist")
    by_user = admin.get(f"/admin/audit?user={staff}&action=flags.read").get_data(as_text=True)
    assert by_user.count("flags.read</code>") == 2
    assert "auth.sign_in</code>" not in by_user
    dated = admin.get("/admin/audit?action=test.dated&from=2027-03-02&to=2027-03-02")
    assert dated.get_data(as_text=True).count("test.dated</code>") == 1
    bad = admin.get("/admin/audit?from=2027-02-30&patient=abc")
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "There is a problem" in body
    assert 'href="#audit-from"' in body


def test_the_audit_list_is_paged_without_n_plus_one(
    demo: Flask, login_as: Callable[[str], FlaskClient]
) -> None:
    admin = login_as("admin")
    admin.get("/admin/audit")  # warm the session's own reads
    _events(demo, 1, action="test.paged")
    with count_queries(demo) as few:
        assert admin.get("/admin/audit?action=test.paged").status_code == 200
    _events(demo, 120, action="test.paged")
    with count_queries(demo) as many:
        first = admin.get("/admin/audit?action=test.paged").get_data(as_text=True)
    assert len(many) == len(few)
    assert first.count("test.paged</code>") == 50
    assert "Older rows" in first
    third = admin.get("/admin/audit?action=test.paged&page=3").get_data(as_text=True)
    assert third.count("test.paged</code>") == 21
    assert "Newer rows" in third
    assert "Older rows" not in third
