"""Configuration defaults and the start-up check that refuses unsafe settings."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any


class Defaults:
    """Settings every install starts from; instance/config.py and BOOKING_* override them."""

    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI = "sqlite:///meridian.sqlite"  # made absolute in the instance folder
    # hide_parameters: a failed statement's values (names, emails) never reach a log line;
    # finish_config() keeps it when a config replaces these options.
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
    SQLALCHEMY_RECORD_QUERIES = False
    MAX_CONTENT_LENGTH = 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    CLINIC_NAME = "Meridian Acupuncture"
    BASE_URL = "http://127.0.0.1:5000"
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
    MAIL_FROM = "Meridian Acupuncture <bookings@meridian.example>"
    LOG_LEVEL = "INFO"


def finish_config(config: dict[str, Any]) -> None:
    """Settings that follow from others, whichever layer set them."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options["hide_parameters"] = True
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def check_config(config: dict[str, Any]) -> None:
    """Stop start-up with one clear line when a setting would be unsafe outside dev/tests."""
    if config.get("TESTING") or config.get("DEBUG"):
        return
    secret = config.get("SECRET_KEY")
    if not secret:
        sys.exit(
            "Meridian: SECRET_KEY is not set. Set BOOKING_SECRET_KEY "
            "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    if len(str(secret)) < 32:
        sys.exit("Meridian: SECRET_KEY must be at least 32 characters long.")
