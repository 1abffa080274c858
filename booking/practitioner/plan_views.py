"""Treatment plans for a practitioner's own patients (issue 17): create, propose, book the
whole series, follow progress and outcomes, pause, extend, cancel.

Plain forms that work without JavaScript. One page creates a plan: the first POST shows the
proposal (each session's proposed time, or up to three alternatives), the second books the
chosen starts as one series (all or none; a conflict re-offers the proposal with the refused
starts listed). Another practitioner's plan or a patient she does not treat is 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from booking import clock
from booking.domain.errors import DomainError, SeriesConflict
from booking.domain.formatting import format_date
from booking.domain.plans.planner import phase_first_date
from booking.domain.scheduling.values import local_label
from booking.extensions import db
from booking.links import base_url
from booking.models import (
    OutcomeMeasure,
    PatientProfile,
    PlanPhase,
    TreatmentPlan,
)
from booking.plan_pages import (
    book_remaining,
    chart,
    choices,
    chosen,
    chosen_starts,
    conflict_errors,
    outcome_points,
)
from booking.practitioner.calendar_views import _actor, _clinic_name
from booking.practitioner.views import _me, bp
from booking.services.clinic import care
from booking.services.plans import planning, progress

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FIELDS = (
    "goal",
    "condition_tag",
    "session_type_id",
    "weekday",
    "time",
    "start",
    "count",
    "interval_weeks",
    "review_points",
    "allow_other",
)


@dataclass
class PlanForm:
    values: dict[str, str]
    errors: list[tuple[str, str]]

    def parsed(self) -> dict[str, Any] | None:
        v = self.values
        out: dict[str, Any] = {}
        out["goal"] = " ".join(v.get("goal", "").split())
        if not out["goal"] or len(out["goal"]) > 500:
            self.errors.append(("goal", "Enter the plan's goal (up to 500 characters)"))
        out["condition_tag"] = v.get("condition_tag", "").strip()[:60]
        try:
            out["session_type_id"] = int(v.get("session_type_id", ""))
        except ValueError:
            self.errors.append(("session_type_id", "Select a session type"))
        try:
            out["weekday"] = int(v.get("weekday", ""))
            if not 0 <= out["weekday"] <= 6:
                raise ValueError
        except ValueError:
            self.errors.append(("weekday", "Select a weekday"))
        try:
            raw = v.get("time", "").strip()
            if len(raw) != 5:
                raise ValueError
            out["time"] = time.fromisoformat(raw)
        except ValueError:
            self.errors.append(("time", "Enter a time like 10:00"))
        try:
            raw = v.get("start", "").strip()
            if len(raw) != 10:
                raise ValueError
            out["start"] = date.fromisoformat(raw)
        except ValueError:
            self.errors.append(("start", "Enter the first date like 2027-09-20"))
        for name, top, label in (("count", 52, "sessions"), ("interval_weeks", 8, "weeks")):
            try:
                out[name] = int(v.get(name, ""))
                if not 1 <= out[name] <= top:
                    raise ValueError
            except ValueError:
                self.errors.append((name, f"Enter a whole number of {label} from 1 to {top}"))
        out["allow_other"] = v.get("allow_other") == "yes"
        if "count" in out:
            points = review_points(v.get("review_points", ""), out["count"])
            if points is None:
                self.errors.append(
                    (
                        "review_points",
                        f"Enter session numbers from 1 to {out['count']}, like 3, 6",
                    )
                )
            else:
                out["review_points"] = points
        return None if self.errors else out


def review_points(raw: str, count: int) -> str | None:
    """'3, 6' -> '3,6' (sorted, unique, each 1..count); '' stays ''; None when not valid."""
    text = raw.replace(" ", "")
    if not text:
        return ""
    if len(text) > 60:
        return None
    numbers: set[int] = set()
    for part in text.split(","):
        if not part.isdigit() or len(part) > 2 or not 1 <= int(part) <= count:
            return None
        numbers.add(int(part))
    return ",".join(str(n) for n in sorted(numbers))


def review_numbers(plan: TreatmentPlan) -> set[int]:
    return {int(n) for n in plan.review_points.split(",") if n.isdigit()}


def _patient(patient_id: int) -> PatientProfile:
    me = _me()
    patient = db.session.get(PatientProfile, patient_id)
    if patient is None or not care.treats(me.id, patient_id):
        abort(404)
    return patient


def _plan(plan_id: int) -> TreatmentPlan:
    plan = db.session.get(TreatmentPlan, plan_id)
    if plan is None or plan.practitioner_id != _me().id:
        abort(404)
    return plan


def _proposal(parsed: dict[str, Any]) -> planning.Proposal:
    return planning.propose_plan(
        session_type_id=parsed["session_type_id"],
        practitioner_id=_me().id,
        first_date=phase_first_date(parsed["start"], parsed["weekday"]),
        wall_time=parsed["time"],
        count=parsed["count"],
        interval_weeks=parsed["interval_weeks"],
        actor=_actor(),
        now=clock.utcnow(),
        allow_other_practitioner=parsed["allow_other"],
    )


@bp.route("/patients/<id:patient_id>/plans/new", methods=["GET", "POST"])
def plan_new(patient_id: int) -> Any:
    patient = _patient(patient_id)
    me = _me()
    types = sorted(me.session_types, key=lambda t: t.name)
    values = {name: request.form.get(name, "") for name in FIELDS}
    if request.method == "GET":
        values.update(count="6", interval_weeks="1", time="10:00", review_points="3, 6")
    form = PlanForm(values, [])
    rows: list[dict[str, Any]] = []
    picked: dict[int, str] = {}
    status = 200
    if request.method == "POST":
        parsed = form.parsed()
        if parsed is not None:
            try:
                if request.form.get("action") == "book":
                    starts, others = chosen_starts(parsed["count"], form.errors)
                    if not form.errors:
                        booked = planning.book_series(
                            patient=patient,
                            practitioner_id=me.id,
                            session_type_id=parsed["session_type_id"],
                            starts=starts,
                            goal=parsed["goal"],
                            condition_tag=parsed["condition_tag"],
                            review_points=parsed["review_points"],
                            allow_other_practitioner=parsed["allow_other"],
                            others=others,
                            secret=current_app.config["SECRET_KEY"],
                            phases=[
                                PlanPhase(
                                    position=1,
                                    session_type_id=parsed["session_type_id"],
                                    count=parsed["count"],
                                    interval_weeks=parsed["interval_weeks"],
                                    weekday=parsed["weekday"],
                                    local_time=parsed["time"],
                                )
                            ],
                            actor=_actor(),
                            now=clock.utcnow(),
                            base_url=base_url(),
                            clinic_name=_clinic_name(),
                        )
                        db.session.commit()
                        flash(f"Plan booked: {len(booked.appointments)} sessions.")
                        return redirect(url_for("practitioner.plan_page", plan_id=booked.plan.id))
                    picked = chosen(parsed["count"])
                rows = choices(_proposal(parsed), me.id)
            except SeriesConflict as conflict:
                db.session.rollback()
                proposal = _proposal(parsed)
                form.errors += conflict_errors(conflict, proposal.timezone)
                rows = choices(proposal, me.id)
                status = 409
            except DomainError as error:
                db.session.rollback()
                form.errors.append(("session_type_id", error.message))
        if form.errors and status == 200:
            status = 422
    return (
        render_template(
            "practitioner/plan_new.html",
            patient=patient,
            types=types,
            weekdays=WEEKDAYS,
            values=values,
            errors=form.errors,
            rows=rows,
            chosen=picked,
        ),
        status,
    )


def _next_review(
    sessions: list[progress.PlanSession], reviews: set[int], scored: set[int | None]
) -> int | None:
    """The first review point with no score yet: preselected in the score form."""
    for item in sessions:
        if item.sequence in reviews and item.appointment.id not in scored:
            return item.sequence
    return None


def _plan_page(plan: TreatmentPlan, errors: list[tuple[str, str]], status: int = 200) -> Any:
    sessions = progress.plan_sessions(plan)
    reviews = review_numbers(plan)
    points = outcome_points(plan)
    return (
        render_template(
            "practitioner/plan.html",
            plan=plan,
            sessions=sessions,
            counts=progress.progress(plan, sessions),
            points=points,
            chart=chart(points),
            reviews=reviews,
            next_review=_next_review(
                sessions, reviews, {r.appointment_id for r in progress.outcomes(plan)}
            ),
            errors=errors,
            zone=plan.location.timezone,
            local_label=local_label,
            format_date=format_date,
        ),
        status,
    )


@bp.route("/plans/<id:plan_id>")
def plan_page(plan_id: int) -> Any:
    return _plan_page(_plan(plan_id), [])


@bp.route("/plans/<id:plan_id>/book", methods=["GET", "POST"])
def plan_book(plan_id: int) -> Any:
    """Book a plan's sessions not yet booked (reception's page does the same)."""
    return book_remaining(_plan(plan_id), actor=_actor(), plan_endpoint="practitioner.plan_page")


@bp.route("/plans/<id:plan_id>/change", methods=["POST"])
def plan_change(plan_id: int) -> Any:
    plan = _plan(plan_id)
    action = request.form.get("action", "")
    now = clock.utcnow()
    try:
        if action in ("pause", "cancel"):
            change = progress.pause_plan if action == "pause" else progress.cancel_plan
            n = change(
                plan,
                reason=request.form.get("reason", ""),
                actor=_actor(),
                now=now,
                base_url=base_url(),
                clinic=_clinic_name(),
            )
            done = "paused" if action == "pause" else "cancelled"
            message = f"Plan {done}; {n} future sessions cancelled."
        elif action == "extend":
            raw = request.form.get("count", "")
            count = int(raw) if raw.isdigit() and len(raw) <= 2 else 0
            progress.extend_plan(plan, count=count, actor=_actor(), now=now)
            message = f"Plan extended by {count} sessions."
        elif action == "resume":
            progress.resume_plan(plan, actor=_actor(), now=now)
            message = "Plan resumed."
        elif action == "complete":
            progress.complete_plan(plan, actor=_actor(), now=now)
            message = "Plan marked completed."
        else:
            return _plan_page(plan, [("action", "Choose what to change")], 422)
    except DomainError as error:
        db.session.rollback()
        field = getattr(error, "field", None) or "action"
        return _plan_page(_plan(plan_id), [(f"{action}-{field}", error.message)], 422)
    db.session.commit()
    flash(message)
    return redirect(url_for("practitioner.plan_page", plan_id=plan.id))


@bp.route("/plans/<id:plan_id>/outcomes", methods=["POST"])
def plan_outcome(plan_id: int) -> Response | Any:
    """Pain 0-10, or PEG-3 when the two other items are given, optionally for one session
    (a review point). A bad item re-renders the page with its error (422)."""
    plan = _plan(plan_id)
    given = {name: request.form.get(name, "").strip() for name in ("item1", "item2", "item3")}
    peg = bool(given["item2"] or given["item3"])
    names = ("item1", "item2", "item3") if peg else ("item1",)
    items: list[int] = []
    for name in names:
        raw = given[name]
        if not raw.isdigit() or len(raw) > 2 or int(raw) > 10:
            return _plan_page(plan, [(name, "Enter a whole number from 0 to 10")], 422)
        items.append(int(raw))
    raw_session = request.form.get("appointment_id", "").strip()
    if raw_session and (not raw_session.isdigit() or len(raw_session) > 12):
        return _plan_page(plan, [("appointment_id", "Choose a session of this plan")], 422)
    try:
        progress.record_outcome(
            plan,
            measure=OutcomeMeasure.peg3 if peg else OutcomeMeasure.pain_nrs,
            items=items,
            actor=_actor(),
            now=clock.utcnow(),
            appointment_id=int(raw_session) if raw_session else None,
        )
    except DomainError as error:
        db.session.rollback()
        field = getattr(error, "field", None) or "item1"
        field = "appointment_id" if field == "appointment_id" else "item1"
        return _plan_page(_plan(plan_id), [(field, error.message)], 422)
    db.session.commit()
    flash("Scores recorded.")
    return redirect(url_for("practitioner.plan_page", plan_id=plan.id))
