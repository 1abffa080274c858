"""Configuration defaults and the start-up check that refuses unsafe settings.

Production is every start that is neither a test (`TESTING`) nor marked as a developer's
machine (`DEVELOPMENT`, `BOOKING_DEVELOPMENT=true`; `make run` sets it). Unmarked means
production, so a forgotten setting fails closed: production refuses debug mode, a missing
or non-HTTPS `BOOKING_BASE_URL`, missing `TRUSTED_HOSTS` and a session cookie without Secure.
"""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask.helpers import get_debug_flag

# Emailed links on a developer's machine or in tests, where no BOOKING_BASE_URL is needed.
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"
# `__Host-`: the browser accepts it only with Secure, Path=/ and no Domain, so no other
# host or path can plant or shadow the session cookie (security.md §3).
SECURE_SESSION_COOKIE = "__Host-session"


class Defaults:
    """Settings every install starts from; instance/config.py and BOOKING_* override them."""

    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI = "sqlite:///meridian.sqlite"  # made absolute in the instance folder
    # hide_parameters: a failed statement's values (names, emails) never reach a log line;
    # finish_config() keeps it when a config replaces these options. No pool_pre_ping: its
    # round trip on every checkout is replaced on PostgreSQL by a check of the idle socket
    # (booking.db_hooks), and a SQLite file cannot hang up.
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"hide_parameters": True}
    SQLALCHEMY_RECORD_QUERIES = False
    # True when BOOKING_SQLALCHEMY_DATABASE_URI points at PgBouncer in transaction pooling mode
    # (docs/deploy.md): psycopg then never prepares statements on the server, since the next
    # transaction may run on another server connection that does not know them.
    PGBOUNCER = False
    # How many proxies in front append to X-Forwarded-For (nginx on the same host: 1). With 0
    # the header is ignored and the client address is the socket's (or the PROXY protocol's,
    # docs/deploy.md): per-address rate limits and audit rows then see the real client only
    # when no header-forwarding proxy sits in between. Never more than the real count: a
    # client could then choose its own address by sending the header.
    PROXY_HOPS = 0
    MAX_CONTENT_LENGTH = 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    CLINIC_NAME = "Meridian Acupuncture"
    # Where emailed links point; production must set it (DEVELOPMENT_BASE_URL otherwise).
    BASE_URL: str | None = None
    # Host names the app answers to (Flask checks the Host header); production must set them.
    TRUSTED_HOSTS: list[str] | None = None
    DEVELOPMENT = False
    # Idle and absolute limits for server-side sessions (security.md §3).
    STAFF_IDLE_MINUTES = 15
    PATIENT_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 12
    # argon2id parameters; tests lower them for speed (except the A2 test).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4
    SMTP_HOST = "127.0.0.1"
    SMTP_PORT = 1025
    # "none" (a local relay), "starttls" (upgrade, usually port 587) or "tls" (port 465).
    SMTP_SECURITY = "none"
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_TIMEOUT = 10.0
    # A CA bundle to trust instead of the system's (a private relay's certificate).
    SMTP_CA_FILE: str | None = None
    MAIL_FROM = "Meridian Acupuncture <bookings@meridian.example>"
    LOG_LEVEL = "INFO"
    # A Redis (redis://host:port/db) sharing computed free times between workers and hosts;
    # without it each worker keeps its own (docs/performance.md, "Cached availability").
    CACHE_URL: str | None = None
    AVAILABILITY_CACHE_ENTRIES = 2048
    # The all-locations day sheet shows whole locations, page by page, up to this many
    # sessions a page (a location with more still gets a page of its own): a chain's day
    # of a thousand sessions is a page too long to scan or to serve quickly (issue 22).
    RECEPTION_SHEET_PAGE_SIZE = 150
    # Years a clinical record is kept after the last clinical event (adults; children until
    # 25 at least), then `flask apply-retention` anonymises it (security.md §5).
    CLINICAL_RETENTION_YEARS = 8


def is_production(config: dict[str, Any]) -> bool:
    return not config.get("TESTING") and not config.get("DEVELOPMENT")


