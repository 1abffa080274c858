"""Public holidays per location: each closes the location unless an admin opens it (issue 19).

GET lists the coming year's holidays of every location; a POST button opens one (patients
may book that day) or keeps it again (closed). Booked sessions are never moved.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from booking import clock
from booking.admin.views import _actor, bp
from booking.domain.errors import DomainError
from booking.domain.formatting import format_date
from booking.extensions import db
from booking.forms import EmptyForm
from booking.services.rota import holidays


@bp.route("/holidays")
def holidays_page() -> str:
    return render_template(
        "admin/holidays.html", groups=holidays.coming_holidays(now=clock.utcnow())
    )


def _decide(location_id: int, on_date: str, change: Callable[..., Any], verb: str) -> Response:
    try:
        day = date.fromisoformat(on_date[:10])
    except ValueError:
        abort(404)
    if not EmptyForm().validate_on_submit():  # CSRFProtect refused a bad token already
        return redirect(url_for("admin.holidays_page"))
    try:
        location, holiday = change(location_id, day, actor=_actor(), now=clock.utcnow())
    except DomainError:
        db.session.rollback()
        abort(404)
    db.session.commit()
    flash(f"{location.name} {verb} on {holiday.name}, {format_date(holiday.on_date)}")
    return redirect(url_for("admin.holidays_page", _anchor=f"location-{location.id}"), 303)


@bp.route("/holidays/<id:location_id>/<on_date>/open", methods=["POST"])
def holiday_open(location_id: int, on_date: str) -> Response:
    return _decide(location_id, on_date, holidays.open_holiday, "is open")


@bp.route("/holidays/<id:location_id>/<on_date>/keep", methods=["POST"])
def holiday_keep(location_id: int, on_date: str) -> Response:
    return _decide(location_id, on_date, holidays.keep_holiday, "is closed")
