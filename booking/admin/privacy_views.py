"""Admins: the queue of patients' erasure requests, each carried out once (irreversible)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking import clock
from booking.admin.forms.erasure import CarryOutErasureForm
from booking.admin.views import bp
from booking.domain.errors import NotFound
from booking.extensions import db
from booking.models import ErasureStatus
from booking.security import request_id
from booking.services.privacy import erasure as erasure_service


@bp.route("/erasure-requests")
def erasure_requests() -> str:
    return render_template("admin/erasure_requests.html", requests=erasure_service.erasure_queue())


@bp.route("/erasure-requests/<id:erasure_id>", methods=["GET", "POST"])
def erasure_request(erasure_id: int) -> Any:
    try:
        erasure = erasure_service.get_request(erasure_id)
    except NotFound:
        abort(404)
    form = CarryOutErasureForm()
    context = {"erasure": erasure, "years": current_app.config["CLINICAL_RETENTION_YEARS"]}
    if erasure.status == ErasureStatus.pending and form.validate_on_submit():
        # A refusal (DomainError) is shown by the app's handler, which rolls back.
        erasure_service.carry_out(
            erasure_id,
            actor=current_user._get_current_object(),
            now=clock.utcnow(),
            ip_address=request.remote_addr,
            request_id=request_id(),
        )
        db.session.commit()
        flash("Personal data erased. The clinical record is kept without it.")
        return redirect(url_for("admin.erasure_requests"), 303)
    return render_template("admin/erasure_request.html", form=form, **context)
