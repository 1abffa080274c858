"""Journey pages about the patient: returning or new (the find-you link), details, safety."""

from __future__ import annotations

from flask import redirect, request, url_for
from werkzeug.wrappers import Response

from booking.book.forms import (
    BookForm,
    ContactForm,
    ContactPreferenceForm,
    DateOfBirthForm,
    FindYouForm,
    NameForm,
    ReturningForm,
    SafetyForm,
)
from booking.book.journey import Journey, load_journey, need
from booking.book.link_limits import email_link_ip_limit, may_send_to_address
from booking.book.slot_pages import parse_day
from booking.book.steps import (
    answer_step,
    change_arg,
    clinic_name,
    go_on,
    keep_hold,
    page,
    save,
    step,
    step_url,
)
from booking.book.views import bp
from booking.domain.errors import NotFound
from booking.domain.intake.rules import BOOKING_RED_FLAGS
from booking.domain.phones import example_numbers, format_national
from booking.extensions import db
from booking.links import base_url
from booking.services.booking.drafts import FIND_YOU, peek_email_link, spend_email_link
from booking.services.booking.emails import send_find_you_link
from booking.services.booking.patients import find_by_email

CONTACT_CHOICES = [("email", "Email"), ("phone", "Phone call")]
YES_NO = [("yes", "Yes"), ("no", "No")]


@bp.route("/book/returning", methods=["GET", "POST"], endpoint="returning")
@step("returning")
def book_returning(journey: Journey) -> Response | str:
    form = ReturningForm()
    form.returning.choices = YES_NO
    if form.validate_on_submit():
        return answer_step(journey, "returning", returning=form.returning.data)
    if request.method == "GET":
        form.returning.data = journey.get("returning")
    return page("book/returning.html", journey, "returning", form=form)


@bp.route("/book/find-you", methods=["GET", "POST"], endpoint="find_you")
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
        return redirect(url_for("book.find_you_sent"), 303)
    return page(
        "book/find_you.html",
        journey,
        "find_you",
        form=form,
        sign_in_url=url_for("auth.sign_in", next=step_url("check")),
    )


@bp.route("/book/find-you/sent", endpoint="find_you_sent")
@step(None)
def book_find_you_sent(journey: Journey) -> str:
    return page(
        "book/find_you_sent.html",
        journey,
        None,
        email=journey.get("find_you_email", "your email address"),
        back_url=step_url("find_you"),
    )


@bp.route("/book/find-you/<token>", methods=["GET", "POST"], endpoint="find_you_link")
@step(None)
def book_find_you_link(journey: Journey, token: str) -> Response | str | tuple[str, int]:
    """The emailed link: GET shows a button, the POST spends the link (single use)."""
    form = BookForm()
    try:
        link = peek_email_link(token, purpose=FIND_YOU, now=journey.now)
    except NotFound:
        return page("book/find_you_bad.html", journey, None, back_url=None), 404
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
        "book/find_you_link.html",
        journey,
        None,
        form=form,
        same_browser=same_browser,
        back_url=None,
    )


@bp.route("/book/name", methods=["GET", "POST"], endpoint="name")
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
    return page("book/name.html", journey, "name", ("given_name", "family_name"), form=form)


@bp.route("/book/date-of-birth", methods=["GET", "POST"], endpoint="date_of_birth")
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
    typed = ("dob_day", "dob_month", "dob_year")
    return page("book/date_of_birth.html", journey, "date_of_birth", typed, form=form)


@bp.route("/book/contact", methods=["GET", "POST"], endpoint="contact")
@step("contact")
def book_contact(journey: Journey) -> Response | str:
    region = journey.location.country_code if journey.location else "GB"
    form = ContactForm(region=region)
    if form.validate_on_submit():
        return answer_step(journey, "contact", email=form.normalised_email, phone=form.e164)
    if request.method == "GET":
        form.email.data = journey.get("email")
        form.phone.data = format_national(journey.get("phone"), region)
    example = example_numbers(region)[0]
    typed = ("email", "phone")
    return page("book/contact.html", journey, "contact", typed, form=form, phone_example=example)


@bp.route("/book/contact-preference", methods=["GET", "POST"], endpoint="contact_preference")
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
    return page("book/contact_preference.html", journey, "contact_preference", form=form)


@bp.route("/book/safety", methods=["GET", "POST"], endpoint="safety")
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
            return redirect(url_for("book.urgent", **change_arg()), 303)
        return go_on(journey, "safety")
    if request.method == "GET":
        form.safety.data = journey.get("safety")
    return page("book/safety.html", journey, "safety", form=form, red_flags=BOOKING_RED_FLAGS)


@bp.route("/book/urgent", endpoint="urgent")
@step(None)
def book_urgent(journey: Journey) -> str:
    return page(
        "book/urgent.html",
        journey,
        None,
        back_url=step_url("safety"),
        continue_url=step_url(journey.first_missing()),
    )
