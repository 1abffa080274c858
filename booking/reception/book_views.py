"""Booking on a patient's behalf at the desk, and cancelling with a reason.

Choose what, where, who and the day (a GET form), pick a free time (held for 10 minutes
for this member of staff), then book it: the same engine, holds and guards as online
booking (`booking.services.booking.desk`).
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking import clock
from booking.desk import booking_pages
from booking.desk.booking_pages import format_day
from booking.desk.forms import CancelForm, ChangeDayForm
from booking.domain.errors import InvalidInput, NotFound, PolicyRefused, SlotTaken
from booking.domain.formatting import format_date, format_time
from booking.extensions import db
from booking.links import base_url
from booking.reception.forms import ChangeTimeForm
from booking.reception.views import bp
from booking.services.booking import desk, staff_actions
from booking.services.clinic.settings import clinic_today
from booking.services.patients.record import patient_appointment


@bp.route("/patients/<id:patient_id>/book")
def book_for(patient_id: int) -> str:
    return booking_pages.choose_page(patient_id, prefix="reception")


@bp.route("/patients/<id:patient_id>/book/hold", methods=["POST"])
def book_hold(patient_id: int) -> Response:
    return booking_pages.hold(patient_id, prefix="reception")


@bp.route("/patients/<id:patient_id>/book/confirm", methods=["GET", "POST"])
def book_confirm(patient_id: int) -> Response | str:
    return booking_pages.confirm_page(patient_id, prefix="reception")


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
