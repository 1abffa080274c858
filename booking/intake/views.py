"""A patient's health questions: one topic per page, saved on every Continue (ux.md §5 M6).

Who may answer: the signed-in patient who owns the intake, or a guest whose browser opened
the appointment's intake link (see booking.services.intake.links). Staff get 403 here: they read
intakes on their own pages, where each read is audited.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from booking import clock
from booking.book.forms import DateOfBirthForm

# The browser's booking key also opens a guest's intake: the same hash, one helper.
from booking.book.journey import hold_owner as _guest_hash
from booking.domain.errors import InvalidInput, NotFound, PolicyRefused
from booking.domain.intake import rules
from booking.domain.phones import format_national
from booking.extensions import db
from booking.inputs import is_storable
from booking.intake import summary
from booking.intake.forms import StartForm, SubmitAnswersForm, page_form
from booking.models import Appointment, AppointmentStatus, IntakeResponse, IntakeStatus, Role
from booking.security import guard, request_id
from booking.services.booking.patients import profile_for_user
from booking.services.clinic.settings import clinic_today, get_clinic
from booking.services.intake import answers as answers_service
from booking.services.intake import links, pages

bp = Blueprint("intake", __name__)
# Pages a guest with the intake link may use; each checks who may answer (`_intake`).
GUEST_PAGES = (
    "start_guest",
    "prove",
    "resume",
    "page",
    "urgent",
    "saved",
    "check",
    "sent",
    "answers",
)
# Said when a new browser's date of birth is wrong (the form's own errors cover bad dates).
NO_MATCH = "Date of birth does not match the one we have for this booking"
guard(bp, roles=["patient"], public=GUEST_PAGES)


@bp.after_request
def _no_store(response: Response) -> Response:
    # Health answers, and guests' pages too: never kept by a browser or shared cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _actor() -> Any:
    return current_user if current_user.is_authenticated else None


def _refuse_staff() -> None:
    if current_user.is_authenticated and current_user.role != Role.patient:
        abort(403)


def _intake(intake_id: int) -> IntakeResponse | Response:
    """The intake if this browser may answer it; anonymous → sign in; otherwise 404."""
    _refuse_staff()
    intake = db.session.get(IntakeResponse, intake_id)
    if intake is not None and links.may_answer(intake, user=_actor(), guest_key_hash=_guest_hash()):
        return intake
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in", next=request.path))
    raise NotFound("There are no health questions here.")


def _commit() -> None:
    try:
        db.session.commit()
    except StaleDataError:  # another tab saved this intake first
        db.session.rollback()
        abort(409)


# ---- Starting ---------------------------------------------------------------------------------


@bp.route("/")
def index() -> str:
    profile = profile_for_user(current_user.id)
    now = clock.utcnow()
    intakes = answers_service.intakes_of_patient(profile.id) if profile else []
    upcoming = answers_service.upcoming_without_intake(profile.id, now=now) if profile else []
    return render_template(
        "intake/index.html", intakes=intakes, upcoming=upcoming, form=StartForm()
    )


@bp.route("/start/<id:appointment_id>", methods=["POST"])
def start(appointment_id: int) -> Response:
    profile = profile_for_user(current_user.id)
    appointment = db.session.get(Appointment, appointment_id)
    if (
        profile is None
        or appointment is None
        or appointment.patient_id != profile.id
        or appointment.status not in (AppointmentStatus.booked, AppointmentStatus.checked_in)
    ):
        abort(404)
    intake = answers_service.start_intake(appointment, now=clock.utcnow(), actor=current_user)
    _commit()
    return redirect(url_for("intake.resume", intake_id=intake.id), 303)


@bp.route("/start/<id:appointment_id>/<token>", methods=["GET", "POST"])
def start_guest(appointment_id: int, token: str) -> Response | str:
    """The emailed link. The first browser binds the intake; any other proves who it is."""
    _refuse_staff()
    now = clock.utcnow()
    appointment = links.appointment_for_link(
        appointment_id, token, secret=current_app.config["SECRET_KEY"], now=now
    )
    existing = answers_service.intake_for_appointment(appointment.id)
    if existing is not None and links.needs_proof(
        existing, user=_actor(), guest_key_hash=_guest_hash()
    ):
        return redirect(url_for("intake.prove", appointment_id=appointment.id, token=token), 303)
    form = StartForm()
    if form.validate_on_submit():
        # Another account holding the link binds nothing: its pages answer 404.
        other_account = _signed_in_elsewhere(appointment)
        intake = answers_service.start_intake(
            appointment,
            now=now,
            actor=_actor(),
            guest_key_hash=None if other_account else _guest_hash(create=True),
        )
        _commit()
        return redirect(url_for("intake.resume", intake_id=intake.id), 303)
    return render_template(
        "intake/start_guest.html", form=form, appointment=appointment, existing=existing
    )


def _signed_in_elsewhere(appointment: Appointment) -> bool:
    patient = appointment.patient
    return current_user.is_authenticated and (patient is None or patient.user_id != current_user.id)


@bp.route("/start/<id:appointment_id>/<token>/prove", methods=["GET", "POST"])
def prove(appointment_id: int, token: str) -> Response | str | tuple[str, int]:
    """A new browser on the link gives the date of birth before it sees anything.

    Right for a draft: this browser may carry on answering. Right for sent answers: a page
    saying they arrived, never the answers. 5 misses a day, then refused (429).
    """
    _refuse_staff()
    now = clock.utcnow()
    appointment = links.appointment_for_link(
        appointment_id, token, secret=current_app.config["SECRET_KEY"], now=now
    )
    if _signed_in_elsewhere(appointment):
        raise NotFound("There are no health questions here.")
    intake = answers_service.intake_for_appointment(appointment.id)
    if intake is None or not links.needs_proof(intake, user=_actor(), guest_key_hash=_guest_hash()):
        return redirect(url_for("intake.start_guest", appointment_id=appointment.id, token=token))
    page = partial(render_template, "intake/prove.html", phone=_clinic_phone(appointment))
    if intake.patient.date_of_birth is None:
        return page(state="no_record")
    if links.proof_attempts_left(intake, now=now) <= 0:
        return page(state="locked"), 429
    form = DateOfBirthForm(today=clinic_today(now, appointment.location))
    if form.validate_on_submit() and form.date_of_birth is not None:
        try:
            matched = links.prove_link_browser(
                intake,
                date_of_birth=form.date_of_birth,
                guest_key_hash=_guest_hash(create=True) or "",
                now=now,
                ip_address=request.remote_addr,
                request_id=request_id(),
            )
        except PolicyRefused:  # the last attempt went in another tab meanwhile
            db.session.rollback()
            return page(state="locked"), 429
        _commit()
        if matched and intake.status == IntakeStatus.draft:
            return redirect(url_for("intake.resume", intake_id=intake.id), 303)
        if matched:
            return render_template("intake/received.html", intake=intake)
        if links.proof_attempts_left(intake, now=now) <= 0:
            return page(state="locked"), 429
        form.parts_in_error = ["dob_day", "dob_month", "dob_year"]
        form.dob_day.errors = [NO_MATCH]
    return page(state="ask", form=form)


def _clinic_phone(appointment: Appointment) -> str:
    clinic = get_clinic()
    location = appointment.location
    return format_national(location.phone, location.country_code) or (
        (clinic.phone if clinic else "") or ""
    )


@bp.route("/<id:intake_id>")
def resume(intake_id: int) -> Response:
    intake = _intake(intake_id)
    if isinstance(intake, Response):
        return intake
    if intake.status != IntakeStatus.draft:
        return redirect(url_for("intake.answers", intake_id=intake.id))
    return redirect(_page_url(intake, pages.resume_page(intake)))


def _page_url(intake: IntakeResponse, page_key: str, **kwargs: Any) -> str:
    if page_key == pages.CHECK_PAGE:
        return url_for("intake.check", intake_id=intake.id)
    return url_for("intake.page", intake_id=intake.id, page_key=page_key, **kwargs)


# ---- Question pages ---------------------------------------------------------------------------


def _values(page: Any, form: Any) -> dict[str, Any]:
    return {q["key"]: getattr(form, q["key"]).data for q in page["questions"]}


def _raw_values(page: Any) -> dict[str, Any]:
    """What was typed, unvalidated, for "Save and come back later" (bad values are dropped)."""
    found: dict[str, Any] = {}
    for question in page["questions"]:
        key = question["key"]
        if question["type"] == "checkboxes":
            found[key] = [value for value in request.form.getlist(key) if is_storable(value)]
        else:
            value = request.form.get(key, "").strip()
            found[key] = value if is_storable(value) else ""
    return found


@bp.route("/<id:intake_id>/<page_key>", methods=["GET", "POST"])
def page(intake_id: int, page_key: str) -> Response | str:
    intake = _intake(intake_id)
    if isinstance(intake, Response):
        return intake
    if intake.status != IntakeStatus.draft:
        return redirect(url_for("intake.answers", intake_id=intake.id))
    questions = pages.page_questions(intake, page_key)
    keys = pages.flow(intake)
    first_open = pages.resume_page(intake)
    if first_open in keys and keys.index(page_key) > keys.index(first_open):
        return redirect(_page_url(intake, first_open))
    now = clock.utcnow()
    answers = intake.answers or {}
    form = page_form(
        questions, data={q["key"]: answers.get(q["key"]) for q in questions["questions"]}
    )
    if request.method == "POST" and "save_later" in request.form:
        answers_service.save_page(
            intake, page_key, _raw_values(questions), complete=False, actor=_actor(), now=now
        )
        _commit()
        return redirect(url_for("intake.saved", intake_id=intake.id), 303)
    if form.validate_on_submit():
        raised = answers_service.save_page(
            intake, page_key, _values(questions, form), complete=True, actor=_actor(), now=now
        )
        _commit()
        if raised:
            return redirect(url_for("intake.urgent", intake_id=intake.id), 303)
        if request.args.get("change") == "check":
            return redirect(url_for("intake.check", intake_id=intake.id), 303)
        return redirect(_page_url(intake, pages.next_page(intake, page_key)), 303)
    previous = pages.previous_page(intake, page_key)
    return render_template(
        "intake/page.html",
        intake=intake,
        page=questions,
        form=form,
        back_url=_page_url(intake, previous) if previous else None,
        number=keys.index(page_key) + 1,
        total=len(keys),
    )


@bp.route("/<id:intake_id>/urgent")
def urgent(intake_id: int) -> Response | str:
    intake = _intake(intake_id)
    if isinstance(intake, Response):
        return intake
    current = intake.current_page or pages.resume_page(intake)
    raised = rules.red_flag_answers(intake.questionnaire.definition, intake.answers or {})
    return render_template(
        "intake/urgent.html",
        intake=intake,
        advice=rules.URGENT_ADVICE,
        raised=bool(raised),
        back_url=_page_url(intake, current),
        continue_url=_page_url(intake, pages.next_page(intake, current))
        if intake.status == IntakeStatus.draft
        else url_for("intake.answers", intake_id=intake.id),
    )


@bp.route("/<id:intake_id>/saved")
def saved(intake_id: int) -> Response | str:
    intake = _intake(intake_id)
    if isinstance(intake, Response):
        return intake
    return render_template(
        "intake/saved.html",
        intake=intake,
        resume_url=url_for("intake.resume", intake_id=intake.id),
        signed_in=current_user.is_authenticated,
    )


# ---- Check, send, read back -------------------------------------------------------------------


@bp.route("/<id:intake_id>/check", methods=["GET", "POST"])
def check(intake_id: int) -> Response | str:
    intake = _intake(intake_id)
    if isinstance(intake, Response):
        return intake
    if intake.status != IntakeStatus.draft:
        return redirect(url_for("intake.answers", intake_id=intake.id))
    missing = pages.missing_pages(intake)
    if missing:
        return redirect(_page_url(intake, missing[0]))
    form = SubmitAnswersForm()
    if form.validate_on_submit():
        try:
            answers_service.submit_intake(intake, actor=_actor(), now=clock.utcnow())
        except InvalidInput as error:  # a page was emptied meanwhile (another tab)
            db.session.rollback()
            return redirect(_page_url(intake, error.field or pages.resume_page(intake)))
        _commit()
        return redirect(url_for("intake.sent", intake_id=intake.id), 303)
    return render_template(
        "intake/check.html",
        intake=intake,
        form=form,
        sections=summary.sections(intake),
        prefilled=intake.prefilled_from_id is not None,
        change_url=lambda key: _page_url(intake, key, change="check"),
        back_url=_page_url(intake, pages.previous_page(intake, pages.CHECK_PAGE) or ""),
    )


@bp.route("/<id:intake_id>/sent")
def sent(intake_id: int) -> Response | str:
    intake = _intake(intake_id)
    if isinstance(intake, Response):
        return intake
    if intake.status == IntakeStatus.draft:
        return redirect(url_for("intake.resume", intake_id=intake.id))
    return render_template("intake/sent.html", intake=intake)


@bp.route("/<id:intake_id>/answers")
def answers(intake_id: int) -> Response | str:
    intake = _intake(intake_id)
    if isinstance(intake, Response):
        return intake
    return render_template("intake/answers.html", intake=intake, sections=summary.sections(intake))
