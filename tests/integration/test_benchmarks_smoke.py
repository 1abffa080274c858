"""The availability benchmark runs end to end at a tiny size and ends with its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_postgres

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "availability.py"
KEYS = {
    "engine",
    "cores",
    "appointments",
    "p50_ms_one_practitioner_7d",
    "p95_ms_one_practitioner_7d",
    "p50_ms_any_practitioner_28d",
    "p95_ms_any_practitioner_28d",
    "p95_ratio_1m_vs_10k",
    "seed_seconds",
}


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
    lines = result.stdout.strip().splitlines()
    assert "p95 ms" in result.stdout  # the human table comes first
    summary = json.loads(lines[-1])
    assert summary.keys() >= KEYS
    assert summary["appointments"] == 300
    assert summary["cores"] >= 1
    assert summary["p95_ms_one_practitioner_7d"] > 0
    assert summary["p95_ms_any_practitioner_28d"] > 0
    assert summary["p95_ratio_1m_vs_10k"] > 0
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
        f"bench_availability_smoke_{worker_name}",
    )
    assert summary["engine"] == "postgresql"
