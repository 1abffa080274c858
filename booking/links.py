"""Absolute links that leave the app (emails, the outbox): always on the configured BASE_URL.

Never built from the request: its Host header is whatever the client sent, so a link built
from it could send a patient's token to another site (issue 13). Pages link relatively;
`id_links` builds a long list's relative links at the cost of one url_for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, url_for


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


# An id no row has (ids stop at inputs.MAX_ID), that `<id:...>` still builds.
_PLACEHOLDER_ID = 9_999_999_999


def id_links(endpoint: str, key: str, **values: Any) -> Callable[[int], str]:
    """`url_for(endpoint, **{key: n}, **values)` for many `n`, built by one url_for.

    A page that links every row of a long list (the day sheet: a record and a button or two
    per session) spent much of its time in url_for (issue 22). The URL is built once around a
    placeholder id and each row's id goes in its place; a URL that does not hold the
    placeholder exactly once falls back to url_for per row.
    """
    sample = url_for(endpoint, **{**values, key: _PLACEHOLDER_ID})
    head, found, tail = sample.partition(str(_PLACEHOLDER_ID))
    if not found or str(_PLACEHOLDER_ID) in tail:
        return lambda n: url_for(endpoint, **{**values, key: n})
    return lambda n: f"{head}{int(n)}{tail}"
