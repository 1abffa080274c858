"""A practitioner's own day and calendar, weekly hours and time off."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from booking import clock
from booking.admin import schedule_views
from booking.domain.scheduling.dst import day_bounds, local_today
from booking.intake.staff import day_view_notes
from booking.models import Practitioner
from booking.security import guard
from booking.services.aftercare import reports
from booking.services.booking.listings import appointments_between
from booking.services.clinic.practitioners import practitioner_of
from booking.services.clinic.settings import clinic_zone

bp = Blueprint("practitioner", __name__)
# Clinical notes (note_views): other signed-in roles are not told they exist (issue 16).
NOTE_ENDPOINTS = ("session_note", "note", "note_addendum", "patient_notes")
guard(bp, roles=["practitioner"], hidden=NOTE_ENDPOINTS)


def _me() -> Practitioner:
    """The signed-in practitioner's own row: every page here works on it alone."""
    practitioner = practitioner_of(current_user)
    if practitioner is None:
        abort(404)
    return practitioner


@bp.route("/")
def home() -> str:
    practitioner = _me()
    zone = clinic_zone()
    today = local_today(zone, now=clock.utcnow())
    start, end = day_bounds(today, zone)
    appointments = appointments_between(start, end, practitioner_id=practitioner.id)
    return render_template(
        "practitioner/home.html",
        practitioner=practitioner,
        today=today,
        zone=zone,
        appointments=appointments,
        notes=day_view_notes(appointments),
        side_effects=reports.reports_for_practitioner(practitioner.id, now=clock.utcnow()),
    )


# ---- Own weekly hours and time off (the admin pages' flow and templates) ---------------------


@bp.route("/hours", methods=["GET", "POST"])
def hours() -> ResponseReturnValue:
    return schedule_views.hours_page(
        _me(),
        template="practitioner/hours.html",
        page_url=url_for("practitioner.hours"),
        remove_url=lambda hours_id: url_for("practitioner.hours_remove", hours_id=hours_id),
    )


@bp.route("/hours/<id:hours_id>/remove", methods=["GET", "POST"])
def hours_remove(hours_id: int) -> Any:
    # Another practitioner's hours are not found for this one: 404, nothing removed.
    return schedule_views.remove_hours(_me(), hours_id, url_for("practitioner.hours"))


@bp.route("/time-off", methods=["GET", "POST"])
def time_off() -> ResponseReturnValue:
    return schedule_views.time_off_page(
        _me(),
        template="practitioner/time_off.html",
        page_url=url_for("practitioner.time_off"),
        remove_url=lambda exception_id: url_for(
            "practitioner.time_off_remove", exception_id=exception_id
        ),
    )


@bp.route("/time-off/<id:exception_id>/remove", methods=["GET", "POST"])
def time_off_remove(exception_id: int) -> Any:
    return schedule_views.remove_exception(_me(), exception_id, url_for("practitioner.time_off"))
