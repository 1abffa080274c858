"""The front desk's patients: find, create, the record, and emails resent for them."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking import clock
from booking.extensions import db
from booking.forms import EmptyForm
from booking.intake.staff import health_context
from booking.links import base_url
from booking.reception.forms import PatientForm, SearchForm
from booking.reception.views import bp, desk_regions
from booking.services.clinic.settings import clinic_today
from booking.services.intake import staff
from booking.services.patients import record as records
from booking.services.patients.search import search_patients
from booking.services.plans import patient_side


@bp.route("/patients")
def find_patient() -> str:
    form = SearchForm(request.args)
    result = None
    if "q" in request.args and form.validate():
        result = search_patients(
            form.q.data or "", today=clinic_today(clock.utcnow()), regions=desk_regions()
        )
    return render_template("reception/find_patient.html", form=form, result=result)


@bp.route("/patients/new", methods=["GET", "POST"])
def new_patient() -> Response | str:
    form = PatientForm(region=desk_regions()[0], today=clinic_today(clock.utcnow()))
    if form.validate_on_submit():
        patient = records.create_patient_at_desk(
            given_name=form.given_name.data or "",
            family_name=form.family_name.data or "",
            date_of_birth=form.date_of_birth.data,
            email=form.normalised_email,
            phone=form.e164,
            contact_preference=form.contact_preference.data or "email",
            actor=current_user,
            now=clock.utcnow(),
        )
        db.session.commit()
        flash("Patient created")  # the record page names them; the cookie never does
        return redirect(url_for("reception.patient_record", patient_id=patient.id), 303)
    return render_template("reception/new_patient.html", form=form)


@bp.route("/patients/<id:patient_id>")
def patient_record(patient_id: int) -> str:
    now = clock.utcnow()
    patient = staff.patient_for_staff(patient_id, actor=current_user)
    record = records.patient_record(patient.id, now=now)
    return render_template(
        "reception/patient.html",
        record=record,
        action_form=EmptyForm(),
        plans=patient_side.plans_of_patient(patient.id, drafts=True),
        requests=patient_side.open_requests(patient_id=patient.id),
        **health_context(
            patient,
            intake_endpoint="reception.intake_detail",
            consent_endpoint="reception.patient_consent",
        ),
    )


@bp.route("/patients/<id:patient_id>/send-links", methods=["POST"])
def send_manage_links(patient_id: int) -> Response:
    patient = staff.patient_for_staff(patient_id, actor=current_user)
    form = EmptyForm()
    if form.validate_on_submit():
        sent = records.resend_manage_links(
            patient, actor=current_user, now=clock.utcnow(), **_email_args()
        )
        db.session.commit()
        flash(f"Links to change or cancel sent for {sent} upcoming session(s)")
    return redirect(url_for("reception.patient_record", patient_id=patient.id), 303)


@bp.route("/patients/<id:patient_id>/sessions/<id:appointment_id>/confirmation", methods=["POST"])
def resend_confirmation(patient_id: int, appointment_id: int) -> Response:
    appointment = records.patient_appointment(patient_id, appointment_id)
    form = EmptyForm()
    if form.validate_on_submit():
        records.resend_confirmation(
            appointment, actor=current_user, now=clock.utcnow(), **_email_args()
        )
        db.session.commit()
        flash("Confirmation sent again")
    return redirect(url_for("reception.patient_record", patient_id=patient_id), 303)


def _email_args() -> dict[str, Any]:
    return {"base_url": base_url(), "clinic_name": current_app.config["CLINIC_NAME"]}
