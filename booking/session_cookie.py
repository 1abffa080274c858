"""Flask's signed session cookie, without its per-request set-up cost (issue 22).

Flask builds a new itsdangerous serializer for every request, cookie or not: about a tenth
of a bare request's CPU. Here the serializer is built once per set of keys, and a request
without a session cookie (API clients, health checks, a first visit) never needs one. The
cookie's format, signature, lifetime and attributes are Flask's own, unchanged.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Request, Response
from itsdangerous import URLSafeTimedSerializer


class SessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        # Keyed by the keys themselves: a changed SECRET_KEY (or fallbacks) gets its own.
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        found = self._serializers.get(keys)
        if found is None:
            found = super().get_signing_serializer(app)
            if found is None:  # pragma: no cover - only without a secret key, refused above
                return None
            if len(self._serializers) > 8:
                self._serializers.clear()
            self._serializers[keys] = found
        return found

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not app.secret_key:
            return None
        # No Cookie header at all (API clients, health checks): nothing to parse.
        if not request.environ.get("HTTP_COOKIE") or not request.cookies.get(
            self.get_cookie_name(app)
        ):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if session or session.modified:
            super().save_session(app, session, response)
            return
        # Empty and untouched (every request without a session): Flask would only add
        # `Vary: Cookie` if it was read, after looking up the seven cookie settings.
        if session.accessed:
            if "Vary" in response.headers:
                response.vary.add("Cookie")
            else:
                response.headers["Vary"] = "Cookie"
