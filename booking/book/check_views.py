"""The end of the journey: check your answers, book the held time, the confirmation page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking import clock
from booking.book.forms import BookForm
from booking.book.intake_link import next_step_after_booking
from booking.book.journey import Journey, booked_appointment, load_journey, need
from booking.book.slot_pages import parse_day, start_value
from booking.book.steps import clinic_name, local, page, save, step
from booking.book.views import bp
from booking.catalogue_cache import person, place_policy
from booking.domain.errors import HoldExpired, InvalidInput, PolicyRefused, SlotTaken
from booking.domain.formatting import format_date
from booking.extensions import db
from booking.links import base_url
from booking.models import Appointment, PatientProfile, Role
from booking.services.articles.queries import articles_for_session_type
from booking.services.booking import cutoff, holds
from booking.services.booking.patients import create_patient


@bp.route("/book/check", methods=["GET", "POST"], endpoint="check")
@step("check")
def book_check(journey: Journey) -> Response | str:
    form = BookForm()
    if form.validate_on_submit():
        return confirm(journey)
    session_type, location = need(journey.session_type), need(journey.location)
    starts_at = need(journey.starts_at)
    held_id = journey.get("held_practitioner_id")
    # The practitioner and the place's policy: this worker's copies (reference version).
    practitioner = person(held_id) if held_id else None
    return page(
        "book/check.html",
        journey,
        "check",
        form=form,
        starts=local(journey, starts_at),
        ends=local(journey, starts_at + timedelta(minutes=session_type.duration_minutes)),
        practitioner=practitioner,
        patient=journey.patient,
        change_sentences=cutoff.policy_sentences(
            place_policy(location.id), starts_at, now=journey.now
        ),
        date_of_birth=parse_day(journey.get("date_of_birth")),
    )


def confirm(journey: Journey) -> Response:
    """Book the held time for this patient; a repeat shows the booking already made."""
    session_type, location = need(journey.session_type), need(journey.location)
    starts_at = need(journey.starts_at)
    patient = journey.patient or new_patient(journey)
    actor = current_user if current_user.is_authenticated else None
    try:
        booked = holds.book_hold(
            hold_id=journey.get("hold_id"),
            hold_owner=journey.owner,
            retake={
                "session_type_id": session_type.id,
                "location_id": location.id,
                "practitioner_id": journey.practitioner_id,
                "starts_at": starts_at,
            },
            patient=patient,
            now=journey.now,
            base_url=base_url(),
            clinic_name=clinic_name(),
            actor=actor if actor is not None and actor.role == Role.patient else None,
            secret=current_app.config["SECRET_KEY"],
        )
    except (HoldExpired, SlotTaken, PolicyRefused, InvalidInput):
        db.session.rollback()
        fresh = need(load_journey(now=journey.now))
        already = db.session.get(Appointment, fresh.get("hold_id") or 0)
        if fresh.get("booked_id") or (
            already is not None and already.hold_owner == fresh.owner and already.patient_id
        ):
            return redirect(url_for("book.confirmation"), 303)
        save(fresh, expired=start_value(starts_at))
        db.session.commit()
        return redirect(url_for("book.expired"), 303)
    changes: dict[str, Any] = {
        "booked_id": booked.appointment.id,
        "hold_id": booked.appointment.id,
        "patient_id": patient.id,
    }
    if booked.manage_token:
        changes["manage_token"] = booked.manage_token
    save(journey, **changes)
    db.session.commit()
    return redirect(url_for("book.confirmation"), 303)


def new_patient(journey: Journey) -> PatientProfile:
    return create_patient(
        given_name=journey.get("given_name", ""),
        family_name=journey.get("family_name", ""),
        date_of_birth=parse_day(journey.get("date_of_birth")),
        email=journey.get("email", ""),
        phone=journey.get("phone"),
        contact_preference=journey.get("contact_preference", "email"),
        now=journey.now,
    )


@bp.route("/book/confirmation", endpoint="confirmation")
def book_confirmation() -> str:
    journey = load_journey(now=clock.utcnow())
    appointment = booked_appointment(journey) if journey is not None else None
    if journey is None or appointment is None:
        return render_template("book/confirmation_none.html")
    zone = appointment.location.zone
    token = journey.get("manage_token")
    next_step = next_step_after_booking(appointment) if appointment.is_first_visit else None
    return render_template(
        "book/confirmation.html",
        appointment=appointment,
        starts=appointment.starts_at.astimezone(zone),
        ends=appointment.ends_at.astimezone(zone),
        manage_url=url_for("manage.session", token=token) if token else None,
        calendar_url=url_for("manage.session_calendar", token=token) if token else None,
        next_step=next_step,
        change_sentences=cutoff.change_sentences(appointment, now=clock.utcnow()),
        articles=articles_for_session_type(appointment.session_type.slug),
        format_date=format_date,
    )
