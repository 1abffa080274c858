"""SQLite connection settings, write transactions, and PostgreSQL connection liveness.

SQLite upgrades a deferred read transaction to a write lock only at the first write,
and then fails at once with SQLITE_BUSY whatever the busy timeout. Requests that may
write therefore open with BEGIN IMMEDIATE, which waits for the lock up front.
"""

from __future__ import annotations

import select
import weakref
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, scoped_session

# What each connection must report back (PRAGMA name -> expected value); `install` sets them.
REQUIRED_PRAGMAS = {"journal_mode": "wal", "foreign_keys": "1", "synchronous": "2"}
_PRAGMA_WORDS = {"synchronous": {"2": "FULL"}, "foreign_keys": {"1": "ON"}}

# Execution option: this connection runs one read-only statement and needs no BEGIN.
SINGLE_STATEMENT = "meridian_single_statement"

# True while the current unit of work may write. CLI commands and scripts write.
WRITE_TX: ContextVar[bool] = ContextVar("write_tx", default=True)


def install(engine: Engine, options: Mapping[str, Any] | None = None) -> None:
    """Attach the SQLite pragmas and BEGIN hook, or PostgreSQL's liveness check, to `engine`.

    PostgreSQL, given the engine's `options`: also its `autocommit_engine` twin.
    """
    if engine.dialect.name == "postgresql":
        event.listen(engine, "checkout", _refuse_dead_connection)
        if options is not None:
            twin = create_engine(engine.url, **{**options, "isolation_level": "AUTOCOMMIT"})
            event.listen(twin, "checkout", _refuse_dead_connection)
            event.listen(engine, "engine_disposed", lambda _engine: twin.dispose())
            _AUTOCOMMIT_TWINS[engine] = twin
        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",
            "foreign_keys=ON",
            "busy_timeout=30000",
        ):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        if conn.get_execution_options().get(SINGLE_STATEMENT):
            return  # the driver's autocommit: the one statement is its own transaction
        conn.exec_driver_sql("BEGIN IMMEDIATE" if WRITE_TX.get() else "BEGIN")


_AUTOCOMMIT_TWINS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def autocommit_engine(engine: Engine) -> Engine | None:
    """PostgreSQL: a twin of `engine` (same URL, options and liveness check) whose
    connections stay in AUTOCOMMIT, for a statement that runs on its own; None elsewhere.

    Switching a pooled connection of `engine` to AUTOCOMMIT and back for each such statement
    (SQLAlchemy's isolation-level characteristic at checkout and at reset) cost about a
    quarter of a warm availability answer's stamp read (issue 22). A worker opens the twin's
    connection on first use: one more connection per worker. Disposed with `engine`.
    """
    return _AUTOCOMMIT_TWINS.get(engine)


