"""Z1: every rule in app.url_map × method × role answers the status the matrix expects."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import Cookie

from booking.auth_session import SESSION_TOKEN_KEY
from booking.extensions import db
from booking.models import ApiToken, User, UserSession
from booking.services.platform.tokens import token_hash
from tests.conftest import DEMO_EMAILS, ROLES, csrf_from
from tests.web.access_matrix import MATRIX, POST_DATA, URL_ARGS

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - IGNORED_METHODS):
            routes.append((rule.endpoint, method, rule.rule))
    return routes


def test_every_route_has_an_entry(sqlite_app: Flask) -> None:
    missing = [(e, m) for e, m, _ in _routes(sqlite_app) if (e, m) not in MATRIX]
    assert missing == [], f"routes without an access-matrix entry: {missing}"
    stale = set(MATRIX) - {(e, m) for e, m, _ in _routes(sqlite_app)}
    assert stale == set(), f"matrix entries for routes that no longer exist: {stale}"


def _api_token(app: Flask, role: str) -> str | None:
    if role == "anonymous":
        return None
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == DEMO_EMAILS[role]))
        raw = f"test-token-{role}"
        db.session.add(
            ApiToken(
                user_id=user.id,
                name=role,
                prefix=raw[:8],
                token_hash=hashlib.sha256(raw.encode()).hexdigest(),
            )
        )
        db.session.commit()
        return raw


class RoleClients:
    """Fresh clients for one role, each carrying the cookie of one sign-in.

    Signing in for every route cost two requests (the form, then the POST) before the one
    under test; the cookie of one sign-in, copied into a new client, is the same starting
    point. A route that ended that sign-in's session (signing out, say) is noticed in the
    session's row, and the next route gets a new sign-in. For a POST the copied cookie is
    the one after a page with a form was read, so the CSRF token read then is valid.
    """

    def __init__(self, app: Flask, login_as: Callable[[str], FlaskClient], role: str) -> None:
        self.app = app
        self.login_as = login_as
        self.role = role
        self.signed_in = 0
        self._sign_in()

    def _sign_in(self) -> None:
        first = self.login_as(self.role)
        self.plain = self._cookie(first)
        page = first.get("/auth/sign-in", follow_redirects=True).get_data(as_text=True)
        self.csrf_token = csrf_from(page)
        self.with_form = self._cookie(first)
        self.token: str | None = None
        if self.role != "anonymous":
            with first.session_transaction() as session:
                self.token = session[SESSION_TOKEN_KEY]
        self.session_row = self._session_row()
        self.signed_in += 1

    def _cookie(self, client: FlaskClient) -> Cookie | None:
        return client.get_cookie(self.app.config["SESSION_COOKIE_NAME"])

    def _session_row(self) -> tuple[Any, ...] | None:
        """What decides whether the sign-in still holds: its session row and its user."""
        if self.token is None:
            return None
        with self.app.app_context():
            row = db.session.execute(
                select(UserSession.revoked_at, UserSession.mfa_pending, User.is_enabled)
                .join(User, User.id == UserSession.user_id)
                .where(UserSession.token_hash == token_hash(self.token))
            ).one()
            db.session.remove()
            return tuple(row)

    def client(self, *, form: bool) -> FlaskClient:
        cookie = self.with_form if form else self.plain
        new_client = self.app.test_client()
        if cookie is not None:
            new_client.set_cookie(
                cookie.key,
                cookie.value,
                domain=cookie.domain,
                path=cookie.path,
                origin_only=cookie.origin_only,
            )
        return new_client

    def after_request(self) -> None:
        """Sign in again when the route just tried ended or changed the shared session."""
        if self.token is not None and self._session_row() != self.session_row:
            self._sign_in()


def test_role_clients_share_one_sign_in_and_sign_in_again_after_sign_out(
    demo: Flask, login_as: Callable[[str], FlaskClient]
) -> None:
    """The matrix's copied sign-in is a signed-in client until a route ends its session."""
    clients = RoleClients(demo, login_as, "receptionist")
    for _ in range(2):
        assert clients.client(form=False).get("/reception/").status_code == 200
    clients.after_request()
    assert clients.signed_in == 1
    leaving = clients.client(form=True)
    response = leaving.post("/auth/sign-out", data={"csrf_token": clients.csrf_token})
    assert response.status_code == 302
    assert clients.client(form=False).get("/reception/").status_code == 302  # signed out
    clients.after_request()
    assert clients.signed_in == 2
    assert clients.client(form=False).get("/reception/").status_code == 200


@pytest.mark.matrix("Z1")
@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(demo: Flask, login_as: Callable[[str], FlaskClient], role: str) -> None:
    failures = []
    token = _api_token(demo, role)
    clients = RoleClients(demo, login_as, role)
    for endpoint, method, _rule in _routes(demo):
        client = clients.client(form=method != "GET")
        with demo.test_request_context():
            from flask import url_for

            url = url_for(endpoint, **URL_ARGS.get(endpoint, {}))
        headers = {}
        if endpoint.startswith("api."):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
        if method == "GET":
            response = client.get(url, headers=headers)
        else:
            data = {"csrf_token": clients.csrf_token, **POST_DATA.get(endpoint, {})}
            response = client.open(url, method=method, data=data, headers=headers)
        clients.after_request()
        expected = MATRIX[(endpoint, method)][role]
        if response.status_code != expected:
            failures.append((endpoint, method, response.status_code, expected))
        if response.status_code == 302 and expected == 302 and role == "anonymous":
            location = response.headers["Location"]
            if endpoint.split(".")[0] in {"patient", "practitioner", "reception", "admin"}:
                assert "/auth/sign-in" in location
    assert failures == [], f"(endpoint, method, got, expected) for {role}: {failures}"
