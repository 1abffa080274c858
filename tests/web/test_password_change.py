"""Changing one's own password: every signed-in role, both engines (security.md §3, ux.md §7)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.domain.errors import InvalidInput
from booking.extensions import db
from booking.models import AuditEvent, OutboxMessage, Role, User, UserSession
from booking.services.accounts.passwords import check_new_password
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD, csrf_from, sign_in

PAGE = "/auth/change-password"
HOMES = {
    "patient": "/patient/",
    "practitioner": "/practitioner/",
    "receptionist": "/reception/",
    "admin": "/admin/",
}
NEW_PASSWORD = "lantern orchard pebble 47"  # 25 characters: fine for every role
BANNED = ("please", "sorry", "valid", "invalid", "required")


def _post(client: FlaskClient, **answers: str) -> object:
    page = client.get(PAGE)
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)), **answers}
    return client.post(PAGE, data=data)


def _answers(current: str, new: str, confirm: str | None = None) -> dict[str, str]:
    return {
        "current_password": current,
        "new_password": new,
        "confirm_password": new if confirm is None else confirm,
    }


def _state(app: Flask, role: str) -> dict[str, object]:
    """What a refused change must leave alone."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == DEMO_EMAILS[role]))
        return {
            "hash": user.password_hash,
            "revoked": db.session.scalar(
                select(func.count())
                .select_from(UserSession)
                .where(UserSession.user_id == user.id, UserSession.revoked_at.is_not(None))
            ),
            "outbox": db.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == "auth.password_changed")
            ),
            "changed": db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "auth.password_changed")
            ),
        }


@pytest.mark.parametrize("role", list(HOMES))
def test_each_role_changes_its_password(
    demo: Flask, login_as: Callable[[str], FlaskClient], role: str
) -> None:
    other = login_as(role)  # a second browser, signed in before the change
    client = login_as(role)
    assert other.get(HOMES[role]).status_code == 200
    old_cookie = client.get_cookie("session")
    assert old_cookie is not None

    response = _post(client, **_answers(DEMO_PASSWORD, NEW_PASSWORD))

    assert response.status_code == 303
    assert response.headers["Location"] == HOMES[role]
    home = client.get(HOMES[role])
    assert home.status_code == 200  # this browser stays signed in, on a new session
    assert "Your password has been changed" in home.get_data(as_text=True)
    assert other.get(HOMES[role]).status_code == 302  # the other browser is signed out
    replay = demo.test_client()  # the cookie from before the change is spent too
    replay.set_cookie("session", old_cookie.value)
    assert replay.get(HOMES[role]).status_code == 302

    with demo.app_context():
        user = db.session.scalar(select(User).where(User.email == DEMO_EMAILS[role]))
        assert user.password_hash.startswith("$argon2id$")
        sessions = db.session.scalars(
            select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
        ).all()
        assert len(sessions) == 3
        assert [s.revoked_at is None for s in sessions] == [False, False, True]
        audit = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.password_changed")
        ).all()
        assert [(a.actor_user_id, a.actor_role, a.object_type, a.object_id) for a in audit] == [
            (user.id, role, "user", user.id)
        ]
        mail = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "auth.password_changed")
        ).all()
        assert len(mail) == 1
        assert mail[0].recipient == DEMO_EMAILS[role]
        assert "password" in mail[0].subject.lower()
        assert "was changed" in mail[0].body_text
        for secret in (NEW_PASSWORD, DEMO_PASSWORD):
            assert secret not in mail[0].subject
            assert secret not in mail[0].body_text

    assert sign_in(demo.test_client(), DEMO_EMAILS[role], DEMO_PASSWORD).status_code == 200
    assert sign_in(demo.test_client(), DEMO_EMAILS[role], NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("role", "answers", "field", "message", "status"),
    [
        # wrong current password: refused by the service after the form passes
        ("patient", _answers("not-my-password", NEW_PASSWORD), "current_password",
         "Enter your current password correctly", 422),
        ("admin", _answers("not-my-password", NEW_PASSWORD), "current_password",
         "Enter your current password correctly", 422),
        # confirmation differs
        ("receptionist", _answers(DEMO_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x"),
         "confirm_password", "The passwords do not match", 200),
        # staff rule: 15 characters (the admin form's rule); 14 is one short
        ("practitioner", _answers(DEMO_PASSWORD, "a" * 14), "new_password",
         "Password must be 15 characters or more", 200),
        # patient rule: 8 characters; 7 is one short
        ("patient", _answers(DEMO_PASSWORD, "a" * 7), "new_password",
         "Password must be 8 characters or more", 200),
        # 129 characters: over the limit, never truncated
        ("patient", _answers(DEMO_PASSWORD, "a" * 129), "new_password",
         "Password must be 128 characters or fewer", 200),
        # the same as the current one
        ("admin", _answers(DEMO_PASSWORD, DEMO_PASSWORD), "new_password",
         "New password must be different from your current password", 200),
        # nothing entered
        ("patient", _answers("", "", ""), "current_password", "Enter your current password", 200),
        ("patient", _answers("", "", ""), "new_password", "Enter a new password", 200),
        ("patient", _answers("", "", ""), "confirm_password", "Confirm your new password", 200),
    ],
)  # fmt: skip
def test_a_refused_change_shows_the_error_and_changes_nothing(
    demo: Flask,
    login_as: Callable[[str], FlaskClient],
    role: str,
    answers: dict[str, str],
    field: str,
    message: str,
    status: int,
) -> None:
    other = login_as(role)
    client = login_as(role)
    before = _state(demo, role)

    response = _post(client, **answers)

    body = response.get_data(as_text=True)
    assert response.status_code == status
    assert "<title>Error: Change your password" in body
    summary = body.split('class="govuk-error-summary', 1)[1].split("</div>\n", 1)[0]
    assert "There is a problem" in summary
    assert f'href="#{field}">{message}</a>' in summary
    assert re.search(
        rf'id="{field}-error"[^>]*>\s*<span class="govuk-visually-hidden">Error:</span> {message}',
        body,
    )
    for secret in filter(None, answers.values()):  # passwords are never sent back
        assert f'value="{secret}"' not in body
    assert _state(demo, role) == before
    assert other.get(HOMES[role]).status_code == 200
    assert sign_in(demo.test_client(), DEMO_EMAILS[role]).status_code == 302


def test_a_wrong_current_password_is_audited(
    demo: Flask, login_as: Callable[[str], FlaskClient]
) -> None:
    client = login_as("patient")
    _post(client, **_answers("a-wrong-guess", NEW_PASSWORD))
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.email == DEMO_EMAILS["patient"]))
        failed = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.password_change_failed")
        ).all()
        assert [(a.actor_user_id, a.actor_role) for a in failed] == [(user.id, "patient")]


