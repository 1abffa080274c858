"""The emailed scores link: /scores/<appointment id>/<token> opens the questions for that
plan session without an account (see booking.services.plans.patient_side for the token)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from werkzeug.wrappers import Response

from booking import clock
from booking.domain.errors import NotFound
from booking.outcomes import flow
from booking.security import guard
from booking.services.plans import patient_side

bp = Blueprint("outcomes", __name__)
guard(bp, roles=None)  # the token in the link is the key; later pages need its draft


def _journey(appointment_id: int) -> flow.Journey:
    try:
        plan, appointment = patient_side.live_link_session(appointment_id, now=clock.utcnow())
    except NotFound:
        abort(404)
    return flow.Journey(
        plan=plan,
        appointment=appointment,
        scope=f"session-{appointment.id}",
        question_url=lambda step: url_for(
            "outcomes.question", appointment_id=appointment.id, step=step
        ),
        check_url=url_for("outcomes.check", appointment_id=appointment.id),
        back_url=url_for("public.start"),
        actor=None,
    )


def _no_draft() -> Any:
    abort(404)


@bp.route("/scores/<id:appointment_id>/<token>")
def start(appointment_id: int, token: str) -> Any:
    now = clock.utcnow()
    try:
        plan, appointment = patient_side.session_for_link(
            appointment_id, token, secret=current_app.config["SECRET_KEY"], now=now
        )
    except NotFound:
        abort(404)
    if patient_side.answered(appointment.id):
        return flow.already(appointment, patient_side.ALREADY_SENT)
    return flow.begin(_journey(appointment.id), now=now)


@bp.route("/scores/<id:appointment_id>/question/<step>", methods=["GET", "POST"])
def question(appointment_id: int, step: str) -> Any:
    return flow.question(_journey(appointment_id), step, now=clock.utcnow(), missing=_no_draft)


@bp.route("/scores/<id:appointment_id>/check", methods=["GET", "POST"])
def check(appointment_id: int) -> Any:
    def sent() -> Response:
        return redirect(url_for("outcomes.sent", appointment_id=appointment_id), 303)

    return flow.check(_journey(appointment_id), now=clock.utcnow(), missing=_no_draft, sent=sent)


@bp.route("/scores/<id:appointment_id>/sent")
def sent(appointment_id: int) -> str:
    journey = _journey(appointment_id)
    if not flow.sent_here(journey, now=clock.utcnow()):
        abort(404)
    return render_template(
        "outcomes/sent.html",
        session=flow.session_label(journey.appointment),
        plan_url=None,
    )
