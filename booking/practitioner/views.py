"""A practitioner's own day and calendar."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import select

from booking.clock import utcnow
from booking.extensions import db
from booking.models import Practitioner
from booking.security import guard
from booking.services.clinic import appointments_between, clinic_zone, day_bounds, local_today

bp = Blueprint("practitioner", __name__)
guard(bp, roles=["practitioner"])


@bp.route("/")
def home() -> str:
    practitioner = db.session.scalar(
        select(Practitioner).where(Practitioner.user_id == current_user.id)
    )
    if practitioner is None:
        abort(404)
    zone = clinic_zone()
    today = local_today(zone, now=utcnow())
    start, end = day_bounds(today, zone)
    appointments = appointments_between(start, end, practitioner_id=practitioner.id)
    return render_template(
        "practitioner/home.html",
        practitioner=practitioner,
        today=today,
        zone=zone,
        appointments=appointments,
    )
