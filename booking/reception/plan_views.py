"""Reception's view of treatment plans (issue 17): a patient's plans from their record, the
plan page (progress, sessions, scores: read-only, each read audited as `plan.read`), booking
the plan's sessions not yet booked, scores the patient gives at the desk (source reception),
and the patient's change requests."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking import clock
from booking.domain.errors import DomainError, NotFound
from booking.extensions import db
from booking.forms import EmptyForm
from booking.models import OutcomeMeasure, TreatmentPlan, User
from booking.plan_pages import book_remaining, plan_context
from booking.reception.forms import DeskScoresForm
from booking.reception.views import bp
from booking.services.plans import patient_side, progress


def _actor() -> User:
    return current_user._get_current_object()  # the User row, not the request-bound proxy


def _plan(plan_id: int) -> TreatmentPlan:
    try:
        return progress.plan_for(plan_id, actor=_actor())
    except NotFound:
        abort(404)


def _items(plan: TreatmentPlan) -> int:
    return 3 if plan.measure == OutcomeMeasure.peg3 else 1


def _page(plan: TreatmentPlan, form: DeskScoresForm, status: int = 200) -> Any:
    return render_template(
        "reception/plan.html",
        **plan_context(plan),
        form=form,
        items=_items(plan),
        requests=patient_side.open_requests(plan_id=plan.id),
        action_form=EmptyForm(),
        next_session=patient_side.next_session(plan, now=clock.utcnow()),
    ), status


@bp.route("/plans/<id:plan_id>")
def plan_page(plan_id: int) -> Any:
    plan = _plan(plan_id)
    return _page(plan, DeskScoresForm(items=_items(plan)))


@bp.route("/plans/<id:plan_id>/book", methods=["GET", "POST"])
def plan_book(plan_id: int) -> Any:
    """Book the plan's sessions not yet booked for the patient, as the practitioner can:
    the same page, proposal and all-or-none series, booked (and audited) as the receptionist."""
    return book_remaining(_plan(plan_id), actor=_actor(), plan_endpoint="reception.plan_page")


@bp.route("/plans/<id:plan_id>/scores", methods=["POST"])
def plan_scores(plan_id: int) -> Any:
    plan = _plan(plan_id)
    form = DeskScoresForm(items=_items(plan))
    if not form.validate_on_submit():
        return _page(plan, form, 422)
    try:
        patient_side.record_at_desk(plan, form.scores, actor=_actor(), now=clock.utcnow())
    except DomainError as error:
        db.session.rollback()
        form.item1.errors = [error.message]
        return _page(_plan(plan_id), form, 422)
    db.session.commit()
    flash("Scores recorded")
    return redirect(url_for("reception.plan_page", plan_id=plan.id), 303)


@bp.route("/plans/<id:plan_id>/requests/<id:request_id>/done", methods=["POST"])
def plan_request_done(plan_id: int, request_id: int) -> Response:
    plan = _plan(plan_id)
    if EmptyForm().validate_on_submit():
        try:
            patient_side.close_request(plan, request_id, actor=_actor(), now=clock.utcnow())
        except NotFound:
            abort(404)
        db.session.commit()
        flash("Request marked as done")
    return redirect(url_for("reception.plan_page", plan_id=plan.id), 303)
