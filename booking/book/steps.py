"""What every journey page shares: the step order guard, the page frame and the hold line.

`step` loads the browser's draft and keeps the questions in order; `page` renders a
question with its back link and hold line; `keep_hold` re-takes an expired hold before a
later answer is saved (ux.md §2–§4).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from booking import clock
from booking.book.forms import HoldForm
from booking.book.journey import (
    AFTER_TIME,
    BOOKING_START,
    Journey,
    booked_appointment,
    load_journey,
    need,
)
from booking.book.page_cache import Facts, kept_by_facts, render_question
from booking.book.slot_pages import day_label, start_value
from booking.domain.errors import DomainError
from booking.domain.formatting import format_time
from booking.domain.scheduling.dst import from_utc_seconds, local_day_start, local_today
from booking.extensions import db
from booking.models import Appointment
from booking.services.booking import holds
from booking.services.booking.drafts import save_answers, start_draft
from booking.services.clinic.settings import get_clinic

ENDPOINTS = {
    "type": "book.type",
    "location": "book.location",
    "practitioner": "book.practitioner",
    "day": "book.day",
    "time": "book.time",
    "returning": "book.returning",
    "find_you": "book.find_you",
    "name": "book.name",
    "date_of_birth": "book.date_of_birth",
    "contact": "book.contact",
    "contact_preference": "book.contact_preference",
    "safety": "book.safety",
    "check": "book.check",
}
# Questions whose pages are kept per worker (`page_cache`); check answers is kept with
# everything a person told us as slots (`per_request`), never in the key or the store.
KEPT_QUESTIONS = frozenset(ENDPOINTS) - {"find_you"}
# The steps that show free times: their GETs read the availability stamps with the draft.
PICKERS = frozenset({"day", "time"})
# Changing one of these answers makes every later answer about the time stale.
TIME_ANSWERS = ("day", "starts_at", "hold_id", "held_practitioner_id", "taken", "expired")


def clinic_name() -> str:
    return current_app.config["CLINIC_NAME"]


def step_url(step: str, **kwargs: Any) -> str:
    return url_for(ENDPOINTS[step], **kwargs)


def step(name: str | None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Load the draft (none: back to the start page) and keep the questions in order.

    A page whose earlier answers are missing sends the browser to the first missing one;
    a browser that has booked goes to its confirmation.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            journey = load_journey(now=clock.utcnow(), stamps=name in PICKERS)
            if journey is None:
                return redirect(url_for("public.start"))
            if booked_appointment(journey) is not None:
                return redirect(url_for("book.confirmation"), 303)
            if name is not None:
                order = journey.steps()
                if name not in order:
                    return redirect(step_url(journey.first_missing()))
                missing = journey.first_missing()
                if order.index(missing) < order.index(name):
                    return redirect(step_url(missing))
            return view(journey, *args, **kwargs)

        return wrapper

    return decorate


def go_on(journey: Journey, current: str) -> Response:
    """After a valid answer: the next question, or check answers after a Change link."""
    if request.args.get("change") == "check":
        missing = journey.first_missing()
        return redirect(step_url(missing), 303)
    return redirect(step_url(journey.after(current)), 303)


def page(
    template: str,
    journey: Journey,
    current: str | None,
    typed: tuple[str, ...] = (),
    per_request: tuple[str, ...] = (),
    facts: Facts | None = None,
    **context: Any,
) -> str:
    """Render a journey page with its back link and, after the time step, the hold line.

    The questions are kept per worker (`page_cache`); `typed` names the form's fields that
    hold what a person typed, `per_request` the context's texts that are this request's
    own: both put into the kept HTML on each request and never kept. `facts`: what a
    picker page is drawn from (`picker_facts`), to keep it by those as well.
    """
    hold_line = None
    if current in AFTER_TIME and journey.starts_at is not None:
        hold_line = hold_text(journey)
    if "back_url" not in context:
        context["back_url"] = back_link(journey, current)
    context.update(journey=journey, hold_line=hold_line)
    if current in KEPT_QUESTIONS:  # the hold form is built only when the page is rendered
        return render_question(
            template,
            typed,
            hold_form=lambda: hold_form(hold_line),
            per_request=per_request,
            facts=facts,
            **context,
        )
    return render_template(template, hold_form=hold_form(hold_line), **context)


def back_link(journey: Journey, current: str | None) -> str | None:
    """The page's back link: the question before it, or check answers after a Change link."""
    if current is None:
        return None
    if request.args.get("change") == "check":
        return step_url("check")
    previous = journey.before(current)
    return step_url(previous) if previous else url_for("public.start")


