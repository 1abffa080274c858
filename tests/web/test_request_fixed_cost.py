"""What every request pays before its page does anything (issue 22): database work counted.

A warm availability answer is one statement; on PostgreSQL one round trip (no BEGIN, no
ROLLBACK, no pre-ping). A request that needs no data (a 404, a static file) runs no
statement at all. A pooled PostgreSQL connection the server has closed is still never used.
Both engines; counts, never times.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from booking.db_hooks import autocommit_engine
from booking.extensions import db
from tests.conftest import listening
from tests.web.booking_helpers import DAY, Clock, Demo, demo_ids
from tests.web.test_api import app_only


@contextmanager
def libpq_sent(engines: list[Any]) -> Iterator[list[list[str]]]:
    """PostgreSQL: libpq's own trace of every connection `engines` check out meanwhile. The
    list yielded is filled at exit with the fields of each message the client sent (message
    type first: Query, Parse, Bind, Sync, ...). Other engines: it stays empty."""
    sent: list[list[str]] = []
    if engines[0].dialect.name != "postgresql":
        yield sent
        return
    trace = tempfile.TemporaryFile("w+b")  # noqa: SIM115 - closed below
    traced: list[Any] = []

    def _checkout(dbapi_conn: Any, *_args: Any) -> None:
        dbapi_conn.pgconn.trace(trace.fileno())
        traced.append(dbapi_conn.pgconn)

    try:
        with listening(engines, ("checkout", _checkout)):
            yield sent
    finally:
        for pgconn in traced:
            pgconn.untrace()
        trace.seek(0)
        for line in trace.read().decode(errors="replace").splitlines():
            fields = line.split("\t")  # timestamp, F or B, length, type, contents
            if len(fields) > 3 and fields[1] == "F":
                sent.append(fields[3:])
        trace.close()


@contextmanager
def database_work(app: Flask) -> Iterator[Counter[str]]:
    """Statements (BEGIN included), transactions begun and pings on the app's engines: its
    engine and, on PostgreSQL, that engine's autocommit twin (db_hooks)."""
    with app.app_context():
        main = db.engine
    twin = autocommit_engine(main)
    engines = [main] if twin is None else [main, twin]
    counts: Counter[str] = Counter()
    statements: list[str] = []

    def _statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    def _begin(_conn: Any) -> None:
        counts["transactions"] += 1

    def _counting(real_ping: Any) -> Any:
        def _ping(dbapi_connection: Any) -> bool:
            counts["pings"] += 1
            return bool(real_ping(dbapi_connection))

        return _ping

    for engine in engines:
        engine.dialect.do_ping = _counting(engine.dialect.do_ping)  # type: ignore[method-assign]
    try:
        with (
            listening(engines, ("before_cursor_execute", _statement), ("begin", _begin)),
            libpq_sent(engines) as sent,
        ):
            yield counts
    finally:
        for engine in engines:
            del engine.dialect.do_ping
    # PostgreSQL: a round trip ends with a simple Query or with the Sync of an
    # extended-protocol statement.
    counts["round_trips"] = sum(fields[0] in {"Query", "Sync"} for fields in sent)
    counts["statements"] = len(app_only(statements))
    counts["stamp_reads"] = sum("availability_version" in s for s in statements)


@pytest.fixture
def ids(demo: Flask) -> Demo:
    return demo_ids(demo)


