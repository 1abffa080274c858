"""Input no database can take, refused at the edge: one id converter, one text filter.

PostgreSQL ids are 32-bit (SQLite's 64-bit), PostgreSQL text cannot hold NUL and neither
engine can encode a lone surrogate. Let through, each one fails inside a query as a 500.
Routes take ids as `<id:name>` (1 to MAX_ID, else 404); path text, query strings, every
form (booking.forms.FlaskForm) and API JSON bodies (booking.api.schemas) share `is_storable`.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, request
from werkzeug.routing import BaseConverter, UnicodeConverter, ValidationError
from werkzeug.wrappers import Response

MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
MAX_JSON_DEPTH = 32
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
CONTROL_CHARACTERS = "must not contain control characters"


def is_storable(text: str) -> bool:
    """False for text holding NUL or a lone surrogate, which no database here can store."""
    return _UNSTORABLE.search(text) is None


class IdConverter(BaseConverter):
    """`<id:name>`: a database id, 1 to MAX_ID in plain ASCII digits; anything else is a 404."""

    regex = r"[1-9][0-9]{0,9}"
    weight = 50  # like werkzeug's int converter: tried before text at the same place

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValidationError
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


class StorableTextConverter(UnicodeConverter):
    """The default `<name>` converter: unstorable characters become U+FFFD.

    Werkzeug already decodes invalid UTF-8 in a path that way; the value then matches no
    token or slug, and each page answers its own "not found" (a manage link keeps its page).
    """

    def to_python(self, value: str) -> str:
        return _UNSTORABLE.sub("\ufffd", value)


def json_refusal(value: Any) -> tuple[int, str] | None:
    """Why a parsed JSON body must be refused, or None.

    (400, "body") when it nests deeper than MAX_JSON_DEPTH; (422, dotted field) for the first
    key or string no database can store. Walks without recursion, so depth costs no stack.
    """
    stack: list[tuple[Any, int, str]] = [(value, 0, "")]
    while stack:
        item, depth, field = stack.pop()
        if isinstance(item, str):
            if not is_storable(item):
                return 422, field or "body"
            continue
        if not isinstance(item, dict | list):
            continue
        if depth >= MAX_JSON_DEPTH:
            return 400, "body"
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in pairs:
            name = f"{field}.{key}" if field else str(key)
            if isinstance(key, str) and not is_storable(key):
                return 422, field or "body"
            stack.append((child, depth + 1, name))
    return None


def register(app: Flask) -> None:
    """Install the id and text converters (before any blueprint) and the query-string check."""
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["default"] = StorableTextConverter
    app.url_map.converters["string"] = StorableTextConverter

    @app.before_request
    def _refuse_unstorable_query() -> Response | None:
        raw = request.environ.get("QUERY_STRING", "")
        if raw.isascii() and "%" not in raw and "\x00" not in raw:
            # Plain ASCII, nothing escaped: no key or value can decode to a NUL or a
            # surrogate, so nothing to walk (most requests; issue 22).
            return None
        for key, value in request.args.items(multi=True):
            if not (is_storable(key) and is_storable(value)):
                from booking.errors import refusal

                field = key if is_storable(key) else "query"
                return refusal(
                    400,
                    f"The address {CONTROL_CHARACTERS}. Check it and try again.",
                    errors=[{"field": field, "detail": f"{field} {CONTROL_CHARACTERS}."}],
                )
        return None
