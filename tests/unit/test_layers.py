"""The layers of booking/, read from the source (architecture.md §5): who may import whom.

- Services (booking/services/**) import nothing of the web stack: no Flask or Werkzeug, no
  templating, security, error pages, forms, CLI or blueprint package, and no demo data.
- The pure core (booking/domain/**) and the email bodies (booking/mail.py) import no Flask,
  Werkzeug or SQLAlchemy, and nothing of booking outside booking/domain.
- No import cycles anywhere in booking/ (strongly connected components of the module graph).

Imports inside functions count like module-level ones: hiding an import in a function does
not change which layer depends on which.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "booking"


@dataclass(frozen=True)
class Import:
    name: str  # the absolute module imported, e.g. "flask" or "booking.templating"
    line: int
    nested: bool  # inside a function (or class) body rather than at module level

    def __str__(self) -> str:
        where = "inside a function" if self.nested else "at module level"
        return f"{self.name} (line {self.line}, {where})"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def discover() -> dict[str, Path]:
    """Every module of booking/, by dotted name."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


MODULES = discover()


def imports_of(
    source: str, module: str, *, is_package: bool = False, known: Collection[str] = ()
) -> list[Import]:
    """Every import in `source` (of module `module`), relative ones made absolute.

    `from pkg import name` counts as importing `pkg.name` when that is a module in `known`.
    """
    tree = ast.parse(source)
    found: list[Import] = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            )
            if isinstance(child, ast.Import):
                found.extend(Import(alias.name, child.lineno, nested) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    package = module.split(".") if is_package else module.split(".")[:-1]
                    package = package[: len(package) - (child.level - 1)]
                    base = ".".join([*package, *([child.module] if child.module else [])])
                for alias in child.names:
                    candidate = f"{base}.{alias.name}"
                    name = candidate if candidate in known else base
                    found.append(Import(name, child.lineno, nested))
            visit(child, inner)

    visit(tree, False)
    return found


def module_imports(module: str) -> list[Import]:
    path = MODULES[module]
    return imports_of(
        path.read_text(encoding="utf-8"),
        module,
        is_package=path.name == "__init__.py",
        known=MODULES,
    )


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def blueprint_packages() -> list[str]:
    """The packages booking/blueprints.py registers blueprints from."""
    tree = ast.parse((PACKAGE / "blueprints.py").read_text(encoding="utf-8"))
    return sorted(
        {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            and node.module
            and any(alias.name == "bp" for alias in node.names)
        }
    )


WEB_STACK = ("flask", "werkzeug")
SERVICE_FORBIDDEN = (
    "booking.templating",
    "booking.security",
    "booking.errors",
    "booking.forms",
    "booking.blueprints",
    "booking.cli",
    "booking.demo",
    *blueprint_packages(),
)


def is_web_stack(name: str) -> bool:
    root = name.split(".")[0]
    return root in WEB_STACK or root.startswith("flask_")


def service_violations(imports: Iterable[Import]) -> list[Import]:
    """Imports a service may not make: the web stack, the web layer, demo data."""
    return [
        item
        for item in imports
        if is_web_stack(item.name) or any(_within(item.name, p) for p in SERVICE_FORBIDDEN)
    ]


def pure_violations(imports: Iterable[Import]) -> list[Import]:
    """Imports the pure core may not make: web stack, ORM, the app outside booking.domain."""
    return [
        item
        for item in imports
        if is_web_stack(item.name)
        or _within(item.name, "sqlalchemy")
        or (_within(item.name, "booking") and not _within(item.name, "booking.domain"))
    ]


def dependency_graph() -> dict[str, set[str]]:
    """Module → the booking modules it imports, with the packages executed on the way.

    Importing `booking.a.b` runs `booking/a/__init__.py` first, so it counts as an edge to
    `booking.a` too (not to `booking` itself: its __init__ only defines the app factory).
    """
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        edges: set[str] = set()
        for item in module_imports(module):
            parts = item.name.split(".")
            while parts and ".".join(parts) not in MODULES:
                parts.pop()  # `import booking.models.user as x`-style names are modules already
            for depth in range(2, len(parts) + 1):
                target = ".".join(parts[:depth])
                if target != module and not _within(module, target):
                    edges.add(target)
        graph[module] = edges
    return graph


def cycles(graph: Mapping[str, Collection[str]]) -> list[list[str]]:
    """One cycle (first node repeated at the end) per strongly connected component (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_cycle_in(component, graph) for component in components]


def _cycle_in(component: list[str], graph: Mapping[str, Collection[str]]) -> list[str]:
    """A shortest path from the component's first node back to itself, inside the component."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph.get(node, ())):
            if target == start:
                return [*paths[node], start]
            if target in members and target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    return [*component, component[0]]  # pragma: no cover - an SCC always has a cycle


SERVICES = [m for m in MODULES if _within(m, "booking.services")]
PURE = [m for m in MODULES if _within(m, "booking.domain")] + ["booking.mail"]


# ---- The rules on the real code ----------------------------------------------------------


@pytest.mark.parametrize("module", SERVICES)
def test_services_import_nothing_of_the_web_layer(module: str) -> None:
    bad = service_violations(module_imports(module))
    assert bad == [], f"{module} imports " + "; ".join(map(str, bad))


@pytest.mark.parametrize("module", PURE)
def test_the_pure_core_imports_no_framework_and_nothing_outside_domain(module: str) -> None:
    bad = pure_violations(module_imports(module))
    assert bad == [], f"{module} imports " + "; ".join(map(str, bad))


def test_no_import_cycles_in_booking() -> None:
    found = cycles(dependency_graph())
    assert found == [], "import cycles:\n" + "\n".join(" → ".join(cycle) for cycle in found)


def test_the_rules_cover_the_code() -> None:
    assert len(SERVICES) > 40
    assert {"booking.services.booking.holds", "booking.services.accounts.sessions"} <= set(SERVICES)
    assert {"booking.domain.errors", "booking.domain.scheduling.availability"} <= set(PURE)
    assert {"booking.public", "booking.api", "booking.auth", "booking.admin"} <= set(
        blueprint_packages()
    )


# ---- The checker itself ------------------------------------------------------------------

SERVICE = "booking.services.booking.emails"
KNOWN = {"booking.templating", "booking.services.platform.outbox", "booking.models"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # a deliberate url_for in a service, at module level
        ("from flask import url_for\n", [Import("flask", 1, False)]),
        # the same hidden in a function
        (
            "def link():\n    from flask import url_for\n    return url_for('x')\n",
            [Import("flask", 2, True)],
        ),
        # any flask extension
        ("import flask_login\n", [Import("flask_login", 1, False)]),
        # werkzeug, imported as a dotted module
        ("import werkzeug.exceptions\n", [Import("werkzeug.exceptions", 1, False)]),
        # the web layer through a relative import, inside a method
        (
            "class Mail:\n    def body(self):\n        from ...templating import format_date\n",
            [Import("booking.templating", 3, True)],
        ),
        # a blueprint package
        ("from booking.public.forms import DayForm\n", [Import("booking.public.forms", 1, False)]),
        # demo data is no service's business
        ("from booking.demo import clinic\n", [Import("booking.demo", 1, False)]),
        # allowed: models, other services, the pure core, the ORM
        (
            "from booking.models import User\n"
            "from booking.services.platform import outbox\n"
            "from booking.domain.errors import NotFound\n"
            "from sqlalchemy import select\n",
            [],
        ),
    ],
)
def test_checker_reports_web_imports_in_a_service(source: str, expected: list[Import]) -> None:
    assert service_violations(imports_of(source, SERVICE, known=KNOWN)) == expected


