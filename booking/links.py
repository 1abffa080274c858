"""Absolute links that leave the app (emails, the outbox): always on the configured BASE_URL.

Never built from the request: its Host header is whatever the client sent, so a link built
from it could send a patient's token to another site (issue 13). Pages link relatively.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def base_url() -> str:
    """The configured public address of the app (`BOOKING_BASE_URL`), without a trailing /."""
    return str(current_app.config["BASE_URL"]).rstrip("/")


def external_url(endpoint: str, *, base: str | None = None, **values: Any) -> str:
    """`endpoint`'s URL made absolute on `base` (default: BASE_URL), request or not."""
    root = urlsplit((base or base_url()).rstrip("/"))
    adapter = current_app.url_map.bind(
        root.netloc, script_name=root.path or "/", url_scheme=root.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)
