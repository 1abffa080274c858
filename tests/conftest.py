"""Fixtures shared by every test: engines, apps, clients, sign-in and factories.

The schema always comes from the migrations (the overlap guards live only there).
SQLite: migrated once per worker into a template file, copied per test.
PostgreSQL (TEST_DATABASE_URL): a database per worker, migrated once, truncated after each
test. Without TEST_DATABASE_URL the PostgreSQL variants skip locally and fail in CI.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import create_engine, event, func, literal, select, text, union_all
from sqlalchemy.engine import make_url

from booking import clock as _clock

_REAL_UTCNOW = _clock.utcnow
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
ENGINES = ("sqlite", "postgresql")
# Cheap argon2 for speed; the hashing test checks the production parameters itself.
CHEAP_COST = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1}
ROLES = ("anonymous", "patient", "practitioner", "receptionist", "admin")
DEMO_EMAILS = {
    "patient": "alex.morgan@meridian.example",
    "practitioner": "mei.chen@meridian.example",
    "receptionist": "reception@meridian.example",
    "admin": "admin@meridian.example",
}
DEMO_PASSWORD = "meridian-demo-2026"
ROOT = Path(__file__).resolve().parents[1]
CHECKOUT_INSTANCE = ROOT / "instance"


def instance_snapshot(folder: Path = CHECKOUT_INSTANCE) -> dict[str, tuple[int, int]]:
    """Every file below the folder with its size and mtime, to spot a test that wrote there."""
    if not folder.exists():
        return {}
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def share_url_builders() -> None:
    """Compile each route's URL builder once per test process instead of once per app.

    Werkzeug builds two small Python functions per rule (via `ast` and `compile`) every time a
    rule is added to a map: about 80% of `create_app`, which nearly every test calls. The
    function is a pure product of what the key below holds (the rule itself arrives as an
    argument when it is called), so apps built later with the same rules reuse it. Tests only:
    production builds its one app once.
    """
    from werkzeug.routing.rules import Rule

    original = Rule.__dict__["_compile_builder"]
    if getattr(original, "shared_by_tests", False):
        return
    builders: dict[tuple[Any, ...], Callable[..., Any]] = {}

    def _compile_builder(self: Rule, append_unknown: bool = True) -> Callable[..., Any]:
        key = (
            append_unknown,
            self.rule,
            tuple(self._trace),
            repr(sorted((self.defaults or {}).items())),
            tuple(sorted((name, type(conv)) for name, conv in self._converters.items())),
        )
        builder = builders.get(key)
        if builder is None:
            builder = builders[key] = original(self, append_unknown)
        return builder

    _compile_builder.shared_by_tests = True  # type: ignore[attr-defined]
    Rule._compile_builder = _compile_builder  # type: ignore[method-assign]


def pytest_configure(config: pytest.Config) -> None:
    """Point every app a test builds, here or in a subprocess, away from the checkout's instance/.

    `make run` writes instance/config.py and the demo database there; a test that read them would
    pass or fail depending on what the developer ran before.
    """
    share_url_builders()
    if not os.environ.get("BOOKING_INSTANCE_PATH", "").startswith(tempfile.gettempdir()):
        os.environ["BOOKING_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="meridian-instance-")
    if not hasattr(config, "workerinput"):
        config.stash[_INSTANCE_BEFORE] = instance_snapshot()


_INSTANCE_BEFORE = pytest.StashKey[dict[str, tuple[int, int]]]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when any test created, changed or removed a file in the checkout's instance/."""
    before = session.config.stash.get(_INSTANCE_BEFORE, None)
    if before is None:
        return
    after = instance_snapshot()
    changed = sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        line = f"FAILED: tests wrote to the checkout's instance/ folder: {', '.join(changed)}"
        if reporter is not None:
            reporter.write_line(line, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def base_config(database_uri: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "SERVER_NAME": None,
        # Tests sign in many times a minute from 127.0.0.1; the A3 tests lower this themselves.
        "AUTH_RATELIMIT_PER_IP": "10000/minute",
        **CHEAP_COST,
    }


def require_postgres() -> str:
    """The PostgreSQL URL, or a skip (a failure in CI)."""
    if not TEST_DATABASE_URL:
        if IN_CI:
            pytest.fail("CI=true but TEST_DATABASE_URL is not set: PostgreSQL tests must run")
        pytest.skip("TEST_DATABASE_URL not set: PostgreSQL variant skipped locally")
    return TEST_DATABASE_URL


def migrate(app: Flask) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        from booking.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def worker_name(request: pytest.FixtureRequest) -> str:
    """This worker's name, unique per test run so parallel runs never share a database."""
    workerinput = getattr(request.config, "workerinput", {})
    run = workerinput.get("testrunuid", f"{os.getpid():x}")[:8]
    return f"{workerinput.get('workerid', 'main')}_{run}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test."""
    from booking import create_app

    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    migrate(create_app(base_config(f"sqlite:///{path}")))
    _SQLITE_TEMPLATES.append(path)
    return path


# The migrated SQLite templates of this process: a file equal to one is untouched.
_SQLITE_TEMPLATES: list[Path] = []


@pytest.fixture(scope="session")
def postgres_url(worker_name: str) -> Iterator[str]:
    """A migrated PostgreSQL database for this worker."""
    url = make_url(require_postgres())
    name = f"test_{worker_name}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    worker_url = url.set(database=name).render_as_string(hide_password=False)
    from booking import create_app

    app = create_app(base_config(worker_url))
    migrate(app)
    _SEEDED_ROWS[worker_url] = seeded_rows(app)
    yield worker_url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# Rows the migrations wrote (reference data such as intake version 1), per PostgreSQL database.
_SEEDED_ROWS: dict[str, dict[str, list[dict[str, Any]]]] = {}


def seeded_rows(app: Flask) -> dict[str, list[dict[str, Any]]]:
    """Every row of a freshly migrated database, by table: what the migrations seeded."""
    from booking.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        found = {
            table.name: [dict(row._mapping) for row in conn.execute(table.select())]
            for table in db.metadata.sorted_tables
        }
        db.engine.dispose()
    return {name: rows for name, rows in found.items() if rows}


def truncate_all(app: Flask) -> None:
    """Empty every table, then put back the rows the migrations seeded, with their ids.

    Identities restart after the kept rows, so each test sees a freshly migrated database.
    As a superuser (the usual TEST_DATABASE_URL) the tables are emptied with DELETE, triggers
    off for this transaction only (the audit and note tables refuse DELETE otherwise), and
    every sequence restarted: TRUNCATE makes new files for each of the ~60 tables and their
    indexes, about ten times slower for the few rows a test leaves. Otherwise TRUNCATE.
    """
    from booking.extensions import db

    seeded = _SEEDED_ROWS.get(app.config["SQLALCHEMY_DATABASE_URI"], {})
    with app.app_context():
        db.session.remove()
        tables = db.metadata.sorted_tables
        with db.engine.begin() as conn:
            if conn.exec_driver_sql("SELECT current_setting('is_superuser')").scalar() == "on":
                # One round trip: names from the models' metadata, quoted as in TRUNCATE below.
                deletes = "".join(f'DELETE FROM "{t.name}";' for t in reversed(tables))  # noqa: S608
                conn.exec_driver_sql(
                    "SET LOCAL session_replication_role = replica;"
                    f"{deletes}SET LOCAL session_replication_role = origin"
                )
                conn.execute(
                    text(
                        "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false)"
                        " FROM pg_sequences WHERE schemaname = current_schema()"
                    )
                )
            else:
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for table in tables:
                rows = seeded.get(table.name)
                if not rows:
                    continue
                conn.execute(table.insert(), rows)
                if "id" not in table.c:
                    continue
                conn.execute(
                    text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :last)"),
                    {"table": f'"{table.name}"', "last": max(row["id"] for row in rows)},
                )
        db.engine.dispose()