def test_checker_resolves_from_package_import_module() -> None:
    found = imports_of("from booking.services.platform import outbox\n", SERVICE, known=KNOWN)
    assert found == [Import("booking.services.platform.outbox", 1, False)]


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("import sqlalchemy.orm\n", ["sqlalchemy.orm"]),  # the ORM
        ("def f():\n    from flask import g\n", ["flask"]),  # the web, hidden in a function
        ("from booking.models import User\n", ["booking.models"]),  # the app outside domain
        ("from booking import create_app\n", ["booking"]),  # the app factory
        ("from booking.domain.scheduling import dst\n", []),  # a sibling: fine
        ("from zoneinfo import ZoneInfo\n", []),  # stdlib: fine
    ],
)
def test_checker_reports_impure_imports(source: str, bad: list[str]) -> None:
    found = pure_violations(imports_of(source, "booking.domain.formatting"))
    assert [item.name for item in found] == bad


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),  # a chain
        ({"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": set()}, []),  # a diamond
        ({"a": {"b"}, "b": {"a"}}, [["a", "b", "a"]]),  # two modules
        # security → users → templating → security, with a module outside the loop
        (
            {"s": {"u"}, "u": {"t"}, "t": {"s"}, "v": {"s"}},
            [["s", "u", "t", "s"]],
        ),
        ({"a": {"a"}}, [["a", "a"]]),  # a module importing itself
        # two separate loops are both reported
        ({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}, [["a", "b", "a"], ["c", "d", "c"]]),
    ],
)
def test_cycle_finder(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert sorted(cycles(graph)) == expected
