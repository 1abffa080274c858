"""Templates have no side effects (docs/architecture.md): rendering a page never writes.

A view loads what its page shows and records the audit of that read before it renders;
template globals, filters and context processors only read, and `booking/templating.py`
registers every app-wide one, so there is one place to look.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template_string, template_rendered, url_for
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.domain.scheduling.dst import day_bounds, local_today
from booking.extensions import db
from booking.models import Appointment, AuditEvent
from booking.services.clinic.settings import clinic_zone
from booking.services.intake import answers
from tests.conftest import ROLES, listening
from tests.web.access_matrix import MATRIX, URL_ARGS
from tests.web.intake_helpers import book_first_visit, new_guest_patient

LoginAs = Callable[[str], FlaskClient]
PACKAGE = Path(__file__).resolve().parents[2] / "booking"
WRITE_VERBS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE"})


def is_write(statement: str, context: Any) -> bool:
    verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
    flagged = context is not None and (context.isinsert or context.isupdate or context.isdelete)
    return verb in WRITE_VERBS or bool(flagged)


@contextmanager
def writes_while_rendering(app: Flask) -> Iterator[list[str]]:
    """Every INSERT, UPDATE or DELETE sent while a template renders, on any connection.

    `render_template` first runs the context processors (`app.update_template_context`),
    then the template, then sends `template_rendered`: that whole span counts.
    """
    found: list[str] = []
    rendering = [False]
    original = app.update_template_context

    def update_template_context(context: dict[str, Any]) -> None:
        rendering[0] = True
        original(context)

    def rendered(_sender: Flask, **_extra: Any) -> None:
        rendering[0] = False

    def statement(
        _conn: Any, _cursor: Any, sql: str, _params: Any, context: Any, _many: Any
    ) -> None:
        if rendering[0] and is_write(sql, context):
            found.append(sql)

    with app.app_context():
        engine = db.engine
    app.update_template_context = update_template_context  # type: ignore[method-assign]
    template_rendered.connect(rendered, app)
    try:
        with listening([engine], ("before_cursor_execute", statement)):
            yield found
    finally:
        template_rendered.disconnect(rendered, app)
        del app.update_template_context  # the class's method again


def test_the_detector_sees_a_template_global_that_writes(sqlite_app: Flask) -> None:
    def audit_something() -> str:
        db.session.add(AuditEvent(action="test.write", actor_role="system", row_hash="0" * 64))
        db.session.commit()
        return "done"

    sqlite_app.jinja_env.globals["audit_something"] = audit_something
    with writes_while_rendering(sqlite_app) as writes, sqlite_app.test_request_context():
        assert render_template_string("{{ audit_something() }}") == "done"
        assert render_template_string("{{ 1 + 1 }}") == "2"
        db.session.add(AuditEvent(action="test.write", actor_role="system", row_hash="0" * 64))
        db.session.commit()  # a view's own write, outside any rendering
    assert [sql.split()[0] for sql in writes] == ["INSERT"]


def _today_at(app: Flask, hour: int) -> datetime:
    with app.app_context():
        zone = clinic_zone()
        start, _ = day_bounds(local_today(zone, now=datetime.now(zone)), zone)
    return start + timedelta(hours=hour)


def _flags_read(app: Flask) -> list[tuple[int | None, str | None]]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "flags.read").order_by(AuditEvent.id)
        )
        return [(row.patient_id, row.actor_role) for row in rows]


def test_day_views_audit_the_flags_they_show_before_rendering(
    demo: Flask, login_as: LoginAs
) -> None:
    """The day views show flags: the view records one flags.read row, the template none."""
    booked = book_first_visit(demo, new_guest_patient(demo), starts_at=_today_at(demo, 1))
    with demo.app_context():
        intake = answers.start_intake(
            db.session.get(Appointment, booked.appointment_id), now=datetime.now(UTC)
        )
        answers.save_page(
            intake,
            "medicines",
            {"anticoagulants": "yes"},
            complete=True,
            actor=None,
            now=datetime.now(UTC),
        )
        db.session.commit()
    for role, path in (("receptionist", "/reception/"), ("practitioner", "/practitioner/")):
        client = login_as(role)
        before = _flags_read(demo)
        with writes_while_rendering(demo) as writes:
            html = client.get(path).get_data(as_text=True)
        assert "Bleeding risk (precaution)" in html
        assert writes == [], f"{path} wrote while rendering"
        assert _flags_read(demo) == [*before, (booked.patient_id, role)]


def _pages(app: Flask, role: str) -> list[tuple[str, str]]:
    """(endpoint, url) of every page (not the API) the matrix lets `role` GET with a 200."""
    pages = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            endpoint = rule.endpoint
            if endpoint == "static" or endpoint.startswith("api.") or "GET" not in rule.methods:
                continue
            if MATRIX[(endpoint, "GET")][role] == 200:
                pages.append((endpoint, url_for(endpoint, **URL_ARGS.get(endpoint, {}))))
    return sorted(pages)


@pytest.mark.parametrize("role", ROLES)
def test_no_page_writes_while_rendering(demo: Flask, login_as: LoginAs, role: str) -> None:
    client = login_as(role)
    pages = _pages(demo, role)
    assert pages, f"no pages for {role}"
    wrote = {}
    for endpoint, url in pages:
        with writes_while_rendering(demo) as writes:
            response = client.get(url)
        assert response.status_code == 200, (endpoint, response.status_code)
        if writes:
            wrote[endpoint] = writes
    assert wrote == {}, f"pages that wrote while rendering, as {role}"


# ---- One place registers the app-wide template helpers -----------------------------------------

REGISTERING_CALLS = frozenset(
    {
        "add_app_template_global",
        "app_template_global",
        "add_template_global",
        "template_global",
        "add_app_template_filter",
        "app_template_filter",
        "add_template_filter",
        "template_filter",
        "add_app_template_test",
        "app_template_test",
        "add_template_test",
        "template_test",
        "app_context_processor",
        "context_processor",
    }
)


def registrations(source: str) -> list[str]:
    """Calls and decorators that add template globals, filters, tests or context processors,
    and assignments into a Jinja environment's `globals`, `filters` or `tests`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in REGISTERING_CALLS:
            found.append(f"{node.attr} (line {node.lineno})")
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
            target = node.value
            if isinstance(target, ast.Attribute) and target.attr in {"globals", "filters", "tests"}:
                found.append(f"{target.attr}[...] = (line {node.lineno})")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if (
                node.func.attr == "update"
                and isinstance(owner, ast.Attribute)
                and owner.attr in {"globals", "filters", "tests"}
            ):
                found.append(f"{owner.attr}.update (line {node.lineno})")
    return found


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ('bp.add_app_template_global(f, "f")\n', ["add_app_template_global (line 1)"]),
        (
            "@bp.app_context_processor\ndef f():\n    return {}\n",
            ["app_context_processor (line 1)"],
        ),
        ('app.jinja_env.globals["f"] = f\n', ["globals[...] = (line 1)"]),
        ("app.jinja_env.filters.update(f=f)\n", ["filters.update (line 1)"]),
        ("x = app.jinja_env.globals['f']\n", []),  # reading one is fine
    ],
)
def test_the_registration_finder(source: str, found: list[str]) -> None:
    assert registrations(source) == found


