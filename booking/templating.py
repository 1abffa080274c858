"""Every app-wide template helper, registered here and nowhere else: filters, globals and the
context processor (navigation per role, session expiry, the clinic's name and zone).

Templates have no side effects: these only read. A page that shows audited data gets it
from its view, which records the audit before rendering
(tests/web/test_template_side_effects.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request, session, url_for
from flask.templating import Environment as FlaskEnvironment
from flask_login import current_user

from booking.articles.views import book_url
from booking.auth_session import SESSION_TOKEN_KEY, session_limits
from booking.domain.formatting import (
    day_label,
    format_date,
    format_price,
    format_time,
    monday_of,
)
from booking.domain.phones import format_national, tel_uri
from booking.domain.privacy import readable_value
from booking.domain.waitlist import describe as describe_waitlist
from booking.forms import widgets
from booking.intake.forms import field_params
from booking.links import id_links
from booking.services.accounts.sessions import session_expires_at

NAVIGATION: dict[str, list[tuple[str, str]]] = {
    "patient": [("patient.home", "Your account")],
    "practitioner": [
        ("practitioner.home", "Your day"),
        ("practitioner.week", "Your week"),
        ("practitioner.calendar_feed", "Calendar feed"),
        ("auth.change_password", "Your account"),
    ],
    "receptionist": [
        ("reception.home", "Day sheet"),
        ("reception.find_patient", "Patients"),
        ("auth.change_password", "Your account"),
    ],
    "admin": [("admin.home", "Clinic set-up"), ("auth.change_password", "Your account")],
}
# Signed out, every page's header offers signing in (issue 19).
SIGNED_OUT_NAVIGATION = [("auth.sign_in", "Sign in")]


def in_zone(value: datetime, zone: str | ZoneInfo) -> datetime:
    return value.astimezone(zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone))


class Environment(FlaskEnvironment):
    """Flask's environment, whose templates hold the globals in a plain dict.

    Jinja gives each template a ChainMap over the environment's globals, and on every
    `{% from ... import %}` subtracts its keys from the importer's: with the GOV.UK macros
    that was about 15% of a journey page's CPU (issue 22). A dict is a snapshot taken when
    the template is loaded, so every global is registered in `create_app`, before the
    first render (`register` below, the extensions' `init_app`).
    """

    def make_globals(self, d: Any) -> Any:
        return {**self.globals, **(d or {})}


def register(app: Flask) -> None:
    app.jinja_env.filters["format_date"] = format_date
    app.jinja_env.filters["format_time"] = format_time
    app.jinja_env.filters["in_zone"] = in_zone
    app.jinja_env.filters["readable"] = lambda value, zone: readable_value(  # data export
        value, ZoneInfo(zone)
    )
    app.jinja_env.filters["price"] = format_price
    # Phones are stored in E.164: `{{ number|phone(location.country_code) }}` shows it as
    # people in that country write it; `tel_uri` makes the href of a tel: link (staff pages).
    app.jinja_env.filters["phone"] = format_national
    app.jinja_env.filters["tel_uri"] = tel_uri
    app.jinja_env.globals["day_label"] = day_label
    app.jinja_env.globals["monday_of"] = monday_of
    app.jinja_env.globals["book_url"] = book_url  # articles: "Book a session"
    app.jinja_env.globals["field_params"] = field_params  # intake question pages
    app.jinja_env.globals["describe_waitlist"] = describe_waitlist  # days and times wanted
    app.jinja_env.globals["id_links"] = id_links  # a long list's links, one url_for each
    app.jinja_env.trim_blocks = True
    widgets.install()  # GOV.UK radios and buttons: rendered once per set of parameters
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        expires_at = None
        signed_in = current_user.is_authenticated
        entries = NAVIGATION.get(str(current_user.role), []) if signed_in else SIGNED_OUT_NAVIGATION
        # Signed out (most pages): the same links on every page, built once per script root
        # (url_for cost ~9 µs a page, issue 22); signed-in links are built each time.
        hrefs = _signed_out_hrefs(app) if not signed_in else None
        for endpoint, label in entries:
            href = hrefs.get(endpoint) if hrefs is not None else None
            items.append(
                {
                    "href": href if href is not None else url_for(endpoint),
                    "text": label,
                    "active": request.endpoint == endpoint,
                }
            )
        if signed_in:
            expires_at = session_expires_at(
                session.get(SESSION_TOKEN_KEY),
                current_user,
                limits=session_limits(current_app.config),
            )
        return {
            "nav_items": items,
            "session_expires_at": expires_at,
            "clinic_zone_name": current_app.config.get("CLINIC_TIMEZONE", "Europe/London"),
            "clinic_name": current_app.config["CLINIC_NAME"],
        }


def _signed_out_hrefs(app: Flask) -> dict[str, str]:
    """The signed-out navigation's links for this request's script root (made once each)."""
    kept: dict[str, dict[str, str]] = app.extensions.setdefault("signed_out_navigation", {})
    root = request.script_root
    found = kept.get(root)
    if found is None:
        found = {endpoint: url_for(endpoint) for endpoint, _ in SIGNED_OUT_NAVIGATION}
        if len(kept) < 16:
            kept[root] = found
    return found
