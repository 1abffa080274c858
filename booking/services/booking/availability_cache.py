"""Free times computed once per set of facts: keyed by version stamps, checked on every read.

Each read runs one cheap query for the stamps of what the answer depends on (the clinic,
the location, the practitioners who may be offered, the rooms the session type needs);
database triggers bump them in the same transaction as any write to those facts. A stored
answer is used only when computed from the same stamps and before its `until` instant (the
next moment time alone changes it: a notice boundary, a hold's expiry, local midnight). So
a time booked before a read began is never shown, whichever worker or host computed it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Integer,
    ScalarSelect,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from booking.db_hooks import read_rows
from booking.domain.scheduling.dst import require_aware
from booking.domain.scheduling.values import Slot
from booking.extensions import availability_cache
from booking.models import AvailabilityVersion, Room, SessionType, practitioner_session_type
from booking.services.booking.availability import AvailabilityQuery, find_slots_until

Stamp = tuple[tuple[str, int, int], ...]

_version = AvailabilityVersion.__table__
_room = Room.__table__
_session_type = SessionType.__table__
_offers = practitioner_session_type


@dataclass(frozen=True)
class CachedSlots:
    """An answer, the instant it stops being right without a write, its ETag and stamps."""

    slots: tuple[Slot, ...]
    until: datetime
    etag: str
    stamp: Stamp = ()

    @property
    def clinic_version(self) -> int | None:
        """The clinic-wide stamp (bumped by any write to locations, the clinic, types…)."""
        return next((version for kind, _, version in self.stamp if kind == "c"), None)


@lru_cache(maxsize=2)
def _stamp_statement(chosen: bool) -> CompoundSelect[Any]:
    """The stamps of a query's facts: one lookup by key for each kind of fact, together.

    (A UNION ALL of index lookups: the same rows as one OR over the table, which scanned
    it: measured at 1,000,000 appointments, about a third less time a read on SQLite and
    a fifth less a round trip on PostgreSQL, under a noisy load.)
    """
    v = _version.c
    stamps = select(v.kind, v.ref_id, v.version)
    people = (
        stamps.where(v.kind == "p", v.ref_id == bindparam("practitioner_id"))
        if chosen
        else stamps.select_from(_offers)
        .join(_version, and_(v.kind == "p", v.ref_id == _offers.c.practitioner_id))
        .where(_offers.c.session_type_id == bindparam("session_type_id"))
    )
    rooms = (
        stamps.select_from(_room)
        .join(_session_type, _session_type.c.room_kind == _room.c.kind)
        .join(_version, and_(v.kind == "r", v.ref_id == _room.c.id))
        .where(
            _room.c.location_id == bindparam("location_id"),
            _session_type.c.id == bindparam("session_type_id"),
        )
    )
    return union_all(
        stamps.where(v.kind == "c"),
        stamps.where(v.kind == "l", v.ref_id == bindparam("location_id")),
        people,
        rooms,
    ).order_by(literal_column("kind"), literal_column("ref_id"))


class _Joined(FunctionElement[str]):
    """`aggregate_strings(x, ',')` with the comma written into the SQL: SQLAlchemy's own
    renders it at each execution (a post-compile parameter), which costs more than the
    lookup it aggregates."""

    type = String()
    inherit_cache = True


@compiles(_Joined)
def _group_concat(element: _Joined, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(_Joined, "postgresql")
def _string_agg(element: _Joined, compiler: Any, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


def stamp_columns(chosen: Any) -> list[ScalarSelect[Any]]:
    """`read_stamp`'s rows as text columns of another statement (see `parse_stamp`).

    `chosen` is a one-row selectable (a materialised CTE of that statement) with the
    query's ids: `session_type_id`, `location_id`, and `practitioner` as text, "any" (or
    NULL) for anyone who offers the type. So a GET that reads its choices can read their
    stamps in the same statement (issue 22). Each column is one small lookup by key (the
    clinic, the location, the chosen practitioner, those who offer the type, the type's
    rooms there), none an OR over the whole table.
    """
    v = _version.c
    row = v.kind + literal(":") + cast(v.ref_id, String) + literal(":") + cast(v.version, String)
    anyone = func.coalesce(chosen.c.practitioner, "any") == "any"
    chosen_id = case((anyone, None), else_=cast(chosen.c.practitioner, Integer))
    rows = select(_Joined(row))
    lookups = [
        rows.where(v.kind == "c"),
        rows.select_from(chosen).join(
            _version, and_(v.kind == "l", v.ref_id == chosen.c.location_id)
        ),
        rows.select_from(chosen).join(_version, and_(v.kind == "p", v.ref_id == chosen_id)),
        rows.select_from(chosen)
        .join(_offers, and_(_offers.c.session_type_id == chosen.c.session_type_id, anyone))
        .join(_version, and_(v.kind == "p", v.ref_id == _offers.c.practitioner_id)),
        rows.select_from(chosen)
        .join(_room, _room.c.location_id == chosen.c.location_id)
        .join(
            _session_type,
            and_(
                _session_type.c.room_kind == _room.c.kind,
                _session_type.c.id == chosen.c.session_type_id,
            ),
        )
        .join(_version, and_(v.kind == "r", v.ref_id == _room.c.id)),
    ]
    return [lookup.scalar_subquery() for lookup in lookups]


def parse_stamp(texts: Iterable[str | None]) -> Stamp:
    """`stamp_columns`' texts as `read_stamp` returns them (in the same order)."""
    rows = []
    for text in texts:
        for item in (text or "").split(","):
            if item:
                kind, ref, version = item.split(":")
                rows.append((kind, int(ref), int(version)))
    return tuple(sorted(rows))


