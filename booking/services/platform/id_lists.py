"""`column IN (ids)` as one parameter: an array on PostgreSQL, an expanding list on SQLite.

The staff pages read flags, intakes, plans, missed sessions and names for the ~100 sessions
of a day sheet or week by id list (issue 22). As an expanding `IN`, each id is a parameter of
its own: psycopg sends ~100 typed parameters, and every list length is a new statement text,
so PostgreSQL parses and plans it afresh each time (about 0.4 ms of client CPU and 0.3 ms of
server time more per statement than one array, measured at 1,000,000 appointments). On
PostgreSQL the list is therefore one `integer[]` parameter, `column = ANY(:ids)`: one
statement text whatever the length (psycopg's automatic prepared statements can reuse it).
SQLite has no arrays: there it stays an expanding `IN`. Both answer the same rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY

from booking.extensions import db


def ids_in(column: Any, name: str = "ids", *, dialect: str | None = None) -> ColumnElement[bool]:
    """`column` is one of the ids passed as the parameter `name` (a list of ints), for the
    app's database or the named `dialect` (for a statement kept per dialect)."""
    if (dialect or db.engine.dialect.name) == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(Integer)))
    return column.in_(bindparam(name, expanding=True))
