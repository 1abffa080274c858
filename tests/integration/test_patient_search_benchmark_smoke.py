"""The patient search benchmark runs end to end at a tiny size and ends with its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_postgres

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "patient_search.py"


def run_tiny(*extra: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--tiny", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "p95 ms" in result.stdout  # the human table comes first
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["patients"] == 500
    assert summary["p95_ms_search"] > 0
    # Every kind of query finds the person it was made from, misspelt names included.
    assert set(summary["found_rate_by_kind"].values()) == {1.0}
    return summary


def test_tiny_benchmark_on_sqlite() -> None:
    assert run_tiny("--engine", "sqlite")["engine"] == "sqlite"


def test_tiny_benchmark_on_postgresql(worker_name: str) -> None:
    url = require_postgres()
    summary = run_tiny(
        "--engine",
        "postgresql",
        "--database-url",
        url,
        "--database-name",
        f"bench_patient_search_smoke_{worker_name}",
    )
    assert summary["engine"] == "postgresql"
