"""One JSON object per log line, with the request id; never query strings or health data."""

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


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
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
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def register(app: Flask) -> None:
    """Log as JSON and give every request an id echoed in X-Request-Id."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    app.logger.propagate = False

    @app.before_request
    def _assign_request_id() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        if g.get("request_id"):
            response.headers["X-Request-Id"] = g.request_id
        return response
