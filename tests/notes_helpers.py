"""Removing clinical notes in tests that rebuild data: the lock triggers refuse it otherwise."""

from __future__ import annotations

from sqlalchemy import delete, text

from booking.extensions import db
from booking.models import ClinicalNote, NoteAddendum, NoteFollowUp

LOCKED = ("clinical_note", "note_addendum")


def delete_all_notes() -> None:
    """Delete every note, addendum and follow-up with the lock triggers suspended meanwhile
    (PostgreSQL: disabled; SQLite: dropped and created again from their own stored SQL)."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        for table in LOCKED:
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        _delete()
        for table in LOCKED:
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        return
    triggers = conn.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name IN ('clinical_note', 'note_addendum')"
        )
    ).all()
    for name, _sql in triggers:
        conn.execute(text(f'DROP TRIGGER "{name}"'))
    _delete()
    for _name, sql in triggers:
        conn.execute(text(sql))


def _delete() -> None:
    for model in (NoteFollowUp, NoteAddendum, ClinicalNote):
        db.session.execute(delete(model))
