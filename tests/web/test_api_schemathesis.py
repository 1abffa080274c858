"""X3 for the API: schemathesis fuzzes a live server from /api/v1/openapi.json.

Bounded and deterministic (25 derandomized examples per operation and mode, positive and
negative) on SQLite: no answer may
be a server error, and every answer must match the document (status, media type, headers,
body). The token is a receptionist's, so the appointment endpoints are exercised too.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.serving import make_server

from booking import clock
from booking.extensions import db
from booking.services.api.tokens import create_token
from tests.conftest import DEMO_EMAILS, base_config, seed_demo

pytestmark = [pytest.mark.matrix("X3"), pytest.mark.slow]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass(frozen=True)
class LiveApi:
    url: str
    token: str


@pytest.fixture(scope="module")
def live_api(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    from booking import create_app

    path = tmp_path_factory.mktemp("schemathesis") / "api.sqlite"
    shutil.copyfile(sqlite_template, path)
    # Limits high enough for the fuzzer; the 429 has its own test.
    limits = {"API_RATELIMIT_PER_IP": "100000/minute", "API_RATELIMIT_PER_TOKEN": "100000/minute"}
    app = create_app({**base_config(f"sqlite:///{path}"), **limits})
    seed_demo(app)
    with app.app_context():
        _, token = create_token(email=DEMO_EMAILS["receptionist"], name="fuzz", now=clock.utcnow())
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveApi(f"http://127.0.0.1:{server.server_port}", token)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def api_schema(live_api: LiveApi) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_url(f"{live_api.url}/api/v1/openapi.json")
    # Well-formed requests and malformed ones (wrong types, missing fields) alike.
    loaded.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], deterministic=True
    )
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case: schemathesis.Case, live_api: LiveApi) -> None:
    response = case.call(
        base_url=f"{live_api.url}/api/v1", headers={"Authorization": f"Bearer {live_api.token}"}
    )
    case.validate_response(response, checks=CHECKS)
