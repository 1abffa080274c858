"""Writes of live rows under the database overlap guards (security.md §1).

Every path to a live row goes through these guards; callers validate first for a clear message,
then let the guard decide races.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Exists, and_, delete, exists, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError

from booking.domain.errors import SlotTaken
from booking.domain.scheduling.values import Slot
from booking.extensions import db
from booking.models import Appointment, AppointmentStatus
from booking.services.booking.availability_loading import BUSY_SCAN
from booking.services.booking.stamp_locks import Scope, appointment_scopes, lock_stamps

OVERLAP_MARKER = "appointment_overlap_"


EXCLUSION_VIOLATION = "23P01"
DEADLOCK_DETECTED = "40P01"
# SlotTaken's code when a write of an overlapping row, not yet committed, won (PostgreSQL).
RACED = "taken_concurrently"


def overlap_kind(error: IntegrityError) -> str | None:
    """'practitioner', 'room' or 'patient' when the overlap guard refused a write."""
    orig: Any = error.orig
    if getattr(orig, "sqlstate", None) == EXCLUSION_VIOLATION:
        name = getattr(getattr(orig, "diag", None), "constraint_name", "") or ""
        return name.removeprefix("appointment_no_overlap_") or "practitioner"
    text = str(orig)
    if OVERLAP_MARKER in text:
        return text.split(OVERLAP_MARKER, 1)[1].split()[0].strip("'\"")
    return None


def write_deadlock(error: OperationalError) -> bool:
    """True for a PostgreSQL deadlock that failed this guarded write (the time is contested).

    Two transactions that insert conflicting rows at the same moment each find the other's
    row while checking the exclusion constraint and wait for it. Or one inserts its row and
    its stamp trigger waits for a stamp the other holds (a plan series locks its stamps
    first, lock_stamps), while the other, inserting a row that overlaps this one, waits for
    it in the exclusion check. Either way the deadlock detector fails one of them, and for
    that one the time is being taken by a write not yet committed: the same refusal as a
    conflict with a committed row (a 409, not a 503). Its savepoint's rollback frees what the
    attempt locked, so `insert_live` may try its pick once more.
    """
    orig: Any = error.orig
    return getattr(orig, "sqlstate", None) == DEADLOCK_DETECTED


@contextmanager
def guarded_write() -> Iterator[None]:
    """Make the writes of the block in a savepoint; an overlap refusal becomes SlotTaken.

    The savepoint opens before the block runs because opening it flushes pending work,
    which must not escape the guard.
    """
    savepoint = db.session.begin_nested()
    try:
        yield
        db.session.flush()
    except IntegrityError as error:
        savepoint.rollback()
        kind = overlap_kind(error)
        if kind is None:
            raise
        raise SlotTaken("That time has just been taken.", code=f"taken_{kind}") from None
    except OperationalError as error:
        if not write_deadlock(error):
            raise
        savepoint.rollback()
        raise SlotTaken("That time has just been taken.", code=RACED) from None
    savepoint.commit()


def _expired_holds_in(
    *, practitioner_id: int, room_id: int | None, start: datetime, end: datetime, now: datetime
) -> list[Any]:
    # Bounded below as the overlap guards and the busy load are (no busy range is longer
    # than BUSY_SCAN): each index range scan on (practitioner_id, busy_from) and (room_id,
    # busy_from) then follows the range, not the calendar's whole history (issue 22: at
    # 1,000,000 appointments this probe was ~10 ms of a booking's CPU).
    scan = and_(Appointment.busy_from >= start - BUSY_SCAN, Appointment.busy_from < end)
    scope = and_(Appointment.practitioner_id == practitioner_id, scan)
    if room_id is not None:
        scope = or_(scope, and_(Appointment.room_id == room_id, scan))
    return [
        Appointment.status == AppointmentStatus.held,
        Appointment.hold_expires_at <= now,
        scope,
        Appointment.busy_until > start,
    ]


def clear_expired_holds(
    *, practitioner_id: int, room_id: int | None, start: datetime, end: datetime, now: datetime
) -> None:
    """Delete expired holds that would block this range: the database cannot read the clock."""
    where = _expired_holds_in(
        practitioner_id=practitioner_id, room_id=room_id, start=start, end=end, now=now
    )
    db.session.execute(
        delete(Appointment).where(*where).execution_options(synchronize_session=False)
    )


def expired_hold_scopes(
    ranges: Iterable[tuple[int, int | None, datetime, datetime]], *, now: datetime
) -> list[Scope]:
    """The stamps that `clear_expired_holds` of each (practitioner_id, room_id, start, end)
    range would bump: its holds' practitioners' and rooms' (PostgreSQL; SQLite locks none).

    Deleting an expired hold bumps its own practitioner's and room's stamps, which may be
    another practitioner's, so a writer that clears holds locks these with its own, in one
    order (`lock_stamps`), before it writes: taken by the DELETE after the writer's own
    stamps, they deadlocked with a writer holding that practitioner's stamp and waiting for
    the room's, outside the overlap guard (a 503). No hold expires between this read and the
    DELETE that was not expired at it (`now` is fixed), so the DELETE bumps no other stamp.
    """
    if db.engine.dialect.name != "postgresql":
        return []
    where = [
        and_(
            *_expired_holds_in(
                practitioner_id=practitioner_id, room_id=room_id, start=start, end=end, now=now
            )
        )
        for practitioner_id, room_id, start, end in ranges
    ]
    if not where:
        return []
    found = db.session.execute(
        select(Appointment.practitioner_id, Appointment.room_id).where(or_(*where)).distinct()
    )
    return [
        scope for practitioner, room in found for scope in appointment_scopes(practitioner, room)
    ]


def expired_holds_block(
    *, practitioner_id: int, room_id: int | None, start: datetime, end: datetime, now: datetime
) -> bool:
    """Whether `clear_expired_holds` with these arguments would delete anything (a read).

    A hold made later expires after `now`, so a False read before the write transaction
    still holds in it: the writer may skip the cleanup (`insert_live(clear_holds=False)`).
    """
    probe = expired_holds_probe(
        practitioner_id=practitioner_id, room_id=room_id, start=start, end=end, now=now
    )
    return bool(db.session.scalar(select(probe)))


def expired_holds_probe(
    *, practitioner_id: int, room_id: int | None, start: datetime, end: datetime, now: datetime
) -> Exists:
    """`expired_holds_block`'s read as an EXISTS, for a caller that reads it with others."""
    where = _expired_holds_in(
        practitioner_id=practitioner_id, room_id=room_id, start=start, end=end, now=now
    )
    return exists().where(*where)


