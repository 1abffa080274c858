"""`ids_in`: one parameter for an id list, an array on PostgreSQL (issue 22), on both engines."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import PatientProfile
from booking.services.platform.id_lists import ids_in
from tests.conftest import count_queries
from tests.factories import make_patient


def test_ids_in_finds_exactly_the_listed_rows_with_one_statement_text(app_ctx: Flask) -> None:
    patients = [make_patient() for _ in range(5)]
    db.session.flush()
    ids = [p.id for p in patients]
    query = select(PatientProfile.id).where(ids_in(PatientProfile.id)).order_by(PatientProfile.id)
    with count_queries(app_ctx) as statements:
        for wanted in ([ids[0]], ids[1:4], ids, [], [ids[2], 10**9]):
            found = list(db.session.scalars(query, {"ids": wanted}))
            assert found == sorted(i for i in wanted if i in ids)
    assert len(statements) == 5
    if db.engine.dialect.name == "postgresql":
        # One array parameter: the same statement text whatever the number of ids.
        assert len(set(statements)) == 1
        assert "ANY" in statements[0]
    else:
        assert "IN" in statements[0]
