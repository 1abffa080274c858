"""The API load benchmark runs end to end at a tiny size and ends with its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_postgres

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "api_load.py"
KEYS = {
    "cores",
    "availability_rps",
    "availability_p50_ms",
    "availability_p99_ms",
    "hello_rps",
    "availability_to_hello_ratio",
    "booking_post_p99_ms_50c",
}


def run_tiny(*extra: str) -> dict[str, object]:
    result = subprocess.run(
        # Two workers, not the benchmark's four: each costs ~2 s of CPU to start, twice a run
        # (hello's server and Meridian's), and this checks the script, not the figures.
        [sys.executable, str(SCRIPT), "--tiny", "--workers", "2", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-2000:])
    assert "p99 ms" in result.stdout  # the human table comes first
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary.keys() >= KEYS
    assert summary["appointments"] == 300
    assert summary["workers"] == 2
    assert summary["cores"] >= 1
    assert summary["hello_rps"] > 0
    assert summary["availability_rps"] > 0
    assert summary["availability_p99_ms"] >= summary["availability_p50_ms"] > 0
    assert summary["booking_post_p99_ms_50c"] > 0
    assert 0 < summary["availability_to_hello_ratio"] < 10
    # Bookings really happen (the first POST for a free start wins), and nothing fails.
    assert summary["server_errors"] == 0, result.stdout[-4000:]
    assert summary["server_tracebacks"] == 0
    assert set(summary["availability_statuses"]) == {"200"}
    assert set(summary["booking_post_statuses"]) <= {"201", "409"}
    assert "201" in summary["booking_post_statuses"]
    return summary


@pytest.mark.parametrize("tool", ["auto", "python"])
def test_tiny_api_load_benchmark(tool: str) -> None:
    assert run_tiny("--tool", tool)["engine"] == "sqlite"


def test_tiny_api_load_benchmark_on_postgresql(worker_name: str) -> None:
    # Bulk-loaded rows carry explicit ids: the server's own inserts must not collide with them.
    url = require_postgres()
    summary = run_tiny(
        "--engine",
        "postgresql",
        "--database-url",
        url,
        "--database-name",
        f"bench_api_load_smoke_{worker_name}",
    )
    assert summary["engine"] == "postgresql"