def finish_config(config: dict[str, Any]) -> None:
    """Settings that follow from others, whichever layer set them."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options["hide_parameters"] = True
    if config.get("PGBOUNCER") and str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith(
        "postgresql"
    ):
        # prepare_threshold=None: psycopg 3 never uses server-side prepared statements.
        options["connect_args"] = {**options.get("connect_args", {}), "prepare_threshold": None}
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not config.get("BASE_URL") and not is_production(config):
        config["BASE_URL"] = DEVELOPMENT_BASE_URL
    hops = config.get("PROXY_HOPS") or 0
    if isinstance(hops, bool) or not isinstance(hops, int) or hops < 0:
        sys.exit("Meridian: BOOKING_PROXY_HOPS must be a whole number of proxies, 0 or more.")
    hosts = config.get("TRUSTED_HOSTS")
    if isinstance(hosts, str):  # BOOKING_TRUSTED_HOSTS="a.example, b.example"
        hosts = re.split(r"[\s,]+", hosts)
    # Flask treats an empty list as "any host": keep None for "not set".
    listed = [str(host).strip() for host in hosts or []]
    config["TRUSTED_HOSTS"] = [host for host in listed if host] or None
    if config.get("SESSION_COOKIE_SECURE"):
        config["SESSION_COOKIE_NAME"] = SECURE_SESSION_COOKIE
        config["SESSION_COOKIE_PATH"] = "/"
        config["SESSION_COOKIE_DOMAIN"] = None


def check_config(config: dict[str, Any]) -> None:
    """Stop start-up with one clear line when a setting would be unsafe."""
    if config.get("TESTING"):
        return
    production = is_production(config)
    # `flask run` turns the Werkzeug debugger on from FLASK_DEBUG whatever the config says.
    debug = bool(config.get("DEBUG")) or get_debug_flag()
    if production and debug:
        sys.exit(
            "Meridian: debug mode is on (FLASK_DEBUG or BOOKING_DEBUG); turn it off in "
            "production (BOOKING_DEVELOPMENT=true marks a developer's machine)."
        )
    if not debug:
        secret = config.get("SECRET_KEY")
        if not secret:
            sys.exit(
                "Meridian: SECRET_KEY is not set. Set BOOKING_SECRET_KEY "
                "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        if len(str(secret)) < 32:
            sys.exit("Meridian: SECRET_KEY must be at least 32 characters long.")
    if production:
        _check_production(config)


def _check_production(config: dict[str, Any]) -> None:
    base_url = config.get("BASE_URL")
    if not base_url:
        sys.exit(
            "Meridian: BOOKING_BASE_URL is not set; set it to this site's https:// address "
            "(emailed links use it)."
        )
    parts = urlsplit(str(base_url))
    if parts.scheme != "https" or not parts.hostname:
        sys.exit(
            "Meridian: BOOKING_BASE_URL must be an https:// address with a host name, "
            "e.g. https://book.example-clinic.com."
        )
    hosts = config.get("TRUSTED_HOSTS")
    if not hosts:
        sys.exit(
            "Meridian: TRUSTED_HOSTS is not set; set BOOKING_TRUSTED_HOSTS to the host names "
            "this site answers to, e.g. book.example-clinic.com."
        )
    if not _host_is_listed(parts.hostname, hosts):
        sys.exit(
            f"Meridian: the host of BOOKING_BASE_URL ({parts.hostname}) is not in TRUSTED_HOSTS."
        )
    if not config.get("SESSION_COOKIE_SECURE"):
        sys.exit(
            "Meridian: the session cookie is not Secure; set BOOKING_SESSION_COOKIE_SECURE=true "
            "(production is served over HTTPS)."
        )


def _host_is_listed(host: str, trusted: list[str]) -> bool:
    """Werkzeug's rule: an entry matches exactly, or as a suffix when it starts with a dot."""
    host = host.lower()
    for entry in (item.lower() for item in trusted):
        if entry.startswith("."):
            if host == entry[1:] or host.endswith(entry):
                return True
        elif host == entry:
            return True
    return False
