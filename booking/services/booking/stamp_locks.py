"""Lock the availability stamps a write will bump, all in one order, before it writes.

The bump triggers (migration 20261207_s22cache_versions) lock each stamp row the writer
touches until commit, in the order its statements touch them: an appointment row locks its
practitioner's ('p') then its room's ('r') stamp, an UPDATE its old scopes then its new. A
single appointment written on its own locks them in the canonical order (kind, then ref_id).
A transaction writing several rows does not: two plan series booked at once in two rooms in
opposite orders, or two changes of time swapping rooms, each held a stamp the other waited
for, and PostgreSQL's deadlock detector failed one (a 503). Such a write calls `lock_stamps`
first with every scope it will touch, so all of them queue in the same order.

Every write of a live row locks its stamps before it writes, even one (`changing=True`): a
new booking or hold before its INSERT (`guard.insert_live`: two overlapping inserts each
found the other's row in the exclusion check, a deadlock found only after a second), a
cancel, a status change or a hold's confirmation before its UPDATE. The moment an UPDATE is
written, a writer inserting an overlapping row waits for it in the exclusion check, and its
AFTER trigger would then wait for a stamp that writer locked first (a plan series, a move:
a deadlock, a 503 for the cancel in the scale-out test). Locked first, while the row is only
locked FOR UPDATE, the overlapping writer is refused at once instead of waiting (a 409 for
it). Existing rows are locked (FOR UPDATE) before any stamp: a change reads its row, locked,
before it knows the scopes. A writer that deletes expired holds in its way locks their
stamps with its own (`guard.expired_hold_scopes`): they may be another practitioner's.

The audit chain's advisory lock (platform/audit.py), held to commit, comes after every
stamp: a writer bumps its stamps (or locks them here) before it appends its audit row, so a
change is flushed before `record_event`.

SQLite needs nothing: a write transaction holds the database's one write lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

from sqlalchemy import TextClause, select, text

from booking.extensions import db
from booking.models import Appointment

# A stamp's key: (kind, ref_id), as in AvailabilityVersion.
Scope = tuple[str, int | None]


def appointment_scopes(practitioner_id: int, room_id: int | None) -> list[Scope]:
    """The stamps an appointment row on this practitioner and room bumps."""
    return [("p", practitioner_id), ("r", room_id)]


def lock_stamps(
    scopes: Iterable[Scope], *, hold_owner: str | None = None, changing: bool = False
) -> None:
    """Lock the stamp rows of `scopes` (and of `hold_owner`'s holds) in (kind, ref_id) order.

    Missing rows are made (as the triggers would: a random first stamp); existing rows are
    locked, never changed (the write's own triggers bump them). Call it before the first
    write of the transaction that touches a stamp, with every scope the transaction will
    write; a transaction that bumps one stamp, or one practitioner's then one room's, is in
    order already and skips it, unless it is `changing` an existing live row (see above).
    `hold_owner` adds the scopes of that browser's holds, which the caller is about to
    release. No-op on SQLite.
    """
    if db.engine.dialect.name != "postgresql":
        return
    keys = sorted({(kind, ref) for kind, ref in scopes if ref is not None})
    if hold_owner is None and len(keys) < (1 if changing else 2):
        return
    db.session.execute(
        _lock_statement(),
        {
            "kinds": [kind for kind, _ in keys],
            "refs": [ref for _, ref in keys],
            "owner": hold_owner,
        },
    )


def lock_row_stamps(row: Appointment) -> None:
    """Lock the stamps of a live appointment row about to change (`changing`, see above)."""
    lock_stamps(appointment_scopes(row.practitioner_id, row.room_id), changing=True)


def lock_appointments(rows: Sequence[Appointment]) -> None:
    """Lock `rows` (FOR UPDATE, in id order) and read them again.

    A writer changing several existing rows locks them all before its stamps, as a single
    change locks its row first (`changes._latest`): a plan pause took its stamps and then
    each row, while a cancel of one of its sessions held the row and waited for a stamp.
    No-op on SQLite.
    """
    if db.engine.dialect.name != "postgresql" or not rows:
        return
    db.session.flush()
    db.session.execute(
        select(Appointment)
        .where(Appointment.id.in_([row.id for row in rows]))
        .order_by(Appointment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


@cache
def _lock_statement() -> TextClause:
    """One statement: the keys in order, ON CONFLICT DO UPDATE ... WHERE false.

    An INSERT handles its rows in the order its SELECT gives them; DO UPDATE locks the
    existing row even when its WHERE is false (PostgreSQL's INSERT documentation), so no
    row is rewritten, and a row another writer is making is waited for as by the trigger.
    Kinds sort by "C" collation, as Python sorts them.
    """
    return text(
        "INSERT INTO availability_version (kind, ref_id, version) "
        "SELECT k, r, floor(random() * 1e12)::bigint FROM ("
        "SELECT k, r FROM unnest(CAST(:kinds AS text[]), CAST(:refs AS integer[])) AS s(k, r) "
        "UNION SELECT 'p', practitioner_id FROM appointment "
        "WHERE hold_owner = :owner AND status = 'held' "
        "UNION SELECT 'r', room_id FROM appointment "
        "WHERE hold_owner = :owner AND status = 'held' AND room_id IS NOT NULL"
        ') AS wanted ORDER BY k COLLATE "C", r '
        "ON CONFLICT (kind, ref_id) DO UPDATE SET version = EXCLUDED.version WHERE false"
    )
