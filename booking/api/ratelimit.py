"""API rate limits: Flask-Limiter on a store every worker shares (security.md §7).

Redis when `BOOKING_RATELIMIT_STORAGE_URI` names one, else `meridiandb://`: fixed-window
counters in the app's own database. Never `memory://` outside tests: each gunicorn worker
would count on its own.

The API's two limits (per token, per address) are counted by `check_api_limits`, an app
hook in the place of Flask-Limiter's own check, through the same `limits` strategy and
store and under the same keys: Flask-Limiter resolved a blueprint's dynamic limits again on
every request (calling the limit functions, parsing their strings, building its runtime
limits, the exemption scopes), about a fifth of a warm availability answer (issue 22).
"""

from __future__ import annotations

import itertools
import math
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from typing import Any, cast

from flask import Flask, Response, current_app, request
from flask.globals import request_ctx
from flask_limiter import RequestLimit
from limits import RateLimitItem, parse_many
from limits.storage import Storage
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.dml import ReturningInsert

from booking.db_hooks import WRITE_TX
from booking.errors import problem
from booking.extensions import db, limiter
from booking.models import RateLimitCounter
from booking.services.platform.tokens import token_hash

DEFAULT_STORAGE_URI = "meridiandb://"
# Expired counters are swept on one call in this many, so the table stays small.
SWEEP_EVERY = 500
# Large limits are counted in blocks: a worker reserves one hit per this many of the limit
# in one write and hands the reserved hits out from memory (see `DatabaseStorage.incr`).
HITS_PER_RESERVED = 50
MAX_BLOCK = 20


def block_size(key: str) -> int:
    """Hits reserved per write for `key`: 1 (no reserving) for limits under 100 a window.

    `limits` ends every key with "/<amount>/<multiples>/<granularity>".
    """
    parts = key.rsplit("/", 3)
    try:
        amount = int(parts[-3])
    except (IndexError, ValueError):
        return 1
    return max(1, min(MAX_BLOCK, amount // HITS_PER_RESERVED)) if amount >= 100 else 1


@dataclass
class _Block:
    """Shared counter positions this worker reserved: `next` up to `last`, until `ends`."""

    next: int
    last: int
    ends: float


# A declarative class's __table__ is typed FromClause; for a mapped class it is its Table.
_counter = cast(Table, RateLimitCounter.__table__)


class DatabaseStorage(Storage):
    """A `limits` storage on the `rate_limit_counter` table: one atomic upsert per hit.

    For large limits (the API's hundreds a minute) one upsert reserves a block of hits:
    the counter moves on by the whole block, and this worker answers the block's positions
    from memory. Each admitted hit still has its own position in the shared count, so no
    more than the limit are ever admitted across workers; a worker's unused reserved hits
    (under one block) can make a client be refused that much early. Issue 22: one write per
    API request cost about a sixth of the API's throughput.
    """

    STORAGE_SCHEME = ["meridiandb"]  # the scheme `limits` looks this class up by

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any
    ) -> None:
        super().__init__(uri, wrap_exceptions, **options)
        self._calls = itertools.count()
        self._blocks: dict[str, _Block] = {}
        self._lock = threading.Lock()

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
        size = block_size(key) if amount == 1 else 1
        if size == 1:
            return self._add(key, expiry, amount)[0]
        with self._lock:
            held = self._blocks.get(key)
            if held is not None and held.next <= held.last and held.ends > time.time():
                held.next += 1
                return held.next - 1
        hits, ends = self._add(key, expiry, size)
        with self._lock:
            if len(self._blocks) > 10_000:  # many addresses: drop the spent and expired ones
                now = time.time()
                self._blocks = {
                    k: b for k, b in self._blocks.items() if b.ends > now and b.next <= b.last
                }
            self._blocks[key] = _Block(next=hits - size + 2, last=hits, ends=ends)
        return hits - size + 1

    def _add(self, key: str, expiry: int, amount: int) -> tuple[int, float]:
        """Add `amount` hits to the shared counter: its new count and the window's end."""
        now = datetime.now(UTC)
        ends = now + timedelta(seconds=expiry)
        with self._unit() as conn:
            params = {"key": key, "amount": amount, "ends": ends, "now": now}
            hits, ends_at = conn.execute(_add_statement(conn.dialect.name), params).one()
            if next(self._calls) % SWEEP_EVERY == SWEEP_EVERY - 1:
                conn.execute(delete(_counter).where(_counter.c.expires_at <= now))
        if ends_at.tzinfo is None:
            ends_at = ends_at.replace(tzinfo=UTC)
        return int(hits), ends_at.timestamp()

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
        with self._lock:
            self._blocks.clear()
        with self._unit() as conn:
            return conn.execute(delete(_counter)).rowcount

    def clear(self, key: str) -> None:
        with self._lock:
            self._blocks.pop(key, None)
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


@lru_cache(maxsize=2)
def _add_statement(dialect: str) -> ReturningInsert[Any]:
    """The counter's one upsert (a fresh window starts at `amount`), built once per dialect:
    building it on every call cost more CPU than running it (issue 22)."""
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_counter)
    amount = bindparam("amount", type_=_counter.c.hits.type)
    ends = bindparam("ends", type_=_counter.c.expires_at.type)
    fresh = _counter.c.expires_at <= bindparam("now", type_=_counter.c.expires_at.type)
    return (
        insert.values(key=bindparam("key"), hits=amount, expires_at=ends)
        .on_conflict_do_update(
            index_elements=[_counter.c.key],
            set_={
                "hits": case((fresh, amount), else_=_counter.c.hits + amount),
                "expires_at": case((fresh, ends), else_=_counter.c.expires_at),
            },
        )
        .returning(_counter.c.hits, _counter.c.expires_at)
    )


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
    # Flask-Limiter's before-request check applies only default, application and blueprint
    # limits. Meridian declares none (its view limits check in their views' wrappers, the
    # API's in `check_api_limits`), yet the check resolved them again on every request of
    # every page: ~60 µs, half a bare Flask hello (issue 22). Kept when the config names
    # default or application limits; tests/integration/test_api_ratelimit.py fails if a
    # blueprint limit is declared.
    manager = limiter.limit_manager
    hooks = app.before_request_funcs.setdefault(None, [])
    if not (manager.default_limits or manager.application_limits):
        hooks[:] = [hook for hook in hooks if hook != limiter._check_request_limit]
    # Flask-Limiter's after-request (conditional deductions, rate-limit headers) and teardown
    # hooks read its per-request context, building an empty one when nothing made it: ~4 % of
    # a warm API answer for nothing (issue 22). Only a limit checked in this request (a view
    # decorator, or Flask-Limiter's own check) makes one; without it they have nothing to do.
    app.after_request_funcs[None] = [_when_limited(f) for f in app.after_request_funcs[None]]
    app.teardown_request_funcs[None] = [_when_limited(f) for f in app.teardown_request_funcs[None]]
    # Where Flask-Limiter's own check runs (or ran): before any hook that may open a
    # transaction, so the store's short write never waits behind the request's SQLite lock.
    app.before_request(check_api_limits)


