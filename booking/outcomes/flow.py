"""The score questions, one per page, then check answers and send (GOV.UK pattern).

Shared by the emailed link (/scores/...) and the patient's account (/patient/plans/.../scores).
Answers wait in a server-side draft keyed by this browser's random key and the journey, so
the session cookie never holds a score; the draft exists only after the link (or the account)
opened the journey, which is what lets the later pages carry no token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, redirect, render_template, request
from werkzeug.wrappers import Response

from booking.book.journey import browser_key
from booking.domain.errors import InvalidInput, PolicyRefused
from booking.domain.scheduling.values import local_label
from booking.extensions import db
from booking.forms import EmptyForm
from booking.models import Appointment, BookingDraft, TreatmentPlan, User
from booking.outcomes.forms import ScoreForm
from booking.outcomes.questions import Question, questions
from booking.services.booking.drafts import load_draft, start_draft
from booking.services.plans import patient_side, progress
from booking.services.platform.tokens import token_hash


@dataclass(frozen=True)
class Journey:
    plan: TreatmentPlan
    appointment: Appointment
    scope: str  # which journey the draft belongs to, e.g. "session-12"
    question_url: Callable[[str], str]
    check_url: str
    back_url: str  # where the first question's back link goes
    actor: User | None


def _key(journey: Journey) -> str:
    key = browser_key(create=True)
    assert key is not None  # noqa: S101 - created above
    return token_hash(f"scores:{journey.scope}:{key}")


def _draft(journey: Journey, *, now: datetime) -> BookingDraft | None:
    if browser_key() is None:
        return None
    draft = load_draft(_key(journey), now=now)
    if draft is None or draft.answers.get("appointment_id") != journey.appointment.id:
        return None
    return draft


def session_label(appointment: Appointment) -> str:
    """ "Session 3 of 8, Tue 4 May 2027, 10:00 BST at Islington"."""
    k = progress.sequence_of([appointment.id]).get(appointment.id)
    when = local_label(appointment.starts_at, appointment.location.timezone, with_date=True)
    prefix = f"Session {k[0]} of {k[1]}, " if k else ""
    return f"{prefix}{when} at {appointment.location.name}"


def begin(journey: Journey, *, now: datetime) -> Response:
    """Start (or restart) the journey's draft and go to the first question."""
    start_draft(_key(journey), {"appointment_id": journey.appointment.id, "scores": {}}, now=now)
    db.session.commit()
    first = questions(journey.plan.measure)[0]
    return redirect(journey.question_url(first.step), 303)


def question(journey: Journey, step: str, *, now: datetime, missing: Callable[[], Any]) -> Any:
    """One question page; `missing` answers when this browser has no draft for the journey."""
    items = questions(journey.plan.measure)
    steps = [q.step for q in items]
    if step not in steps:
        abort(404)
    draft = _draft(journey, now=now)
    if draft is None:
        return missing()
    scores: dict[str, int] = dict(draft.answers.get("scores", {}))
    index = steps.index(step)
    asked = items[index]
    form = ScoreForm() if _posted() else ScoreForm(data=_saved(scores, step))
    if form.validate_on_submit():
        scores[step] = int(form.score.data or 0)
        draft.answers = {**draft.answers, "scores": scores}
        draft.updated_at = now
        db.session.commit()
        later = [s for s in steps[index + 1 :] if s not in scores]
        return redirect(journey.question_url(later[0]) if later else journey.check_url, 303)
    back = journey.back_url if index == 0 else journey.question_url(steps[index - 1])
    return render_template(
        "outcomes/question.html",
        form=form,
        question=asked,
        number=index + 1,
        of=len(items),
        back_url=back,
        session=session_label(journey.appointment),
    ), (422 if form.errors else 200)


def _posted() -> bool:
    return request.method == "POST"


def _saved(scores: dict[str, int], step: str) -> dict[str, str]:
    return {"score": str(scores[step])} if step in scores else {}


def check(
    journey: Journey, *, now: datetime, missing: Callable[[], Any], sent: Callable[[], Response]
) -> Any:
    """Check answers, then send: the scores become an OutcomeRecord (source patient)."""
    draft = _draft(journey, now=now)
    if draft is None:
        return missing()
    scores: dict[str, int] = dict(draft.answers.get("scores", {}))
    items = questions(journey.plan.measure)
    for item in items:
        if item.step not in scores:
            return redirect(journey.question_url(item.step), 303)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            patient_side.send_patient_scores(
                journey.plan, journey.appointment, scores, actor=journey.actor, now=now
            )
        except PolicyRefused as refused:
            db.session.rollback()
            return already(journey.appointment, refused.message, status=409)
        except InvalidInput:
            db.session.rollback()
            return redirect(journey.question_url(items[0].step), 303)
        # The scores leave the draft; what stays says this browser sent them (the thank-you
        # page shows only to it) until the draft expires.
        draft.answers = {"appointment_id": journey.appointment.id, "sent": True}
        draft.updated_at = now
        db.session.commit()
        return sent()
    return render_template(
        "outcomes/check.html",
        form=form,
        rows=_rows(items, scores, journey),
        back_url=journey.question_url(items[-1].step),
        session=session_label(journey.appointment),
    )


def sent_here(journey: Journey, *, now: datetime) -> bool:
    """True when this browser sent the journey's scores (the thank-you page is its own)."""
    draft = _draft(journey, now=now)
    return draft is not None and bool(draft.answers.get("sent"))


def _rows(items: tuple[Question, ...], scores: dict[str, int], journey: Journey) -> list[Any]:
    return [
        {"key": q.short, "value": scores[q.step], "href": journey.question_url(q.step)}
        for q in items
    ]


def already(appointment: Appointment | None, message: str, *, status: int = 200) -> Any:
    """The page for scores already sent (a reused link) or nothing to answer for."""
    return render_template(
        "outcomes/already.html",
        message=message,
        session=session_label(appointment) if appointment is not None else None,
        location=appointment.location if appointment is not None else None,
    ), status
