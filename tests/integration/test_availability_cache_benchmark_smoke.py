"""The cached-availability benchmark runs end to end at a tiny size and ends with its JSON line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "availability_cache.py"


def test_tiny_benchmark_on_sqlite() -> None:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed (apt-get install wrk)")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--tiny"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "× hello" in result.stdout  # the human table comes first
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["workers"] == 2
    assert summary["hello"]["rps"] > 0
    assert set(summary["after_revalidate"]["statuses"]) == {"304"}
    assert set(summary["after_plain"]["statuses"]) <= {"200"}
