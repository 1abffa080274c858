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
from booking.domain.formatting import format_date, format_time
from booking.domain.phones import format_national
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
    starts = local(journey, starts_at)
    ends = local(journey, starts_at + timedelta(minutes=session_type.duration_minutes))
    return page(
        "book/check.html",
        journey,
        "check",
        # What the person told us, the time and its change sentences: this request's own
        # (slots of the kept page, never in its key nor kept).
        per_request=(*DETAIL_TEXTS, "when_text", "change_sentences"),
        form=form,
        session_type=session_type,
        location=location,
        several_locations=journey.several_locations,
        # The practitioner and the place's policy: this worker's copies (reference version).
        practitioner=person(held_id) if held_id else None,
        any_practitioner=journey.get("practitioner") == "any",
        known_patient=journey.patient is not None,
        contact_preference=journey.get("contact_preference"),
        safety=journey.get("safety"),
        when_text=(
            f"{format_date(starts)}, {format_time(starts)} to {format_time(ends)}"
            f" ({location.name} time, {starts.tzname()})"
        ),
        change_sentences=list(
            cutoff.policy_sentences(place_policy(location.id), starts_at, now=journey.now)
        ),
        **detail_texts(journey),
    )


DETAIL_TEXTS = ("name_text", "date_of_birth_text", "email_text", "phone_text")


def detail_texts(journey: Journey) -> dict[str, Any]:
    """Who the booking is for, as check answers shows it (a known patient's own record)."""
    patient = journey.patient
    if patient is not None:
        return dict(zip(DETAIL_TEXTS, (patient.full_name, "", patient.email, ""), strict=True))
    born = parse_day(journey.get("date_of_birth"))
    region = need(journey.location).country_code
    return {
        "name_text": f"{journey.get('given_name')} {journey.get('family_name')}",
        "date_of_birth_text": format_date(born) if born else "",
        "email_text": journey.get("email"),
        "phone_text": format_national(journey.get("phone"), region),
    }


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
