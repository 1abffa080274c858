"""Journey pages for the time: day, time, the taken and expired pages, a longer hold."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from booking.book.forms import DayForm, HoldForm, TimeForm
from booking.book.journey import Journey, load_journey, need
from booking.book.page_cache import Facts
from booking.book.slot_pages import (
    day_label,
    day_page,
    nearest_items,
    parse_day,
    parse_start,
    start_value,
    time_groups,
    zone_line,
)
from booking.book.steps import (
    change_arg,
    keep_hold,
    kept_picker,
    local,
    page,
    picker_until,
    place_hold,
    save,
    step,
    step_url,
    when_text,
)
from booking.book.views import bp
from booking.domain.errors import DomainError, InvalidInput, NotFound, PolicyRefused, SlotTaken
from booking.domain.formatting import format_time
from booking.extensions import db
from booking.security import is_safe_next
from booking.services.booking import holds
from booking.services.clinic.settings import get_clinic


@bp.route("/book/day", methods=["GET", "POST"], endpoint="day")
@step("day")
def book_day(journey: Journey) -> Response | str:
    week = parse_day(request.args.get("week"))
    if week is None and journey.day is not None:
        week = journey.day
    facts, kept = kept_picker(journey, "day", journey.get("day"))
    if kept is not None:
        return kept
    data = day_page(journey.picker, week, now=journey.now)
    if data is None:
        return redirect(url_for("book.no_times"))
    form = DayForm()
    form.day.choices = data.choices
    if form.validate_on_submit():
        changes: dict[str, Any] = {"day": form.day.data}
        if form.day.data != journey.get("day"):
            changes["starts_at"] = None
        save(journey, **changes)
        db.session.commit()
        return redirect(url_for("book.time", day=form.day.data, **change_arg()), 303)
    if request.method == "GET" and journey.get("day") in {v for v, _ in data.choices}:
        form.day.data = journey.get("day")
    return page(
        "book/day.html",
        journey,
        "day",
        form=form,
        data=data,
        title="Choose a day",
        week_url=lambda d: url_for("book.day", week=d.isoformat(), **change_arg()),
        facts=drawn_from(journey, facts),
    )


@bp.route("/book/no-times", endpoint="no_times")
@step(None)
def book_no_times(journey: Journey) -> str:
    return page(
        "book/no_times.html",
        journey,
        None,
        back_url=step_url("practitioner"),
        waitlist_args=waitlist_args(journey),
    )


def waitlist_args(journey: Journey) -> dict[str, str]:
    """The journey's answers, carried to the join-the-waitlist page."""
    args = {"practitioner": str(journey.practitioner_id or "any")}
    if journey.session_type is not None:
        args["session_type"] = str(journey.session_type.id)
    if journey.location is not None:
        args["location"] = str(journey.location.id)
    return args


@bp.route("/book/time", methods=["GET", "POST"], endpoint="time")
@step("time")
def book_time(journey: Journey) -> Response | str:
    day = parse_day(request.args.get("day")) or journey.day
    if day is None:
        return redirect(step_url("day"))
    today, last = journey.picker.today(journey.now), journey.picker.last_day(journey.now)
    if not today <= day <= last:
        return redirect(step_url("day"))
    facts, kept = kept_picker(journey, "time", journey.get("day"), journey.get("starts_at"))
    if kept is not None:
        return kept
    form = TimeForm()
    groups = time_groups(journey.picker.slots(day, day, now=journey.now), journey.zone_name, day)
    form.start.choices = [item for g in groups for item in g.items]
    form.start.validate_choice = False
    if form.validate_on_submit():
        starts_at = parse_start(form.start.data)
        if starts_at is None or local(journey, starts_at).date() != day:
            form.start.errors = ["Select a time"]
        else:
            return choose_time(journey, starts_at, after="time", form=form, day=day, groups=groups)
    if request.method == "GET" and journey.get("starts_at") in {v for v, _ in form.start.choices}:
        form.start.data = journey.get("starts_at")
    return time_page(journey, form, day, groups, facts=drawn_from(journey, facts))


def drawn_from(journey: Journey, key: Any) -> Facts | None:
    """A picker page's `Facts`: its key and how long what the picker read holds."""
    until = picker_until(journey) if key is not None else None
    return None if until is None else Facts(key, since=journey.now, until=until)