# booking/mail.py builds its own plain-text Jinja environment for email bodies: its filters
# are not the app's template helpers.
OWN_ENVIRONMENTS = {PACKAGE / "mail.py"}


def test_app_wide_template_helpers_are_registered_in_templating_only() -> None:
    elsewhere = {
        str(path.relative_to(PACKAGE.parent)): found
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != PACKAGE / "templating.py"
        and path not in OWN_ENVIRONMENTS
        and (found := registrations(path.read_text(encoding="utf-8")))
    }
    assert elsewhere == {}, "register template helpers in booking/templating.py register()"
    assert registrations((PACKAGE / "templating.py").read_text(encoding="utf-8"))


# Added by Jinja itself, Flask, Flask-WTF (CSRFProtect) and govuk-frontend-wtf.
LIBRARY_GLOBALS = frozenset(
    {"cycler", "dict", "joiner", "lipsum", "namespace", "range"}
    | {"url_for", "get_flashed_messages", "config", "request", "session", "g"}
    | {"csrf_token", "csrf_meta_tag", "wtforms_errors"}
    | {"_", "gettext", "ngettext", "pgettext", "npgettext"}  # Flask-Babel's page words
)


def test_the_app_wide_template_globals(sqlite_app: Flask) -> None:
    """Beyond the libraries' own, the templates see only what templating registers."""
    assert set(sqlite_app.jinja_env.globals) - LIBRARY_GLOBALS == {
        "day_label",
        "monday_of",
        "book_url",
        "field_params",
        "describe_waitlist",
        "id_links",
    }
