"""gunicorn.conf.py: each worker freezes what loading the app made (issue 22's p99 tails)."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path

from gunicorn.config import Config

ROOT = Path(__file__).resolve().parents[2]

# In an interpreter of its own: in a test worker's heap a collection may free frozen objects
# whose last referrers were garbage cycles of earlier tests, which makes the count drift.
FREEZE_PROBE = """
import gc, json, runpy, sys
from gunicorn.config import Config
settings = runpy.run_path(sys.argv[1])
gc.collect()
gc.unfreeze()
settings["post_worker_init"](object())
frozen = gc.get_freeze_count()
gc.collect()
print(json.dumps([frozen, gc.get_freeze_count()]))
"""


def test_gunicorn_accepts_the_hook() -> None:
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    config = Config()
    config.set("post_worker_init", settings["post_worker_init"])
    assert config.post_worker_init is settings["post_worker_init"]


def test_each_worker_freezes_the_loaded_app_out_of_the_collectors_way() -> None:
    done = subprocess.run(
        [sys.executable, "-c", FREEZE_PROBE, str(ROOT / "gunicorn.conf.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    frozen, after_collection = json.loads(done.stdout.strip().splitlines()[-1])
    assert frozen > 10_000  # the interpreter's and gunicorn's modules: all of them
    assert after_collection == frozen  # a full collection leaves them be