@pytest.fixture
def api(demo: Flask, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    Clock(monkeypatch)
    # Limits far away: the limiter's counter writes (its own transactions) stay out of the count.
    demo.config["API_RATELIMIT_PER_IP"] = "100000000/minute"
    return demo.test_client()


def test_a_warm_availability_answer_is_one_statement(
    demo: Flask, api: FlaskClient, ids: Demo
) -> None:
    url = (
        f"/api/v1/availability?session_type_id={ids.follow_up}&location_id={ids.islington}"
        f"&practitioner_id={ids.mei}&from={DAY}&to={DAY}"
    )
    cold = api.get(url)
    assert cold.status_code == 200
    api.get(url)  # the limiter reserves its block of hits
    with database_work(demo) as warm:
        again = api.get(url)
    assert again.get_data() == cold.get_data()
    assert again.headers["ETag"] == cold.headers["ETag"]
    assert warm["pings"] == 0
    # The stamps alone, on their own: no BEGIN (no ROLLBACK on PostgreSQL either).
    assert (warm["statements"], warm["stamp_reads"]) == (1, 1), warm
    if demo.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert warm["round_trips"] == 1, warm


def test_postgresql_stamps_are_read_on_the_engines_autocommit_twin(
    demo: Flask, api: FlaskClient, ids: Demo
) -> None:
    """No isolation switch per read: the twin's connections stay in AUTOCOMMIT. SQLite has
    no twin (its driver is in autocommit already). Disposing the engine disposes the twin."""
    with demo.app_context():
        engine = db.engine
    twin = autocommit_engine(engine)
    if engine.dialect.name == "sqlite":
        assert twin is None
        return
    assert twin is not None
    assert twin.url == engine.url
    url = (
        f"/api/v1/availability?session_type_id={ids.follow_up}&location_id={ids.islington}"
        f"&practitioner_id={ids.mei}&from={DAY}&to={DAY}"
    )
    assert api.get(url).status_code == 200
    with twin.connect() as conn:
        assert conn.connection.dbapi_connection.autocommit  # type: ignore[union-attr]
        assert conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"
    assert twin.pool.checkedin() >= 1  # type: ignore[attr-defined]
    engine.dispose()
    assert twin.pool.checkedin() == 0  # type: ignore[attr-defined]
    assert api.get(url).status_code == 200  # a fresh connection after the dispose


def test_a_warm_availability_answer_makes_no_orm_session(
    demo: Flask, api: FlaskClient, ids: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stamps are read on a connection of their own; no Session is built just to be
    found idle and removed at teardown."""
    url = (
        f"/api/v1/availability?session_type_id={ids.follow_up}&location_id={ids.islington}"
        f"&practitioner_id={ids.mei}&from={DAY}&to={DAY}"
    )
    assert api.get(url).status_code == 200
    made: list[object] = []
    with demo.app_context():
        registry = db.session.registry
    real = registry.createfunc

    def counting() -> Any:
        made.append(object())
        return real()

    monkeypatch.setattr(registry, "createfunc", counting)
    assert api.get(url).status_code == 200
    assert made == []
    assert api.get("/api/v1/locations").status_code == 200  # one that uses its session
    assert len(made) == 1


def test_the_stamps_are_read_in_the_request_transaction_once_it_has_begun(
    demo: Flask, ids: Demo
) -> None:
    """Pending writes fire their triggers first: the stamps then include them."""
    from booking.models import AvailabilityVersion
    from booking.services.booking.availability import AvailabilityQuery
    from booking.services.booking.availability_cache import read_stamp

    query = AvailabilityQuery(
        session_type_id=ids.follow_up,
        location_id=ids.islington,
        date_from=date.fromisoformat(DAY),
        date_to=date.fromisoformat(DAY),
        practitioner_id=ids.mei,
    )
    with demo.test_request_context():
        before = {(k, r): v for k, r, v in read_stamp(query)}
        row = db.session.get(AvailabilityVersion, ("p", ids.mei))
        assert row is not None
        row.version += 1  # unflushed: read_stamp must flush and read it in this transaction
        after = {(k, r): v for k, r, v in read_stamp(query)}
        assert after[("p", ids.mei)] == before[("p", ids.mei)] + 1
        db.session.rollback()


@pytest.mark.parametrize("path", ["/no-such-page", "/static/css/meridian.css"])
def test_a_request_that_needs_no_data_runs_no_statement(
    demo: Flask, api: FlaskClient, path: str
) -> None:
    api.get(path).close()
    with database_work(demo) as work:
        response = api.get(path)
        response.close()
    assert response.status_code in {200, 404}
    assert (work["statements"], work["transactions"], work["pings"]) == (0, 0, 0), work


def _hang_up_every_connection(app: Flask) -> int:
    """Terminate every server connection to the app's database, as a restarted server or
    PgBouncer would, and wait until they have gone; how many there were."""
    with app.app_context():
        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        database = db.engine.url.database
    with psycopg.connect(url, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchone()
        # pg_terminate_backend only signals: wait until the backends have gone (and so have
        # closed their sockets).
        for _ in range(500):
            left = admin.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchone()
            if left is not None and left[0] == 0:
                break
            time.sleep(0.01)
    assert killed is not None
    return int(killed[0])


@pytest.mark.parametrize("engine_name", ["postgresql"])  # a SQLite file cannot hang up
def test_a_pooled_connection_the_server_closed_is_replaced_without_a_ping(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert _hang_up_every_connection(app) >= 1
    with database_work(app) as work:
        response = client.get("/healthz")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["checks"]["database"] == "ok"
    assert work["pings"] == 0
    # Before this change pool_pre_ping sent a ping (a fourth round trip) at every checkout.
    assert work["round_trips"] == 3, work  # BEGIN, the health query, ROLLBACK


@pytest.mark.parametrize("engine_name", ["postgresql"])
def test_a_stamp_read_replaces_a_connection_the_server_closed(
    demo: Flask, api: FlaskClient, ids: Demo
) -> None:
    """The autocommit twin has the engine's liveness check: no error, no ping."""
    url = (
        f"/api/v1/availability?session_type_id={ids.follow_up}&location_id={ids.islington}"
        f"&practitioner_id={ids.mei}&from={DAY}&to={DAY}"
    )
    cold = api.get(url)
    assert cold.status_code == 200
    _hang_up_every_connection(demo)
    with database_work(demo) as work:
        warm = api.get(url)
    assert warm.status_code == 200, warm.get_data(as_text=True)
    assert warm.get_data() == cold.get_data()
    assert work["pings"] == 0


def test_the_liveness_check_refuses_a_closed_socket() -> None:
    """The checkout hook itself: a peer that hung up makes the socket readable."""
    import socket

    from sqlalchemy.exc import DisconnectionError

    from booking.db_hooks import _refuse_dead_connection

    ours, theirs = socket.socketpair()

    class Connection:
        closed = False
        broken = False

        def fileno(self) -> int:
            return ours.fileno()

    try:
        _refuse_dead_connection(Connection(), None, None)  # idle and open: nothing to read
        theirs.close()
        with pytest.raises(DisconnectionError):
            _refuse_dead_connection(Connection(), None, None)
    finally:
        ours.close()


# --- the fixed cost's shortcuts keep Flask's and Flask-Login's answers ---------------------

SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "X-Frame-Options",
    "Cross-Origin-Opener-Policy",
    "Cache-Control",
    "Vary",
    "Strict-Transport-Security",
)


def _headers(response: Any) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in SECURITY_HEADERS}


