"""Health of the service for a load balancer or monitor: database reachable, schema at head."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from booking.extensions import db


@lru_cache(maxsize=4)
def migration_heads(directory: str) -> frozenset[str]:
    """The head revisions of the code's migrations (read once per process)."""
    return frozenset(ScriptDirectory(directory).get_heads())


@dataclass(frozen=True)
class Health:
    database: str  # "ok" or "unreachable"
    migrations: str  # "ok", "behind" (or ahead), or "unknown"

    @property
    def ok(self) -> bool:
        return self.database == "ok" and self.migrations == "ok"


def check(heads: frozenset[str]) -> Health:
    """Ask the database for its revision; never raises, never shows why (no secrets)."""
    try:
        with db.engine.connect() as conn:
            found = frozenset(
                conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            )
            conn.rollback()
    except SQLAlchemyError:
        try:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return Health("unreachable", "unknown")
        return Health("ok", "behind")  # reachable, but no migrations applied
    return Health("ok", "ok" if found == heads else "behind")