def time_page(
    journey: Journey,
    form: TimeForm,
    day: Any,
    groups: Any,
    status: int = 200,
    facts: Facts | None = None,
) -> Any:
    html = page(
        "book/time.html",
        journey,
        "time",
        form=form,
        groups=groups,
        title=f"Choose a time on {day_label(day)}",
        zone_line=zone_line(journey.zone_name, day),
        day_url=step_url("day", week=day.isoformat(), **change_arg()),
        facts=facts,
    )
    return html, status


def choose_time(journey: Journey, starts_at: datetime, *, after: str, **again: Any) -> Any:
    """Place the hold: winners go on, a lost race goes to /book/taken."""
    try:
        place_hold(journey, starts_at)
    except SlotTaken as error:
        db.session.rollback()
        if error.code == "outside_hours" and "form" in again:
            again["form"].start.errors = ["Select a time"]
            return time_page(journey, again["form"], again["day"], again["groups"], 422)
        fresh = need(load_journey(now=journey.now))
        save(fresh, taken=start_value(starts_at))
        db.session.commit()
        return redirect(url_for("book.taken"), 303)
    except (PolicyRefused, InvalidInput, NotFound):
        db.session.rollback()
        if "form" in again:
            again["form"].start.errors = ["That time is no longer available. Select another time"]
            return time_page(journey, again["form"], again["day"], again["groups"], 422)
        return redirect(step_url("day"), 303)
    db.session.commit()
    fresh = need(load_journey(now=journey.now))
    if after == "expired" or request.args.get("change") == "check":
        return redirect(step_url(fresh.first_missing()), 303)
    return redirect(step_url(fresh.after("time")), 303)


def nearest_page(journey: Journey, key: str, template: str, title: str) -> Any:
    """/book/taken and /book/expired: nearest free times as radios, answers kept."""
    target = parse_start(journey.get(key))
    if target is None:
        return redirect(step_url(journey.first_missing()))
    form = TimeForm()
    try:
        nearest = journey.picker.nearest(target, now=journey.now)
    except DomainError:
        nearest = []
    form.start.choices = nearest_items(nearest, journey.zone_name)
    if form.validate_on_submit():
        return choose_time(journey, need(parse_start(form.start.data)), after=key)
    heading = title.format(time=format_time(local(journey, target)))
    status = 200
    return (
        page(
            template,
            journey,
            None,
            form=form,
            title=heading,
            when=when_text(journey, target),
            zone_line=zone_line(journey.zone_name, local(journey, target).date()),
            back_url=step_url("day"),
        ),
        status,
    )


@bp.route("/book/taken", methods=["GET", "POST"], endpoint="taken")
@step(None)
def book_taken(journey: Journey) -> Any:
    return nearest_page(journey, "taken", "book/taken.html", "Sorry, {time} has just been booked")


@bp.route("/book/expired", methods=["GET", "POST"], endpoint="expired")
@step(None)
def book_expired(journey: Journey) -> Any:
    return nearest_page(journey, "expired", "book/expired.html", "We are no longer holding {time}")


@bp.route("/book/hold", methods=["POST"], endpoint="hold")
@step(None)
def book_hold(journey: Journey) -> Response:
    """Hold the time for 10 more minutes (never past 30 minutes after it was first held)."""
    form = HoldForm()
    target = form.next.data if form.validate_on_submit() and is_safe_next(form.next.data) else None
    target = target or step_url(journey.first_missing())
    if journey.starts_at is None:
        return redirect(target, 303)
    if journey.hold_is_live:
        clinic = get_clinic()
        hold = holds.extend_hold(
            hold_id=journey.get("hold_id"),
            hold_owner=journey.owner,
            now=journey.now,
            hold_minutes=clinic.hold_minutes if clinic else 10,
        )
        db.session.commit()
        until = local(journey, hold.hold_expires_at)  # type: ignore[arg-type]
        flash(
            f"We are holding {when_text(journey, journey.starts_at)} for you until "
            f"{format_time(until)}."
        )
        return redirect(target, 303)
    lost = keep_hold(journey)
    if lost is not None:
        return lost
    db.session.commit()
    return redirect(target, 303)
