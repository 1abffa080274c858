"""Choose a free time, hold it, book it: for the desk and for a practitioner's own calendar.

The same engine, holds and guards as online booking (`booking.services.booking.desk`).
`prefix` is the blueprint ("reception" or "practitioner") whose routes serve the pages.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking import clock
from booking.desk.forms import BookSearchForm, ConfirmForm, TimeChoiceForm
from booking.domain.errors import HoldExpired, InvalidInput, NotFound, PolicyRefused, SlotTaken
from booking.domain.formatting import format_date, format_time
from booking.extensions import db
from booking.links import base_url
from booking.models import Location, PatientProfile, Practitioner, Role
from booking.services.api.booking import own_practitioner_id, patient_to_book, working_location_ids
from booking.services.booking import desk
from booking.services.booking.catalogue import active_locations, active_session_types
from booking.services.clinic.practitioners import practitioners
from booking.services.clinic.settings import clinic_today

RECORD_ENDPOINTS = {
    "reception": "reception.patient_record",
    "practitioner": "practitioner.patient_health",
}


def _patient(patient_id: int) -> PatientProfile:
    patient = patient_to_book(patient_id, actor=current_user)
    if patient is None:
        raise NotFound("There is no patient here.")
    return patient


def _who() -> tuple[list[Location], list[Practitioner]]:
    """The locations and practitioners the signed-in user may book with."""
    everyone = [p for p in practitioners() if p.is_active]
    own = own_practitioner_id(current_user) if current_user.role == Role.practitioner else None
    if own is None:
        return active_locations(), everyone
    places = set(working_location_ids(own))
    return (
        [loc for loc in active_locations() if loc.id in places],
        [p for p in everyone if p.id == own],
    )


def _record_url(prefix: str, patient_id: int) -> str:
    return url_for(RECORD_ENDPOINTS[prefix], patient_id=patient_id)


def _search_form(locations: list[Location], people: list[Practitioner]) -> BookSearchForm:
    form = BookSearchForm(request.args, today=clinic_today(clock.utcnow()))
    form.session_type.choices = [(str(t.id), t.name) for t in active_session_types()]
    form.location.choices = [(str(loc.id), loc.name) for loc in locations]
    anyone = [("", "Anyone free")] if len(people) > 1 else []
    form.practitioner.choices = anyone + [(str(p.id), p.display_name) for p in people]
    return form


def format_day(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdecimal() and len(value) < 10 else None


def choose_page(patient_id: int, *, prefix: str) -> str:
    """What, where, who and the day (GET), then the free times to hold one."""
    patient = _patient(patient_id)
    locations, people = _who()
    form = _search_form(locations, people)
    slots: list[Any] = []
    time_form = None
    searched = "day" in request.args and form.validate()
    if searched and form.chosen_day is not None:
        location_id = _int(form.location.data)
        zone = next((loc.zone for loc in locations if loc.id == location_id), None)
        slots = desk.free_times(
            session_type_id=_int(form.session_type.data) or 0,
            location_id=location_id or 0,
            practitioner_id=_int(form.practitioner.data),
            day=form.chosen_day,
            actor=current_user,
            now=clock.utcnow(),
            override_limits=bool(form.override.data),
        )
        names = {p.id: p.display_name for p in people}
        time_form = TimeChoiceForm(formdata=None)
        time_form.start.choices = [
            (
                f"{slot.practitioner_id}|{slot.starts_at.isoformat()}",
                f"{format_time(slot.starts_at.astimezone(zone))}"
                f" with {names[slot.practitioner_id]}",
            )
            for slot in slots
        ]
    return render_template(
        "reception/book.html",
        patient=patient,
        form=form,
        searched=searched,
        time_form=time_form,
        search_url=url_for(f"{prefix}.book_for", patient_id=patient.id),
        record_url=_record_url(prefix, patient.id),
        hold_url=url_for(
            f"{prefix}.book_hold",
            patient_id=patient.id,
            session_type=form.session_type.data,
            location=form.location.data,
            override="1" if form.override.data else "",
        ),
    )


def hold(patient_id: int, *, prefix: str) -> Response:
    """Hold the chosen time for this member of staff (10 minutes), then confirm."""
    patient = _patient(patient_id)
    # CSRF is checked app-wide; the choice is read as sent and checked by the engine.
    chosen = request.form.get("start", "")
    practitioner_text, _, start_text = chosen.partition("|")
    back = url_for(f"{prefix}.book_for", patient_id=patient.id)
    try:
        starts_at = datetime.fromisoformat(start_text)
    except ValueError:
        starts_at = None
    practitioner_id = _int(practitioner_text)
    if starts_at is None or starts_at.tzinfo is None or practitioner_id is None:
        flash("Select a time")
        return redirect(back, 303)
    override = request.args.get("override") == "1"
    try:
        desk.hold_for_patient(
            session_type_id=_int(request.args.get("session_type")) or 0,
            location_id=_int(request.args.get("location")) or 0,
            practitioner_id=practitioner_id,
            starts_at=starts_at,
            actor=current_user,
            now=clock.utcnow(),
            override_limits=override,
        )
    except (SlotTaken, PolicyRefused, InvalidInput) as error:
        db.session.rollback()
        flash(error.message)
        return redirect(back, 303)
    db.session.commit()
    return redirect(
        url_for(
            f"{prefix}.book_confirm", patient_id=patient.id, override="1" if override else None
        ),
        303,
    )


def confirm_page(patient_id: int, *, prefix: str) -> Response | str:
    """Check the held time and book it for the patient (with the override's reason)."""
    patient = _patient(patient_id)
    now = clock.utcnow()
    hold = desk.held_for(current_user, now=now)
    if hold is None and request.method == "GET":
        flash("We are no longer holding that time: choose it again")
        return redirect(url_for(f"{prefix}.book_for", patient_id=patient.id), 303)
    form = ConfirmForm(override="1" if request.args.get("override") == "1" else "")
    if form.validate_on_submit():
        try:
            booked = desk.book_for_patient(
                patient,
                actor=current_user,
                now=now,
                base_url=base_url(),
                clinic_name=current_app.config["CLINIC_NAME"],
                override_reason=form.reason.data if form.override.data == "1" else None,
            )
        except HoldExpired as error:
            db.session.rollback()
            flash(error.message)
            return redirect(url_for(f"{prefix}.book_for", patient_id=patient.id), 303)
        db.session.commit()
        start = booked.appointment.starts_at.astimezone(booked.appointment.location.zone)
        # The record page this leads to names the patient: the flash (kept in the session
        # cookie until shown) never does.
        flash(f"Session booked: {format_date(start)} at {format_time(start)}")
        return redirect(_record_url(prefix, patient.id), 303)
    if hold is None:
        raise HoldExpired("We are no longer holding that time.")
    return render_template(
        "reception/book_confirm.html",
        patient=patient,
        hold=hold,
        form=form,
        search_url=url_for(f"{prefix}.book_for", patient_id=patient.id),
    )
