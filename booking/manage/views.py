"""The manage link: `/manage/<token>` pages for patients without an account (ux.md §5)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, url_for
from werkzeug.wrappers import Response

from booking import clock
from booking.book.forms import NewLinkForm
from booking.book.link_limits import email_link_ip_limit, may_send_to_address, register
from booking.db_hooks import WRITE_TX
from booking.domain.errors import NotFound
from booking.extensions import db
from booking.links import base_url
from booking.manage import flow
from booking.models import Appointment
from booking.security import guard
from booking.services.booking.changes import by_manage_token
from booking.services.booking.emails import send_manage_links

TOKEN_MAX = 100
bp = Blueprint("manage", __name__)
guard(bp, roles=None)
register(bp)  # the address and IP limits of /manage-link


def bad_link(form: NewLinkForm | None = None) -> Response:
    """404 "This link has expired or is not valid", with a form for a new link."""
    html = render_template("manage/bad_link.html", form=form or NewLinkForm())
    return make_response(html, 404)


def load(token: str) -> tuple[Appointment, flow.Links]:
    try:
        appointment = by_manage_token(token[: TOKEN_MAX + 1], now=clock.utcnow())
    except NotFound:
        abort(bad_link())
    # The first use of a newer link retires the older ones (issue 13): on a POST that holds
    # even when the page itself writes nothing or refuses the form. A GET has nothing to
    # commit (the first use wrote in its own unit).
    if WRITE_TX.get():
        db.session.commit()
    return appointment, flow.Links("manage.session", {"token": token})


@bp.route("/manage/<token>")
def session(token: str) -> Any:
    return flow.show(*load(token))


@bp.route("/manage/<token>/day", methods=["GET", "POST"])
def session_day(token: str) -> Any:
    return flow.day(*load(token))


@bp.route("/manage/<token>/time", methods=["GET", "POST"])
def session_time(token: str) -> Any:
    return flow.time(*load(token))


@bp.route("/manage/<token>/check", methods=["GET", "POST"])
def session_check(token: str) -> Any:
    return flow.check(*load(token))


@bp.route("/manage/<token>/cancel", methods=["GET", "POST"])
def session_cancel(token: str) -> Any:
    return flow.cancel(*load(token))


@bp.route("/manage/<token>/done")
def session_done(token: str) -> Any:
    return flow.done(*load(token))


@bp.route("/manage/<token>/calendar.ics")
def session_calendar(token: str) -> Response:
    appointment, _links = load(token)
    return flow.calendar(appointment)


@bp.route("/manage-link", methods=["GET", "POST"])
@email_link_ip_limit
def link() -> Any:
    """Send a fresh manage link for each upcoming session; the same reply for any address.

    Over the address's limit nothing is sent, and the reply is still the same.
    """
    form = NewLinkForm()
    if form.validate_on_submit():
        if may_send_to_address():
            send_manage_links(
                form.normalised_email,
                base_url=base_url(),
                clinic_name=current_app.config["CLINIC_NAME"],
                now=clock.utcnow(),
            )
            db.session.commit()
        return redirect(url_for("manage.link_sent"), 303)
    return render_template("manage/link.html", form=form)


@bp.route("/manage-link/sent")
def link_sent() -> str:
    return render_template("manage/link_sent.html")
