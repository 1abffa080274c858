"""A signed-in patient's own pages: their sessions, and changing or cancelling one (ux.md §5)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking import clock
from booking.extensions import db
from booking.manage import flow
from booking.models import Appointment, AppointmentStatus, PatientProfile
from booking.patient.forms import ContactDetailsForm
from booking.security import get_owned_or_404, guard
from booking.services.booking.patients import (
    home_region,
    profile_for_user,
    sessions_of,
    update_contact,
)
from booking.services.intake.answers import intakes_of_patient, upcoming_without_intake
from booking.services.intake.consent import current_consents
from booking.services.plans.patient_side import plans_of_patient
from booking.services.plans.progress import sequence_of
from booking.services.waitlist import entries
from booking.waitlist import pages
from booking.waitlist.forms import WaitlistForm

bp = Blueprint("patient", __name__)
guard(bp, roles=["patient"])


@bp.route("/")
def home() -> str:
    """The account page: sessions coming and past, health questions, consent, contact."""
    profile = profile_for_user(current_user.id)
    appointments = sessions_of(profile.id) if profile is not None else []
    now = clock.utcnow()
    upcoming = [
        a for a in appointments if a.ends_at > now and a.status != AppointmentStatus.cancelled
    ]
    past = [a for a in appointments if a not in upcoming]
    return render_template(
        "patient/home.html",
        profile=profile,
        upcoming=upcoming,
        past=list(reversed(past)),
        intakes=intakes_of_patient(profile.id) if profile else [],
        to_answer=upcoming_without_intake(profile.id, now=now) if profile else [],
        consents=sorted(current_consents(profile.id).values(), key=lambda c: c.modality)
        if profile
        else [],
        plans=plans_of_patient(profile.id) if profile else [],
        sequences=sequence_of([a.id for a in upcoming]),
    )


@bp.route("/contact-details", methods=["GET", "POST"])
def contact_details() -> Response | str:
    profile = profile_for_user(current_user.id)
    if profile is None:
        abort(404)
    saved = {"phone": profile.phone or "", "contact_preference": str(profile.contact_preference)}
    region = home_region(profile)
    form = (
        ContactDetailsForm(region=region)
        if request.method == "POST"
        else ContactDetailsForm(data=saved, region=region)
    )
    if not form.validate_on_submit():
        return render_template("patient/contact_details.html", form=form, profile=profile)
    update_contact(
        profile,
        phone=form.e164,
        contact_preference=form.contact_preference.data,
        actor=current_user._get_current_object(),
        now=clock.utcnow(),
    )
    db.session.commit()
    flash("Your contact details have been saved")
    return redirect(url_for("patient.home"), 303)


def load(appointment_id: int) -> tuple[Appointment, flow.Links]:
    """The signed-in patient's own appointment, or 404 (another patient's included)."""
    profile = profile_for_user(current_user.id)
    if profile is None:
        abort(404)
    appointment = get_owned_or_404(Appointment, appointment_id, patient_id=profile.id)
    if appointment.status == AppointmentStatus.held:
        abort(404)
    return appointment, flow.Links("patient.session", {"appointment_id": appointment_id})


@bp.route("/sessions/<id:appointment_id>")
def session(appointment_id: int) -> Any:
    return flow.show(*load(appointment_id))


@bp.route("/sessions/<id:appointment_id>/day", methods=["GET", "POST"])
def session_day(appointment_id: int) -> Any:
    return flow.day(*load(appointment_id))


@bp.route("/sessions/<id:appointment_id>/time", methods=["GET", "POST"])
def session_time(appointment_id: int) -> Any:
    return flow.time(*load(appointment_id))


@bp.route("/sessions/<id:appointment_id>/check", methods=["GET", "POST"])
def session_check(appointment_id: int) -> Any:
    return flow.check(*load(appointment_id))


@bp.route("/sessions/<id:appointment_id>/cancel", methods=["GET", "POST"])
def session_cancel(appointment_id: int) -> Any:
    return flow.cancel(*load(appointment_id))


@bp.route("/sessions/<id:appointment_id>/done")
def session_done(appointment_id: int) -> Any:
    return flow.done(*load(appointment_id))


@bp.route("/sessions/<id:appointment_id>/calendar.ics")
def session_calendar(appointment_id: int) -> Response:
    appointment, _links = load(appointment_id)
    return flow.calendar(appointment)


# ---- The waitlist -----------------------------------------------------------------------------


def _profile() -> PatientProfile:
    profile = profile_for_user(current_user.id)
    if profile is None:
        abort(404)
    return profile


@bp.route("/waitlist", methods=["GET", "POST"])
def waitlist() -> Any:
    """The patient's own waitlist entries and the form to join (the "no times" page links here)."""
    profile = _profile()
    return pages.join_page(
        WaitlistForm(),
        patient=lambda _form: profile,
        template="patient/waitlist.html",
        done_url=url_for("patient.waitlist"),
        source="online",
        entries=entries.entries_of(profile.id, now=clock.utcnow()),
    )


@bp.route("/waitlist/<id:entry_id>/remove", methods=["POST"])
def waitlist_remove(entry_id: int) -> Any:
    return pages.remove_entry(
        entry_id, patient_id=_profile().id, done_url=url_for("patient.waitlist")
    )
