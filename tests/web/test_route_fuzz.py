"""X3 for every route: a bounded hypothesis fuzz over app.url_map, on SQLite and PostgreSQL.

Each rule × method (static included) is called as anonymous and as each signed-in role whose
guard lets it through (a refusing guard answers before any lookup; anonymous covers those),
with hostile path values (ids beyond 32 bits, negative ids, NUL, invalid UTF-8, over-long
text), query strings, form bodies (with a valid CSRF token, so the forms really validate)
and, on the API, JSON bodies (nested deep, NUL and lone surrogates, huge numbers). No answer
may be a server error. A fixed sweep first puts every hostile path value into every route
argument, then hypothesis draws the rest; derandomized and without shrinking, so a run is
repeatable and the failure message lists every request that failed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.routing import Rule

from booking.extensions import db
from booking.models import ApiToken, User
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD, ROLES, csrf_from, make_app, seed_demo
from tests.web.access_matrix import MATRIX, POST_DATA, URL_ARGS
from tests.web.intake_helpers import CALM_ANSWERS

pytestmark = pytest.mark.matrix("X3")

IGNORED_METHODS = {"HEAD", "OPTIONS"}
SESSION_ENDING = ("auth.sign_out",)  # called last, so the rest run with the role signed in
EXAMPLES = 3
FORM = "application/x-www-form-urlencoded"
REFUSED_BY_GUARD = {401, 403}
# Hostile path segments, already URL-encoded (invalid UTF-8 must stay raw bytes).
BAD_UTF8 = ("%ff", "%c3%28", "%ed%a0%80", "%f8%88%80%80%80", "a%80b")
HOSTILE_SEGMENTS = (
    str(2**31),
    str(2**63),
    "-1",
    "%00",
    "%ff",
    "%ed%a0%80",  # a lone surrogate, UTF-8 encoded
    "x" * 3000,
)
HOSTILE_TEXT = (
    "\x00",
    "a\x00b",
    "\x00" * 50,
    str(2**63),
    str(-(2**63) - 1),
    "9" * 5000,
    "x" * 20_000,
    "²",
    "٣",
    "\u202e",
    "\r\n",
    "<script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "1e999",
    "NaN",
    "",
    " ",
)
QUERY_KEYS = (
    "next",
    "type",
    "tag",
    "q",
    "week",
    "day",
    "start",
    "change",
    "taken",
    "cursor",
    "limit",
    "from",
    "to",
    "session_type_id",
    "practitioner_id",
    "location_id",
)


def _form_field_names() -> list[str]:
    """Every field name a form of the app reads, date parts and intake answers included."""
    from flask_wtf import FlaskForm
    from wtforms.fields.core import UnboundField

    from booking.forms.fields import DatePartsField

    def subclasses(cls: type) -> Iterator[type]:
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    names = {key for page in CALM_ANSWERS.values() for key in page}
    for form in subclasses(FlaskForm):
        if not form.__module__.startswith("booking."):
            continue
        for name in dir(form):
            field = getattr(form, name, None)
            if not isinstance(field, UnboundField):
                continue
            if issubclass(field.field_class, DatePartsField):
                names.update(f"{name}-{part}" for part in DatePartsField.PARTS)
            else:
                names.add(name)
    return sorted(names)


def _encode(text: str) -> str:
    """Percent-encode text as UTF-8; a lone surrogate goes out as its (invalid) UTF-8 bytes."""
    return quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")


hostile_text = st.one_of(
    st.sampled_from(HOSTILE_TEXT).map(_encode),
    st.sampled_from(BAD_UTF8),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=40).map(_encode),
)


def _segment(converter: str) -> st.SearchStrategy[str]:
    ids = st.integers(min_value=-(2**70), max_value=2**70).map(str)
    base = [st.sampled_from(HOSTILE_SEGMENTS), hostile_text]
    return st.one_of(ids, *base) if converter != "PathConverter" else st.one_of(*base)


def _json_value() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(HOSTILE_TEXT),
        st.text(max_size=20),
        st.sampled_from(["\ud800", "a\udfffb", "2027-03-03T10:00:00+00:00", "1980-04-03"]),
    )
    keys = st.sampled_from(
        ["session_type_id", "practitioner_id", "location_id", "start", "patient", "reason", "id"]
        + ["given_name", "family_name", "email", "date_of_birth", "phone", "\x00", "\ud800"]
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=6)
        ),
        max_leaves=12,
    )


def _json_body() -> st.SearchStrategy[bytes]:
    deep = st.sampled_from([33, 200, 2000, 100_000]).map(lambda n: ("[" * n + "]" * n).encode())
    deep_object = st.sampled_from([40, 5000]).map(
        lambda n: ('{"patient": ' + '{"a": ' * n + "1" + "}" * n + "}").encode()
    )
    valid_json = _json_value().map(lambda v: json.dumps(v).encode())
    raw = st.sampled_from([b"\xff\xfe", b'{"reason": "\xff"}', b"{", b"", b"\x00"])
    return st.one_of(deep, deep_object, valid_json, raw)


# ---- Set-up ---------------------------------------------------------------------------------


@pytest.fixture
def fuzz_app(engine_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    limits = {"API_RATELIMIT_PER_IP": "100000/minute", "API_RATELIMIT_PER_TOKEN": "100000/minute"}
    with make_app(engine_name, tmp_path, request, **limits) as app:
        seed_demo(app)
        yield app


def _api_token(app: Flask, role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    raw = f"fuzz-token-{role}"
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == DEMO_EMAILS[role]))
        db.session.add(
            ApiToken(
                user_id=user.id,
                name="fuzz",
                prefix=raw[:8],
                token_hash=hashlib.sha256(raw.encode()).hexdigest(),
            )
        )
        db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def _client(app: Flask, role: str) -> tuple[FlaskClient, str]:
    """A client signed in as the role's demo user, and a CSRF token valid for its session."""
    client = app.test_client()
    if role != "anonymous":
        token = csrf_from(client.get("/auth/sign-in").get_data(as_text=True))
        response = client.post(
            "/auth/sign-in",
            data={"email": DEMO_EMAILS[role], "password": DEMO_PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302, "could not sign in for the fuzz"
    page = client.get("/auth/sign-in", follow_redirects=True).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    return client, (match.group(1) if match else "")


def _routes(app: Flask) -> list[tuple[Rule, str]]:
    routes = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - IGNORED_METHODS)
    ]
    routes.sort(key=lambda pair: (pair[0].endpoint in SESSION_ENDING, pair[0].rule, pair[1]))
    return routes


