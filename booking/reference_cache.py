"""Reference data kept in each worker's memory, checked against one version row per request.

The start page and the journey's first steps showed the same session types, places and
articles to every visitor, and read them with four queries a request (issue 22). Here each
worker keeps them as plain frozen values, tagged with `reference_version.version`, and a
request reads only that row. Every ORM write to the tables in `REFERENCE_TABLES` (a flush of
their objects, or a bulk insert/update/delete through a session) bumps the version in the
same transaction, so a page never shows data older than what was committed before its read
began. SQL run outside the app's sessions (psql, a raw connection) does not bump it: run
`flask bump-reference-version` after such a change, or restart the workers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from threading import Lock
from typing import Any, TypeVar, cast

from flask import current_app, g
from sqlalchemy import Table, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session

from booking.db_hooks import read_rows
from booking.models import ReferenceVersion

T = TypeVar("T")
STAMP_ID = 1
# What the cached values are built from: a write to any of these bumps the version.
REFERENCE_TABLES = frozenset(
    {
        "session_type",
        "location",
        "clinic",
        "room",
        "practitioner",
        "practitioner_session_type",
        "working_hours",
        "article",
        "tag",
        "article_tag",
    }
)
_EXTENSION = "meridian_reference_cache"
_stamp = cast(Table, ReferenceVersion.__table__)  # a mapped class's table is a Table
_installed = False


def install() -> None:
    """Bump the version on every session's writes to reference tables (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "do_orm_execute", _do_orm_execute)


def _touches_reference(objects: Any) -> bool:
    return any(getattr(obj, "__tablename__", None) in REFERENCE_TABLES for obj in objects)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if (
        _touches_reference(session.new)
        or _touches_reference(session.deleted)
        or _touches_reference(o for o in session.dirty if session.is_modified(o))
    ):
        bump(session)


def _do_orm_execute(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if isinstance(table, Table) and table.name in REFERENCE_TABLES:
        bump(state.session)


def bump(session: Session) -> None:
    """Move the version on, in `session`'s transaction (an upsert: the row may be missing)."""
    connection = session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    connection.execute(
        insert(_stamp)
        .values(id=STAMP_ID, version=1)
        .on_conflict_do_update(index_elements=[_stamp.c.id], set_={"version": _stamp.c.version + 1})
    )


_VERSION_ROW = select(_stamp.c.version).where(_stamp.c.id == STAMP_ID)
# The version as a scalar subquery, for a statement that reads it with other rows.
VERSION = select(_stamp.c.version).where(_stamp.c.id == STAMP_ID).scalar_subquery()


def current_version() -> int | None:
    """This request's view of the version (read once per request); None without the row."""
    if "reference_version" not in g:
        # On its own while the request has begun nothing (`read_rows`): on PostgreSQL one
        # round trip instead of BEGIN, SELECT, ROLLBACK, and no ORM Session (issue 22). What
        # the request reads afterwards is read later still, so never older than this.
        rows = read_rows(_VERSION_ROW, {})
        g.reference_version = rows[0][0] if rows else None
    version: int | None = g.reference_version
    return version


def read_version_with(version: int | None) -> None:
    """The version as a request's first statement read it (`VERSION`), unless already read."""
    if "reference_version" not in g:
        g.reference_version = version


@dataclass
class _Store:
    lock: Lock
    values: dict[str, tuple[int, Any]]


def cached(name: str, build: Callable[[], T]) -> T:
    """`build()`'s value, reused by this worker while the reference version stays the same.

    `build` must return plain immutable data (never ORM objects: they belong to a session).
    """
    version = current_version()
    if version is None:
        return build()
    store: _Store = current_app.extensions.setdefault(_EXTENSION, _Store(Lock(), {}))
    found = store.values.get(name)
    if found is not None and found[0] == version:
        value: T = found[1]
        return value
    value = build()
    with store.lock:
        held = store.values.get(name)
        if held is None or held[0] <= version:
            store.values[name] = (version, value)
    return value


def frozen_mapping(data: Mapping[Any, Any]) -> Mapping[Any, Any]:
    """A read-only view, so no page can change a value other requests share."""
    from types import MappingProxyType

    return MappingProxyType(dict(data))
