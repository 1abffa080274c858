"""booking.domain stays pure: stdlib, zoneinfo and tzdata only (architecture.md §5)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "booking" / "domain"
FORBIDDEN_ROOTS = ("flask", "sqlalchemy", "werkzeug")
MODULES = sorted(PACKAGE.rglob("*.py"))


def _imported_names(tree: ast.AST, module_name: str) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against this module's package
                base = module_name.split(".")[: -node.level]
                names.append(".".join([*base, node.module] if node.module else base))
            else:
                names.append(node.module or "")
    return names


def _is_forbidden(name: str) -> bool:
    root = name.split(".")[0]
    if any(root.startswith(prefix) for prefix in FORBIDDEN_ROOTS):
        return True
    if name == "booking" or name.startswith("booking."):
        return not (name == "booking.domain" or name.startswith("booking.domain."))
    return False


def test_package_has_modules() -> None:
    found = {path.name for path in MODULES}
    expected = {"__init__.py", "errors.py", "intervals.py", "dst.py", "policy.py"}
    assert expected | {"availability.py"} <= found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_nothing_from_the_app_or_web_stack(path: Path) -> None:
    module_name = ".".join(("booking", *path.relative_to(PACKAGE.parent).with_suffix("").parts))
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bad = [name for name in _imported_names(tree, module_name) if _is_forbidden(name)]
    assert bad == [], f"{path.name} imports {bad}"


@pytest.mark.parametrize(
    ("name", "forbidden"),
    [
        ("flask", True),  # the web framework
        ("flask_login", True),  # any flask* extension
        ("sqlalchemy.orm", True),  # the ORM
        ("werkzeug.exceptions", True),  # HTTP errors
        ("booking.models", True),  # the app outside the pure package
        ("booking", True),  # the app factory itself
        ("booking.domain.scheduling.dst", False),  # a sibling module
        ("zoneinfo", False),  # stdlib
        ("datetime", False),  # stdlib
    ],
)
def test_forbidden_rule(name: str, forbidden: bool) -> None:
    assert _is_forbidden(name) is forbidden
