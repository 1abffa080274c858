"""What every plan page shows (the patient's, reception's): progress, sessions with "k of N",
and the outcome chart with its table; rendered by the macros in templates/_macros/plans.html.
Also the staff pages' proposal radios and "book the rest of the plan" page, which the
practitioner's and reception's blueprints both serve (templates/plans/).

Numbers only, no judgement words (domain.md §4). Each page audits its read as `plan.read`
before rendering, as outcome scores are clinical data.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from booking import clock
from booking.domain.errors import DomainError, SeriesConflict
from booking.domain.formatting import format_date
from booking.domain.plans.chart import Point, line_chart, score_text
from booking.domain.plans.planner import phase_first_date
from booking.domain.scheduling.values import local_label
from booking.extensions import db
from booking.intake.staff import audit_read
from booking.links import base_url
from booking.models import (
    OutcomeMeasure,
    OutcomeSource,
    Practitioner,
    TreatmentPlan,
    User,
)
from booking.services.articles.queries import articles_for_session_type, published_articles
from booking.services.clinic.settings import get_clinic
from booking.services.plans import planning, progress

SOURCES = {
    OutcomeSource.practitioner: "Practitioner",
    OutcomeSource.reception: "At reception",
    OutcomeSource.patient: "Online",
}


def outcome_points(plan: TreatmentPlan) -> list[dict[str, Any]]:
    zone = plan.location.zone
    return [
        {
            "date": f"{r.recorded_at.astimezone(zone):%-d %b}",
            "measure": "PEG-3" if r.measure == OutcomeMeasure.peg3 else "Pain 0-10",
            "score": score_text(r.score),
            "raw": r.score,
            "source": SOURCES[r.source],
        }
        for r in progress.outcomes(plan)
    ]


def chart(points: list[dict[str, Any]]) -> Markup:
    return Markup(  # noqa: S704 - built by line_chart, which escapes every text it writes
        line_chart(
            [Point(p["date"], p["raw"]) for p in points],
            title=f"Outcome scores for this plan, 0 to 10, {len(points)} measurements",
        )
    )


def plan_context(plan: TreatmentPlan) -> dict[str, Any]:
    """The template values of a plan page; the read is audited (`plan.read`) first."""
    audit_read(
        "plan.read", object_type="treatment_plan", object_id=plan.id, patient_id=plan.patient_id
    )
    sessions = progress.plan_sessions(plan)
    points = outcome_points(plan)
    return {
        "plan": plan,
        "sessions": sessions,
        "counts": progress.progress(plan, sessions),
        "points": points,
        "chart": chart(points),
        "zone": plan.location.timezone,
        "local_label": local_label,
        "format_date": format_date,
    }


def plan_articles(plan: TreatmentPlan, limit: int = 3) -> list[Any]:
    """Published articles tagged with the plan's condition, else with its session type."""
    found = published_articles(tag=plan.condition_tag, limit=limit) if plan.condition_tag else []
    if not found and plan.phases:
        found = articles_for_session_type(plan.phases[0].session_type.slug, limit)
    return found


def choices(proposal: planning.Proposal, practitioner_id: int) -> list[dict[str, Any]]:
    """Each session's options: the proposed start, else alternatives. An alternative with
    another practitioner than the plan's is valued 'start|practitioner id' and names them."""
    names = {
        p.id: p.display_name
        for p in db.session.scalars(
            select(Practitioner).where(
                Practitioner.id.in_(
                    {a.practitioner_id for s in proposal.sessions for a in s.alternatives}
                )
            )
        )
    }
    rows = []
    for item in proposal.sessions:
        options: list[tuple[datetime, str, int]] = []
        if item.free:
            options.append((item.occurrence.starts_at, "proposed", practitioner_id))
        options += [
            (alt.starts_at, "alternative", alt.practitioner_id) for alt in item.alternatives
        ]
        rows.append(
            {
                "sequence": item.occurrence.sequence,
                "label": local_label(item.occurrence.starts_at, proposal.timezone, with_date=True),
                "free": item.free,
                "moved": item.occurrence.moved,
                "options": [
                    {
                        "value": start.isoformat() + ("" if who == practitioner_id else f"|{who}"),
                        "text": local_label(start, proposal.timezone, with_date=True),
                        "kind": kind,
                        "with": None
                        if who == practitioner_id
                        else names.get(who, "another practitioner"),
                    }
                    for start, kind, who in options
                ],
            }
        )
    return rows


def chosen(count: int) -> dict[int, str]:
    """The radios as posted: session k -> 'start', 'start|practitioner id' or 'skip'."""
    return {k: request.form.get(f"session-{k}", "") for k in range(1, count + 1)}


