"""gunicorn's logger for Meridian: JSON lines, and access lines without secrets.

Set by gunicorn.conf.py (`logger_class`). An access line names the method, a path whose
token-like segments are replaced, the status, size, duration and the app's request id (its
`X-Request-Id` response header), so it can be joined with the app's own lines. It never has
the query string, a Referer or the User-Agent: query strings may carry tokens, and the
patient search takes names (security.md §4).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]

from booking.log import JsonFormatter, RedactFilter, safe_path


class JsonLogger(Logger):
    """gunicorn's error log as JSON through the app's formatter; access lines as JSON."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(
                    _AccessFormatter() if log is self.access_log else JsonFormatter()
                )
                handler.addFilter(RedactFilter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        headers = {k.lower(): v for k, v in (resp.headers or [])}
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        entry = {
            "time": datetime.now(UTC).isoformat(),
            "level": "INFO",
            "logger": "gunicorn.access",
            "request_id": headers.get("x-request-id"),
            "method": environ.get("REQUEST_METHOD"),
            "path": safe_path(environ.get("PATH_INFO", "")),
            "status": int(status) if str(status).isdigit() else status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
        }
        self.access_log.info(json.dumps(entry))


class _AccessFormatter(logging.Formatter):
    """Access records are already JSON: write the message as it is."""

    def format(self, record: logging.LogRecord) -> str:
        return record.getMessage()
