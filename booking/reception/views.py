"""The front desk: the day sheet per location, with arrivals checked in, undone, no-shows."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking import clock
from booking.domain.errors import NotFound
from booking.domain.scheduling.dst import day_bounds, local_today
from booking.extensions import db
from booking.forms import EmptyForm
from booking.fragments import kept
from booking.intake.staff import sheet_notes
from booking.models import Location
from booking.reception.day_sheet import ARRIVAL, SheetRow, rows_html, sheet_rows
from booking.security import guard
from booking.services.booking import staff_actions
from booking.services.booking.catalogue import active_locations
from booking.services.booking.listings import SheetSession, count_by_place, sheet_sessions
from booking.services.patients.record import threshold_or_default
from booking.services.plans.sequence import sequence_in_plans

bp = Blueprint("reception", __name__)
guard(bp, roles=["receptionist"])


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


def _bounds(places: list[Location], now: datetime) -> dict[int, tuple[datetime, datetime]]:
    """Each place's today, as a UTC range (each place in its own zone)."""
    return {loc.id: day_bounds(local_today(loc.zone, now=now), loc.zone) for loc in places}


def sheet_pages(locations: list[Location], now: datetime) -> list[list[Location]]:
    """The all-locations sheet's pages: whole locations in order, each page up to the page
    size in sessions (one location per page at least). One page when the day is small."""
    size = int(current_app.config["RECEPTION_SHEET_PAGE_SIZE"])
    if len(locations) < 2:
        return [locations]
    counts = count_by_place(_bounds(locations, now), statuses=list(ARRIVAL))
    pages: list[list[Location]] = [[]]
    filled = 0
    for place in locations:
        if pages[-1] and filled + counts[place.id] > size:
            pages.append([])
            filled = 0
        pages[-1].append(place)
        filled += counts[place.id]
    return pages


PAGINATION = "reception/_sheet_pagination.html"


@bp.route("/")
def home() -> str:
    """Today's sessions at each location (or one, `?location=`), in each location's zone.

    A fixed number of queries however many sessions: one listing (with each row's patient,
    plan, intake, flag and missed sessions, and the clinic's missed threshold:
    `listings.sheet_sessions`), then only what some rows need (their plans' sessions,
    flags, intakes); on the all-locations sheet one count per place first, to page a large
    day by whole locations (`?page=`).
    """
    now = clock.utcnow()
    locations = active_locations()
    shown = _shown(locations)
    pages = [shown] if "location" in request.args else sheet_pages(shown, now)
    page = request.args.get("page", 1, type=int)
    if not 1 <= page <= len(pages):
        abort(404)
    shown = pages[page - 1]
    bounds = _bounds(shown, now)
    sessions: list[SheetSession] = []
    if bounds:
        # No-shows stay on the sheet (they can be undone today); cancelled ones are gone.
        sessions = [
            s
            for s in sheet_sessions(
                min(start for start, _ in bounds.values()),
                max(end for _, end in bounds.values()),
                location_ids=[loc.id for loc in shown]
                if len(shown) == 1 or len(pages) > 1
                else None,
                statuses=list(ARRIVAL),
                now=now,
            )
            if s.location_id in bounds
            and bounds[s.location_id][0] <= s.starts_at < bounds[s.location_id][1]
        ]
    rows = sheet_rows(
        sessions,
        zones={loc.id: loc.zone for loc in shown},
        notes=sheet_notes(sessions),
        sequences=sequence_in_plans(
            (s.plan_id for s in sessions if s.plan_id is not None), {s.id for s in sessions}
        ),
        missed={s.patient_id: s.missed for s in sessions},
        threshold=threshold_or_default(sessions[0].missed_threshold) if sessions else 0,
        now=now,
    )
    by_place: dict[int, list[SheetRow]] = {loc.id: [] for loc in shown}
    for session, row in zip(sessions, rows, strict=True):  # in start order, by place
        by_place[session.location_id].append(row)
    form = EmptyForm()
    sheets = [
        (loc, local_today(loc.zone, now=now), rows_html(by_place[loc.id], form)) for loc in shown
    ]
    chosen = shown[0] if "location" in request.args and len(locations) > 1 else None
    names = tuple(tuple(loc.name for loc in on_page) for on_page in pages)
    return render_template(
        "reception/home.html",
        sheets=sheets,
        chosen=chosen,
        locations=locations,
        pages=pages,
        page=page,
        # Kept per worker like the rows: the pagination macro was a sixth of the page's CPU.
        pagination=kept(PAGINATION, size=64)((page, names)) if len(pages) > 1 else "",
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
    # Back to the all-locations sheet's page that holds this session.
    pages = sheet_pages(active_locations(), clock.utcnow())
    page = next((n for n, p in enumerate(pages, 1) if appointment.location in p), 1)
    home = url_for("reception.home", page=page) if page > 1 else url_for("reception.home")
    return redirect(home + f"#a{appointment.id}", 303)


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
