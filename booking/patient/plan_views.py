"""A signed-in patient's treatment plans (issue 17): the plan page (coming sessions, what to
expect, articles, their scores as a chart and a table), sending scores before a session, and
asking reception for a change. Another patient's plan, or a draft, is 404."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking import clock
from booking.domain.errors import DomainError, NotFound
from booking.extensions import db
from booking.models import TreatmentPlan, User
from booking.outcomes import flow
from booking.patient.forms import PlanChangeForm
from booking.patient.views import _profile, bp
from booking.plan_pages import plan_articles, plan_context
from booking.services.plans import patient_side


def _actor() -> User:
    return current_user._get_current_object()  # the User row, not the request-bound proxy


def _plan(plan_id: int) -> TreatmentPlan:
    try:
        return patient_side.patient_plan(plan_id, patient_id=_profile().id)
    except NotFound:
        abort(404)


@bp.route("/plans/<id:plan_id>")
def plan(plan_id: int) -> str:
    plan = _plan(plan_id)
    now = clock.utcnow()
    context = plan_context(plan)
    coming = patient_side.coming_sessions(context["sessions"], now=now)
    upcoming = coming[0].appointment if coming else None
    return render_template(
        "patient/plan.html",
        **context,
        coming=coming,
        can_send=upcoming is not None
        and plan.status == "active"
        and not patient_side.answered(upcoming.id),
        next_session=upcoming,
        articles=plan_articles(plan),
        requests=patient_side.open_requests(plan_id=plan.id),
        review_points=[p for p in plan.review_points.split(",") if p.strip().isdigit()],
    )


@bp.route("/plans/<id:plan_id>/request-change", methods=["GET", "POST"])
def plan_request_change(plan_id: int) -> Any:
    plan = _plan(plan_id)
    form = PlanChangeForm()
    if form.validate_on_submit():
        try:
            patient_side.request_change(
                plan, form.message.data or "", actor=_actor(), now=clock.utcnow()
            )
        except DomainError as error:
            db.session.rollback()
            form.message.errors = [error.message]
            return render_template("patient/plan_change.html", form=form, plan=plan), 422
        db.session.commit()
        flash("Your request has been sent to reception. They will contact you.")
        return redirect(url_for("patient.plan", plan_id=plan.id), 303)
    status = 422 if form.errors else 200
    return render_template("patient/plan_change.html", form=form, plan=plan), status


# ---- Scores before a session (the questions are shared with the emailed link) ----------------


def _journey(plan_id: int) -> flow.Journey | Any:
    plan = _plan(plan_id)
    if plan.status != "active":
        return flow.already(None, patient_side.NO_SESSION)
    upcoming = patient_side.next_session(plan, now=clock.utcnow())
    if upcoming is None:
        return flow.already(None, patient_side.NO_SESSION)
    if patient_side.answered(upcoming.id):
        return flow.already(upcoming, patient_side.ALREADY_SENT)
    return flow.Journey(
        plan=plan,
        appointment=upcoming,
        scope=f"plan-{plan.id}",
        question_url=lambda step: url_for(
            "patient.plan_scores_question", plan_id=plan.id, step=step
        ),
        check_url=url_for("patient.plan_scores_check", plan_id=plan.id),
        back_url=url_for("patient.plan", plan_id=plan.id),
        actor=_actor(),
    )


@bp.route("/plans/<id:plan_id>/scores")
def plan_scores(plan_id: int) -> Any:
    journey = _journey(plan_id)
    if not isinstance(journey, flow.Journey):
        return journey
    return flow.begin(journey, now=clock.utcnow())


def _restart(plan_id: int) -> Any:
    return lambda: redirect(url_for("patient.plan_scores", plan_id=plan_id), 303)


@bp.route("/plans/<id:plan_id>/scores/question/<step>", methods=["GET", "POST"])
def plan_scores_question(plan_id: int, step: str) -> Any:
    journey = _journey(plan_id)
    if not isinstance(journey, flow.Journey):
        return journey
    return flow.question(journey, step, now=clock.utcnow(), missing=_restart(plan_id))


@bp.route("/plans/<id:plan_id>/scores/check", methods=["GET", "POST"])
def plan_scores_check(plan_id: int) -> Any:
    journey = _journey(plan_id)
    if not isinstance(journey, flow.Journey):
        return journey

    def sent() -> Response:
        flash("Your scores have been sent")
        return redirect(url_for("patient.plan", plan_id=plan_id), 303)

    return flow.check(journey, now=clock.utcnow(), missing=_restart(plan_id), sent=sent)