def _path(rule: Rule, segments: dict[str, str]) -> str:
    """The rule's path with each argument replaced by an encoded segment (url_for would refuse)."""
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:\w+(?:\([^)]*\))?:)?{name}>", lambda _m, n=name: segments[n], path)
    return path


def _usual(rule: Rule) -> dict[str, str]:
    args = URL_ARGS.get(rule.endpoint, {})
    return {name: _encode(str(args.get(name, 1))) for name in rule.arguments}


def _sweep_path(rule: Rule) -> str:
    return _path(rule, _usual(rule))


def _sweep_paths(rule: Rule) -> Iterator[str]:
    """The rule's path with each argument in turn set to each hostile segment."""
    for name in sorted(rule.arguments):
        for segment in HOSTILE_SEGMENTS:
            yield _path(rule, {**_usual(rule), name: segment})


class Caller:
    """Sends one request and remembers every answer of 500 or more."""

    def __init__(self, app: Flask, role: str) -> None:
        self.role = role
        self.bearer = _api_token(app, role)
        self.failures: list[str] = []
        self.calls = 0

    def call(
        self,
        client: FlaskClient,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> None:
        headers = self.bearer if path.startswith("/api/") else {}
        self.calls += 1
        try:
            response = client.open(
                path, method=method, data=body, content_type=content_type, headers=headers
            )
            status = response.status_code
            response.close()
        except Exception as error:  # an exception escaping the app is a failure too
            status = f"raised {type(error).__name__}: {str(error)[:120]}"
        if not isinstance(status, int) or status >= 500:
            shown = (body or b"")[:120]
            self.failures.append(f"{self.role} {method} {path[:160]} body={shown!r} -> {status}")


def _form_body(fields: dict[str, str], csrf_token: str) -> bytes:
    pairs = [f"csrf_token={_encode(csrf_token)}"]
    pairs += [f"{_encode(name)}={value}" for name, value in fields.items()]
    return "&".join(pairs).encode("ascii")


# ---- The fuzz -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_no_route_answers_a_server_error(fuzz_app: Flask, role: str) -> None:
    app = fuzz_app
    caller = Caller(app, role)
    # A role's guard refuses other roles' routes before any lookup: anonymous fuzzes those.
    routes = [
        (rule, method)
        for rule, method in _routes(app)
        if MATRIX.get((rule.endpoint, method), {}).get(role) not in REFUSED_BY_GUARD
    ]
    field_names = _form_field_names()

    # 1. The fixed sweep: every hostile segment in every argument of every route.
    client, csrf_token = _client(app, role)
    for rule, method in routes:
        if rule.endpoint in SESSION_ENDING and role != "anonymous":
            continue
        body = _form_body({}, csrf_token) if method != "GET" else None
        kind = FORM if body is not None else None
        for path in _sweep_paths(rule):
            caller.call(client, method, path, body=body, content_type=kind)
        if method != "GET":  # one body past MAX_CONTENT_LENGTH: 413, read by nobody
            huge = _form_body({"x": "x" * app.config["MAX_CONTENT_LENGTH"]}, csrf_token)
            caller.call(client, method, _sweep_path(rule), body=huge, content_type=FORM)

    # 2. Hypothesis: hostile values in paths, query strings, form fields and JSON bodies.
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        client, csrf_token = _client(app, role)
        for rule, method in routes:
            segments = {
                name: data.draw(_segment(type(conv).__name__), label=f"{rule.endpoint}.{name}")
                for name, conv in rule._converters.items()
            }
            path = _path(rule, segments)
            query = data.draw(
                st.dictionaries(
                    st.one_of(st.sampled_from(QUERY_KEYS), hostile_text), hostile_text, max_size=4
                ),
                label="query",
            )
            if query:
                path += "?" + "&".join(f"{key}={value}" for key, value in query.items())
            body: bytes | None = None
            kind: str | None = None
            if method != "GET" and rule.endpoint.startswith("api."):
                body, kind = data.draw(_json_body(), label="json"), "application/json"
            elif method != "GET":
                baseline = {k: _encode(v) for k, v in POST_DATA.get(rule.endpoint, {}).items()}
                names = st.sampled_from(sorted(set(baseline) | set(field_names)))
                hostile = data.draw(st.dictionaries(names, hostile_text, max_size=6), label="form")
                body = _form_body({**baseline, **hostile}, csrf_token)
                kind = FORM
            caller.call(client, method, path, body=body, content_type=kind)

    fuzz()
    assert caller.failures == [], (
        f"{len(caller.failures)} of {caller.calls} requests answered ≥ 500:\n"
        + "\n".join(caller.failures[:60])
    )


def test_every_route_is_fuzzed_by_some_role(sqlite_app: Flask) -> None:
    """No route is left out because every role's guard refuses it."""
    skipped = [
        (rule.endpoint, method)
        for rule, method in _routes(sqlite_app)
        if all(MATRIX.get((rule.endpoint, method), {}).get(r) in REFUSED_BY_GUARD for r in ROLES)
    ]
    assert skipped == []
