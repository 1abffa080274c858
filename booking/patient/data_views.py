"""A patient's data rights: see and download everything held (Art. 15, 20), ask for erasure."""

from __future__ import annotations

import json
from typing import Any

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking import clock
from booking.db_hooks import write_unit
from booking.extensions import db
from booking.models import PatientProfile
from booking.patient.forms import ErasureRequestForm
from booking.patient.views import bp
from booking.security import request_id
from booking.services.booking.patients import profile_for_user
from booking.services.platform.audit import record_event
from booking.services.privacy import erasure as erasure_service
from booking.services.privacy.export import SECTIONS, export_patient


def _profile() -> PatientProfile:
    profile = profile_for_user(current_user.id)
    if profile is None:
        abort(404)
    return profile


def _exported(profile: PatientProfile, kind: str) -> dict[str, Any]:
    """The export, with its `privacy.export` audit row committed before it goes out."""
    now = clock.utcnow()
    data = export_patient(profile.id, now=now, clinic_name=current_app.config["CLINIC_NAME"])
    with write_unit() as session:
        record_event(
            "privacy.export",
            actor=current_user,
            now=now,
            object_type="patient",
            object_id=profile.id,
            patient_id=profile.id,
            ip_address=request.remote_addr,
            request_id=request_id(),
            detail=kind,
            session=session,
        )
    return data


@bp.route("/data")
def data() -> str:
    profile = _profile()
    return render_template(
        "patient/data.html",
        pending=erasure_service.pending_request(profile.id),
        years=current_app.config["CLINICAL_RETENTION_YEARS"],
    )


@bp.route("/data/export")
def data_export() -> str:
    export = _exported(_profile(), "html")
    return render_template("patient/data_export.html", export=export, sections=SECTIONS)


@bp.route("/data/export.json")
def data_export_json() -> Response:
    export = _exported(_profile(), "json")
    return Response(
        json.dumps(export, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="meridian-my-data.json"'},
    )


@bp.route("/data/erase", methods=["GET", "POST"])
def data_erase() -> Any:
    profile = _profile()
    form = ErasureRequestForm()
    context = {"years": current_app.config["CLINICAL_RETENTION_YEARS"]}
    pending = erasure_service.pending_request(profile.id)
    if pending is None and form.validate_on_submit():
        # A refusal (DomainError) is shown by the app's handler, which rolls back.
        erasure_service.request_erasure(
            profile,
            actor=current_user._get_current_object(),
            now=clock.utcnow(),
            ip_address=request.remote_addr,
            request_id=request_id(),
        )
        db.session.commit()
        return redirect(url_for("patient.data_erase"), 303)
    return render_template("patient/data_erase.html", form=form, pending=pending, **context)