def _refuse_dead_connection(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout: hand out no PostgreSQL connection the server (or PgBouncer) has closed.

    What `pool_pre_ping` did, without its round trip on every checkout (issue 22: one of the
    four a one-statement request paid). An idle connection in the pool has nothing to read
    unless its peer spoke first: the end of the stream when the server, PgBouncer or a proxy
    closed it (restart, `pg_terminate_backend`, idle timeouts), preceded by the server's
    "terminating connection" error. So a readable socket, or one psycopg already knows is
    closed or broken, raises DisconnectionError: the pool discards the connection and checks
    out (or opens) another, as it did when a ping failed. A peer that vanished without
    closing (a cut cable) is found by neither check until TCP gives up.
    """
    if dbapi_conn.closed or getattr(dbapi_conn, "broken", False):
        raise DisconnectionError("the database connection is closed")
    if _readable(dbapi_conn.fileno()):
        raise DisconnectionError("the database server closed the connection")


def _readable(fd: int) -> bool:
    """True when `fd` has something to read (or its peer hung up), without waiting."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    ready, _, _ = select.select([fd], [], [], 0)  # pragma: no cover - platforms without poll
    return bool(ready)


def pragma_problems(engine: Engine) -> list[str]:
    """The durability settings a fresh SQLite connection does not have (none on PostgreSQL).

    A file system that cannot do WAL (some network mounts) silently keeps the old journal;
    checked at start so the app refuses to run rather than lose writes.
    """
    if engine.dialect.name != "sqlite":
        return []
    problems = []
    with engine.connect() as conn:
        for name, expected in REQUIRED_PRAGMAS.items():
            found = str(conn.exec_driver_sql(f"PRAGMA {name}").scalar()).lower()
            if found != expected:
                want = _PRAGMA_WORDS.get(name, {}).get(expected, expected.upper())
                problems.append(f"{name} is {found}, not {want}")
        conn.rollback()
    return problems


@contextmanager
def write_unit(*, own_where_possible: bool = False) -> Iterator[Session]:
    """A short write transaction for a request that otherwise only reads.

    In a write request it joins the request's own session, so the write commits with it;
    with `own_where_possible` it commits on its own there too, except on SQLite (where the
    request already holds the one write lock). That keeps an early audit row (the API's
    token use) from holding the audit chain's lock for a whole PostgreSQL write request.
    """
    from booking.extensions import db

    if WRITE_TX.get() and not (own_where_possible and db.engine.dialect.name != "sqlite"):
        yield db.session()  # the request's own session, not its scoped proxy
        return
    token = WRITE_TX.set(True)
    try:
        with Session(db.engine, expire_on_commit=False) as session:
            yield session
            session.commit()
    finally:
        WRITE_TX.reset(token)


def begin_writes() -> bool:
    """Let a request that has only read so far write from its next statement.

    A request that started in read mode (`WRITE_TX` False: on SQLite a deferred `BEGIN`)
    ends its read transaction, keeping the rows it loaded, and opens the write transaction
    (`BEGIN IMMEDIATE`, waiting for the write lock). Returns True
    when it did so: what was read may since have changed and must be checked again inside
    the write transaction. Returns False, doing nothing, where the request already writes.
    """
    from booking.extensions import db

    if WRITE_TX.get():
        return False
    session = db.session()
    if session.in_transaction():
        keep = session.expire_on_commit
        session.expire_on_commit = False
        try:
            session.commit()  # a read-only transaction: nothing to flush or fsync
        finally:
            session.expire_on_commit = keep
    WRITE_TX.set(True)
    # Begin the write transaction (BEGIN IMMEDIATE, waiting for the lock) now: what the
    # caller reads next to re-check its reads must be read under the lock, never by a
    # statement of its own before it (availability_cache.read_stamp's single statement).
    session.connection()
    return True


def session_busy(session: Session) -> bool:
    """True when `session` has begun a transaction or holds changes not yet flushed."""
    return session.in_transaction() or bool(session.new or session.dirty or session.deleted)


def _connect_on_its_own(engine: Engine) -> Connection:
    """A connection for a statement on its own. PostgreSQL: AUTOCOMMIT (psycopg sends no
    BEGIN, the pool's reset no ROLLBACK), from the engine's `autocommit_engine` twin. SQLite's
    driver is in autocommit already and `_begin` skips its BEGIN, so the statement is its own
    implicit transaction (one snapshot)."""
    twin = autocommit_engine(engine)
    if twin is not None:
        return twin.connect()
    if engine.dialect.name == "postgresql":  # an engine `install` gave no twin
        return engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    return engine.connect().execution_options(**{SINGLE_STATEMENT: True})


def read_rows(statement: Any, params: dict[str, Any]) -> list[Any]:
    """The rows of one read-only Core statement, with as few round trips as it can.

    When the request's session has begun nothing (or was never made: none is built just to
    be found idle), the statement runs on its own (no BEGIN, no ROLLBACK: on PostgreSQL one
    round trip instead of three). It sees what a transaction's first statement would
    (PostgreSQL's READ COMMITTED takes a fresh snapshot per statement), and whatever the
    request reads afterwards is read later still. Once the session has begun (pending
    writes, a SQLite snapshot) it runs inside that transaction, after a flush so that
    pending writes and their triggers are seen.

    On its own, a statement whose values need no conversion by SQLAlchemy runs straight on a
    pooled driver connection (`_driver_rows`), its rows named tuples of the same keys,
    unless something observes the engine's statements (then SQLAlchemy's path, as before).
    """
    from booking.extensions import db

    registry = db.session.registry
    session = registry() if registry.has() else None
    if session is None or not session_busy(session):
        engine = db.engine
        # The driver's own autocommit: PostgreSQL's AUTOCOMMIT twin, SQLite's driver as set up.
        own = autocommit_engine(engine) or (engine if engine.dialect.name == "sqlite" else None)
        compiled = None if own is None else _plain_statement(own, statement)
        if own is not None and compiled is not None and not _observed(own):
            rows = _driver_rows(own, compiled, params)
            if rows is not None:
                return rows
        with _connect_on_its_own(engine) as conn:
            return list(conn.execute(statement, params).all())
    session.flush()
    return list(session.connection().execute(statement, params).all())


@dataclass(frozen=True)
class _Plain:
    """A statement compiled once for a driver: its SQL (None: it needs SQLAlchemy's type
    conversion), bound defaults and, for positional drivers (SQLite's qmark), names in order.
    Holds the statement and dialect, so the ids it is filed under stay theirs."""

    statement: Any
    dialect: Any
    sql: str | None
    defaults: dict[str, Any]
    order: tuple[str, ...] | None
    row: Any  # a named tuple of the selected columns' keys: rows read as SQLAlchemy's do


_PLAIN: dict[tuple[int, int], _Plain] = {}


def _plain_statement(engine: Engine, statement: Any) -> _Plain | None:
    """`statement` compiled once per dialect, when its parameters and columns need no type
    conversion by SQLAlchemy (then the driver's rows are SQLAlchemy's rows); else None."""
    dialect = engine.dialect
    found = _PLAIN.get((id(dialect), id(statement)))
    if found is None or found.statement is not statement or found.dialect is not dialect:
        compiled = statement.compile(dialect=dialect)
        plain = (
            not compiled._bind_processors
            and not any(bind.expanding for bind in compiled.binds.values())
            and all(
                column.type._cached_result_processor(dialect, None) is None
                for column in statement.selected_columns
            )
        )
        positional = compiled.positional and compiled.positiontup
        found = _Plain(
            statement,
            dialect,
            str(compiled) if plain else None,
            dict(compiled.params),
            tuple(compiled.positiontup) if positional else None,
            namedtuple("Row", statement.selected_columns.keys(), rename=True),  # noqa: PYI024
        )
        if len(_PLAIN) > 64:
            _PLAIN.clear()
        _PLAIN[(id(dialect), id(statement))] = found
    return found if found.sql is not None else None


def _observed(engine: Engine) -> bool:
    """True when something watches `engine`'s statements (echo, cursor events: query
    counters, SQL recorders), which then see this one through SQLAlchemy as before."""
    dispatch = engine.dispatch
    return bool(engine.echo or dispatch.before_cursor_execute or dispatch.after_cursor_execute)


def _driver_rows(engine: Engine, plain: _Plain, params: dict[str, Any]) -> list[Any] | None:
    """The rows of `plain` run straight on a pooled driver connection of `engine` (pool
    checkout and its liveness check, return and reset as for any connection): ~70 µs less
    than SQLAlchemy's connection, execution context and result for one small read (issue
    22). None after a driver error: the connection is discarded and the caller runs the
    statement through SQLAlchemy instead (a read on its own: safe to run again), which
    raises as it always did."""
    values = {**plain.defaults, **params}
    bound: Any = values if plain.order is None else [values[name] for name in plain.order]
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(cast(str, plain.sql), bound)
            return list(map(plain.row._make, cursor.fetchall()))
        finally:
            cursor.close()
    except Exception:  # noqa: BLE001 - handed to SQLAlchemy's path, which raises properly
        connection.invalidate()
        return None
    finally:
        connection.close()


# Session.info keys: work a transaction does just before (and learns just after) its commit.
_BEFORE_COMMIT = "meridian_before_commit"
_AFTER_COMMIT = "meridian_after_commit"
_AFTER_ROLLBACK = "meridian_after_rollback"
_SCOPED = "meridian_transaction_scoped"


def _info(session: Session | Any) -> dict[Any, Any]:
    """The session's info, its transaction begun (the values there live as long as it)."""
    if isinstance(session, scoped_session):
        session = session()
    if not session.in_transaction():
        session.begin()  # no statement yet: the connection (BEGIN) comes with the first
    info: dict[Any, Any] = session.info
    return info


def transaction_scoped(session: Session | Any, key: str, factory: Callable[[], Any]) -> Any:
    """The value under `key` for `session`'s current transaction, made by `factory` the
    first time; forgotten when the transaction ends (committed or rolled back)."""
    scoped = _info(session).setdefault(_SCOPED, {})
    if key not in scoped:
        scoped[key] = factory()
    return scoped[key]


def before_commit(session: Session | Any, work: Callable[[], object]) -> None:
    """Run `work` in `session`'s transaction just before it commits (after its other
    statements, before the flush of pending objects); forgotten if it rolls back instead.

    For writes whose locks should be held as briefly as possible (an audit chain append, a
    row every request updates): the transaction takes them at its very end.
    """
    _info(session).setdefault(_BEFORE_COMMIT, []).append(work)


def after_commit(session: Session | Any, work: Callable[[], object]) -> None:
    """Run `work` once `session`'s transaction has committed; forgotten if it rolls back."""
    _info(session).setdefault(_AFTER_COMMIT, []).append(work)


def after_rollback(session: Session | Any, work: Callable[[], object]) -> None:
    """Run `work` when `session`'s transaction ends without committing."""
    _info(session).setdefault(_AFTER_ROLLBACK, []).append(work)


@event.listens_for(Session, "before_commit")
def _run_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's release: the work belongs to the outer transaction's commit
    work = session.info.get(_BEFORE_COMMIT)
    while work:  # in order, including work the earlier work adds
        work.pop(0)()


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_AFTER_ROLLBACK, None)
    for work in session.info.pop(_AFTER_COMMIT, ()):
        work()


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction (work left: it rolled back)
        session.info.pop(_BEFORE_COMMIT, None)
        session.info.pop(_AFTER_COMMIT, None)
        session.info.pop(_SCOPED, None)
        for work in session.info.pop(_AFTER_ROLLBACK, ()):
            work()
