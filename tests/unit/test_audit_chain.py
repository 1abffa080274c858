"""The audit hash chain's recipe (booking.domain.audit_chain): what breaks a link, and where."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from booking.domain.audit_chain import ChainedRow, first_broken_link, row_hash

AT = datetime(2027, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)


def _fields(n: int) -> dict[str, object]:
    return {"occurred_at": AT, "action": "intake.read", "object_id": n, "patient_id": 7}


def _chain(count: int) -> list[ChainedRow]:
    rows, prev = [], None
    for n in range(1, count + 1):
        digest = row_hash(prev, _fields(n))
        rows.append(ChainedRow(n, _fields(n), prev, digest))
        prev = digest
    return rows


def test_an_intact_chain_has_no_broken_link() -> None:
    assert first_broken_link(_chain(5)) is None
    assert first_broken_link([]) is None


def test_the_hash_is_the_same_instant_in_any_offset_and_refuses_naive_times() -> None:
    local = AT.astimezone(timezone(timedelta(hours=1)))
    assert row_hash(None, {**_fields(1), "occurred_at": local}) == row_hash(None, _fields(1))
    with pytest.raises(ValueError, match="aware"):
        row_hash(None, {**_fields(1), "occurred_at": AT.replace(tzinfo=None)})


@pytest.mark.parametrize(
    ("tamper", "broken_at", "reason"),
    [
        # a changed field: that row's own hash no longer matches
        (
            lambda rows: rows.__setitem__(
                2,
                ChainedRow(3, {**_fields(3), "patient_id": 8}, rows[2].prev_hash, rows[2].row_hash),
            ),
            3,
            "contents",
        ),
        # a removed row: the next row's link points at a row no longer there
        (lambda rows: rows.pop(1), 3, "previous-row"),
        # two rows swapped: the first of them no longer follows the row before
        (lambda rows: rows.insert(1, rows.pop(2)), 3, "previous-row"),
        # the first row removed: the new first row still names a previous hash
        (lambda rows: rows.pop(0), 2, "previous-row"),
    ],
)
def test_the_first_broken_link_is_named(tamper: object, broken_at: int, reason: str) -> None:
    rows = _chain(5)
    tamper(rows)  # type: ignore[operator]
    broken = first_broken_link(rows)
    assert broken is not None
    assert broken.row_id == broken_at
    assert reason in broken.reason
