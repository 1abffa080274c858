"""The booking journey's blueprint and its first questions: what, where and with whom.

One question per page, GET + POST/redirect/GET (ux.md §2–§4). The later pages live in
time_views (day, time, holds), details_views (who you are, safety) and check_views.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request
from werkzeug.wrappers import Response

from booking import clock
from booking.book.forms import LocationForm, PractitionerForm, SessionTypeForm
from booking.book.journey import Journey, begin_journey, load_journey, need
from booking.book.link_limits import register
from booking.book.steps import TIME_ANSWERS, go_on, page, save, step, step_url
from booking.catalogue_cache import PersonCard, TypeCard, catalogue, people_offering
from booking.domain.formatting import format_price
from booking.extensions import db
from booking.security import guard
from booking.services.booking.patients import last_seen_practitioner_id

bp = Blueprint("book", __name__)
guard(bp, roles=None)
register(bp)  # the address and IP limits of /book/find-you


# ---- Start ------------------------------------------------------------------------------------


@bp.route("/book", endpoint="begin")
def book() -> Response:
    """Start again (optionally with the session type from an article) and go on.

    Nothing is written: the choices wait in the session until the first answer is posted.
    """
    now = clock.utcnow()
    answers: dict[str, Any] = {}
    slug = request.args.get("type", "")[:100]
    session_type = None
    shown = catalogue()
    if slug:
        session_type = shown.type_by_slug(slug)
    if session_type is not None:
        answers["session_type_id"] = session_type.id
        locations = shown.places_offering(session_type.id)
        if len(locations) == 1:
            answers["location_id"] = locations[0].id
    journey = begin_journey(answers, now=now)
    if session_type is None:
        if slug:
            flash("We could not find that kind of session. Choose one from the list.")
        return redirect(step_url("type"))
    return redirect(step_url(journey.first_missing()))


@bp.route("/book/type", methods=["GET", "POST"], endpoint="type")
@step("type")
def book_type(journey: Journey) -> Response | str:
    shown = catalogue()  # this worker's copy while the reference data is unchanged
    types = shown.session_types
    form = SessionTypeForm()
    form.session_type.choices = [(str(t.id), t.name) for t in types]
    if form.validate_on_submit():
        type_id = int(form.session_type.data)
        changes: dict[str, Any] = {"session_type_id": type_id}
        if type_id != journey.get("session_type_id"):
            changes.update(dict.fromkeys(("location_id", "practitioner", *TIME_ANSWERS)))
            locations = shown.places_offering(type_id)
            if len(locations) == 1:
                changes["location_id"] = locations[0].id
        save(journey, **changes)
        db.session.commit()
        fresh = need(load_journey(now=journey.now))
        return go_on(fresh, "type")
    if request.method == "GET" and journey.get("session_type_id"):
        form.session_type.data = str(journey.get("session_type_id"))
    hints = [type_hint(t) for t in types]
    articles = shown.articles_about_all()
    return page(
        "book/type.html",
        journey,
        "type",
        form=form,
        items=[{"hint": {"text": h}} for h in hints],
        articles=articles,
    )


def type_hint(session_type: TypeCard) -> str:
    text = f"{session_type.duration_minutes} minutes"
    if session_type.price_pence is not None:
        text += f", {format_price(session_type.price_pence)}"
    return text


@bp.route("/book/location", methods=["GET", "POST"], endpoint="location")
@step("location")
def book_location(journey: Journey) -> Response | str:
    locations = catalogue().places_offering(need(journey.session_type).id)
    form = LocationForm()
    form.location.choices = [(str(loc.id), loc.name) for loc in locations]
    if form.validate_on_submit():
        location_id = int(form.location.data)
        changes: dict[str, Any] = {"location_id": location_id}
        if location_id != journey.get("location_id"):
            changes.update(dict.fromkeys(("practitioner", *TIME_ANSWERS)))
        save(journey, **changes)
        db.session.commit()
        return go_on(journey, "location")
    if request.method == "GET" and journey.get("location_id"):
        form.location.data = str(journey.get("location_id"))
    return page(
        "book/location.html",
        journey,
        "location",
        form=form,
        items=[{"hint": {"text": loc.address}} for loc in locations],
    )


@bp.route("/book/practitioner", methods=["GET", "POST"], endpoint="practitioner")
@step("practitioner")
def book_practitioner(journey: Journey) -> Response | str:
    people = list(people_offering(need(journey.session_type).id, need(journey.location).id))
    last_seen = last_practitioner_id(journey)
    people.sort(key=lambda p: p.id != last_seen)
    form = PractitionerForm()
    form.practitioner.choices = [(str(p.id), p.display_name) for p in people] + [
        ("any", "No preference")
    ]
    if form.validate_on_submit():
        chosen = form.practitioner.data
        changes: dict[str, Any] = {"practitioner": chosen}
        if chosen != journey.get("practitioner"):
            changes.update(dict.fromkeys(TIME_ANSWERS))
        save(journey, **changes)
        db.session.commit()
        return go_on(journey, "practitioner")
    selected = form.practitioner.data if request.method == "POST" else journey.get("practitioner")
    items: list[dict[str, Any]] = []
    for person in people:
        hint = practitioner_hint(person)
        if person.id == last_seen:
            hint = f"You saw them last time. {hint}".strip()
        item: dict[str, Any] = {"value": str(person.id), "text": person.display_name}
        if hint:
            item["hint"] = {"text": hint}
        items.append(item)
    items.append({"divider": "or"})
    items.append(
        {"value": "any", "text": "No preference", "hint": {"text": "Earliest times with anyone"}}
    )
    for item in items:
        if item.get("value") is not None and item["value"] == selected:
            item["checked"] = True
    return page("book/practitioner.html", journey, "practitioner", form=form, items=items)


def practitioner_hint(person: PersonCard) -> str:
    bio = (person.bio or "").strip()
    return bio.split(". ")[0].rstrip(".") + "." if bio else ""


def last_practitioner_id(journey: Journey) -> int | None:
    patient = journey.patient
    return last_seen_practitioner_id(patient.id) if patient is not None else None
