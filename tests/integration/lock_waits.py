"""PostgreSQL tests that make two writers deadlock wait until the database shows them waiting."""

from __future__ import annotations

import time

from sqlalchemy import Engine, text

_WAITING = text(
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
    "AND query LIKE :q AND datname = current_database()"
)


def until_waiting(admin: Engine, *, count: int = 1, on: str = "", seconds: float = 20) -> None:
    """Until `count` sessions of this database wait on a lock (in a statement naming `on`,
    if given); fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with admin.connect() as conn:
            if (conn.execute(_WAITING, {"q": f"%{on}%"}).scalar() or 0) >= count:
                return
        time.sleep(0.02)
    raise AssertionError(f"{count} writer(s) never waited on a lock")