def test_a_patient_may_use_8_characters(
    demo: Flask, login_as: Callable[[str], FlaskClient]
) -> None:
    client = login_as("patient")
    assert _post(client, **_answers(DEMO_PASSWORD, "eight ch")).status_code == 303
    assert sign_in(demo.test_client(), DEMO_EMAILS["patient"], "eight ch").status_code == 302


@pytest.mark.parametrize(
    ("role", "password", "accepted"),
    [
        (Role.patient, "a" * 7, False),  # one under the patient minimum
        (Role.patient, "a" * 8, True),  # the patient minimum
        (Role.practitioner, "a" * 14, False),  # one under the staff minimum
        (Role.receptionist, "a" * 15, True),  # the staff minimum
        (Role.admin, "a" * 128, True),  # the longest allowed
        (Role.admin, "a" * 129, False),  # one over
        (Role.patient, "a" * 129, False),  # one over, patients too
        (Role.patient, "", False),  # nothing
    ],
)
def test_new_password_rule_boundaries(role: Role, password: str, accepted: bool) -> None:
    if accepted:
        check_new_password(password, role=role)
    else:
        with pytest.raises(InvalidInput) as caught:
            check_new_password(password, role=role)
        assert caught.value.field == "new_password"


def test_messages_follow_the_catalogue_rules(login_as: Callable[[str], FlaskClient]) -> None:
    client = login_as("patient")
    bodies = [
        _post(client, **answers).get_data(as_text=True)
        for answers in (
            _answers("", "", ""),
            _answers("wrong-password", NEW_PASSWORD),
            _answers(DEMO_PASSWORD, "short", "other"),
        )
    ]
    for body in bodies:
        messages = re.findall(r'class="govuk-error-message">(.*?)</p>', body, re.S)
        assert messages
        for message in messages:
            assert not any(word in message.lower() for word in BANNED), message


def test_the_form_has_a_csrf_token_and_autocomplete_hints(
    login_as: Callable[[str], FlaskClient],
) -> None:
    body = login_as("practitioner").get(PAGE).get_data(as_text=True)
    assert 'name="csrf_token"' in body
    assert '<h1 class="govuk-heading-l">Change your password</h1>' in body
    assert re.search(r'id="current_password"[^>]*autocomplete="current-password"', body)
    assert re.search(r'id="new_password"[^>]*autocomplete="new-password"', body)
    assert re.search(r'id="confirm_password"[^>]*autocomplete="new-password"', body)
    assert "Use at least 15 characters" in body
    assert "required" not in re.findall(r"<input[^>]*>", body)[-1]
    assert "novalidate" in body


@pytest.mark.matrix("C1")
@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_a_change_without_a_valid_csrf_token_is_refused(
    demo: Flask, login_as: Callable[[str], FlaskClient], token: str | None
) -> None:
    client = login_as("receptionist")
    before = _state(demo, "receptionist")
    data = _answers(DEMO_PASSWORD, NEW_PASSWORD)
    if token:
        data["csrf_token"] = token
    response = client.post(PAGE, data=data)
    assert response.status_code == 400
    assert _state(demo, "receptionist") == before


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_anonymous_visitors_are_sent_to_sign_in(demo: Flask, method: str) -> None:
    client = demo.test_client()
    page = client.get("/auth/sign-in").get_data(as_text=True)
    response = client.open(PAGE, method=method, data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/sign-in?next=/auth/change-password"


def test_signing_in_from_there_comes_back_to_the_form(demo: Flask) -> None:
    client = demo.test_client()
    page = client.get("/auth/sign-in?next=/auth/change-password").get_data(as_text=True)
    response = client.post(
        "/auth/sign-in",
        data={
            "email": DEMO_EMAILS["admin"],
            "password": DEMO_PASSWORD,
            "next": "/auth/change-password",
            "csrf_token": csrf_from(page),
        },
    )
    assert response.headers["Location"] == PAGE


@pytest.mark.parametrize("role", list(HOMES))
def test_each_home_page_links_to_the_form(
    login_as: Callable[[str], FlaskClient], role: str
) -> None:
    body = login_as(role).get(HOMES[role]).get_data(as_text=True)
    assert f'href="{PAGE}">Change your password</a>' in body
