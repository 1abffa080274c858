"""The audit trail people can read: the admin's filtered, paged list and, on a patient's
health record, who has read it. Plus CSRF, headers and enumeration on the new routes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import AuditEvent, Clinic, User
from booking.services.platform.audit import record_event
from tests.conftest import DEMO_EMAILS, count_queries, csrf_from, freeze_clock, sign_in
from tests.factories import make_patient

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _patients(app: Flask) -> tuple[int, int]:
    with app.app_context():
        first, second = make_patient(given_name="Robin"), make_patient(given_name="Sasha")
        db.session.commit()
        return first.id, second.id


def _user_id(app: Flask, role: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(User.id).where(User.email == DEMO_EMAILS[role]))
        assert found is not None
        return found


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
    staff = _user_id(demo, "receptionist")
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


@pytest.mark.matrix("C1")
@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_the_new_posts_refuse_a_missing_or_wrong_csrf_token(
    demo: Flask, login_as: Callable[[str], FlaskClient], token: str | None
) -> None:
    admin = login_as("admin")
    receptionist = _user_id(demo, "receptionist")
    data = {"csrf_token": token} if token else {}
    for path, form in (
        ("/admin/security", {"mfa_required": "y"}),
        (f"/admin/users/{receptionist}/reset-two-step", {}),
        ("/auth/two-step/set-up", {"code": "123456"}),
        ("/auth/two-step", {"code": "123456"}),
    ):
        assert admin.post(path, data={**form, **data}).status_code == 400, path
    with demo.app_context():
        clinic = db.session.scalar(select(Clinic))
        assert clinic is not None
        assert clinic.mfa_required is False
        assert (
            db.session.scalar(
                select(func.count(AuditEvent.id)).where(AuditEvent.action.like("%mfa%"))
            )
            == 0
        )


def test_the_new_pages_send_the_security_headers(
    demo: Flask, login_as: Callable[[str], FlaskClient]
) -> None:
    admin = login_as("admin")
    pending = demo.test_client()
    with demo.app_context():
        db.session.execute(
            Clinic.__table__.update().values(mfa_required=True)  # type: ignore[attr-defined]
        )
        db.session.commit()
    sign_in(pending, DEMO_EMAILS["receptionist"])
    for client, path in (
        (admin, "/admin/audit"),
        (admin, "/admin/security"),
        (admin, "/auth/two-step/set-up"),
        (pending, "/auth/two-step/set-up"),
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert " style=" not in response.get_data(as_text=True)
    assert admin.get("/admin/audit").headers["Cache-Control"] == "no-store"


@pytest.mark.matrix("A4")
def test_two_step_reveals_no_account(
    demo: Flask, login_as: Callable[[str], FlaskClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a second factor, a wrong password still gets the one sign-in answer, as an unknown
    # address does; the reset route answers 404 alike for a patient and for no account.
    from tests.web.test_two_step import NOW as ENROL_NOW
    from tests.web.test_two_step import enrol

    freeze_clock(monkeypatch, ENROL_NOW)
    enrol(login_as("receptionist"), ENROL_NOW)
    answers = []
    for email in (DEMO_EMAILS["receptionist"], "nobody@meridian.example"):
        client = demo.test_client()
        response = sign_in(client, email, "not-the-password-at-all")
        answers.append((response.status_code, response.get_data(as_text=True).replace(email, "")))
    assert answers[0][0] == answers[1][0] == 200
    csrf_free = [re_sub_csrf(body) for _, body in answers]
    assert csrf_free[0] == csrf_free[1]
    admin = login_as("admin")
    token = csrf_from(admin.get("/admin/security").get_data(as_text=True))
    patient = _user_id(demo, "patient")
    for user_id in (patient, 999999):
        assert (
            admin.post(
                f"/admin/users/{user_id}/reset-two-step", data={"csrf_token": token}
            ).status_code
            == 404
        )


def re_sub_csrf(body: str) -> str:
    import re

    return re.sub(r'value="[^"]{20,}"', 'value=""', body)