class SharedTemplateCache(BytecodeCache):
    """Compiled templates shared by every app one test process builds.

    Each app has its own Jinja environment, so without this every test compiled the templates
    it rendered again: about half the time of a page test. Entries are keyed by template and
    checked against the source's checksum, so an edited template is compiled afresh.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = SharedTemplateCache()


@contextmanager
def make_app(
    engine_name: str, tmp_path: Path, request: pytest.FixtureRequest, **overrides: Any
) -> Iterator[Flask]:
    from booking import create_app

    if engine_name == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.sqlite"
        shutil.copyfile(template, path)
        app = create_app(
            {**base_config(f"sqlite:///{path}"), **overrides}, instance_path=tmp_path / "instance"
        )
        app.jinja_env.bytecode_cache = TEMPLATE_CACHE
        yield app
        with app.app_context():
            from booking.extensions import db

            db.session.remove()
            db.engine.dispose()
    else:
        url = request.getfixturevalue("postgres_url")
        app = create_app({**base_config(url), **overrides}, instance_path=tmp_path / "instance")
        app.jinja_env.bytecode_cache = TEMPLATE_CACHE
        try:
            yield app
        finally:
            truncate_all(app)


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def app(engine_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The app on each engine, with an empty migrated database."""
    with make_app(engine_name, tmp_path, request) as application:
        yield application