def picker_facts(journey: Journey, current: str, *shown: Any) -> Any:
    """What the day or time page is drawn from besides the request's path, the reference
    version and `now`: the journey's choices, the answers it shows (`shown`), the back link
    and the availability stamps of the choices (read once for the request, before any free
    time is, so a kept page is never older than the stamps it is kept under). Stamps bump in
    the transaction of any booking, hold or change of hours, so a page kept under them
    never shows a time taken before this request's read.
    """
    return (
        current,
        journey.get("session_type_id"),
        journey.get("location_id"),
        journey.get("practitioner"),
        shown,
        back_link(journey, current),
        journey.picker.read_stamp(),
    )


def kept_picker(journey: Journey, current: str, *shown: Any) -> tuple[Any, str | None]:
    """A GET's picker page kept by what it is drawn from, if any: (its facts' key, the page).

    The key is None when the page is not to be kept (a POST)."""
    if request.method != "GET" or current not in KEPT_QUESTIONS:
        return None, None
    key = picker_facts(journey, current, *shown)
    return key, kept_by_facts(key, journey.now)


def picker_until(journey: Journey) -> datetime | None:
    """When what the picker read stops being right by time alone (a notice boundary, a
    hold's expiry), and at the latest the location's next local midnight (today moves)."""
    until = journey.picker.until
    if until is None:
        return None
    zone = ZoneInfo(journey.zone_name)
    tomorrow = local_today(zone, now=journey.now) + timedelta(days=1)
    return min(until, from_utc_seconds(local_day_start(tomorrow, zone)))


def hold_form(hold_line: str | None) -> HoldForm | None:
    """The hold button's form: back to this page after holding longer."""
    return HoldForm(next=request.full_path.rstrip("?")) if hold_line else None


def local(journey: Journey, instant: datetime) -> datetime:
    return instant.astimezone(ZoneInfo(journey.zone_name))


def when_text(journey: Journey, instant: datetime) -> str:
    start = local(journey, instant)
    return f"{format_time(start)} on {day_label(start.date())}"


def hold_text(journey: Journey) -> str:
    start = journey.starts_at
    start = need(start)
    if journey.hold_is_live and journey.hold is not None:
        until = local(journey, journey.hold.hold_expires_at)  # type: ignore[arg-type]
        return f"We are holding {when_text(journey, start)} for you until {format_time(until)}."
    return (
        f"We are no longer holding {when_text(journey, start)} for you. "
        "We will try to hold it again when you continue."
    )


def save(journey: Journey, **changes: Any) -> None:
    """Merge answers into the draft; the first save of a new journey writes its row."""
    if journey.read_only:  # a GET's copy (journey.load_journey): GETs never write
        raise RuntimeError("a journey read by a GET is not saved")
    if journey.unsaved:
        journey.draft = start_draft(journey.owner, journey.answers, now=journey.now)
        journey.unsaved = False
        session.pop(BOOKING_START, None)
    save_answers(need(journey.draft), now=journey.now, **changes)


def place_hold(journey: Journey, starts_at: datetime) -> Appointment:
    """Hold a start for this browser; raises SlotTaken, PolicyRefused or InvalidInput."""
    session_type, location = need(journey.session_type), need(journey.location)
    clinic = get_clinic()
    hold = holds.hold_slot(
        session_type_id=session_type.id,
        location_id=location.id,
        practitioner_id=journey.practitioner_id,
        starts_at=starts_at,
        hold_owner=journey.owner,
        now=journey.now,
        hold_minutes=clinic.hold_minutes if clinic else 10,
    )
    save(
        journey,
        starts_at=start_value(hold.starts_at),
        day=local(journey, hold.starts_at).date().isoformat(),
        hold_id=hold.id,
        held_practitioner_id=hold.practitioner_id,
        taken=None,
        expired=None,
    )
    return hold


def keep_hold(journey: Journey) -> Response | None:
    """On a POST after the time step: re-take an expired hold, else /book/expired."""
    start = journey.starts_at
    if start is None or journey.hold_is_live:
        return None
    try:
        hold = place_hold(journey, start)
    except DomainError:
        db.session.rollback()
        fresh = load_journey(now=journey.now)
        if fresh is not None:
            save(fresh, expired=start_value(start))
            db.session.commit()
        return redirect(url_for("book.expired"), 303)
    until = local(journey, hold.hold_expires_at)  # type: ignore[arg-type]
    flash(f"We are holding {when_text(journey, start)} for you again until {format_time(until)}.")
    return None


def answer_step(journey: Journey, current: str, **changes: Any) -> Response:
    """Save an answer after the time step (re-taking the hold first), commit, go on."""
    lost = keep_hold(journey)
    if lost is not None:
        return lost
    save(journey, **changes)
    db.session.commit()
    return go_on(journey, current)


def change_arg() -> dict[str, Any]:
    """Query arguments for url_for (Any: url_for types its own keyword arguments)."""
    return {"change": "check"} if request.args.get("change") == "check" else {}
