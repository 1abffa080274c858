"""gunicorn.conf.py: each worker freezes what loading the app made (issue 22's p99 tails)."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

from gunicorn.config import Config

ROOT = Path(__file__).resolve().parents[2]


def test_each_worker_freezes_the_loaded_app_out_of_the_collectors_way() -> None:
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    config = Config()
    config.set("post_worker_init", settings["post_worker_init"])  # gunicorn accepts the hook
    assert config.post_worker_init is settings["post_worker_init"]

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        config.post_worker_init(object())
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # the interpreter, pytest and the app's modules
        gc.collect()
        assert gc.get_freeze_count() == frozen  # a full collection leaves them be
    finally:
        gc.unfreeze()