@pytest.fixture
def sqlite_app(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The app on SQLite only, for checks that do not depend on the engine."""
    with make_app("sqlite", tmp_path, request) as application:
        yield application


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


def seed_demo(app: Flask) -> None:
    """Seed the demo clinic; on a freshly migrated database, from this process's snapshot.

    Seeding through the ORM (articles rendered from Markdown, eight password hashes) costs far
    more than most tests that need it, and over a thousand tests do. The first seeding of an
    untouched database is recorded, and later untouched databases get the same rows back: the
    SQLite file is copied, PostgreSQL rows are inserted with their ids and the sequences moved
    past them. A database that already holds other rows is seeded as before.
    """
    key = _demo_key(app)
    snapshot = _DEMO_SNAPSHOTS.get(key) if key is not None else None
    if snapshot is not None and snapshot.restore(app):
        return
    fresh = key is not None and _untouched(app)
    _seed_demo_with_the_orm(app)
    if fresh and key is not None:
        recorded = _record_demo(app, key)
        if recorded is not None:
            _DEMO_SNAPSHOTS[key] = recorded


def _seed_demo_with_the_orm(app: Flask) -> None:
    from booking.demo.clinic import seed_demo_clinic
    from booking.extensions import db
    from booking.security import password_cost

    with app.app_context():
        seed_demo_clinic(cost=password_cost())
        db.session.commit()
        db.session.remove()


def _demo_key(app: Flask) -> tuple[Any, ...] | None:
    """What the demo's rows depend on: the engine, the password cost and the app's clock.

    Articles are published at `clock.utcnow()`, so each frozen time has its own snapshot; a
    clock patched with anything but a FrozenClock is seeded each time.
    """
    from booking import clock
    from booking.security import password_cost

    if clock.utcnow is _REAL_UTCNOW:
        when = None
    elif isinstance(clock.utcnow, FrozenClock):
        when = clock.utcnow.now
    else:
        return None
    with app.app_context():
        cost = password_cost()
    return (make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name(), cost, when)


def _release(app: Flask) -> None:
    from booking.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _sqlite_file(app: Flask) -> Path | None:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _sqlite_untouched(path: Path) -> bool:
    """The file is a closed copy of this process's migrated template (no connection holds it)."""
    if not path.exists() or any(Path(f"{path}{end}").exists() for end in ("-wal", "-shm")):
        return False
    return any(filecmp.cmp(path, template, shallow=False) for template in _SQLITE_TEMPLATES)


def _postgres_untouched(app: Flask) -> bool:
    """Every table holds exactly the rows the migrations seeded."""
    from booking.extensions import db

    seeded = _SEEDED_ROWS.get(app.config["SQLALCHEMY_DATABASE_URI"])
    if seeded is None:
        return False
    tables = db.metadata.sorted_tables
    counts = union_all(*(select(literal(t.name), func.count()).select_from(t) for t in tables))
    with app.app_context(), db.engine.connect() as conn:
        found: dict[str, int] = {row[0]: row[1] for row in conn.execute(counts)}
        if any(found[t.name] != len(seeded.get(t.name, [])) for t in tables):
            return False
        return all(
            dict(row._mapping) in seeded[t.name]
            for t in tables
            if t.name in seeded
            for row in conn.execute(t.select())
        )


def _untouched(app: Flask) -> bool:
    path = _sqlite_file(app)
    if path is not None:
        _release(app)
        return _sqlite_untouched(path)
    return _postgres_untouched(app)


class SqliteDemo:
    def __init__(self, copy: Path) -> None:
        self.copy = copy

    def restore(self, app: Flask) -> bool:
        path = _sqlite_file(app)
        if path is None:
            return False
        _release(app)
        if not _sqlite_untouched(path):
            return False
        shutil.copyfile(self.copy, path)
        return True


class PostgresDemo:
    """The rows the demo adds to a freshly migrated database; `replaced` names the tables
    whose migration-seeded rows it changed (the reference version it bumps), put back whole."""

    def __init__(
        self,
        rows: dict[str, list[dict[str, Any]]],
        last_ids: dict[str, int],
        replaced: frozenset[str] = frozenset(),
    ) -> None:
        self.rows = rows
        self.last_ids = last_ids
        self.replaced = replaced

    def restore(self, app: Flask) -> bool:
        from booking.extensions import db

        if _sqlite_file(app) is not None or not _postgres_untouched(app):
            return False
        with app.app_context():
            db.session.remove()
            with db.engine.begin() as conn:
                for table in reversed(db.metadata.sorted_tables):
                    if table.name in self.replaced:
                        conn.execute(table.delete())
                for table in db.metadata.sorted_tables:
                    if self.rows.get(table.name):
                        conn.execute(table.insert(), self.rows[table.name])
                for name, last in self.last_ids.items():
                    conn.execute(
                        text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :last)"),
                        {"table": f'"{name}"', "last": last},
                    )
        return True


