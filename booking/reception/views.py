"""The front desk: the day sheet per location, with arrivals checked in, undone, no-shows."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking import clock
from booking.domain.errors import NotFound
from booking.domain.scheduling.dst import day_bounds, local_today
from booking.extensions import db
from booking.forms import EmptyForm
from booking.intake.staff import day_view_notes
from booking.models import Appointment, Location
from booking.security import guard
from booking.services.booking import staff_actions
from booking.services.booking.catalogue import active_locations
from booking.services.booking.listings import appointments_between
from booking.services.patients.record import missed_counts, missed_threshold
from booking.services.plans import progress as plan_progress

bp = Blueprint("reception", __name__)
guard(bp, roles=["receptionist"])

ARRIVAL = {
    "booked": "Not arrived",
    "checked_in": "Arrived",
    "completed": "Seen",
    "no_show": "Did not come",
}


def desk_regions() -> list[str]:
    """The countries phone numbers are read in: the locations', oldest location first."""
    regions = [loc.country_code for loc in sorted(active_locations(), key=lambda loc: loc.id)]
    return list(dict.fromkeys(regions)) or ["GB"]


def _shown(locations: list[Location]) -> list[Location]:
    wanted = request.args.get("location", type=int)
    if wanted is None:
        return locations
    chosen = [location for location in locations if location.id == wanted]
    if not chosen:
        raise NotFound("There is no such location.")
    return chosen


@bp.route("/")
def home() -> str:
    """Today's sessions at each location (or one, `?location=`), in each location's zone.

    A fixed number of queries however many sessions: one listing, flags and intakes in
    bulk, one count of missed sessions.
    """
    now = clock.utcnow()
    locations = active_locations()
    shown = _shown(locations)
    bounds = {loc.id: day_bounds(local_today(loc.zone, now=now), loc.zone) for loc in shown}
    appointments: list[Appointment] = []
    if bounds:
        # No-shows stay on the sheet (they can be undone today); cancelled ones are gone.
        appointments = [
            a
            for a in appointments_between(
                min(start for start, _ in bounds.values()),
                max(end for _, end in bounds.values()),
                location_id=shown[0].id if len(shown) == 1 else None,
                statuses=list(ARRIVAL),
            )
            if a.location_id in bounds
            and bounds[a.location_id][0] <= a.starts_at < bounds[a.location_id][1]
        ]
    by_place: dict[int, list[Appointment]] = {loc.id: [] for loc in shown}
    for appointment in appointments:  # in start order, each into its place's sheet
        by_place[appointment.location_id].append(appointment)
    sheets = [(loc, local_today(loc.zone, now=now), by_place[loc.id]) for loc in shown]
    return render_template(
        "reception/home.html",
        sheets=sheets,
        chosen=shown[0] if len(shown) == 1 and len(locations) > 1 else None,
        locations=locations,
        notes=day_view_notes(appointments),
        sequences=plan_progress.sequence_of([a.id for a in appointments]),
        missed=missed_counts([a.patient_id for a in appointments if a.patient_id], now=now),
        threshold=missed_threshold(),
        arrival=ARRIVAL,
        now=now,
        action_form=EmptyForm(),
    )


def _act(appointment_id: int, action: str) -> Response:
    appointment = staff_actions.staff_appointment(appointment_id)
    form = EmptyForm()
    if form.validate_on_submit():
        change = getattr(staff_actions, action)
        change(appointment, actor=current_user, now=clock.utcnow())
        db.session.commit()
        patient = appointment.patient.full_name if appointment.patient else "The patient"
        flash(MESSAGES[action].format(patient=patient))
    return redirect(url_for("reception.home") + f"#a{appointment.id}", 303)


MESSAGES = {
    "check_in": "{patient} checked in",
    "undo_check_in": "Check-in undone: {patient}",
    "mark_no_show": "{patient} marked as not come",
    "undo_outcome": "No-show undone: {patient}",
}


@bp.route("/sessions/<id:appointment_id>/check-in", methods=["POST"])
def check_in(appointment_id: int) -> Response:
    return _act(appointment_id, "check_in")


@bp.route("/sessions/<id:appointment_id>/undo-check-in", methods=["POST"])
def undo_check_in(appointment_id: int) -> Response:
    return _act(appointment_id, "undo_check_in")


@bp.route("/sessions/<id:appointment_id>/no-show", methods=["POST"])
def no_show(appointment_id: int) -> Response:
    return _act(appointment_id, "mark_no_show")


@bp.route("/sessions/<id:appointment_id>/undo-no-show", methods=["POST"])
def undo_no_show(appointment_id: int) -> Response:
    return _act(appointment_id, "undo_outcome")
