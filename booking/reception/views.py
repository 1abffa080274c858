"""The front desk: today's day sheet."""

from __future__ import annotations

from flask import Blueprint, render_template

from booking import clock
from booking.domain.scheduling.dst import day_bounds, local_today
from booking.intake.staff import day_view_notes
from booking.security import guard
from booking.services.booking.listings import appointments_between
from booking.services.clinic.settings import clinic_zone

bp = Blueprint("reception", __name__)
guard(bp, roles=["receptionist"])


@bp.route("/")
def home() -> str:
    zone = clinic_zone()
    today = local_today(zone, now=clock.utcnow())
    start, end = day_bounds(today, zone)
    appointments = appointments_between(start, end)
    return render_template(
        "reception/home.html",
        today=today,
        zone=zone,
        appointments=appointments,
        notes=day_view_notes(appointments),
    )
