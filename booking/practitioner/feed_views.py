"""The practitioner's secret calendar feed: make, replace or stop its URL (issue 15).

The URL is shown once, on the page that answers the POST that made it; only its hash is kept.
The feed itself is served by `public.calendar_feed` (calendar apps send no cookies).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from booking import clock
from booking.extensions import db
from booking.forms import EmptyForm
from booking.links import external_url
from booking.practitioner.views import _me, bp
from booking.services.booking import feed


def _page(new_url: str | None = None) -> str:
    return render_template(
        "practitioner/calendar_feed.html",
        practitioner=_me(),
        button_form=EmptyForm(),
        new_url=new_url,
    )


@bp.route("/calendar-feed")
def calendar_feed() -> str:
    return _page()


@bp.route("/calendar-feed/new", methods=["POST"])
def calendar_feed_new() -> Any:
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("practitioner.calendar_feed"))
    token = feed.create_feed(_me(), actor=current_user._get_current_object(), now=clock.utcnow())
    db.session.commit()
    return _page(new_url=external_url("public.calendar_feed", token=token))


@bp.route("/calendar-feed/stop", methods=["POST"])
def calendar_feed_stop() -> Any:
    if EmptyForm().validate_on_submit():
        feed.revoke_feed(_me(), actor=current_user._get_current_object(), now=clock.utcnow())
        db.session.commit()
        flash("Your calendar feed is stopped: its URL no longer works.")
    return redirect(url_for("practitioner.calendar_feed"))
