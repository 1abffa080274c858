"""Rate limits on the API: per token and per address, on a store every worker shares.

The default store is the database (`meridiandb://`); Redis when configured. A breach answers
429 problem+json with Retry-After.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from booking.extensions import db, limiter
from booking.models import RateLimitCounter
from tests.conftest import IN_CI, make_app, seed_demo
from tests.web.test_api import bearer, conforms, make_tokens

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def limited(engine_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The demo app with small limits: 3 per address, 2 per token, per minute."""
    config = {"API_RATELIMIT_PER_IP": "3/minute", "API_RATELIMIT_PER_TOKEN": "2/minute"}
    with make_app(engine_name, tmp_path, request, **config) as app:
        seed_demo(app)
        yield app


def _get(app: Flask, path: str, **headers: str) -> Any:
    return app.test_client().get(path, headers=headers)


def test_the_fourth_request_from_one_address_is_429(limited: Flask) -> None:
    for _ in range(3):
        assert _get(limited, "/api/v1/locations").status_code == 200
    refused = _get(limited, "/api/v1/locations")
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 61  # the window, rounded up
    body = conforms(refused, "/locations")
    assert body["status"] == 429
    # Another address still gets through.
    other = limited.test_client().get(
        "/api/v1/locations", environ_overrides={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert other.status_code == 200


def _from(app: Flask, forwarded_for: str) -> int:
    """A request arriving from the local proxy on behalf of `forwarded_for`."""
    response = app.test_client().get(
        "/api/v1/locations",
        headers={"X-Forwarded-For": forwarded_for},
        environ_overrides={"REMOTE_ADDR": "127.0.0.1"},
    )
    return response.status_code


def test_behind_one_proxy_each_client_has_its_own_budget(
    engine_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """nginx in front (docs/operations.md): the proxy's address must not be everyone's."""
    config = {"API_RATELIMIT_PER_IP": "3/minute", "PROXY_HOPS": 1}
    with make_app(engine_name, tmp_path, request, **config) as app:
        seed_demo(app)
        assert [_from(app, "198.51.100.1") for _ in range(4)] == [200, 200, 200, 429]
        # Another client behind the same proxy; a forged first hop does not count.
        assert _from(app, "203.0.113.9, 198.51.100.2") == 200


def test_without_proxy_hops_a_forwarded_for_header_is_ignored(limited: Flask) -> None:
    """The default trusts no header: a client cannot pick a fresh address per request."""
    statuses = [_from(limited, f"198.51.100.{n}") for n in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_proxy_hops_must_be_a_whole_number(tmp_path: Path) -> None:
    from booking.config import finish_config

    for bad in (-1, "1", 1.5, True):
        with pytest.raises(SystemExit, match="BOOKING_PROXY_HOPS"):
            finish_config({"PROXY_HOPS": bad, "TESTING": True})


def test_each_token_has_its_own_budget(limited: Flask) -> None:
    tokens = make_tokens(limited)
    addresses = iter(f"192.0.2.{n}" for n in range(10, 40))

    def me(token: str) -> int:
        client = limited.test_client()
        return client.get(
            "/api/v1/me",
            headers=bearer(token),
            environ_overrides={"REMOTE_ADDR": next(addresses)},
        ).status_code

    assert [me(tokens["receptionist"]) for _ in range(3)] == [200, 200, 429]
    assert me(tokens["practitioner"]) == 200


def test_counters_live_in_the_database(limited: Flask) -> None:
    _get(limited, "/api/v1/locations")
    _get(limited, "/api/v1/locations")
    with limited.app_context():
        rows = db.session.scalars(select(RateLimitCounter)).all()
        assert len(rows) == 1
        assert rows[0].hits == 2
        assert "api-ip" in rows[0].key


def test_database_storage_counts_expires_and_clears(app: Flask) -> None:
    from booking.api.ratelimit import DatabaseStorage

    storage = DatabaseStorage("meridiandb://")
    with app.app_context():
        assert storage.check()
        assert storage.get("k") == 0
        assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
        assert storage.get("k") == 3
        assert storage.get_expiry("k") > 0
        # An expired window starts again at the amount.
        assert storage.incr("short", 0) == 1
        assert storage.incr("short", 0) == 1
        storage.clear("k")
        assert storage.get("k") == 0
        storage.incr("k", 60)
        assert storage.reset() == 2
        assert db.session.scalar(select(func.count()).select_from(RateLimitCounter)) == 0


def test_large_limits_reserve_blocks_and_never_admit_more_than_the_limit(app: Flask) -> None:
    """Two workers (two stores) share a 200-a-minute limit: one write per 4 hits (issue 22)."""
    from limits import parse
    from limits.strategies import FixedWindowRateLimiter

    from booking.api.ratelimit import DatabaseStorage, block_size

    limit = parse("200/minute")
    assert block_size(limit.key_for("x")) == 4
    assert block_size(parse("20/minute").key_for("x")) == 1  # small limits: one write a hit
    workers = [FixedWindowRateLimiter(DatabaseStorage("meridiandb://")) for _ in range(2)]
    with app.app_context():
        admitted = [workers[n % 2].hit(limit, "ip", "192.0.2.1") for n in range(260)]
        counted = db.session.scalar(select(RateLimitCounter.hits))
    assert sum(admitted) <= 200
    assert sum(admitted) >= 200 - 2 * 3  # at most a block less one unused per worker
    assert admitted[:190] == [True] * 190
    # The shared counter moved in blocks: it counts every reserved hit, admitted or not.
    assert counted is not None
    assert counted % 4 == 0
    assert counted >= 260


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError:
        if IN_CI:
            pytest.fail(f"CI=true but Redis is not reachable at {REDIS_URL}")
        pytest.skip("Redis not reachable")


def test_redis_is_used_when_configured(
    sqlite_app: Flask, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _redis_or_skip()
    import redis

    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    config = {"RATELIMIT_STORAGE_URI": REDIS_URL, "API_RATELIMIT_PER_IP": "2/minute"}
    (tmp_path / "redis").mkdir()
    with make_app("sqlite", tmp_path / "redis", request, **config) as app:
        seed_demo(app)
        client = redis.Redis.from_url(REDIS_URL)
        client.delete(*client.keys(f"*ip:{address}/*") or ["-"])
        statuses = [
            app.test_client()
            .get("/api/v1/locations", environ_overrides={"REMOTE_ADDR": address})
            .status_code
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        keys = client.keys(f"*ip:{address}/*")
        assert keys
        client.delete(*keys)
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(RateLimitCounter)) == 0
    limiter.init_app(sqlite_app)  # back to the database store for later tests in this worker


def test_memory_storage_is_refused_outside_tests(tmp_path: Path) -> None:
    from booking import create_app

    with pytest.raises(SystemExit, match="memory://"):
        create_app(
            {
                "SECRET_KEY": "x" * 40,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite'}",
                "RATELIMIT_STORAGE_URI": "memory://",
                # An otherwise valid production config, so only the store is refused.
                "BASE_URL": "https://clinic.example",
                "TRUSTED_HOSTS": ["clinic.example"],
                "SESSION_COOKIE_SECURE": True,
            }
        )


# --- the API's limits, counted by check_api_limits (issue 22) ----------------------------


def test_a_request_refused_by_its_token_limit_does_not_count_against_its_address(
    limited: Flask,
) -> None:
    """Limits are counted in turn and the first one spent refuses the request, uncounted
    by the rest: 2 a minute per token, 3 per address, all from one address."""
    tokens = make_tokens(limited)
    client = limited.test_client()

    def me(**headers: str) -> int:
        return client.get("/api/v1/me", headers=headers).status_code

    token = bearer(tokens["receptionist"])
    assert [me(**token), me(**token), me(**token)] == [200, 200, 429]
    # The address has used 2 of its 3: the refused request was not counted against it.
    assert client.get("/api/v1/locations").status_code == 200
    assert client.get("/api/v1/locations").status_code == 429


def test_the_counters_keep_flask_limiters_keys(limited: Flask) -> None:
    """The same keys as when Flask-Limiter counted them: workers of the last release and of
    this one share their counts during a rolling deploy."""
    tokens = make_tokens(limited)
    limited.test_client().get("/api/v1/me", headers=bearer(tokens["admin"]))
    with limited.app_context():
        keys = set(db.session.scalars(select(RateLimitCounter.key)))
    from booking.services.platform.tokens import token_hash

    assert keys == {
        "LIMITER/meridian/ip:127.0.0.1/api-ip/3/1/minute",
        f"LIMITER/meridian/token:{token_hash(tokens['admin'])[:32]}/api-token/2/1/minute",
    }


def test_a_changed_limit_setting_applies_at_once(limited: Flask) -> None:
    """Limit strings are parsed once per string, but the setting is read on every request."""
    for _ in range(3):
        assert _get(limited, "/api/v1/locations").status_code == 200
    assert _get(limited, "/api/v1/locations").status_code == 429
    limited.config["API_RATELIMIT_PER_IP"] = "5/minute"  # a new key: a new count
    assert [_get(limited, "/api/v1/locations").status_code for _ in range(6)] == [200] * 5 + [429]


def test_flask_limiters_own_check_runs_only_when_it_has_limits_to_check(
    app: Flask, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Meridian declares no default, application or blueprint limit (views check their own,
    the API's are counted by check_api_limits), so Flask-Limiter's per-request check is not
    installed; a configured default limit brings it back."""
    from booking.api.ratelimit import check_api_limits

    manager = limiter.limit_manager
    assert not manager.default_limits
    assert not manager.application_limits
    assert all(not manager.blueprint_limits(app, name) for name in app.blueprints)
    hooks = app.before_request_funcs[None]
    assert limiter._check_request_limit not in hooks
    assert check_api_limits in hooks

    (tmp_path / "defaults").mkdir()
    try:
        with make_app(
            "sqlite", tmp_path / "defaults", request, RATELIMIT_DEFAULT="2/minute"
        ) as limited_app:
            assert limiter._check_request_limit in limited_app.before_request_funcs[None]
            client = limited_app.test_client()
            statuses = [client.get("/healthz").status_code for _ in range(3)]
            assert statuses == [200, 200, 429]
    finally:
        manager.set_default_limits([])  # the limiter is shared by the tests in this process
