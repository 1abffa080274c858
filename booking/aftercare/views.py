"""The check-in link emailed after a first session: report side effects, then a thank-you."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, url_for

from booking import clock
from booking.aftercare.forms import SideEffectForm
from booking.domain.errors import InvalidInput, NotFound
from booking.extensions import db
from booking.models import AftercareCheckin
from booking.security import guard
from booking.services.aftercare import reports

bp = Blueprint("aftercare", __name__)
guard(bp, roles=None)  # the token in the link is the key


def _checkin(token: str) -> AftercareCheckin:
    try:
        return reports.checkin_by_token(token, now=clock.utcnow())
    except NotFound:
        abort(404)


@bp.route("/aftercare/<token>", methods=["GET", "POST"])
def report(token: str) -> Any:
    checkin = _checkin(token)
    form = SideEffectForm()
    if form.validate_on_submit():
        try:
            reports.report(
                checkin,
                effects=list(form.effects.data or []),
                detail=form.detail.data or "",
                now=clock.utcnow(),
            )
        except InvalidInput as error:
            db.session.rollback()
            form.effects.errors = [error.message]
        else:
            db.session.commit()
            return redirect(url_for("aftercare.sent", token=token), 303)
    appointment = checkin.appointment
    return render_template(
        "aftercare/report.html",
        form=form,
        start=appointment.starts_at.astimezone(appointment.location.zone),
        location=appointment.location,
    )


@bp.route("/aftercare/<token>/sent")
def sent(token: str) -> str:
    checkin = _checkin(token)
    return render_template(
        "aftercare/sent.html", location=checkin.appointment.location, token=token
    )