def chosen_starts(
    count: int, errors: list[tuple[str, str]]
) -> tuple[list[datetime], dict[datetime, int]]:
    """The chosen starts, and which of them go to another practitioner ('start|id'); a bad
    value appends its error to `errors`."""
    starts: list[datetime] = []
    others: dict[datetime, int] = {}
    for k, raw in chosen(count).items():
        if raw == "skip":
            continue
        stamp, _, who = raw.partition("|")
        try:
            value = datetime.fromisoformat(stamp) if len(stamp) <= 40 else None
        except ValueError:
            value = None
        if value is None or value.tzinfo is None or (who and not who.isdigit()):
            errors.append((f"session-{k}", f"Choose a time for session {k}"))
            continue
        starts.append(value)
        if who:
            others[value] = int(who[:12])
    if not starts and not errors:
        errors.append(("sessions", "Choose at least one session"))
    return starts, others


def conflict_errors(conflict: SeriesConflict, timezone: str) -> list[tuple[str, str]]:
    """One error a start the series could not take, for the page that re-offers them."""
    return [
        (
            "sessions",
            f"{local_label(start, timezone, with_date=True)} is no longer free: choose again",
        )
        for start in conflict.conflicts
    ]


def clinic_name() -> str:
    clinic = get_clinic()
    return clinic.name if clinic else current_app.config["CLINIC_NAME"]


def remaining_proposal(plan: TreatmentPlan, remaining: int, actor: User) -> planning.Proposal:
    """The plan's not-yet-booked sessions, like its last phase, from the week after its last
    counted session (or from tomorrow)."""
    phase = plan.phases[-1]
    zone = plan.location.zone
    today = clock.utcnow().astimezone(zone).date()
    counted = [s.appointment for s in progress.plan_sessions(plan) if s.sequence]
    start = today + timedelta(days=1)
    if counted:
        last = counted[-1].starts_at.astimezone(zone).date()
        start = max(start, last + timedelta(weeks=phase.interval_weeks) - timedelta(days=6))
    return planning.propose_plan(
        session_type_id=phase.session_type_id,
        practitioner_id=plan.practitioner_id,
        location_id=plan.location_id,
        first_date=phase_first_date(start, phase.weekday),
        wall_time=phase.local_time,
        count=remaining,
        interval_weeks=phase.interval_weeks,
        actor=actor,
        now=clock.utcnow(),
        allow_other_practitioner=plan.allow_other_practitioner,
    )


def book_remaining(plan: TreatmentPlan, *, actor: User, plan_endpoint: str) -> Any:
    """The "book the rest of the plan" page for staff (the practitioner's and reception's):
    the sessions not yet booked (after "extend", or ones left out) with the same proposal
    and all-or-none booking as a new plan, appended to this one, booked as `actor`.

    The caller has checked the actor may see the plan; `plan_endpoint` is its plan page,
    the way back and where a booking or a plan with nothing to book goes.
    """
    plan_id = plan.id
    plan_url = url_for(plan_endpoint, plan_id=plan_id)
    counts = progress.progress(plan)
    if plan.status != "active" or counts.remaining == 0:
        flash("This plan has no sessions to book.")
        return redirect(plan_url)
    errors: list[tuple[str, str]] = []
    picked: dict[int, str] = {}
    status = 200
    if request.method == "POST" and request.form.get("action") == "book":
        starts, others = chosen_starts(counts.remaining, errors)
        picked = chosen(counts.remaining)
        if not errors:
            try:
                booked = planning.book_series(
                    patient=plan.patient,
                    practitioner_id=plan.practitioner_id,
                    session_type_id=plan.phases[-1].session_type_id,
                    starts=starts,
                    goal=plan.goal,
                    actor=actor,
                    now=clock.utcnow(),
                    base_url=base_url(),
                    clinic_name=clinic_name(),
                    allow_other_practitioner=plan.allow_other_practitioner,
                    others=others,
                    secret=current_app.config["SECRET_KEY"],
                    plan=plan,
                )
                db.session.commit()
                flash(f"{len(booked.appointments)} more sessions booked.")
                return redirect(plan_url)
            except SeriesConflict as conflict:
                db.session.rollback()
                plan = db.session.get_one(TreatmentPlan, plan_id)
                errors += conflict_errors(conflict, plan.location.timezone)
                status = 409
            except DomainError as error:
                db.session.rollback()
                plan = db.session.get_one(TreatmentPlan, plan_id)
                errors.append(("sessions", error.message))
        if errors and status == 200:
            status = 422
    rows = choices(remaining_proposal(plan, counts.remaining, actor), plan.practitioner_id)
    return (
        render_template(
            "plans/book.html",
            plan=plan,
            rows=rows,
            chosen=picked,
            errors=errors,
            offset=counts.total - counts.remaining,
            of=counts.total,
            back_url=plan_url,
        ),
        status,
    )
