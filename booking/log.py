"""One JSON object per log line, with the request id; never query strings or health data.

Database errors are the usual way personal data reaches a log: SQLAlchemy prints a failed
statement's parameters (`hide_parameters` in config stops that) and PostgreSQL repeats values
in its messages (`DETAIL:  Key (email)=(…)`, `Failing row contains (…)`, `invalid input syntax
for type date: "…"`). `RedactFilter` rewrites those before any line is written.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, has_request_context, request
from flask_login import current_user
from werkzeug.wrappers import Response

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
HIDDEN = "[hidden: may hold personal data]"
# A server message's detail lines run until the next part of the message or traceback.
_NEXT_PART = (
    r"(?=\n\s*(?:DETAIL|HINT|CONTEXT|WHERE):|\n\[|\n\(Background|\n\n|\nTraceback"
    r"|\nThe above exception|\nDuring handling|\Z)"
)
_SERVER_DETAIL = re.compile(r"^(\s*(?:DETAIL|CONTEXT|WHERE):).*?" + _NEXT_PART, re.M | re.S)
_PARAMETERS = re.compile(r"^\[parameters: .*$", re.M)
# A path segment that looks like a secret: manage, intake and sign-in link tokens
# (`secrets.token_urlsafe(32)`, 43 characters) and anything else long and random; a
# lower-case slug (`/articles/follow-up-acupuncture`) has no capital, digit or underscore.
_TOKEN_SEGMENT = re.compile(r"(?<=/)(?=[A-Za-z0-9_\-]*[A-Z0-9_])[A-Za-z0-9_\-]{20,}(?=/|$)")
# The request line in an access log message: `"GET /path?query HTTP/1.1"`.
_REQUEST_LINE = re.compile(r'"([A-Z]+) (\S+) (HTTP/[0-9.]+)"')


def safe_path(path: str) -> str:
    """A request path fit for a log: no query string, token-like segments hidden."""
    return _TOKEN_SEGMENT.sub(":token", path.split("?", 1)[0])


class AccessLineFilter(logging.Filter):
    """Werkzeug's development-server access lines without query strings or link tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _REQUEST_LINE.sub(
            lambda m: f'"{m.group(1)} {safe_path(m.group(2))} {m.group(3)}"', message
        )
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def redact_exception_text(text: str) -> str:
    """Drop the parts of database error text that carry values, keeping the diagnosis.

    The fallback for text whose exception object is gone; `RedactFilter` first replaces the
    whole message of each PostgreSQL error it can see.
    """
    text = _PARAMETERS.sub("[SQL parameters hidden]", text)
    return _SERVER_DETAIL.sub(lambda m: f"{m.group(1)}  {HIDDEN}", text)


def _safe_database_message(error: BaseException) -> str | None:
    """A PostgreSQL error's message without values: its SQLSTATE and the names involved."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a pinned dependency
        return None
    if not isinstance(error, psycopg.Error) or error.sqlstate is None:
        return None  # psycopg's own client-side messages hold no values
    diag = error.diag
    names = [
        f'{kind} "{value}"'
        for kind, value in (
            ("constraint", diag.constraint_name),
            ("table", diag.table_name),
            ("column", diag.column_name),
            ("type", diag.datatype_name),
        )
        if value
    ]
    return f"SQLSTATE {error.sqlstate}{' ' if names else ''}{', '.join(names)}; message {HIDDEN}"


def _chain(error: BaseException | None) -> list[BaseException]:
    """The error and every error it was raised from or while handling."""
    seen: list[BaseException] = []
    pending = [error]
    while pending:
        current = pending.pop()
        if current is None or any(current is known for known in seen):
            continue
        seen.append(current)
        pending += [current.__cause__, current.__context__]
    return seen


class RedactFilter(logging.Filter):
    """Rewrite a record's message and exception text so no database values reach a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        errors = [arg for arg in _args(record) if isinstance(arg, BaseException)]
        if record.exc_info and record.exc_info[1] is not None:
            errors.append(record.exc_info[1])
        replacements = [
            (str(error), safe)
            for error in (link for root in errors for link in _chain(root))
            if (safe := _safe_database_message(error)) is not None and str(error)
        ]

        def clean(text: str) -> str:
            for raw, safe in replacements:
                text = text.replace(raw, safe)
            return redact_exception_text(text)

        message = record.getMessage()
        cleaned = clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = clean(
                record.exc_text or logging.Formatter().formatException(record.exc_info)
            )
        return True


def _args(record: logging.LogRecord) -> list[object]:
    if isinstance(record.args, tuple):
        return list(record.args)
    if isinstance(record.args, dict):
        return list(record.args.values())
    return []


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "request_id": None,  # every line has the key; set inside a request
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
            entry["endpoint"] = request.endpoint
            entry["method"] = request.method
            user = current_user if g.get("_login_user") is not None else None
            if user is not None and user.is_authenticated:
                entry["user_id"] = user.id
                entry["role"] = str(user.role)
        for key in ("status", "duration_ms"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_text:  # set, redacted, by RedactFilter
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def register(app: Flask) -> None:
    """Log as JSON and give every request an id echoed in X-Request-Id."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactFilter())
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    app.logger.propagate = False
    werkzeug = logging.getLogger("werkzeug")  # `flask run`'s access lines
    if not any(isinstance(f, AccessLineFilter) for f in werkzeug.filters):
        werkzeug.addFilter(AccessLineFilter())

    @app.before_request
    def _assign_request_id() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        if g.get("request_id"):
            response.headers["X-Request-Id"] = g.request_id
        return response
