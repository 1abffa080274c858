"""Staff two-step sign-in (security.md §3, A5): TOTP within one step, never twice; recovery
codes once each; mandatory enrolment; an admin reset, audited."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from booking.extensions import db
from booking.models import AuditEvent, Clinic, RecoveryCode, User
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD, FrozenClock, csrf_from, freeze_clock, sign_in

NOW = datetime(2027, 3, 1, 8, 0, 10, tzinfo=UTC)
STAFF_PAGES = ("/reception/", "/admin/", "/practitioner/", "/auth/change-password")
_SECRET = re.compile(r"<code>((?:[A-Z2-7]{4} ?)+)</code>")
_CODES = re.compile(r"<li><code>([0-9a-f-]{34})</code></li>")


@pytest.fixture
def engine_name() -> str:
    """SQLite only: nothing here depends on the engine (the audit tests run on both)."""
    return "sqlite"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    return freeze_clock(monkeypatch, NOW)


def code_at(secret: str, when: datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def enrol(client: FlaskClient, when: datetime) -> tuple[str, list[str]]:
    """Set up TOTP through the pages; return the secret and the recovery codes."""
    page = client.get("/auth/two-step/set-up")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    secret = _SECRET.search(html).group(1).replace(" ", "")  # type: ignore[union-attr]
    done = client.post(
        "/auth/two-step/set-up",
        data={"code": code_at(secret, when), "csrf_token": csrf_from(html)},
    )
    assert done.status_code == 200, done.get_data(as_text=True)[:400]
    codes = _CODES.findall(done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def second_step(client: FlaskClient, code: str) -> object:
    html = client.get("/auth/two-step").get_data(as_text=True)
    return client.post("/auth/two-step", data={"code": code, "csrf_token": csrf_from(html)})


def sign_out(client: FlaskClient) -> None:
    html = client.get("/auth/two-step").get_data(as_text=True)
    token = csrf_from(html) if "csrf_token" in html else None
    client.post("/auth/sign-out", data={"csrf_token": token})


def audit_count(app: Flask, action: str) -> int:
    with app.app_context():
        return (
            db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))
            or 0
        )


def user_id_of(app: Flask, role: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(User.id).where(User.email == DEMO_EMAILS[role]))
        assert found is not None
        return found


def set_required(app: Flask, required: bool) -> None:
    with app.app_context():
        db.session.execute(update(Clinic).values(mfa_required=required))
        db.session.commit()


@pytest.mark.matrix("A5")
def test_enrol_then_sign_in_with_a_code_once_and_a_recovery_code_once(
    demo: Flask, login_as: Callable[[str], FlaskClient], clock: FrozenClock
) -> None:
    client = login_as("receptionist")
    secret, codes = enrol(client, NOW)
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.email == DEMO_EMAILS["receptionist"]))
        assert user is not None
        assert user.totp_secret is not None
        assert secret not in user.totp_secret  # encrypted at rest
        assert db.session.scalar(select(func.count(RecoveryCode.id))) == 10
    client.post(
        "/auth/sign-out",
        data={"csrf_token": csrf_from(client.get("/reception/").get_data(as_text=True))},
    )

    # Password only: no staff page, each one leads to the code.
    clock.advance(seconds=30)
    fresh = demo.test_client()
    assert (
        sign_in(fresh, DEMO_EMAILS["receptionist"]).headers["Location"].startswith("/auth/two-step")
    )
    for path in STAFF_PAGES:
        response = fresh.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith(("/auth/two-step", "/auth/sign-in")), path
    assert fresh.get("/reception/").headers["Location"].startswith("/auth/two-step")

    # The code used at enrolment (same step) is refused; the next step's code works once.
    assert second_step(fresh, code_at(secret, NOW)).status_code == 422
    code = code_at(secret, clock.now)
    assert second_step(fresh, code).status_code == 302
    assert fresh.get("/reception/").status_code == 200
    sign_out(fresh)
    again = demo.test_client()
    sign_in(again, DEMO_EMAILS["receptionist"])
    assert second_step(again, code).status_code == 422  # never the same code twice

    # A recovery code works once, in any case and spacing.
    assert second_step(again, codes[0].upper().replace("-", " ")).status_code == 302
    assert again.get("/reception/").status_code == 200
    third = demo.test_client()
    sign_in(third, DEMO_EMAILS["receptionist"])
    assert second_step(third, codes[0]).status_code == 422
    assert audit_count(demo, "auth.mfa_verified") == 2
    assert audit_count(demo, "auth.mfa_failed") == 3


def test_codes_one_step_either_side_are_accepted_two_are_not(
    demo: Flask, login_as: Callable[[str], FlaskClient], clock: FrozenClock
) -> None:
    secret, _ = enrol(login_as("practitioner"), NOW)
    for offset, status in ((-60, 422), (60, 422), (-30, 302), (30, 302)):
        clock.now = NOW.replace(minute=NOW.minute + 5)
        client = demo.test_client()
        sign_in(client, DEMO_EMAILS["practitioner"])
        when = datetime.fromtimestamp(clock.now.timestamp() + offset, UTC)
        assert second_step(client, code_at(secret, when)).status_code == status, offset
        clock.advance(minutes=1)


def test_five_wrong_codes_lock_the_second_step(
    demo: Flask, login_as: Callable[[str], FlaskClient], clock: FrozenClock
) -> None:
    secret, _ = enrol(login_as("practitioner"), NOW)
    client = demo.test_client()
    sign_in(client, DEMO_EMAILS["practitioner"])
    for _ in range(5):
        assert second_step(client, "000000").status_code == 422
    clock.advance(seconds=60)
    refused = second_step(client, code_at(secret, clock.now))
    assert refused.status_code == 422
    assert "Too many wrong codes" in refused.get_data(as_text=True)


def test_mandatory_mfa_leads_staff_to_enrolment_and_nowhere_else(
    demo: Flask, clock: FrozenClock
) -> None:
    set_required(demo, True)
    client = demo.test_client()
    response = sign_in(client, DEMO_EMAILS["admin"])
    assert response.headers["Location"].startswith("/auth/two-step")
    assert client.get("/auth/two-step").headers["Location"].startswith("/auth/two-step/set-up")
    for path in (*STAFF_PAGES, "/admin/audit", "/admin/security"):
        got = client.get(path)
        assert got.status_code in (302, 403), path
        if got.status_code == 302:
            assert got.headers["Location"].startswith(("/auth/two-step", "/auth/sign-in")), path
    enrol(client, NOW)
    assert client.get("/admin/").status_code == 200
    # Patients never need it.
    patient = demo.test_client()
    assert sign_in(patient, DEMO_EMAILS["patient"]).headers["Location"] == "/patient/"


def test_turning_mandatory_on_sends_live_staff_sessions_to_enrolment(
    demo: Flask, login_as: Callable[[str], FlaskClient], clock: FrozenClock
) -> None:
    admin = login_as("admin")
    enrol(admin, NOW)
    reception = login_as("receptionist")
    assert reception.get("/reception/").status_code == 200
    html = admin.get("/admin/security").get_data(as_text=True)
    saved = admin.post("/admin/security", data={"mfa_required": "y", "csrf_token": csrf_from(html)})
    assert saved.status_code == 303
    assert reception.get("/reception/").headers["Location"].startswith("/auth/two-step")
    assert admin.get("/admin/").status_code == 200
    assert audit_count(demo, "clinic.mfa_required_on") == 1


def test_an_admin_resets_another_users_second_factor_audited(
    demo: Flask, login_as: Callable[[str], FlaskClient], clock: FrozenClock
) -> None:
    reception = login_as("receptionist")
    enrol(reception, NOW)
    admin = login_as("admin")
    with demo.app_context():
        target = db.session.scalar(select(User.id).where(User.email == DEMO_EMAILS["receptionist"]))
        own = db.session.scalar(select(User.id).where(User.email == DEMO_EMAILS["admin"]))
    html = admin.get("/admin/security").get_data(as_text=True)
    assert "Reset two-step verification" in html
    token = csrf_from(html)
    assert (
        admin.post(f"/admin/users/{own}/reset-two-step", data={"csrf_token": token}).status_code
        == 404
    )
    done = admin.post(f"/admin/users/{target}/reset-two-step", data={"csrf_token": token})
    assert done.status_code == 303
    assert reception.get("/reception/").status_code == 302  # signed out everywhere
    with demo.app_context():
        user = db.session.get(User, target)
        assert user is not None
        assert user.totp_secret is None
        assert not user.has_second_factor
        row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.mfa_reset"))
        assert row is not None
        assert row.object_id == target
        assert row.actor_user_id == own
    fresh = demo.test_client()
    assert sign_in(fresh, DEMO_EMAILS["receptionist"]).headers["Location"] == "/reception/"


@pytest.mark.matrix("C1")
@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_the_new_posts_refuse_a_missing_or_wrong_csrf_token(
    demo: Flask, login_as: Callable[[str], FlaskClient], token: str | None
) -> None:
    admin = login_as("admin")
    receptionist = user_id_of(demo, "receptionist")
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
    freeze_clock(monkeypatch, NOW)
    enrol(login_as("receptionist"), NOW)
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
    patient = user_id_of(demo, "patient")
    for user_id in (patient, 999999):
        assert (
            admin.post(
                f"/admin/users/{user_id}/reset-two-step", data={"csrf_token": token}
            ).status_code
            == 404
        )


def re_sub_csrf(body: str) -> str:
    return re.sub(r'value="[^"]{20,}"', 'value=""', body)


# ---- Changing the password asks for a code too (security.md §3) ---------------------------------

NEW_PASSWORD = "lantern orchard pebble 47"


def change_password(client: FlaskClient, **extra: str) -> object:
    html = client.get("/auth/change-password").get_data(as_text=True)
    data = {
        "current_password": DEMO_PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
        "csrf_token": csrf_from(html),
        **extra,
    }
    return client.post("/auth/change-password", data=data)


def password_hash_of(app: Flask, role: str) -> str:
    with app.app_context():
        return db.session.scalar(select(User.password_hash).where(User.email == DEMO_EMAILS[role]))


def test_with_two_step_on_the_password_change_asks_for_a_code(
    demo: Flask, login_as: Callable[[str], FlaskClient], clock: FrozenClock
) -> None:
    client = login_as("practitioner")
    assert 'name="code"' not in client.get("/auth/change-password").get_data(as_text=True)
    secret, codes = enrol(client, NOW)
    page = client.get("/auth/change-password").get_data(as_text=True)
    assert 'name="code"' in page
    assert 'autocomplete="one-time-code"' in page
    before = password_hash_of(demo, "practitioner")

    missing = change_password(client)
    wrong = change_password(client, code="000000")

    assert missing.status_code == 200  # type: ignore[attr-defined]  # the form's own check
    assert wrong.status_code == 422  # type: ignore[attr-defined]  # refused by the service
    for refused, message in (
        (missing, "Enter the code from your authenticator app or a recovery code"),
        (wrong, "Enter the 6-digit code from your app, or one of your recovery codes"),
    ):
        body = refused.get_data(as_text=True)  # type: ignore[attr-defined]
        summary = body.split('class="govuk-error-summary', 1)[1].split("</div>", 1)[0]
        assert f'href="#code">{message}' in summary
        assert NEW_PASSWORD not in body
        assert DEMO_PASSWORD not in body
    assert password_hash_of(demo, "practitioner") == before
    assert audit_count(demo, "auth.mfa_failed") == 1  # the wrong code, counted

    # The enrolment's code (this step) is spent; the next step's code works.
    clock.advance(seconds=30)
    done = change_password(client, code=code_at(secret, NOW.replace(second=40)))
    assert done.status_code == 303, done.get_data(as_text=True)[:600]  # type: ignore[attr-defined]
    assert password_hash_of(demo, "practitioner") != before


def test_a_recovery_code_also_lets_the_password_change(
    demo: Flask, login_as: Callable[[str], FlaskClient], clock: FrozenClock
) -> None:
    client = login_as("admin")
    _secret, codes = enrol(client, NOW)

    done = change_password(client, code=codes[0])

    assert done.status_code == 303  # type: ignore[attr-defined]
    with demo.app_context():
        spent = db.session.scalar(
            select(func.count(RecoveryCode.id)).where(RecoveryCode.used_at.is_not(None))
        )
    assert spent == 1
