"""What every plan page shows (the patient's, reception's): progress, sessions with "k of N",
and the outcome chart with its table; rendered by the macros in templates/_macros/plans.html.

Numbers only, no judgement words (domain.md §4). Each page audits its read as `plan.read`
before rendering, as outcome scores are clinical data.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from booking.domain.formatting import format_date
from booking.domain.plans.chart import Point, line_chart, score_text
from booking.domain.scheduling.values import local_label
from booking.intake.staff import audit_read
from booking.models import OutcomeMeasure, OutcomeSource, TreatmentPlan
from booking.services.articles.queries import articles_for_session_type, published_articles
from booking.services.plans import progress

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