def _record_demo(app: Flask, key: tuple[Any, ...]) -> SqliteDemo | PostgresDemo | None:
    """The demo's rows as just seeded on an untouched database, or None if they cannot be kept."""
    from booking.extensions import db

    path = _sqlite_file(app)
    if path is not None:
        _release(app)
        if any(Path(f"{path}{end}").exists() for end in ("-wal", "-shm")):
            return None
        copy = path.with_name(f"demo-{len(_DEMO_SNAPSHOTS)}-{path.name}")
        shutil.copyfile(path, copy)
        return SqliteDemo(copy)
    seeded = _SEEDED_ROWS[app.config["SQLALCHEMY_DATABASE_URI"]]
    after = seeded_rows(app)
    added: dict[str, list[dict[str, Any]]] = {}
    last_ids: dict[str, int] = {}
    replaced: set[str] = set()
    for name in seeded.keys() | after.keys():
        before, rows = seeded.get(name, []), after.get(name, [])
        if any(row not in rows for row in before):
            # The demo changed or removed a row the migrations wrote (it bumps the reference
            # version): the whole table is put back. Refusing such a snapshot made every
            # PostgreSQL test seed the demo through the ORM, ~0.4 s each.
            replaced.add(name)
            added[name] = rows
        else:
            added[name] = [row for row in rows if row not in before]
        table = db.metadata.tables[name]
        if added[name] and "id" in table.c and table.c.id.autoincrement in (True, "auto"):
            last_ids[name] = max(row["id"] for row in rows)
    return PostgresDemo(added, last_ids, frozenset(replaced))


_DEMO_SNAPSHOTS: dict[tuple[Any, ...], SqliteDemo | PostgresDemo] = {}


@pytest.fixture
def demo(app: Flask) -> Flask:
    """The app with the demo clinic seeded."""
    seed_demo(app)
    return app


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def fresh_csrf(client: FlaskClient, path: str = "/auth/sign-in") -> str:
    """A CSRF token valid for this client's session, read from a page with a form."""
    response = client.get(path, follow_redirects=True)
    return csrf_from(response.get_data(as_text=True))


def sign_in(client: FlaskClient, email: str, password: str = DEMO_PASSWORD) -> Any:
    token = fresh_csrf(client)
    return client.post(
        "/auth/sign-in", data={"email": email, "password": password, "csrf_token": token}
    )


@pytest.fixture
def login_as(demo: Flask) -> Callable[[str], FlaskClient]:
    """A new client signed in as the demo user of a role ('anonymous' signs in nobody)."""

    def _login(role: str) -> FlaskClient:
        new_client = demo.test_client()
        if role != "anonymous":
            response = sign_in(new_client, DEMO_EMAILS[role])
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return new_client

    return _login


@contextmanager
def listening(targets: list[Any], *listeners: tuple[str, Callable[..., Any]]) -> Iterator[None]:
    """SQLAlchemy event listeners, each (event name, function), on every one of `targets`
    for the block; removed after it."""
    for target in targets:
        for name, function in listeners:
            event.listen(target, name, function)
    try:
        yield
    finally:
        for target in targets:
            for name, function in listeners:
                event.remove(target, name, function)


@contextmanager
def count_queries(app: Flask) -> Iterator[list[str]]:
    """Collect the SQL statements run on the app's engine (and, on PostgreSQL, its
    autocommit twin: booking/db_hooks.py) inside the block."""
    from booking.db_hooks import autocommit_engine
    from booking.extensions import db

    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    twin = autocommit_engine(engine)
    engines = [engine] if twin is None else [engine, twin]

    def _listener(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    with listening(engines, ("before_cursor_execute", _listener)):
        yield statements


@pytest.fixture
def query_counter(app: Flask) -> Callable[[], Any]:
    return lambda: count_queries(app)


# Monday 1 March 2027, 08:00 in London: a quiet moment for tests that need no particular time.
FROZEN_NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


class FrozenClock:
    """`booking.clock.utcnow`, the app's one clock, held at `now` until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def freeze_clock(monkeypatch: pytest.MonkeyPatch, now: datetime) -> FrozenClock:
    """Freeze the one clock seam: every module calls `clock.utcnow()`, so one patch reaches all.

    Services take `now` as an argument and model column defaults keep the real time; the views,
    CLI commands, guards and the user loader read this.
    """
    frozen = FrozenClock(now)
    monkeypatch.setattr("booking.clock.utcnow", frozen)
    return frozen


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """The app's clock frozen at FROZEN_NOW; set `.now` or call `.advance(...)` to move it."""
    return freeze_clock(monkeypatch, FROZEN_NOW)
