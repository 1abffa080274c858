"""Audit events: who read or changed what, written with the cause's transaction.

Rows form a hash chain (`booking.domain.audit_chain`). Appending reads the last row's hash,
so appends are serialised: on PostgreSQL by a transaction-scoped advisory lock, on SQLite by
the write lock every writing transaction already takes (`BEGIN IMMEDIATE`, db_hooks). The
lock is held to the end of the transaction, so the chain's order is the id order.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session, scoped_session

from booking.domain.audit_chain import CHAINED_FIELDS, BrokenLink, ChainedRow, first_broken_link
from booking.domain.audit_chain import row_hash as chain_hash
from booking.extensions import db
from booking.models import AuditEvent, User

# Any constant shared by every writer: the advisory lock that orders appends on PostgreSQL.
CHAIN_LOCK_KEY = 0x4D4552494449414E  # "MERIDIAN"
VERIFY_BATCH = 1000


def _lock_chain(session: Session | scoped_session[Any]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})


def record_event(
    action: str,
    *,
    actor: User | None,
    now: datetime,
    object_type: str | None = None,
    object_id: int | None = None,
    patient_id: int | None = None,
    ip_address: str | None = None,
    request_id: str | None = None,
    detail: str | None = None,
    session: Session | None = None,
) -> AuditEvent:
    """Append an audit row, chained to the last one, in the given (or request) session.

    The row is inserted at once (the chain needs the previous row in the table); the
    caller commits. Other pending changes of the session are not flushed by it.
    """
    target = session or db.session
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
    with target.no_autoflush:
        _lock_chain(target)
        prev_hash = target.scalar(
            select(AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1)
        )
        values = {**fields, "prev_hash": prev_hash, "row_hash": chain_hash(prev_hash, fields)}
        return target.scalars(insert(AuditEvent).returning(AuditEvent), [values]).one()


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
