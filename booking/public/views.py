"""Pages anyone can see: the start page (what to book, where) and the footer's pages."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking.catalogue_cache import catalogue
from booking.reference_cache import cached
from booking.security import guard
from booking.services.booking.catalogue import active_locations
from booking.services.clinic.settings import get_clinic

bp = Blueprint("public", __name__)
guard(bp, roles=None)


@bp.route("/")
def start() -> Response | str:
    slug = request.args.get("type")
    if slug:  # "Book a session" on an article: start a booking of that type
        return redirect(url_for("book.begin", type=slug[:100]))
    if current_user.is_authenticated or "_flashes" in session or request.args:
        return _start_page()
    # Anyone else gets the same page: this worker renders it once per reference version.
    return cached("start-page", _start_page)


def _start_page() -> str:
    shown = catalogue()  # this worker's copy while the reference data is unchanged
    return render_template(
        "public/start.html",
        session_types=shown.session_types,
        articles=shown.articles,
        locations=shown.locations,
    )


@bp.route("/accessibility")
def accessibility() -> str:
    return render_template("public/accessibility.html")


@bp.route("/privacy")
def privacy() -> str:
    return render_template("public/privacy.html")


@bp.route("/cookies")
def cookies() -> str:
    return render_template("public/cookies.html")


@bp.route("/help")
def get_help() -> str:
    return render_template(
        "public/get_help.html", locations=active_locations(), clinic=get_clinic()
    )
