"""Booking on a patient's behalf at the desk, and cancelling with a reason.

Choose what, where, who and the day (a GET form), pick a free time (held for 10 minutes
for this member of staff), then book it: the same engine, holds and guards as online
booking (`booking.services.booking.desk`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking import clock
from booking.domain.errors import HoldExpired, InvalidInput, NotFound, PolicyRefused, SlotTaken
from booking.domain.formatting import format_date, format_time
from booking.extensions import db
from booking.links import base_url
from booking.models import Location
from booking.reception.forms import (
    BookSearchForm,
    CancelForm,
    ChangeDayForm,
    ChangeTimeForm,
    ConfirmForm,
    TimeChoiceForm,
)
from booking.reception.views import bp
from booking.services.booking import desk, staff_actions
from booking.services.booking.catalogue import active_locations, active_session_types
from booking.services.clinic.practitioners import practitioners
from booking.services.clinic.settings import clinic_today
from booking.services.intake import staff
from booking.services.patients.record import patient_appointment


def _search_form(locations: list[Location]) -> BookSearchForm:
    form = BookSearchForm(request.args, today=clinic_today(clock.utcnow()))
    form.session_type.choices = [(str(t.id), t.name) for t in active_session_types()]
    form.location.choices = [(str(loc.id), loc.name) for loc in locations]
    form.practitioner.choices = [("", "Anyone free")] + [
        (str(p.id), p.display_name) for p in practitioners() if p.is_active
    ]
    return form


def format_day(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdecimal() and len(value) < 10 else None


@bp.route("/patients/<id:patient_id>/book")
def book_for(patient_id: int) -> str:
    patient = staff.patient_for_staff(patient_id, actor=current_user)
    locations = active_locations()
    form = _search_form(locations)
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
        names = {p.id: p.display_name for p in practitioners()}
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
        hold_url=url_for(
            "reception.book_hold",
            patient_id=patient.id,
            session_type=form.session_type.data,
            location=form.location.data,
            override="1" if form.override.data else "",
        ),
    )


@bp.route("/patients/<id:patient_id>/book/hold", methods=["POST"])
def book_hold(patient_id: int) -> Response:
    patient = staff.patient_for_staff(patient_id, actor=current_user)
    # CSRF is checked app-wide; the choice is read as sent and checked by the engine.
    chosen = request.form.get("start", "")
    practitioner_text, _, start_text = chosen.partition("|")
    back = url_for("reception.book_for", patient_id=patient.id)
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
            "reception.book_confirm", patient_id=patient.id, override="1" if override else None
        ),
        303,
    )


@bp.route("/patients/<id:patient_id>/book/confirm", methods=["GET", "POST"])
def book_confirm(patient_id: int) -> Response | str:
    patient = staff.patient_for_staff(patient_id, actor=current_user)
    now = clock.utcnow()
    hold = desk.held_for(current_user, now=now)
    if hold is None and request.method == "GET":
        flash("We are no longer holding that time: choose it again")
        return redirect(url_for("reception.book_for", patient_id=patient.id), 303)
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
            return redirect(url_for("reception.book_for", patient_id=patient.id), 303)
        db.session.commit()
        start = booked.appointment.starts_at.astimezone(booked.appointment.location.zone)
        flash(
            f"Session booked for {patient.full_name}: {format_date(start)} at {format_time(start)}"
        )
        return redirect(url_for("reception.patient_record", patient_id=patient.id), 303)
    if hold is None:
        raise HoldExpired("We are no longer holding that time.")
    return render_template("reception/book_confirm.html", patient=patient, hold=hold, form=form)


@bp.route("/patients/<id:patient_id>/sessions/<id:appointment_id>/cancel", methods=["GET", "POST"])
def cancel_session(patient_id: int, appointment_id: int) -> Response | str:
    appointment = patient_appointment(patient_id, appointment_id)
    if appointment.patient is None:  # pragma: no cover - a booked session has a patient
        raise NotFound("That session was not found.")
    form = CancelForm()
    if form.validate_on_submit():
        staff_actions.staff_cancel(
            appointment,
            actor=current_user,
            now=clock.utcnow(),
            reason=form.reason.data or "",
            base_url=base_url(),
            clinic_name=current_app.config["CLINIC_NAME"],
        )
        db.session.commit()
        flash("Session cancelled: the patient has been emailed")
        return redirect(url_for("reception.patient_record", patient_id=patient_id), 303)
    return render_template("reception/cancel.html", appointment=appointment, form=form)


@bp.route("/patients/<id:patient_id>/sessions/<id:appointment_id>/change", methods=["GET", "POST"])
def change_session(patient_id: int, appointment_id: int) -> Response | str:
    """Move a booked session to another free time (same practitioner, place and type)."""
    appointment = patient_appointment(patient_id, appointment_id)
    now = clock.utcnow()
    zone = appointment.location.zone
    day_form = ChangeDayForm(request.args, today=clinic_today(now))
    if "day" not in request.args:
        day_form.day.data = format_day(appointment.starts_at.astimezone(zone).date())
    day_form.validate()
    override = bool(day_form.override.data)
    form = ChangeTimeForm()
    slots = []
    if day_form.chosen_day is not None:
        slots = desk.free_times(
            session_type_id=appointment.session_type_id,
            location_id=appointment.location_id,
            practitioner_id=appointment.practitioner_id,
            day=day_form.chosen_day,
            actor=current_user,
            now=now,
            override_limits=override,
        )
    form.start.choices = [
        (slot.starts_at.isoformat(), format_time(slot.starts_at.astimezone(zone))) for slot in slots
    ]
    if form.validate_on_submit():
        reason = (form.reason.data or "") if override else None
        try:
            staff_actions.staff_reschedule(
                appointment,
                starts_at=datetime.fromisoformat(form.start.data or ""),
                actor=current_user,
                now=now,
                base_url=base_url(),
                clinic_name=current_app.config["CLINIC_NAME"],
                hold_owner=desk.desk_hold_owner(current_user.id),
                override_reason=reason,
            )
        except InvalidInput as error:
            db.session.rollback()
            form.reason.errors = [error.message]
        except (SlotTaken, PolicyRefused) as error:
            db.session.rollback()
            form.start.errors = [error.message]
        else:
            db.session.commit()
            start = appointment.starts_at.astimezone(zone)
            flash(f"Session moved to {format_date(start)} at {format_time(start)}")
            return redirect(url_for("reception.patient_record", patient_id=patient_id), 303)
    return render_template(
        "reception/change.html",
        appointment=appointment,
        day_form=day_form,
        form=form,
        override=override,
    )
