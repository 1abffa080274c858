"""The patient booking journey: one question per page, GET + POST/redirect/GET (ux.md §2–§4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking.clock import utcnow
from booking.domain.errors import (
    DomainError,
    HoldExpired,
    InvalidInput,
    NotFound,
    PolicyRefused,
    SlotTaken,
)
from booking.domain.formatting import format_date, format_time
from booking.extensions import db
from booking.links import base_url
from booking.models import Appointment, PatientProfile, Practitioner, Role, SessionType
from booking.public.forms import (
    BookForm,
    ContactForm,
    ContactPreferenceForm,
    DateOfBirthForm,
    DayForm,
    FindYouForm,
    HoldForm,
    LocationForm,
    NameForm,
    PractitionerForm,
    ReturningForm,
    SafetyForm,
    SessionTypeForm,
    TimeForm,
)
from booking.public.intake_link import next_step_after_booking
from booking.public.journey import (
    AFTER_TIME,
    Journey,
    booked_appointment,
    hold_owner,
    load_journey,
    locations_offering,
    need,
    practitioners_offering,
)
from booking.public.link_limits import email_link_ip_limit, may_send_to_address
from booking.public.slot_pages import (
    day_label,
    day_page,
    nearest_items,
    parse_day,
    parse_start,
    start_value,
    time_groups,
    zone_line,
)
from booking.public.views import bp
from booking.security import is_safe_next
from booking.services.articles.queries import articles_for_session_type, articles_for_session_types
from booking.services.booking import changes as changes_service
from booking.services.booking import holds
from booking.services.booking.catalogue import active_session_types
from booking.services.booking.drafts import (
    FIND_YOU,
    peek_email_link,
    save_answers,
    spend_email_link,
)
from booking.services.booking.drafts import start_draft as create_draft
from booking.services.booking.emails import send_find_you_link
from booking.services.booking.patients import create_patient, find_by_email
from booking.services.clinic.settings import get_clinic

ENDPOINTS = {
    "type": "public.book_type",
    "location": "public.book_location",
    "practitioner": "public.book_practitioner",
    "day": "public.book_day",
    "time": "public.book_time",
    "returning": "public.book_returning",
    "find_you": "public.book_find_you",
    "name": "public.book_name",
    "date_of_birth": "public.book_date_of_birth",
    "contact": "public.book_contact",
    "contact_preference": "public.book_contact_preference",
    "safety": "public.book_safety",
    "check": "public.book_check",
}
# Changing one of these answers makes every later answer about the time stale.
TIME_ANSWERS = ("day", "starts_at", "hold_id", "held_practitioner_id", "taken", "expired")
RED_FLAGS = (
    "numbness around your bottom or genitals (saddle numbness)",
    "new problems passing urine or controlling your bowels",
    "weakness in your legs that is getting worse",
    "a fever",
    "weight loss you cannot explain",
    "cancer now or in the past",
    "a recent fall, accident or other serious injury",
)

CONTACT_CHOICES = [("email", "Email"), ("phone", "Phone call")]
YES_NO = [("yes", "Yes"), ("no", "No")]


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
            journey = load_journey(now=utcnow())
            if journey is None:
                return redirect(url_for("public.start"))
            if booked_appointment(journey) is not None:
                return redirect(url_for("public.book_confirmation"), 303)
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


def page(template: str, journey: Journey, current: str | None, **context: Any) -> str:
    """Render a journey page with its back link and, after the time step, the hold line."""
    back = None
    if current is not None:
        previous = journey.before(current)
        back = step_url(previous) if previous else url_for("public.start")
        if request.args.get("change") == "check":
            back = step_url("check")
    hold_line = None
    if current in AFTER_TIME and journey.starts_at is not None:
        hold_line = hold_text(journey)
    context.setdefault("back_url", back)
    return render_template(
        template,
        journey=journey,
        hold_line=hold_line,
        hold_form=HoldForm(next=request.full_path.rstrip("?")) if hold_line else None,
        **context,
    )


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
    save_answers(journey.draft, now=journey.now, **changes)


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
        return redirect(url_for("public.book_expired"), 303)
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


# ---- Start ------------------------------------------------------------------------------------


@bp.route("/book")
def book() -> Response:
    """Start a draft (optionally with the session type from an article) and go on."""
    now = utcnow()
    owner = need(hold_owner(create=True))
    answers: dict[str, Any] = {}
    slug = request.args.get("type", "")[:100]
    session_type = None
    if slug:
        session_type = next((t for t in active_session_types() if t.slug == slug), None)
    if session_type is not None:
        answers["session_type_id"] = session_type.id
        locations = locations_offering(session_type.id)
        if len(locations) == 1:
            answers["location_id"] = locations[0].id
    create_draft(owner, answers, now=now)
    db.session.commit()
    journey = need(load_journey(now=now))
    if session_type is None:
        if slug:
            flash("We could not find that kind of session. Choose one from the list.")
        return redirect(step_url("type"))
    return redirect(step_url(journey.first_missing()))


@bp.route("/book/type", methods=["GET", "POST"])
@step("type")
def book_type(journey: Journey) -> Response | str:
    types = active_session_types()
    form = SessionTypeForm()
    form.session_type.choices = [(str(t.id), t.name) for t in types]
    if form.validate_on_submit():
        type_id = int(form.session_type.data)
        changes: dict[str, Any] = {"session_type_id": type_id}
        if type_id != journey.get("session_type_id"):
            changes.update(dict.fromkeys(("location_id", "practitioner", *TIME_ANSWERS)))
            locations = locations_offering(type_id)
            if len(locations) == 1:
                changes["location_id"] = locations[0].id
        save(journey, **changes)
        db.session.commit()
        fresh = need(load_journey(now=journey.now))
        return go_on(fresh, "type")
    if request.method == "GET" and journey.get("session_type_id"):
        form.session_type.data = str(journey.get("session_type_id"))
    hints = [type_hint(t) for t in types]
    by_type = articles_for_session_types([t.slug for t in types])
    articles = list({a.id: a for listed in by_type.values() for a in listed}.values())
    return page(
        "public/book_type.html",
        journey,
        "type",
        form=form,
        items=[{"hint": {"text": h}} for h in hints],
        articles=articles,
    )


def type_hint(session_type: SessionType) -> str:
    text = f"{session_type.duration_minutes} minutes"
    if session_type.price_pence is not None:
        pounds, pence = divmod(session_type.price_pence, 100)
        text += f", £{pounds}" if not pence else f", £{pounds}.{pence:02d}"
    return text


@bp.route("/book/location", methods=["GET", "POST"])
@step("location")
def book_location(journey: Journey) -> Response | str:
    locations = locations_offering(need(journey.session_type).id)
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
        "public/book_location.html",
        journey,
        "location",
        form=form,
        items=[{"hint": {"text": loc.address}} for loc in locations],
    )


@bp.route("/book/practitioner", methods=["GET", "POST"])
@step("practitioner")
def book_practitioner(journey: Journey) -> Response | str:
    people = practitioners_offering(need(journey.session_type).id, need(journey.location).id)
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
    return page("public/book_practitioner.html", journey, "practitioner", form=form, items=items)


def practitioner_hint(person: Practitioner) -> str:
    bio = (person.bio or "").strip()
    return bio.split(". ")[0].rstrip(".") + "." if bio else ""


def last_practitioner_id(journey: Journey) -> int | None:
    patient = journey.patient
    if patient is None:
        return None
    from sqlalchemy import select

    from booking.models import AppointmentStatus

    return db.session.scalar(
        select(Appointment.practitioner_id)
        .where(
            Appointment.patient_id == patient.id,
            Appointment.status.in_([AppointmentStatus.completed, AppointmentStatus.checked_in]),
        )
        .order_by(Appointment.starts_at.desc())
        .limit(1)
    )


# ---- Day and time -----------------------------------------------------------------------------


@bp.route("/book/day", methods=["GET", "POST"])
@step("day")
def book_day(journey: Journey) -> Response | str:
    week = parse_day(request.args.get("week"))
    if week is None and journey.day is not None:
        week = journey.day
    data = day_page(journey.picker, week, now=journey.now)
    if data is None:
        return redirect(url_for("public.book_no_times"))
    form = DayForm()
    form.day.choices = data.choices
    if form.validate_on_submit():
        changes: dict[str, Any] = {"day": form.day.data}
        if form.day.data != journey.get("day"):
            changes["starts_at"] = None
        save(journey, **changes)
        db.session.commit()
        return redirect(url_for("public.book_time", day=form.day.data, **change_arg()), 303)
    if request.method == "GET" and journey.get("day") in {v for v, _ in data.choices}:
        form.day.data = journey.get("day")
    return page(
        "public/book_day.html",
        journey,
        "day",
        form=form,
        data=data,
        title="Choose a day",
        week_url=lambda d: url_for("public.book_day", week=d.isoformat(), **change_arg()),
    )


def change_arg() -> dict[str, str]:
    return {"change": "check"} if request.args.get("change") == "check" else {}


@bp.route("/book/no-times")
@step(None)
def book_no_times(journey: Journey) -> str:
    return page(
        "public/book_no_times.html",
        journey,
        None,
        back_url=step_url("practitioner"),
    )


@bp.route("/book/time", methods=["GET", "POST"])
@step("time")
def book_time(journey: Journey) -> Response | str:
    day = parse_day(request.args.get("day")) or journey.day
    if day is None:
        return redirect(step_url("day"))
    today, last = journey.picker.today(journey.now), journey.picker.last_day(journey.now)
    if not today <= day <= last:
        return redirect(step_url("day"))
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
    return time_page(journey, form, day, groups)


def time_page(journey: Journey, form: TimeForm, day: Any, groups: Any, status: int = 200) -> Any:
    html = page(
        "public/book_time.html",
        journey,
        "time",
        form=form,
        groups=groups,
        title=f"Choose a time on {day_label(day)}",
        zone_line=zone_line(journey.zone_name, day),
        day_url=step_url("day", week=day.isoformat(), **change_arg()),
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
        return redirect(url_for("public.book_taken"), 303)
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


@bp.route("/book/taken", methods=["GET", "POST"])
@step(None)
def book_taken(journey: Journey) -> Any:
    return nearest_page(
        journey, "taken", "public/book_taken.html", "Sorry, {time} has just been booked"
    )


@bp.route("/book/expired", methods=["GET", "POST"])
@step(None)
def book_expired(journey: Journey) -> Any:
    return nearest_page(
        journey, "expired", "public/book_expired.html", "We are no longer holding {time}"
    )


@bp.route("/book/hold", methods=["POST"])
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


# ---- Who you are ------------------------------------------------------------------------------


@bp.route("/book/returning", methods=["GET", "POST"])
@step("returning")
def book_returning(journey: Journey) -> Response | str:
    form = ReturningForm()
    form.returning.choices = YES_NO
    if form.validate_on_submit():
        return answer_step(journey, "returning", returning=form.returning.data)
    if request.method == "GET":
        form.returning.data = journey.get("returning")
    return page("public/book_returning.html", journey, "returning", form=form)


@bp.route("/book/find-you", methods=["GET", "POST"])
@email_link_ip_limit
@step("find_you")
def book_find_you(journey: Journey) -> Response | str:
    form = FindYouForm()
    if form.validate_on_submit():
        lost = keep_hold(journey)
        if lost is not None:
            return lost
        if may_send_to_address():  # over the limit: the same answer, nothing sent
            send_find_you_link(
                form.normalised_email,
                draft_key_hash=journey.owner,
                base_url=base_url(),
                clinic_name=clinic_name(),
                now=journey.now,
            )
        save(journey, find_you_email=form.normalised_email)
        db.session.commit()
        return redirect(url_for("public.book_find_you_sent"), 303)
    return page(
        "public/book_find_you.html",
        journey,
        "find_you",
        form=form,
        sign_in_url=url_for("auth.sign_in", next=step_url("check")),
    )


@bp.route("/book/find-you/sent")
@step(None)
def book_find_you_sent(journey: Journey) -> str:
    return page(
        "public/book_find_you_sent.html",
        journey,
        None,
        email=journey.get("find_you_email", "your email address"),
        back_url=step_url("find_you"),
    )


@bp.route("/book/find-you/<token>", methods=["GET", "POST"])
@step(None)
def book_find_you_link(journey: Journey, token: str) -> Response | str | tuple[str, int]:
    """The emailed link: GET shows a button, the POST spends the link (single use)."""
    form = BookForm()
    try:
        link = peek_email_link(token, purpose=FIND_YOU, now=journey.now)
    except NotFound:
        return page("public/book_find_you_bad.html", journey, None, back_url=None), 404
    same_browser = link.draft_key_hash == journey.owner
    if request.method == "POST" and same_browser and form.validate_on_submit():
        link = spend_email_link(token, purpose=FIND_YOU, now=journey.now)
        profile = find_by_email(link.email)
        if profile is not None:
            save(journey, returning="yes", patient_id=profile.id)
        else:
            save(journey, returning="no", email=link.email, patient_id=None)
        db.session.commit()
        fresh = need(load_journey(now=journey.now))
        return redirect(step_url(fresh.first_missing()), 303)
    return page(
        "public/book_find_you_link.html",
        journey,
        None,
        form=form,
        same_browser=same_browser,
        back_url=None,
    )


@bp.route("/book/name", methods=["GET", "POST"])
@step("name")
def book_name(journey: Journey) -> Response | str:
    form = NameForm()
    if form.validate_on_submit():
        return answer_step(
            journey,
            "name",
            given_name=form.given_name.data.strip(),
            family_name=form.family_name.data.strip(),
        )
    if request.method == "GET":
        form.given_name.data = journey.get("given_name")
        form.family_name.data = journey.get("family_name")
    return page("public/book_name.html", journey, "name", form=form)


@bp.route("/book/date-of-birth", methods=["GET", "POST"])
@step("date_of_birth")
def book_date_of_birth(journey: Journey) -> Response | str:
    today = journey.picker.today(journey.now)
    form = DateOfBirthForm(today=today)
    if form.validate_on_submit() and form.date_of_birth is not None:
        return answer_step(journey, "date_of_birth", date_of_birth=form.date_of_birth.isoformat())
    if request.method == "GET" and journey.get("date_of_birth"):
        born = parse_day(journey.get("date_of_birth"))
        if born is not None:
            form.dob_day.data, form.dob_month.data = str(born.day), str(born.month)
            form.dob_year.data = str(born.year)
    return page("public/book_date_of_birth.html", journey, "date_of_birth", form=form)


@bp.route("/book/contact", methods=["GET", "POST"])
@step("contact")
def book_contact(journey: Journey) -> Response | str:
    region = journey.location.country_code if journey.location else "GB"
    form = ContactForm(region=region)
    if form.validate_on_submit():
        return answer_step(journey, "contact", email=form.normalised_email, phone=form.e164)
    if request.method == "GET":
        form.email.data = journey.get("email")
        form.phone.data = journey.get("phone")
    return page("public/book_contact.html", journey, "contact", form=form)


@bp.route("/book/contact-preference", methods=["GET", "POST"])
@step("contact_preference")
def book_contact_preference(journey: Journey) -> Response | str:
    form = ContactPreferenceForm()
    form.contact_preference.choices = CONTACT_CHOICES
    if form.validate_on_submit():
        return answer_step(
            journey, "contact_preference", contact_preference=form.contact_preference.data
        )
    if request.method == "GET":
        form.contact_preference.data = journey.get("contact_preference")
    return page("public/book_contact_preference.html", journey, "contact_preference", form=form)


@bp.route("/book/safety", methods=["GET", "POST"])
@step("safety")
def book_safety(journey: Journey) -> Response | str:
    form = SafetyForm()
    form.safety.choices = YES_NO
    if form.validate_on_submit():
        lost = keep_hold(journey)
        if lost is not None:
            return lost
        save(journey, safety=form.safety.data)
        db.session.commit()
        if form.safety.data == "yes":
            return redirect(url_for("public.book_urgent", **change_arg()), 303)
        return go_on(journey, "safety")
    if request.method == "GET":
        form.safety.data = journey.get("safety")
    return page("public/book_safety.html", journey, "safety", form=form, red_flags=RED_FLAGS)


@bp.route("/book/urgent")
@step(None)
def book_urgent(journey: Journey) -> str:
    return page(
        "public/book_urgent.html",
        journey,
        None,
        back_url=step_url("safety"),
        continue_url=step_url(journey.first_missing()),
    )


# ---- Check, book, confirmation ----------------------------------------------------------------


@bp.route("/book/check", methods=["GET", "POST"])
@step("check")
def book_check(journey: Journey) -> Response | str:
    form = BookForm()
    if form.validate_on_submit():
        return confirm(journey)
    session_type, location = need(journey.session_type), need(journey.location)
    starts_at = need(journey.starts_at)
    clinic, cutoff = changes_service.policy_for(location)
    deadline = local(journey, starts_at - timedelta(hours=cutoff))
    held_id = journey.get("held_practitioner_id")
    practitioner = db.session.get(Practitioner, held_id) if held_id else None
    return page(
        "public/book_check.html",
        journey,
        "check",
        form=form,
        starts=local(journey, starts_at),
        ends=local(journey, starts_at + timedelta(minutes=session_type.duration_minutes)),
        practitioner=practitioner,
        patient=journey.patient,
        deadline=deadline,
        late_mode=str(clinic.late_cancel_mode),
        date_of_birth=parse_day(journey.get("date_of_birth")),
    )


def confirm(journey: Journey) -> Response:
    """Book the held time for this patient; a repeat shows the booking already made."""
    session_type, location = need(journey.session_type), need(journey.location)
    starts_at = need(journey.starts_at)
    patient = journey.patient or new_patient(journey)
    actor = current_user if current_user.is_authenticated else None
    try:
        booked = holds.book_hold(
            hold_id=journey.get("hold_id"),
            hold_owner=journey.owner,
            retake={
                "session_type_id": session_type.id,
                "location_id": location.id,
                "practitioner_id": journey.practitioner_id,
                "starts_at": starts_at,
            },
            patient=patient,
            now=journey.now,
            base_url=base_url(),
            clinic_name=clinic_name(),
            actor=actor if actor is not None and actor.role == Role.patient else None,
        )
    except (HoldExpired, SlotTaken, PolicyRefused, InvalidInput):
        db.session.rollback()
        fresh = need(load_journey(now=journey.now))
        already = db.session.get(Appointment, fresh.get("hold_id") or 0)
        if fresh.get("booked_id") or (
            already is not None and already.hold_owner == fresh.owner and already.patient_id
        ):
            return redirect(url_for("public.book_confirmation"), 303)
        save(fresh, expired=start_value(starts_at))
        db.session.commit()
        return redirect(url_for("public.book_expired"), 303)
    changes: dict[str, Any] = {
        "booked_id": booked.appointment.id,
        "hold_id": booked.appointment.id,
        "patient_id": patient.id,
    }
    if booked.manage_token:
        changes["manage_token"] = booked.manage_token
    save(journey, **changes)
    db.session.commit()
    return redirect(url_for("public.book_confirmation"), 303)


def new_patient(journey: Journey) -> PatientProfile:
    return create_patient(
        given_name=journey.get("given_name", ""),
        family_name=journey.get("family_name", ""),
        date_of_birth=parse_day(journey.get("date_of_birth")),
        email=journey.get("email", ""),
        phone=journey.get("phone"),
        contact_preference=journey.get("contact_preference", "email"),
        now=journey.now,
    )


@bp.route("/book/confirmation")
def book_confirmation() -> str:
    journey = load_journey(now=utcnow())
    appointment = booked_appointment(journey) if journey is not None else None
    if journey is None or appointment is None:
        return render_template("public/book_confirmation_none.html")
    zone = appointment.location.zone
    token = journey.get("manage_token")
    next_step = next_step_after_booking(appointment) if appointment.is_first_visit else None
    return render_template(
        "public/book_confirmation.html",
        appointment=appointment,
        starts=appointment.starts_at.astimezone(zone),
        ends=appointment.ends_at.astimezone(zone),
        manage_url=url_for("public.manage", token=token) if token else None,
        calendar_url=url_for("public.manage_calendar", token=token) if token else None,
        next_step=next_step,
        articles=articles_for_session_type(appointment.session_type.slug),
        format_date=format_date,
    )
