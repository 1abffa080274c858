"""The outbox benchmark runs end to end at a tiny size and ends with its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "outbox.py"
KEYS = {
    "engine",
    "cores",
    "appointments",
    "plan_p99_ms",
    "messages",
    "messages_per_second",
    "duplicates",
}


def test_tiny_outbox_benchmark_on_sqlite() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--tiny"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-2000:])
    assert "messages per second" in result.stdout  # the human table comes first
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary.keys() >= KEYS
    assert summary["messages_received"] == summary["messages"] == 50
    assert summary["duplicates"] == 0
    assert summary["plan_p99_ms"] > 0
