"""The test harness's demo snapshot (tests/conftest.py `seed_demo`) on both engines.

Over a thousand tests need the demo clinic; seeding it through the ORM costs far more than
most of them. The first seeding in a test process is recorded and later fresh databases get
the same rows back. On PostgreSQL the snapshot was refused once the demo began bumping a row
the migrations seed (`reference_version`), and every PostgreSQL test seeded through the ORM.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _DEMO_SNAPSHOTS, _demo_key, make_app, seed_demo, seeded_rows


def _contents(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    """Each table's rows in a fixed order. Availability stamps are compared by what they
    stamp: the stamp triggers bump them again as the rows are put back."""
    return {
        name: sorted(
            repr(sorted((row if name != "availability_version" else {**row, "version": 0}).items()))
            for row in rows
        )
        for name, rows in tables.items()
    }


def test_the_demo_is_recorded_once_and_restored_whole(
    engine_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    with make_app(engine_name, tmp_path / "first", request) as first:
        seed_demo(first)
        key = _demo_key(first)
        recorded = seeded_rows(first)
    assert recorded["reference_version"] != [{"id": 1, "version": 1}]  # the demo bumped it
    assert key is not None
    assert _DEMO_SNAPSHOTS.get(key) is not None  # kept for the next fresh database

    with make_app(engine_name, tmp_path / "second", request) as second:
        seed_demo(second)
        assert _contents(seeded_rows(second)) == _contents(recorded)