def read_stamp(query: AvailabilityQuery) -> Stamp:
    """The versions of every fact `query`'s answer depends on, in one query. Raises nothing.

    When the request has not begun a transaction (a warm availability read runs nothing
    else), the one statement runs on its own, without BEGIN or ROLLBACK: on PostgreSQL one
    round trip instead of three (issue 22). It sees what a transaction's first statement
    would (PostgreSQL's READ COMMITTED takes a fresh snapshot per statement), and whatever the
    request reads afterwards (a miss's computation) is read later still, so an answer is
    never older than the stamps it is stored under. Once the request's transaction has begun
    (pending writes, a SQLite snapshot) the stamps are read inside it.
    """
    params: dict[str, Any] = {
        "session_type_id": query.session_type_id,
        "location_id": query.location_id,
    }
    if query.practitioner_id is not None:
        params["practitioner_id"] = query.practitioner_id
    rows = read_rows(_stamp_statement(query.practitioner_id is not None), params)
    return tuple((str(kind), int(ref), int(version)) for kind, ref, version in rows)


def cached_slots(
    query: AvailabilityQuery, *, now: datetime, stamp: Stamp | None = None
) -> CachedSlots:
    """`find_slots(query)` from the store when its stamps still match, else computed and kept.

    `stamp` is `read_stamp(query)` when the caller has already read it in this request (a
    picker reads it once for its several ranges; on PostgreSQL with the journey's draft).
    It must have been read before this call, so that the answer computed here is never
    older than the stamps it is stored under. Raises as `find_slots` does (errors are
    never stored).
    """
    require_aware(now, "now")
    if stamp is None:
        stamp = read_stamp(query)
    key = _key(query, stamp)
    store = availability_cache.store
    entry = store.get(key, now)
    if entry is None:
        slots, until = find_slots_until(query, now=now)
        entry = (until, tuple(slots))
        store.put(key, entry, now)
    until, found = entry
    etag = hashlib.sha256(f"{key}|{until.isoformat()}".encode()).hexdigest()[:32]
    return CachedSlots(found, until, etag, stamp)


def _key(query: AvailabilityQuery, stamp: Stamp) -> str:
    params = [
        query.session_type_id,
        query.location_id,
        query.practitioner_id,
        query.date_from.isoformat(),
        query.date_to.isoformat(),
    ]
    return hashlib.sha256(json.dumps([params, stamp]).encode()).hexdigest()
