"""One clock seam: code reads `clock.utcnow()` through the module, so one patch freezes it all.

An import of the function by name (`from booking.clock import utcnow`) binds the real clock at
import time, and a test patching `booking.clock.utcnow` would silently miss that module.
Models are the exception: column defaults take the function itself and keep the real time.
"""

from __future__ import annotations

import ast
from pathlib import Path

BOOKING = Path(__file__).resolve().parents[2] / "booking"


def names_imported_from_clock(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "booking.clock"
        for alias in node.names
    ]


def test_no_module_outside_models_imports_utcnow_by_name() -> None:
    offenders = [
        str(path.relative_to(BOOKING))
        for path in sorted(BOOKING.rglob("*.py"))
        if "models" not in path.relative_to(BOOKING).parts and names_imported_from_clock(path)
    ]
    assert offenders == []


def test_the_check_sees_function_level_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from booking.clock import utcnow\n    return utcnow()\n")
    assert names_imported_from_clock(sample) == ["utcnow"]
