"""Migrations stand alone: no revision imports application code, and data they publish is frozen.

A revision runs against the code of the day it is applied, possibly years later; an import of
`booking.*` would make an old revision change (or break) when the application changes.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from booking.domain.intake.questionnaire_v1 import CONSENT_TEXTS_V1, FIRST_VISIT_INTAKE_V1
from tests.unit.test_intake_rules import FROZEN_CONSENT, FROZEN_QUESTIONNAIRE

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
FILES = sorted(MIGRATIONS.rglob("*.py"))


def imported_modules(path: Path) -> list[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    modules: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.append(node.module)
    return modules


def imports_booking(path: Path) -> list[str]:
    return [m for m in imported_modules(path) if m == "booking" or m.startswith("booking.")]


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(MIGRATIONS)) for p in FILES])
def test_no_migration_imports_the_application(path: Path) -> None:
    assert imports_booking(path) == []


def test_the_checker_sees_imports_at_any_depth(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\n"
        "from booking.models import User\n"
        "def upgrade():\n"
        "    import booking.domain.intake.questionnaire_v1 as v1\n"
        "    from alembic import op\n"
    )
    assert imports_booking(sample) == ["booking.models", "booking.domain.intake.questionnaire_v1"]


def _revision(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, MIGRATIONS / "versions" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def test_intake_revision_publishes_exactly_version_1_as_defined_in_the_domain() -> None:
    """The revision's copy of v1 is the frozen data, byte for byte, and the domain's still is."""
    revision = _revision("20261125_intake")
    assert _digest(revision.FIRST_VISIT_INTAKE_V1) == FROZEN_QUESTIONNAIRE
    assert _digest(revision.CONSENT_TEXTS_V1) == FROZEN_CONSENT
    assert revision.FIRST_VISIT_INTAKE_V1 == FIRST_VISIT_INTAKE_V1
    assert revision.CONSENT_TEXTS_V1 == CONSENT_TEXTS_V1
