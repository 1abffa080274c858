"""Flask extensions, created unbound and attached to an app in create_app()."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager as _FlaskLoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect as _FlaskWTFCSRFProtect

from booking.cache_store import SlotStore
from booking.models.base import Base


class LoginManager(_FlaskLoginManager):
    def _session_protection_failed(self) -> bool:
        """Flask-Login's answer; with session protection off (Meridian's: server-side session
        rows do that job) it is "no", given without first hashing the client's address and
        agent, which Flask-Login did on every request that loads a user (issue 22)."""
        mode = current_app.config.get("SESSION_PROTECTION", self.session_protection)
        if not mode or mode not in ("basic", "strong"):
            return False
        return bool(super()._session_protection_failed())


class CSRFProtect(_FlaskWTFCSRFProtect):
    def protect(self, apply_exemptions: bool = False) -> None:
        """Flask-WTF's check; a request whose method it never checks (GET, HEAD, OPTIONS) is
        let through before the exemption look-ups Flask-WTF made first on every request (its
        answer is the same, issue 22)."""
        if apply_exemptions and request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return
        super().protect(apply_exemptions=apply_exemptions)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
# Page words marked with _() use the same catalogues as email (booking/translations).
babel = Babel()
# Limits are declared where they apply (the API blueprint); the store is set in init_limiter.
limiter = Limiter(key_func=get_remote_address)


class AvailabilityCache:
    """The app's availability answer store (booking.cache_store), one per app and worker.

    Settings: `CACHE_URL` (`BOOKING_CACHE_URL=redis://...`) adds a Redis shared by every
    worker and host; `AVAILABILITY_CACHE_ENTRIES` bounds the per-worker store.
    """

    def init_app(self, app: Flask) -> None:
        uri = str(app.config.get("SQLALCHEMY_DATABASE_URI", ""))
        # The database's address (no password) keeps two databases apart in one Redis.
        database = hashlib.sha256(uri.rsplit("@", 1)[-1].encode()).hexdigest()[:12]
        app.extensions["availability_cache"] = SlotStore(
            max_entries=int(app.config.get("AVAILABILITY_CACHE_ENTRIES", 2048)),
            redis_url=app.config.get("CACHE_URL") or None,
            prefix=f"meridian:availability:{database}:",
        )

    @property
    def store(self) -> SlotStore:
        store: SlotStore = current_app.extensions["availability_cache"]
        return store

    @property
    def zones(self) -> dict[Any, Any]:
        """This app's locations' zones by (clinic stamp, location id): see
        booking.services.api.catalogue.location_zones_of."""
        kept: dict[Any, Any] = current_app.extensions.setdefault("meridian.location_zones", {})
        return kept


availability_cache = AvailabilityCache()
