"""`make test` installs every outside program the suite calls, so it passes on a fresh machine.

A test that finds a program missing fails (CI=true never skips), and a session machine that
had it installed by hand hides the missing step: wrk was installed only by `make wrk`, which
`make test` did not run, so the wrk-driven tests failed on a fresh clone and machine.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("program", "package"),
    [("/usr/bin/chromium", "chromium"), ("haproxy", "haproxy"), ("wrk", "wrk")],
)
def test_make_test_installs_the_programs_the_tests_run(program: str, package: str) -> None:
    if shutil.which("make") is None:
        pytest.fail("make is not installed")
    # -n prints each recipe without running it: the prerequisites' install steps included.
    plan = subprocess.run(
        ["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert f"apt-get install -y -qq {package}" in plan
    assert program in plan
