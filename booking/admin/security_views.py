"""Admin security pages: mandatory two-step sign-in, resetting a lost second factor, and
the audit trail (filtered by patient, staff member, action and date; paged)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from booking import clock
from booking.admin.forms.security import SecurityForm
from booking.admin.views import _actor, _clinic_or_404, bp
from booking.domain.errors import NotFound
from booking.extensions import db
from booking.forms import EmptyForm
from booking.security import request_id
from booking.services.accounts import mfa
from booking.services.clinic.settings import clinic_zone
from booking.services.platform import audit_log


@bp.route("/security", methods=["GET", "POST"])
def security() -> Response | str:
    clinic = _clinic_or_404()
    form = (
        SecurityForm()
        if request.method == "POST"
        else SecurityForm(data={"mfa_required": clinic.mfa_required})
    )
    if form.validate_on_submit():
        mfa.set_mfa_required(
            clinic,
            bool(form.mfa_required.data),
            actor=_actor(),
            now=clock.utcnow(),
            ip_address=request.remote_addr,
        )
        db.session.commit()
        flash("Security settings saved")
        return redirect(url_for("admin.security"), 303)
    return render_template(
        "admin/security.html",
        form=form,
        staff=mfa.staff_second_factors(),
        reset_form=EmptyForm(),
        own_id=_actor().id,
    )


@bp.route("/users/<id:user_id>/reset-two-step", methods=["POST"])
def reset_two_step(user_id: int) -> Response:
    EmptyForm().validate_on_submit()  # CSRFProtect has already checked the token
    try:
        user = mfa.reset_second_factor(
            user_id,
            actor=_actor(),
            now=clock.utcnow(),
            ip_address=request.remote_addr,
            request_id=request_id(),
        )
    except NotFound:
        abort(404)
    db.session.commit()
    flash(f"Two-step verification reset for {user.display_name}. They set it up again at sign-in.")
    return redirect(url_for("admin.security"), 303)


def _int_arg(name: str, errors: dict[str, str], message: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        errors[name] = message
        return None
    return int(raw)


def _date_arg(name: str, errors: dict[str, str], message: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = message
        return None


def _audit_filter(errors: dict[str, str]) -> audit_log.AuditFilter:
    zone = clinic_zone()
    start = _date_arg("from", errors, "Enter the ‘from’ date as a real date, like 2027-03-01")
    end = _date_arg("to", errors, "Enter the ‘to’ date as a real date, like 2027-03-31")
    if start and end and end < start:
        errors["to"] = "The ‘to’ date must be the same as or after the ‘from’ date"
    action = request.args.get("action", "").strip()[:64] or None
    return audit_log.AuditFilter(
        patient_id=_int_arg("patient", errors, "Patient number must be a whole number"),
        actor_user_id=_int_arg("user", errors, "Select a member of staff from the list"),
        action=action,
        occurred_from=datetime.combine(start, time(), zone) if start else None,
        occurred_before=(
            datetime.combine(end + timedelta(days=1), time(), zone) if end and not errors else None
        ),
    )


@bp.route("/audit")
def audit() -> tuple[str, int]:
    errors: dict[str, str] = {}
    where = _audit_filter(errors)
    page_number = _int_arg("page", errors, "Page must be a whole number") or 1
    staff, actions = audit_log.filter_choices()
    found = None if errors else audit_log.audit_page(where, page=page_number)
    staff_reads = (
        audit_log.reads_by_staff(where.patient_id)
        if found is not None and where.patient_id is not None
        else None
    )
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page" and v}
    page = render_template(
        "admin/audit.html",
        errors=errors,
        found=found,
        staff_reads=staff_reads,
        staff=staff,
        actions=actions,
        values={k: request.args.get(k, "") for k in ("patient", "user", "action", "from", "to")},
        zone=clinic_zone(),
        prev_url=url_for("admin.audit", **args, page=page_number - 1)
        if found and page_number > 1
        else None,
        next_url=url_for("admin.audit", **args, page=page_number + 1)
        if found and found.has_next
        else None,
    )
    return page, 422 if errors else 200
