"""The plans benchmark runs end to end at a tiny size and ends with its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "plans.py"


def test_tiny_benchmark_on_sqlite() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--tiny"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "p95 ms" in result.stdout  # the human table comes first
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["engine"] == "sqlite"
    assert summary["appointments"] == 300
    assert summary["p95_ms_propose_12"] > 0
    assert 0 < summary["mean_alternatives_per_taken"] <= 3
