"""Z1: every rule in app.url_map × method × role answers the status the matrix expects."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import ApiToken, User
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


@pytest.mark.matrix("Z1")
@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(demo: Flask, login_as: Callable[[str], FlaskClient], role: str) -> None:
    failures = []
    token = _api_token(demo, role)
    for endpoint, method, _rule in _routes(demo):
        client = login_as(role)
        with demo.test_request_context():
            from flask import url_for

            url = url_for(endpoint, **URL_ARGS.get(endpoint, {}))
        headers = {}
        if endpoint.startswith("api."):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
        if method == "GET":
            response = client.get(url, headers=headers)
        else:
            page = client.get("/auth/sign-in", follow_redirects=True).get_data(as_text=True)
            data = {"csrf_token": csrf_from(page), **POST_DATA.get(endpoint, {})}
            response = client.open(url, method=method, data=data, headers=headers)
        expected = MATRIX[(endpoint, method)][role]
        if response.status_code != expected:
            failures.append((endpoint, method, response.status_code, expected))
        if response.status_code == 302 and expected == 302 and role == "anonymous":
            location = response.headers["Location"]
            if endpoint.split(".")[0] in {"patient", "practitioner", "reception", "admin"}:
                assert "/auth/sign-in" in location
    assert failures == [], f"(endpoint, method, got, expected) for {role}: {failures}"
