"""Audit events: who read or changed what, written with the cause's transaction.

Rows form a hash chain (`booking.domain.audit_chain`). Appending reads the last row's hash,
so appends are serialised: on PostgreSQL by a transaction-scoped advisory lock, on SQLite by
the write lock every writing transaction already takes (`BEGIN IMMEDIATE`, db_hooks). The
lock is held to the end of the transaction, so the chain's order is the id order.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session, scoped_session

from booking.db_hooks import before_commit, transaction_scoped
from booking.domain.audit_chain import CHAINED_FIELDS, BrokenLink, ChainedRow, first_broken_link
from booking.domain.audit_chain import row_hash as chain_hash
from booking.extensions import db
from booking.models import AuditEvent

# Any constant shared by every writer: the advisory lock that orders appends on PostgreSQL.
CHAIN_LOCK_KEY = 0x4D4552494449414E  # "MERIDIAN"
VERIFY_BATCH = 1000
_PENDING = "audit_pending"
_AUDIT = cast(Table, AuditEvent.__table__)
_LAST_HASH = select(_AUDIT.c.row_hash).order_by(_AUDIT.c.id.desc()).limit(1)


class Actor(Protocol):
    """Who acted: a User, or a snapshot of one's id and role taken while it was loaded."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> Any: ...


def _lock_chain(session: Session | scoped_session[Any]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})


def record_event(
    action: str,
    *,
    actor: Actor | None,
    now: datetime,
    object_type: str | None = None,
    object_id: int | None = None,
    patient_id: int | None = None,
    ip_address: str | None = None,
    request_id: str | None = None,
    detail: str | None = None,
    session: Session | None = None,
    defer: bool = False,
) -> None:
    """Append an audit row, chained to the last one, in the given (or request) session.

    The row is inserted at once (the chain needs the previous row in the table); the
    caller commits. Other pending changes of the session are not flushed by it. With
    `defer` it is kept until the transaction's next appended row or, at the latest, its
    commit, and then inserted with them in one statement after one read of the chain's
    end (issue 22: a booking's token use and booking rows); a rollback forgets it.
    """
    target = session or db.session()
    fields: dict[str, object] = {
        "occurred_at": now,
        "actor_user_id": actor.id if actor is not None else None,
        "actor_role": str(actor.role) if actor is not None else None,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "patient_id": patient_id,
        "ip_address": ip_address,
        "request_id": request_id,
        "detail": detail,
    }
    pending: list[dict[str, object]] = transaction_scoped(target, _PENDING, list)
    if defer and not pending:
        before_commit(target, lambda: _append_pending(target))
    pending.append(fields)
    if not defer:
        _append_pending(target)


def _append_pending(target: Session | scoped_session[Any]) -> None:
    """Insert the transaction's rows not yet appended, in order, chained to the last row."""
    pending: list[dict[str, object]] = transaction_scoped(target, _PENDING, list)
    if not pending:
        return
    rows = list(pending)
    pending.clear()
    with target.no_autoflush:
        _lock_chain(target)
        prev_hash = target.scalar(_LAST_HASH)
        values = []
        for fields in rows:
            row_hash = chain_hash(prev_hash, fields)
            values.append({**fields, "prev_hash": prev_hash, "row_hash": row_hash})
            prev_hash = row_hash
        # Core on the table: no ORM objects are made for rows nothing reads back.
        target.execute(insert(_AUDIT), values)


def _chained_rows() -> Iterator[ChainedRow]:
    columns = [getattr(AuditEvent, name) for name in CHAINED_FIELDS]
    stmt = (
        select(AuditEvent.id, AuditEvent.prev_hash, AuditEvent.row_hash, *columns)
        .order_by(AuditEvent.id)
        .execution_options(yield_per=VERIFY_BATCH)
    )
    for row in db.session.execute(stmt):
        mapping = row._mapping
        yield ChainedRow(
            row_id=mapping["id"],
            fields={name: mapping[name] for name in CHAINED_FIELDS},
            prev_hash=mapping["prev_hash"],
            row_hash=mapping["row_hash"],
        )


def verify_chain() -> tuple[int, BrokenLink | None]:
    """Walk the whole audit trail in id order: (rows checked, the first broken link or None)."""
    checked = 0

    def counted() -> Iterator[ChainedRow]:
        nonlocal checked
        for row in _chained_rows():
            checked += 1
            yield row

    broken = first_broken_link(counted())
    return checked, broken
