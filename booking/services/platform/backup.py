"""Backups that restore (security.md §6): SQLite's online backup API, PostgreSQL's pg_dump.

SQLite: `Connection.backup()` copies a consistent snapshot while the app keeps writing (WAL
readers never block writers), the copy is checked with `PRAGMA integrity_check`, then renamed
into place, so a half-written file never carries the backup's name. PostgreSQL: `pg_dump -Fc`
to a temporary name, renamed when it succeeds; `pg_restore` reverses it. The connection's
password goes to the tools in their environment, never on a command line others can list.
Restoring refuses a database that already has tables.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, Engine

from booking.domain.errors import InvalidInput, PolicyRefused


class ToolMissing(PolicyRefused):
    """pg_dump or pg_restore is not installed on this machine."""


def backup(engine: Engine, target: Path) -> str:
    """Write a backup of the app's database to `target`; returns how, in words."""
    if target.exists():
        raise InvalidInput(f"{target} already exists; choose a new file name.")
    if not target.parent.is_dir():
        raise InvalidInput(f"The folder {target.parent} does not exist.")
    partial = target.with_name(f".{target.name}.partial")
    if engine.dialect.name == "sqlite":
        _sqlite_backup(_sqlite_file(engine.url), partial)
        os.replace(partial, target)
        return "SQLite online backup, integrity_check ok"
    _run_pg("pg_dump", engine.url, ["-Fc", "--no-owner", "--file", str(partial)], partial)
    os.replace(partial, target)
    return "pg_dump -Fc"


def restore(engine: Engine, source: Path) -> str:
    """Load a backup into the app's database, which must have no tables yet."""
    if not source.is_file():
        raise InvalidInput(f"{source} is not a file.")
    tables = inspect(engine).get_table_names()
    engine.dispose()
    if tables:
        raise PolicyRefused(
            f"The database is not empty ({len(tables)} tables); restore only into an empty one."
        )
    if engine.dialect.name == "sqlite":
        _sqlite_restore(source, _sqlite_file(engine.url))
        return "SQLite backup restored, integrity_check ok"
    _run_pg("pg_restore", engine.url, ["--no-owner", "--exit-on-error", str(source)], None)
    return "pg_restore"


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise InvalidInput("An in-memory SQLite database cannot be backed up or restored.")
    return Path(url.database)


def _integrity(conn: sqlite3.Connection, name: Path) -> None:
    result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if result != ["ok"]:
        raise PolicyRefused(f"{name} fails PRAGMA integrity_check: {result[0]}")


def _sqlite_backup(database: Path, partial: Path) -> None:
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)
        _integrity(copy, partial)
    except BaseException:
        copy.close()
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    copy.close()


def _sqlite_restore(source: Path, database: Path) -> None:
    try:
        backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        _integrity(backup_file, source)
    except sqlite3.DatabaseError:
        raise InvalidInput(f"{source} is not an SQLite backup.") from None
    target = sqlite3.connect(database)
    try:
        backup_file.backup(target)
        _integrity(target, database)
    finally:
        target.close()
        backup_file.close()


def _run_pg(tool: str, url: URL, arguments: list[str], partial: Path | None) -> None:
    program = shutil.which(tool)
    if program is None:
        raise ToolMissing(
            f"{tool} is not installed; install the PostgreSQL client tools "
            "(the server's major version or newer) to back up or restore PostgreSQL."
        )
    env = {
        **os.environ,
        "PGHOST": url.host or "",
        "PGPORT": str(url.port or 5432),
        "PGUSER": url.username or "",
        "PGDATABASE": url.database or "",
    }
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    database = ["--dbname", url.database or ""] if tool == "pg_restore" else []
    result = subprocess.run(  # noqa: S603 - a fixed tool and our own arguments
        [program, *database, *arguments], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        if partial is not None:
            partial.unlink(missing_ok=True)
        first = (result.stderr.strip().splitlines() or ["no message"])[0]
        raise PolicyRefused(f"{tool} failed: {first}")