def holds_exist(hold_owner: str) -> bool:
    """Whether `release_holds(hold_owner)` would delete anything (a read)."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Appointment.hold_owner == hold_owner,
                    Appointment.status == AppointmentStatus.held,
                )
            )
        )
    )


def release_holds(hold_owner: str) -> None:
    # "fetch" drops the deleted holds from the session too: SQLite may reuse a deleted row's
    # id for the next insert, which would clash with a stale object in the identity map.
    db.session.execute(
        delete(Appointment)
        .where(Appointment.hold_owner == hold_owner, Appointment.status == AppointmentStatus.held)
        .execution_options(synchronize_session="fetch")
    )


def appointment_at(
    slot: Slot, practitioner_id: int, location_id: int, *, now: datetime, **fields: Any
) -> Appointment:
    """A new appointment row on `slot` (times, busy range, room, a fresh ics UID); not added.

    One builder for single bookings (insert_live) and plan series, so the columns a slot
    fills cannot drift apart.
    """
    return Appointment(
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        busy_from=slot.busy_from,
        busy_until=slot.busy_until,
        practitioner_id=practitioner_id,
        location_id=location_id,
        room_id=slot.room_id,
        room_place=slot.room_place,
        ics_uid=f"{uuid.uuid4()}@meridian",
        created_at=now,
        updated_at=now,
        **fields,
    )


def insert_live(
    pick: Callable[[], tuple[int, Slot]],
    *,
    practitioner_id: int,
    now: datetime,
    first: Appointment | None = None,
    clear_holds: bool = True,
    stamps_locked: bool = False,
    **fields: Any,
) -> Appointment:
    """Insert a hold or booking on the slot `pick` validates, under the overlap guards.

    `pick` returns (location_id, slot) and is called again for one retry when a concurrent
    writer took the same room place on PostgreSQL; any other refusal is raised (SlotTaken).
    `first`, when given, is the row for the first attempt, built by the caller with
    `appointment_at` from its own fresh `pick()` and `fields`. `clear_holds=False` skips the
    expired-holds cleanup of the first attempt, for a caller that found none in its range
    (`expired_holds_block`); a retry always cleans up. `stamps_locked`: the caller locked
    the stamps of `first` and of the expired holds it clears (`lock_stamps`,
    `expired_hold_scopes`); a retry locks its own.
    """
    for attempt in range(2):
        if first is not None and attempt == 0:
            row = first
        else:
            location_id, slot = pick()
            row = appointment_at(slot, practitioner_id, location_id, now=now, **fields)
        # Its stamps before its row (PostgreSQL): two overlapping inserts of one practitioner
        # or room otherwise each found the other's row in the exclusion check and waited for
        # it, a deadlock found only after deadlock_timeout (a second: the tail of the booking
        # POST). Queued here, the second meets the first's committed row, a plain 409. The
        # trigger would lock the same rows at the insert, so nothing is held much longer.
        clearing = clear_holds or attempt > 0
        if not (stamps_locked and attempt == 0):
            scopes = appointment_scopes(practitioner_id, row.room_id)
            if clearing:
                scopes += expired_hold_scopes(
                    [(practitioner_id, row.room_id, row.busy_from, row.busy_until)], now=now
                )
            lock_stamps(scopes, changing=True)
        if clearing:
            clear_expired_holds(
                practitioner_id=practitioner_id,
                room_id=row.room_id,
                start=row.busy_from,
                end=row.busy_until,
                now=now,
            )
        try:
            with guarded_write():
                db.session.add(row)
        except SlotTaken as taken:
            # Another room, or (after a race) the same pick again, which now waits for the
            # other write and meets its row, or finds the time free if it rolled back.
            if taken.code in ("taken_room", RACED) and attempt == 0:
                continue
            raise
        return row
    raise SlotTaken("That time has just been taken.")  # pragma: no cover - loop returns
