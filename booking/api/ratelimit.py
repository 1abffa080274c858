"""API rate limits: Flask-Limiter on a store every worker shares (security.md §7).

Redis when `BOOKING_RATELIMIT_STORAGE_URI` names one, else `meridiandb://`: fixed-window
counters in the app's own database. Never `memory://` outside tests: each gunicorn worker
would count on its own.
"""

from __future__ import annotations

import itertools
import math
import sys
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from flask import Flask, Response, current_app, request
from flask_limiter import RequestLimit
from limits.storage import Storage
from sqlalchemy import Connection, Engine, Table, case, create_engine, delete, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from booking.db_hooks import WRITE_TX
from booking.errors import problem
from booking.extensions import db, limiter
from booking.models import RateLimitCounter
from booking.services.platform.tokens import token_hash

DEFAULT_STORAGE_URI = "meridiandb://"
# Expired counters are swept on one call in this many, so the table stays small.
SWEEP_EVERY = 500

# A declarative class's __table__ is typed FromClause; for a mapped class it is its Table.
_counter = cast(Table, RateLimitCounter.__table__)


class DatabaseStorage(Storage):
    """A `limits` storage on the `rate_limit_counter` table: one atomic upsert per hit."""

    STORAGE_SCHEME = ["meridiandb"]  # the scheme `limits` looks this class up by

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any
    ) -> None:
        super().__init__(uri, wrap_exceptions, **options)
        self._calls = itertools.count()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    @contextmanager
    def _unit(self) -> Iterator[Connection]:
        # Its own short transaction, committed before the request does anything else; a write
        # from the start so SQLite takes its lock up front (db_hooks). Counters need no
        # durability: losing the last second's hits to a power cut is harmless, so the
        # commit skips the disk flush (synchronous_commit off; SQLite synchronous=NORMAL).
        token = WRITE_TX.set(True)
        try:
            with _counter_engine().begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                yield conn
        finally:
            WRITE_TX.reset(token)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = datetime.now(UTC)
        ends = now + timedelta(seconds=expiry)
        with self._unit() as conn:
            insert = _upsert(conn.dialect.name)
            fresh = _counter.c.expires_at <= now
            stmt = (
                insert.values(key=key, hits=amount, expires_at=ends)
                .on_conflict_do_update(
                    index_elements=[_counter.c.key],
                    set_={
                        "hits": case((fresh, amount), else_=_counter.c.hits + amount),
                        "expires_at": case((fresh, ends), else_=_counter.c.expires_at),
                    },
                )
                .returning(_counter.c.hits)
            )
            hits = conn.execute(stmt).scalar_one()
            if next(self._calls) % SWEEP_EVERY == SWEEP_EVERY - 1:
                conn.execute(delete(_counter).where(_counter.c.expires_at <= now))
        return int(hits)

    def get(self, key: str) -> int:
        now = datetime.now(UTC)
        with self._unit() as conn:
            hits = conn.execute(
                select(_counter.c.hits).where(_counter.c.key == key, _counter.c.expires_at > now)
            ).scalar()
        return int(hits or 0)

    def get_expiry(self, key: str) -> float:
        with self._unit() as conn:
            ends = conn.execute(select(_counter.c.expires_at).where(_counter.c.key == key)).scalar()
        return ends.timestamp() if ends is not None else time.time()

    def check(self) -> bool:
        try:
            with self._unit() as conn:
                conn.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._unit() as conn:
            return conn.execute(delete(_counter)).rowcount

    def clear(self, key: str) -> None:
        with self._unit() as conn:
            conn.execute(delete(_counter).where(_counter.c.key == key))


_SQLITE_ENGINES: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def _counter_engine() -> Engine:
    """The app's engine; on SQLite a twin on the same file whose commits skip the fsync."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return engine
    twin = _SQLITE_ENGINES.get(engine)
    if twin is None:
        twin = create_engine(engine.url, hide_parameters=True)

        @event.listens_for(twin, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000"):
                dbapi_conn.execute(f"PRAGMA {pragma}")

        @event.listens_for(twin, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        _SQLITE_ENGINES[engine] = twin
    return twin


def _upsert(dialect: str) -> postgresql.Insert | sqlite.Insert:
    if dialect == "postgresql":
        return postgresql.insert(_counter)
    return sqlite.insert(_counter)


def init_limiter(app: Flask) -> None:
    """Bind the shared limiter to `app` with a store all workers share."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", DEFAULT_STORAGE_URI)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "meridian")
    app.config.setdefault("API_RATELIMIT_PER_TOKEN", "300/minute")
    app.config.setdefault("API_RATELIMIT_PER_IP", "600/minute")
    uri = str(app.config["RATELIMIT_STORAGE_URI"])
    if uri.startswith("memory://") and not (app.config.get("TESTING") or app.config.get("DEBUG")):
        sys.exit("Meridian: RATELIMIT_STORAGE_URI memory:// counts per worker; use Redis.")
    limiter.init_app(app)


# --- the API's limits -------------------------------------------------------------------


def bearer_key() -> str:
    """The rate-limit identity of the request's bearer token (a hash, never the token)."""
    _, _, token = request.headers.get("Authorization", "").partition(" ")
    return "token:" + token_hash(token.strip())[:32]


def ip_key() -> str:
    return "ip:" + (request.remote_addr or "unknown")


def has_no_bearer() -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() != "bearer" or not token.strip()


def too_many(limit: RequestLimit) -> Response:
    """429 problem+json with Retry-After in seconds until the window resets."""
    wait = max(1, math.ceil(limit.reset_at - time.time()))
    response = problem(429, f"Too many requests: the limit is {limit.limit}. Try again later.")
    response.headers["Retry-After"] = str(wait)
    return response


def token_limit() -> str:
    return str(current_app.config["API_RATELIMIT_PER_TOKEN"])


def ip_limit() -> str:
    return str(current_app.config["API_RATELIMIT_PER_IP"])


# --- counting by hand, for limits a decorator cannot key --------------------------------


def hit_limit(limit: str, scope: str, key: str) -> bool:
    """Count one hit for `key` against `limit` in the shared store; False once it is spent.

    Call it before the request's own transaction starts: on SQLite the store's short write
    would otherwise wait behind the request's write lock.
    """
    from limits import parse

    prefix = str(current_app.config["RATELIMIT_KEY_PREFIX"])
    return limiter.limiter.hit(parse(limit), prefix, key, scope)