def _limiter_hooks() -> tuple[Callable[..., Any], ...]:
    """Flask-Limiter's own after-request and teardown hooks (as `init_app` registers them)."""
    return (
        getattr(limiter, "_Limiter__inject_headers"),  # noqa: B009 - name-mangled
        getattr(limiter, "_Limiter__release_context"),  # noqa: B009 - name-mangled
    )


def _when_limited(hook: Callable[..., Any]) -> Callable[..., Any]:
    """`hook` if it is not Flask-Limiter's; else `hook`, run only once a limit made the
    request's limiter context (the hook's first argument passes through otherwise)."""
    target = hook.func if isinstance(hook, partial) else hook
    own = [(theirs, getattr(theirs, "__func__", None)) for theirs in _limiter_hooks()]
    if not any(target in pair for pair in own):
        return hook

    def guarded(arg: Any) -> Any:
        if hasattr(request_ctx._get_current_object(), "_limiter_request_context"):  # type: ignore[attr-defined]
            return hook(arg)
        return arg

    guarded.__name__ = f"when_limited_{getattr(target, '__name__', 'hook')}"
    return guarded


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


@dataclass(frozen=True)
class SharedLimit:
    """A limit shared by every endpoint of a blueprint: its setting, scope and key."""

    setting: str  # the config key holding the limit string, e.g. "300/minute"
    scope: str
    key: Callable[[], str]
    exempt_when: Callable[[], bool] | None = None


API_BLUEPRINT = "api"
API_LIMITS = (
    SharedLimit("API_RATELIMIT_PER_TOKEN", "api-token", bearer_key, exempt_when=has_no_bearer),
    SharedLimit("API_RATELIMIT_PER_IP", "api-ip", ip_key),
)


@lru_cache(maxsize=64)
def parsed(limit: str) -> tuple[RateLimitItem, ...]:
    """The limits a string names ("300/minute", "5/second;100/hour"), parsed once per string.

    The setting is read on every request (a test or an operator may change it), but parsed
    only when it is a string not seen before.
    """
    return tuple(parse_many(limit))


def check_api_limits() -> Response | None:
    """Count an API request against `API_LIMITS`; 429 (`too_many`) on the first one spent.

    As Flask-Limiter did: the shortest windows first, a limit skipped while its `exempt_when`
    holds, one hit per limit in the shared store under the keys Flask-Limiter used
    (`LIMITS:LIMITER/<prefix>/<key>/<scope>/<amount>/<multiples>/<granularity>`), and no
    limit counted after the first refusal. Honours `RATELIMIT_ENABLED`.
    """
    if request.blueprint != API_BLUEPRINT or not limiter.enabled:
        return None
    config = current_app.config
    prefix = str(config["RATELIMIT_KEY_PREFIX"])
    due = [
        (item, shared)
        for shared in API_LIMITS
        if shared.exempt_when is None or not shared.exempt_when()
        for item in parsed(str(config[shared.setting]))
    ]
    due.sort(key=lambda pair: pair[0].GRANULARITY.seconds)  # stable: declared order next
    for item, shared in due:
        args = [prefix, shared.key(), shared.scope]
        if not limiter.limiter.hit(item, *args):
            limiter.logger.info(
                "ratelimit %s (%s) exceeded at endpoint: %s", item, args[1], shared.scope
            )
            return too_many(RequestLimit(limiter, item, args, breached=True, shared=True))
    return None


# --- counting by hand, for limits a decorator cannot key --------------------------------


def hit_limit(limit: str, scope: str, key: str) -> bool:
    """Count one hit for `key` against `limit` in the shared store; False once it is spent.

    Call it before the request's own transaction starts: on SQLite the store's short write
    would otherwise wait behind the request's write lock.
    """
    prefix = str(current_app.config["RATELIMIT_KEY_PREFIX"])
    return limiter.limiter.hit(parsed(limit)[0], prefix, key, scope)