def test_anonymous_and_signed_in_answers_keep_their_headers(demo: Flask, login_as: Any) -> None:
    """Anonymous: no user is loaded, no `no-store`; signed in: `no-store`; `Vary: Cookie`."""
    from booking.security import CSP

    anonymous = demo.test_client().get("/api/v1/no-such")
    assert anonymous.status_code == 404
    assert _headers(anonymous) == {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cache-Control": None,
        "Vary": "Cookie",  # the session was read, as Flask-Login's loader read it
        "Strict-Transport-Security": None,
    }
    staff = login_as("receptionist")
    signed_in = staff.get("/api/v1/no-such")
    assert _headers(signed_in) == {**_headers(anonymous), "Cache-Control": "no-store"}
    # A remember-me cookie (never set by Meridian) still goes through Flask-Login's loader.
    other = demo.test_client()
    other.set_cookie("remember_token", "1|forged")
    assert other.get("/api/v1/no-such").headers.get("Cache-Control") is None


def test_the_session_cookie_is_flasks_and_follows_a_key_rotation(demo: Flask) -> None:
    """Signed once per key set: a rotated SECRET_KEY (old one in fallbacks) keeps sessions."""
    from booking.session_cookie import SessionInterface

    assert isinstance(demo.session_interface, SessionInterface)
    client = demo.test_client()
    page = client.get("/auth/sign-in")  # the CSRF token lives in the session
    assert page.status_code == 200
    cookie = client.get_cookie(demo.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    old_key = demo.secret_key
    with demo.test_request_context(headers={"Cookie": f"{cookie.key}={cookie.value}"}):
        from flask import request

        assert "csrf_token" in demo.session_interface.open_session(demo, request)  # type: ignore[operator]
        demo.secret_key = "another-secret-key-that-is-long-enough-0123456789"
        assert "csrf_token" not in demo.session_interface.open_session(demo, request)  # type: ignore[operator]
        demo.config["SECRET_KEY_FALLBACKS"] = [old_key]
        assert "csrf_token" in demo.session_interface.open_session(demo, request)  # type: ignore[operator]
    demo.secret_key = old_key
    demo.config["SECRET_KEY_FALLBACKS"] = None
    # Without a cookie no session is read from it, and none is set on an answer that
    # left the session empty.
    fresh = demo.test_client().get("/api/v1/no-such")
    assert "Set-Cookie" not in fresh.headers


# --- fourth pass (issue 22): the hooks every request runs, and the start page's one read ---


def test_a_warm_start_page_is_one_statement_on_its_own(demo: Flask) -> None:
    """The reference version is read without BEGIN/ROLLBACK: one round trip on PostgreSQL."""
    client = demo.test_client()
    first = client.get("/")
    assert first.status_code == 200
    with database_work(demo) as warm:
        again = demo.test_client().get("/")
    assert again.get_data() == first.get_data()
    # `statements` counts a BEGIN too: the version read alone, on its own.
    assert (warm["statements"], warm["pings"]) == (1, 0), warm
    if demo.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert warm["round_trips"] == 1, warm


def test_the_reference_version_is_read_in_the_request_transaction_once_it_has_begun(
    demo: Flask,
) -> None:
    """Inside a begun transaction the version is read there (its uncommitted bump seen)."""
    from flask import g

    from booking.models import SessionType
    from booking.reference_cache import current_version

    with demo.test_request_context("/"):
        before = current_version()
        assert before is not None
        g.pop("reference_version")
        session_type = db.session.scalars(db.select(SessionType)).first()
        assert session_type is not None
        session_type.name = session_type.name + " (renamed)"  # bumps the version at the flush
        assert current_version() == before + 1
        db.session.rollback()
        g.pop("reference_version")
        assert current_version() == before


def test_security_headers_keep_a_views_own_and_add_the_rest_in_order(demo: Flask) -> None:
    from flask import Response

    from booking.security import CSP

    with demo.test_request_context("/"):
        mine = Response("x", headers={"content-security-policy": "default-src 'none'"})
        out = demo.process_response(mine)
        names = [name.lower() for name, _ in out.headers]
        assert names.count("content-security-policy") == 1
        assert out.headers["Content-Security-Policy"] == "default-src 'none'"
        assert out.headers.get("Strict-Transport-Security") is None
        plain = demo.process_response(Response("x"))
        assert [name for name, _ in plain.headers][2:7] == [
            "Content-Security-Policy",
            "X-Content-Type-Options",
            "Referrer-Policy",
            "X-Frame-Options",
            "Cross-Origin-Opener-Policy",
        ]
        assert plain.headers["Content-Security-Policy"] == CSP
    demo.config["SESSION_COOKIE_SECURE"] = True
    try:
        with demo.test_request_context("/manage/x"):
            secure = demo.process_response(Response("x"))
            assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
            assert secure.headers["Cache-Control"] == "no-store"
            own = Response("x", headers={"Strict-Transport-Security": "max-age=1"})
            kept = demo.process_response(own)
            assert kept.headers.getlist("Strict-Transport-Security") == ["max-age=1"]
    finally:
        demo.config["SESSION_COOKIE_SECURE"] = False


def test_flask_limiters_hooks_run_only_when_a_limit_made_its_context(demo: Flask) -> None:
    """No view limit checked: no limiter context is built; one checked: it is released."""
    from flask.globals import request_ctx

    from booking.extensions import limiter

    seen: list[bool] = []

    @demo.teardown_request
    def _look(_exc: BaseException | None) -> None:
        seen.append(hasattr(request_ctx._get_current_object(), "_limiter_request_context"))

    assert demo.test_client().get("/api/v1/no-such").status_code == 404
    assert seen == [False]
    with demo.test_request_context("/"):
        demo.preprocess_request()
        limiter.context.view_rate_limit = None  # as a view's limit check makes it
        demo.do_teardown_request()
        assert limiter.context.view_rate_limit is None
        assert not limiter.context.view_rate_limits


def test_a_raw_nul_or_escaped_query_is_still_refused(demo: Flask) -> None:
    """The plain-ASCII shortcut lets no NUL or surrogate through (raw or %-escaped): the
    answer is 400 exactly when a decoded key or value is unstorable."""
    from flask import request

    from booking.inputs import is_storable

    client = demo.test_client()
    raws = [b"a=1&b=x+y", b"a=\x00", b"a=%00", b"a%00=1", b"a=%ed%a0%80", b"a=%ff", b"a=\xc3\xa9"]
    refused = []
    for raw in raws:
        environ = {"QUERY_STRING": raw.decode("latin-1")}
        with demo.test_request_context("/healthz", environ_overrides=environ):
            unstorable = not all(
                is_storable(k) and is_storable(v) for k, v in request.args.items(multi=True)
            )
        status = client.get("/healthz", environ_overrides=environ).status_code
        assert (status == 400) == unstorable, (raw, status)
        refused.append(status == 400)
    assert refused == [False, True, True, True, False, False, False]


@contextmanager
def driver_statements(app: Flask) -> Iterator[list[str]]:
    """What the driver itself is sent, watched below SQLAlchemy (no cursor events, which
    would send `read_rows` through SQLAlchemy's path): libpq's trace on PostgreSQL (Query
    and Parse messages), sqlite3's trace callback on SQLite."""
    with app.app_context():
        main = db.engine
    engines = [main, *filter(None, [autocommit_engine(main)])]
    seen: list[str] = []
    if main.dialect.name == "postgresql":
        with libpq_sent(engines) as sent:
            yield seen
        seen += [
            f[0] + " " + " ".join(f[1:])[:60] for f in sent if f[0] in {"Query", "Parse", "Sync"}
        ]
        return
    traced: list[Any] = []

    def _checkout(dbapi_conn: Any, *_args: Any) -> None:
        dbapi_conn.set_trace_callback(seen.append)
        traced.append(dbapi_conn)

    try:
        with listening([main], ("checkout", _checkout)):
            yield seen
    finally:
        for each in traced:
            each.set_trace_callback(None)


def _stamp_query(ids: Demo) -> Any:
    from booking.services.booking.availability import AvailabilityQuery

    return AvailabilityQuery(
        session_type_id=ids.follow_up,
        location_id=ids.islington,
        date_from=date.fromisoformat(DAY),
        date_to=date.fromisoformat(DAY),
        practitioner_id=ids.mei,
    )


def test_a_read_on_its_own_runs_straight_on_the_driver_with_sqlalchemys_rows(
    demo: Flask, ids: Demo
) -> None:
    """Unobserved, `read_rows` sends the one statement (no BEGIN, no ROLLBACK, one round trip)
    and returns exactly what SQLAlchemy's path returns (which observers still get)."""
    from booking.db_hooks import _observed
    from booking.reference_cache import current_version
    from booking.services.booking.availability_cache import read_stamp

    query = _stamp_query(ids)
    with demo.test_request_context():
        assert not _observed(autocommit_engine(db.engine) or db.engine)
        read_stamp(query)  # the pool's connections opened (their set-up is not counted)
        with driver_statements(demo) as sent:
            fast = read_stamp(query)
        version = current_version()
    statements = [s for s in sent if "availability_version" in s or s.startswith("Sync")]
    assert not any("BEGIN" in s.upper() or "ROLLBACK" in s.upper() for s in sent), sent
    if demo.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # One Query, or Parse..Sync (extended protocol, prepared after a few runs).
        assert sum(s.startswith(("Query", "Sync")) for s in sent) == 1, sent
    else:
        assert len(statements) == 1, sent
        assert len(sent) == 1, sent
    with database_work(demo) as work, demo.test_request_context():
        assert read_stamp(query) == fast  # observed: through SQLAlchemy, same rows
        assert current_version() == version
    assert work["stamp_reads"] == 1, work
    assert fast
    assert all(isinstance(v, int) for _, _, v in fast)
    with demo.test_request_context():
        from booking.db_hooks import read_rows
        from booking.reference_cache import _VERSION_ROW

        row = read_rows(_VERSION_ROW, {})[0]
        assert row.version == row[0] == version  # named as SQLAlchemy's rows are


def test_a_driver_error_falls_back_to_sqlalchemy_and_drops_the_connection(
    demo: Flask, ids: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from booking import db_hooks
    from booking.services.booking.availability_cache import read_stamp

    query = _stamp_query(ids)
    with demo.test_request_context():
        expected = read_stamp(query)
        engine = autocommit_engine(db.engine) or db.engine
        broken = {
            key: dataclasses.replace(plain, sql="SELECT no_such_column FROM availability_version")
            for key, plain in db_hooks._PLAIN.items()
            if plain.sql is not None
        }
        monkeypatch.setattr(db_hooks, "_PLAIN", broken)
        invalidated: list[object] = []
        event.listen(engine, "invalidate", lambda *args: invalidated.append(args))
        assert read_stamp(query) == expected
        assert invalidated


def test_statements_needing_type_conversion_keep_sqlalchemys_path(demo: Flask) -> None:
    from sqlalchemy import select

    from booking.db_hooks import _plain_statement
    from booking.models import Appointment

    with demo.app_context():
        engine = db.engine
        dated = select(Appointment.__table__.c.starts_at).limit(1)
        assert _plain_statement(engine, dated) is None
        assert _plain_statement(engine, select(Appointment.__table__.c.id).limit(1)) is not None


@pytest.mark.parametrize("engine_name", ["postgresql"])
def test_a_driver_read_replaces_a_connection_the_server_closed(
    demo: Flask, ids: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver path checks out through the pool: the liveness check replaces it (no
    driver error, so no fall-back either)."""
    from booking import db_hooks
    from booking.services.booking.availability_cache import read_stamp

    query = _stamp_query(ids)
    with demo.test_request_context():
        expected = read_stamp(query)
    _hang_up_every_connection(demo)
    fell_back: list[object] = []
    real = db_hooks._connect_on_its_own

    def _noting(engine: Any) -> Any:
        fell_back.append(engine)
        return real(engine)

    monkeypatch.setattr(db_hooks, "_connect_on_its_own", _noting)
    with demo.test_request_context():
        assert read_stamp(query) == expected
    assert fell_back == []


def test_the_session_interface_answers_as_flasks_own(demo: Flask) -> None:
    """Same headers as Flask's interface for empty, read, emptied and filled sessions, with
    and without a `Vary` already set, and with or without a Cookie header."""
    from flask import Response
    from flask.sessions import SecureCookieSessionInterface

    from booking.session_cookie import SessionInterface

    ours, flasks = SessionInterface(), SecureCookieSessionInterface()
    for cookie in (None, "other=1", "session=forged"):
        for vary in (None, "Accept-Encoding"):
            for action in ("none", "read", "emptied", "filled"):
                answers = []
                for interface in (ours, flasks):
                    headers = {"Cookie": cookie} if cookie else {}
                    with demo.test_request_context("/", headers=headers):
                        from flask import request

                        session = interface.open_session(demo, request)
                        assert session is not None
                        if action == "read":
                            session.get("x")
                        elif action == "emptied":
                            session["x"] = 1
                            session.clear()
                        elif action == "filled":
                            session["x"] = 1
                        response = Response("x", headers={"Vary": vary} if vary else {})
                        interface.save_session(demo, session, response)
                        answers.append(
                            [
                                (k, v.split("=", 1)[0] if k == "Set-Cookie" else v)
                                for k, v in response.headers
                            ]
                        )
                assert answers[0] == answers[1], (cookie, vary, action)


def _calls_of(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[str]:
    """Wrap `owner.name` so each call is noted (by name) in the list returned, then made."""
    calls: list[str] = []
    real = getattr(owner, name)

    def _noting(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, _noting)
    return calls


def test_session_protection_off_hashes_nothing_and_on_is_flask_logins(
    demo: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from booking.extensions import login_manager

    made = _calls_of(monkeypatch, login_manager, "_session_identifier_generator")
    client = demo.test_client()
    assert client.get("/").status_code == 200  # an anonymous start page loads the user
    assert made == []
    demo.config["SESSION_PROTECTION"] = "basic"
    try:
        with demo.test_request_context("/"):
            assert login_manager._session_protection_failed() is False
        assert made == ["_session_identifier_generator"]
    finally:
        del demo.config["SESSION_PROTECTION"]


def test_the_signed_out_navigation_follows_the_script_root(demo: Flask) -> None:
    """Its links are kept per script root: a mounted app (SCRIPT_NAME) gets its own."""
    client = demo.test_client()
    assert 'href="/auth/sign-in"' in client.get("/accessibility").get_data(as_text=True)
    mounted = client.get("/accessibility", environ_overrides={"SCRIPT_NAME": "/clinic"})
    assert 'href="/clinic/auth/sign-in"' in mounted.get_data(as_text=True)
    with demo.test_request_context("/auth/sign-in"):
        demo.preprocess_request()
        context: dict[str, Any] = {}
        demo.update_template_context(context)
        assert context["nav_items"] == [
            {"href": "/auth/sign-in", "text": "Sign in", "active": True}
        ]


def test_csrf_checks_what_flask_wtf_checks_without_its_look_ups_on_a_get(
    demo: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from booking.extensions import csrf

    looked = _calls_of(monkeypatch, csrf, "_is_exempt")
    client = demo.test_client()
    assert client.get("/auth/sign-in").status_code == 200
    assert looked == []
    refused = client.post("/auth/sign-in", data={"email": "a@example.com", "password": "x"})
    assert refused.status_code == 400  # no token: refused, as before
    assert looked == ["_is_exempt"]
