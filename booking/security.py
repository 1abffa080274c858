"""Request guards, safe redirects, security headers and the session-backed user loader."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from flask import Blueprint, Flask, abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user
from flask_login.config import COOKIE_NAME  # type: ignore[import-untyped]
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import MapAdapter
from werkzeug.wrappers import Response

from booking import clock
from booking.auth_session import SESSION_TOKEN_KEY, session_limits
from booking.db_hooks import WRITE_TX
from booking.extensions import db, login_manager
from booking.models import User
from booking.services.accounts.mfa import pending_user
from booking.services.accounts.sessions import load_session_user

T = TypeVar("T")

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")

CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'; img-src 'self'; style-src 'self'; script-src 'self'"
)
# Sent on every answer unless the view set its own (in this order).
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def register(app: Flask) -> None:
    """Install the app-wide request hooks and the Flask-Login loader."""
    login_manager.session_protection = None  # server-side session rows do this job
    login_manager.login_view = "auth.sign_in"

    @login_manager.user_loader
    def _load_user(user_id: str) -> User | None:
        return load_session_user(
            user_id,
            session.get(SESSION_TOKEN_KEY),
            now=clock.utcnow(),
            limits=session_limits(current_app.config),
        )

    @app.before_request
    def _mark_write_transaction() -> None:
        # A GET is a plain read (journey drafts are written on POST only, issue 22): on SQLite
        # it opens a deferred BEGIN and never queues for the write lock. Writes a GET must do
        # (a session touch, an audit row, a manage link's first use) go through write_unit().
        g.write_tx_token = WRITE_TX.set(request.method not in READ_METHODS)

    @app.teardown_request
    def _reset_write_transaction(_exc: BaseException | None) -> None:
        # The test client runs requests in the caller's context: do not leak the mode into it.
        token = g.pop("write_tx_token", None)
        if token is not None:
            # Torn down in another context (ValueError): then nothing leaked into ours.
            with contextlib.suppress(ValueError):
                WRITE_TX.reset(token)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        # Werkzeug's `setdefault` walks and lower-cases every header per call; the header
        # names present are read once instead (same headers, same order, issue 22).
        headers = response.headers
        present = {name.lower() for name, _ in headers}
        for name, value in SECURITY_HEADERS:
            if name.lower() not in present:
                headers.add(name, value)
        if signed_in() or request.path.startswith("/manage/"):
            headers["Cache-Control"] = "no-store"
        if app.config.get("SESSION_COOKIE_SECURE") and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", "max-age=31536000")
        return response


def signed_in() -> bool:
    """`current_user.is_authenticated`, without building an anonymous user to say no.

    Flask-Login loads a user for every request that asks (a session-protection hash, a
    signal, an anonymous object): for an API call or a health check, the only ask is this
    hook's. With no user id in the session (read the same way, so `Vary: Cookie` is set
    as before), no remember cookie and no request or header loader, Flask-Login's answer
    can only be anonymous, so it is not asked.
    """
    if g.get("_login_user") is None:
        cookie = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
        if (
            session.get("_user_id") is None
            and (not request.environ.get("HTTP_COOKIE") or cookie not in request.cookies)
            and login_manager._request_callback is None
            and login_manager._header_callback is None
        ):
            return False
    return bool(current_user.is_authenticated)


def password_cost() -> tuple[int, int, int]:
    """The configured argon2id (time, memory, parallelism) cost."""
    cfg = current_app.config
    return (cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"], cfg["ARGON2_PARALLELISM"])


STAFF_ENDPOINT_ROLES = frozenset({"practitioner", "admin"})


def guard(
    bp: Blueprint,
    *,
    roles: Iterable[str] | None,
    public: Iterable[str] = (),
    staff: Iterable[str] = (),
    hidden: Iterable[str] = (),
) -> None:
    """Register the one role check for every view of a blueprint.

    `roles=None` leaves the blueprint open; `public` names endpoints open to anyone;
    `staff` names endpoints that need a practitioner or an admin, whatever `roles` says.
    Anonymous users are sent to sign in, other roles get 403, except on the `hidden`
    endpoints (records those roles may not even know of, such as clinical notes): 404.
    """
    allowed = frozenset(roles) if roles is not None else None
    open_endpoints = frozenset(f"{bp.name}.{name}" for name in public)
    staff_endpoints = frozenset(f"{bp.name}.{name}" for name in staff)
    hidden_endpoints = frozenset(f"{bp.name}.{name}" for name in hidden)

    @bp.before_request
    def _guard() -> Response | None:
        if request.endpoint in staff_endpoints:
            needed = STAFF_ENDPOINT_ROLES
        elif allowed is None or request.endpoint in open_endpoints:
            return None
        else:
            needed = allowed
        if not current_user.is_authenticated:
            # A staff sign-in still waiting for its code (or enrolment) is nobody here: the
            # user loader refuses its session. It is sent on to that step, never in.
            step = "auth.two_step" if _waiting_for_second_step() else "auth.sign_in"
            return redirect(url_for(step, next=request.full_path.rstrip("?")))
        if current_user.role not in needed:
            abort(404 if request.endpoint in hidden_endpoints else 403)
        return None


def _waiting_for_second_step() -> bool:
    token = session.get(SESSION_TOKEN_KEY)
    if not token:
        return False
    idle = session_limits(current_app.config).staff_idle
    return pending_user(token, now=clock.utcnow(), idle=idle) is not None


def is_safe_next(target: str | None) -> bool:
    """True for a same-site path that maps to a GET route of this app."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    decoded = unquote(target)
    if _CONTROL.search(target) or _CONTROL.search(decoded) or decoded.startswith("//"):
        return False
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return False
    adapter = _url_adapter()
    try:
        adapter.match(parts.path, method="GET")
    except (NotFound, MethodNotAllowed):
        return False
    except Exception:  # a redirect or other routing outcome: not a plain page
        return False
    return True


def _url_adapter() -> MapAdapter:
    return current_app.url_map.bind("localhost")


def safe_next_or(default: str) -> str:
    """The `next` parameter when safe, else `default`."""
    target = request.args.get("next") or request.form.get("next")
    return target if target and is_safe_next(target) else default


def get_owned_or_404(model: type[T], object_id: int, **owner: Any) -> T:
    """Load a row by id that also matches the owner filters, or answer 404."""
    obj = db.session.get(model, object_id)
    if obj is None or any(getattr(obj, key) != value for key, value in owner.items()):
        abort(404)
    return obj


def request_id() -> str | None:
    """The current request's id, set by the logging hook."""
    return g.get("request_id")
