"""Production start-up refuses unsafe settings; trusted hosts; the session cookie's name and flags.

Issue 13 item 8 and security.md §7 (C3) and §3 (S1). Production is any start that is neither
testing nor marked `BOOKING_DEVELOPMENT=true` (the Makefile's `make run` marks itself).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD, csrf_from

ROOT = Path(__file__).resolve().parents[2]
SITE = "book.example-clinic.com"


def _production_env(tmp_path: Path) -> dict[str, str]:
    """A complete, safe production environment (instance/config.py cannot change it)."""
    return {
        "PATH": "/usr/bin:/bin",
        "BOOKING_DEVELOPMENT": "false",
        "BOOKING_SECRET_KEY": "p" * 40,
        "BOOKING_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/prod.db",
        "BOOKING_BASE_URL": f"https://{SITE}",
        "BOOKING_TRUSTED_HOSTS": f'["{SITE}"]',
        "BOOKING_SESSION_COOKIE_SECURE": "true",
    }


def _start(env: dict[str, str], instance: Path) -> subprocess.CompletedProcess[str]:
    code = (
        "from booking import create_app; a = create_app(); "
        "print(a.config['SESSION_COOKIE_NAME'], a.config['TRUSTED_HOSTS'], a.config['BASE_URL'])"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        # Its own instance folder: a developer's instance/config.py must not change the result.
        env={"BOOKING_INSTANCE_PATH": str(instance), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.matrix("C3")
def test_a_complete_production_config_starts(tmp_path: Path) -> None:
    result = _start(_production_env(tmp_path), tmp_path / "instance")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["__Host-session", f"['{SITE}']", f"https://{SITE}"]


@pytest.mark.matrix("C3")
@pytest.mark.parametrize(
    ("change", "message"),
    [
        # Debug mode, however it is switched on.
        pytest.param({"FLASK_DEBUG": "1"}, "debug mode is on", id="flask-debug"),
        pytest.param({"BOOKING_DEBUG": "true"}, "debug mode is on", id="booking-debug"),
        # `flask run` starts the debugger from FLASK_DEBUG even when the config says no.
        pytest.param(
            {"FLASK_DEBUG": "1", "BOOKING_DEBUG": "false"},
            "debug mode is on",
            id="flask-debug-over-config",
        ),
        # No base URL: emailed links would follow whatever the request said.
        pytest.param({"BOOKING_BASE_URL": None}, "BOOKING_BASE_URL is not set", id="no-base-url"),
        pytest.param({"BOOKING_BASE_URL": ""}, "BOOKING_BASE_URL is not set", id="empty-base-url"),
        pytest.param(
            {"BOOKING_BASE_URL": f"http://{SITE}"},
            "BOOKING_BASE_URL must be an https:// address",
            id="http-base-url",
        ),
        pytest.param(
            {"BOOKING_BASE_URL": "https://"},
            "BOOKING_BASE_URL must be an https:// address",
            id="base-url-without-host",
        ),
        # No trusted hosts: any Host header is answered.
        pytest.param(
            {"BOOKING_TRUSTED_HOSTS": None}, "TRUSTED_HOSTS is not set", id="no-trusted-hosts"
        ),
        pytest.param(
            {"BOOKING_TRUSTED_HOSTS": "[]"}, "TRUSTED_HOSTS is not set", id="empty-trusted-hosts"
        ),
        pytest.param(
            {"BOOKING_TRUSTED_HOSTS": '["other.example"]'},
            f"the host of BOOKING_BASE_URL ({SITE}) is not in TRUSTED_HOSTS",
            id="base-url-host-not-trusted",
        ),
        # A session cookie that travels over plain HTTP.
        pytest.param(
            {"BOOKING_SESSION_COOKIE_SECURE": None},
            "the session cookie is not Secure",
            id="no-secure-cookie",
        ),
        pytest.param(
            {"BOOKING_SESSION_COOKIE_SECURE": "false"},
            "the session cookie is not Secure",
            id="insecure-cookie",
        ),
    ],
)
def test_each_unsafe_production_setting_stops_start_up_with_one_line(
    tmp_path: Path, change: dict[str, str | None], message: str
) -> None:
    env = _production_env(tmp_path)
    for key, value in change.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    result = _start(env, tmp_path / "instance")
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Meridian: ")
    assert message in lines[0]


def test_a_development_install_starts_on_loopback_http(tmp_path: Path) -> None:
    """`make run`: BOOKING_DEVELOPMENT with only a secret, served on http://127.0.0.1:5000."""
    env = {
        "PATH": "/usr/bin:/bin",
        "BOOKING_DEVELOPMENT": "true",
        "BOOKING_SECRET_KEY": "d" * 40,
        "BOOKING_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/dev.db",
    }
    result = _start(env, tmp_path / "instance")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["session", "None", "http://127.0.0.1:5000"]


def test_trusted_hosts_from_the_environment_may_be_a_comma_list(tmp_path: Path) -> None:
    env = {**_production_env(tmp_path), "BOOKING_TRUSTED_HOSTS": f"{SITE}, www.example-clinic.com"}
    result = _start(env, tmp_path / "instance")
    assert result.returncode == 0, result.stderr
    assert f"['{SITE}', 'www.example-clinic.com']" in result.stdout


# ---- Trusted hosts ------------------------------------------------------------------------------


@pytest.fixture
def hosted(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    from tests.conftest import make_app

    with make_app(
        "sqlite", tmp_path, request, TRUSTED_HOSTS=[SITE], BASE_URL=f"https://{SITE}"
    ) as app:
        yield app


def test_a_forged_host_header_is_refused(hosted: Flask) -> None:
    client = hosted.test_client()
    assert client.get("/help", headers={"Host": SITE}).status_code == 200
    for forged in ("evil.example", f"{SITE}.evil.example", "evil.example:443"):
        response = client.get("/help", headers={"Host": forged})
        assert response.status_code == 400, forged
    api = client.get("/api/v1/locations", headers={"Host": "evil.example"})
    assert api.status_code == 400
    assert api.mimetype == "application/problem+json"


# ---- The session cookie -------------------------------------------------------------------------


@pytest.fixture
def secure_demo(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    from tests.conftest import make_app, seed_demo

    with make_app("sqlite", tmp_path, request, SESSION_COOKIE_SECURE=True) as app:
        seed_demo(app)
        yield app


@pytest.mark.matrix("S1")
def test_a_secure_session_cookie_is_host_prefixed(secure_demo: Flask) -> None:
    client = secure_demo.test_client()
    page = client.get("/auth/sign-in", base_url="https://localhost")
    response = client.post(
        "/auth/sign-in",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/auth/sign-in"},  # Flask-WTF checks it on HTTPS
        data={
            "email": DEMO_EMAILS["receptionist"],
            "password": DEMO_PASSWORD,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 1
    name_value, *attributes = (part.strip() for part in cookies[0].split(";"))
    assert name_value.startswith("__Host-session=")
    flags = {attribute.split("=")[0].lower(): attribute for attribute in attributes}
    assert {"secure", "httponly", "path"} <= flags.keys()
    assert flags["path"] == "Path=/"
    assert flags["samesite"] == "SameSite=Lax"
    assert "domain" not in flags  # __Host- cookies must not name a domain
    assert client.get("/reception/", base_url="https://localhost").status_code == 200
