"""The practitioner's own calendar (ux.md §6 P1, P2): day, week, printable day, session actions.

Every page works on the signed-in practitioner's own sessions: another practitioner's
appointment is not found (404). The changes go through `services.booking.staff_actions`, the
same service the front desk uses.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from booking import clock
from booking.book.slot_pages import parse_day, parse_start, time_groups, zone_line
from booking.domain.errors import DomainError
from booking.domain.formatting import format_date, format_time
from booking.domain.scheduling.dst import local_today
from booking.errors import status_for
from booking.extensions import db
from booking.forms import EmptyForm
from booking.intake.staff import day_view_notes, sheet_notes
from booking.links import base_url
from booking.models import Appointment, AppointmentStatus, Practitioner, TreatmentPlan, User
from booking.practitioner.forms import CancelForm, ChangeTimeForm, DateJumpForm
from booking.practitioner.views import _me, bp
from booking.practitioner.week_grid import week_grid
from booking.services.booking import staff_actions
from booking.services.booking.practitioner_calendar import load_days, load_week_rows
from booking.services.clinic.settings import clinic_zone, get_clinic
from booking.services.notes.access import NOTE_STATUSES, note_states
from booking.services.plans import progress as plan_progress
from booking.services.plans.sequence import sequence_in_plans

WEEK = 7
MAX_DAYS_AWAY = 10 * 365  # either side of today: year 1 or 9999 would overflow the day sums


def _actor() -> User:
    return current_user._get_current_object()  # the User row, not the request-bound proxy


def _requested(param: str, zone: ZoneInfo) -> tuple[date, DateJumpForm]:
    """The date asked for in `?<param>=` (today in `zone` when absent or not a date) and the
    picker form.

    A malformed date shows today with the picker's error, never a 500.
    """
    today = local_today(zone, now=clock.utcnow())
    raw = request.args.get(param)
    form = DateJumpForm(formdata=None, date=raw or today.isoformat())
    if raw is None:
        return today, form
    form.date.raw_data = [raw]
    if form.validate():
        if abs((form.date.data - today).days) <= MAX_DAYS_AWAY:
            return form.date.data, form
        form.date.errors = [f"Date must be within {MAX_DAYS_AWAY // 365} years of today"]
    form.date.data = raw
    return today, form


def _session_label(appointment: Appointment) -> str:
    """'10:30am to 11am, Tuesday 14 April 2027: Jane Smith' (hidden text of row actions)."""
    zone = appointment.location.zone
    start, end = appointment.starts_at.astimezone(zone), appointment.ends_at.astimezone(zone)
    who = appointment.patient.full_name if appointment.patient else "held"
    return f"{format_time(start)} to {format_time(end)}, {format_date(start)}: {who}"


def _actions(appointment: Appointment, now: datetime) -> dict[str, bool]:
    status = appointment.status
    started = now >= appointment.starts_at
    outcome = status in (AppointmentStatus.completed, AppointmentStatus.no_show)
    return {
        "complete": started and status in (AppointmentStatus.booked, AppointmentStatus.checked_in),
        "no_show": started and status == AppointmentStatus.booked,
        "undo": outcome and staff_actions.is_session_day(appointment, now=now),
        "change": status == AppointmentStatus.booked and not started,
        "cancel": status in (AppointmentStatus.booked, AppointmentStatus.checked_in)
        and not started,
    }


NOTE_WORDS = {None: "Write note", False: "Continue note", True: "Read note"}


def note_links(appointments: list[Appointment]) -> dict[int, dict[str, str]]:
    """Each session's note link on the day view: write, continue (a draft) or read (signed)."""
    states = note_states([a.id for a in appointments])
    return {
        a.id: {
            "url": url_for("practitioner.session_note", appointment_id=a.id),
            "text": NOTE_WORDS[states.get(a.id)],
        }
        for a in appointments
        if a.patient_id is not None and a.status in NOTE_STATUSES
    }


def _day_context(
    practitioner: Practitioner, day: date, zone: ZoneInfo | None = None, **extra: Any
) -> dict[str, Any]:
    now = clock.utcnow()
    zone = zone or clinic_zone()
    calendar = load_days(practitioner.id, day, 1, zone=zone)
    appointments = calendar.appointments
    sequences = plan_progress.sequence_of([a.id for a in appointments])
    return {
        "practitioner": practitioner,
        "day": day,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "plan": calendar.plans[day],
        "appointments": appointments,
        "notes": day_view_notes(appointments),
        "actions": {a.id: _actions(a, now) for a in appointments},
        "labels": {a.id: _session_label(a) for a in appointments},
        "sequences": sequences,
        # Only the plan's own practitioner opens its page (a colleague may take a session).
        "own_plans": set(
            db.session.scalars(
                select(TreatmentPlan.id).where(
                    TreatmentPlan.id.in_({seq[2] for seq in sequences.values()}),
                    TreatmentPlan.practitioner_id == practitioner.id,
                )
            )
        ),
        "button_form": EmptyForm(),
        "note_links": note_links(appointments),
        "printed_at": now.astimezone(zone),
        "form": DateJumpForm(formdata=None, date=day.isoformat()),
        **extra,
    }


def _day_page(template: str) -> str:
    zone = clinic_zone()
    chosen, form = _requested("date", zone)
    return render_template(template, **_day_context(_me(), chosen, zone, form=form))


@bp.route("/day")
def day() -> str:
    return _day_page("practitioner/day.html")


@bp.route("/day/print")
def day_print() -> str:
    """The day as a list to print: every column but the actions (ux.md §6 printing)."""
    return _day_page("practitioner/day_print.html")


@bp.route("/week")
def week() -> Any:
    practitioner = _me()
    zone = clinic_zone()  # one read of the clinic row for the page
    chosen, form = _requested("start", zone)
    monday = chosen - timedelta(days=chosen.weekday())
    calendar = load_week_rows(practitioner.id, monday, WEEK, zone=zone)
    hour_labels = {hour: format_time(time(hour)) for hour in calendar.hours}
    sunday = monday + timedelta(days=WEEK - 1)
    return render_template(
        "practitioner/week.html",
        practitioner=practitioner,
        heading=f"Your week: {_range_words(monday, sunday)}",
        previous_week=monday - timedelta(days=WEEK),
        next_week=monday + timedelta(days=WEEK),
        monday=monday,
        calendar=calendar,
        grid=week_grid(
            calendar,
            hour_labels=hour_labels,
            # Each day's link once, not once per session (each session adds its #anchor).
            day_urls={d: url_for("practitioner.day", date=d.isoformat()) for d in calendar.days},
            notes=sheet_notes(calendar.appointments),
            sequences=sequence_in_plans(
                (a.plan_id for a in calendar.appointments if a.plan_id is not None),
                {a.id for a in calendar.appointments},
            ),
        ),
        today=local_today(zone, now=clock.utcnow()),
        form=form,
    )


def _range_words(first: date, last: date) -> str:
    """'13 to 19 April 2027', '29 March to 4 April 2027', '28 December 2026 to 3 January 2027'."""
    end = f"{last.day} {last:%B %Y}"
    if first.year != last.year:
        return f"{first.day} {first:%B %Y} to {end}"
    if first.month != last.month:
        return f"{first.day} {first:%B} to {end}"
    return f"{first.day} to {end}"


# ---- Actions on one session -----------------------------------------------------------------


def _appointment(appointment_id: int) -> Appointment:
    """The signed-in practitioner's own session; another's is NotFound (404)."""
    return staff_actions.staff_appointment(appointment_id, practitioner_id=_me().id)


def _day_url(appointment: Appointment) -> str:
    day_of = staff_actions.session_day(appointment)
    return url_for("practitioner.day", date=day_of.isoformat(), _anchor=f"session-{appointment.id}")


def _button(appointment_id: int, change: Any, banner: str) -> Any:
    """A POST button on the day view: CSRF-checked, the service, commit, back to the day."""
    appointment = _appointment(appointment_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(_day_url(appointment))
    try:
        change(appointment, actor=_actor(), now=clock.utcnow())
    except DomainError as error:
        db.session.rollback()
        appointment = _appointment(appointment_id)
        context = _day_context(_me(), staff_actions.session_day(appointment), refusal=error.message)
        return render_template("practitioner/day.html", **context), status_for(error)
    db.session.commit()
    flash(f"{_session_label(appointment)}: {banner}")
    return redirect(_day_url(appointment))


@bp.route("/sessions/<id:appointment_id>/completed", methods=["POST"])
def session_completed(appointment_id: int) -> Any:
    return _button(appointment_id, staff_actions.mark_completed, "marked completed")


@bp.route("/sessions/<id:appointment_id>/no-show", methods=["POST"])
def session_no_show(appointment_id: int) -> Any:
    return _button(appointment_id, staff_actions.mark_no_show, "marked as a no-show")


@bp.route("/sessions/<id:appointment_id>/undo", methods=["POST"])
def session_undo(appointment_id: int) -> Any:
    return _button(appointment_id, staff_actions.undo_outcome, "back to booked")


def _clinic_name() -> str:
    clinic = get_clinic()
    return clinic.name if clinic else ""


@bp.route("/sessions/<id:appointment_id>/change-time", methods=["GET", "POST"])
def session_change_time(appointment_id: int) -> Any:
    appointment = _appointment(appointment_id)
    now = clock.utcnow()
    current_day = staff_actions.session_day(appointment)
    chosen = parse_day(request.args.get("date")) or current_day
    if abs((chosen - current_day).days) > MAX_DAYS_AWAY:
        chosen = current_day
    form = ChangeTimeForm()
    zone_name = appointment.location.timezone
    groups = time_groups(
        staff_actions.free_times(appointment, day=chosen, now=now), zone_name, chosen
    )
    form.start.choices = [(value, label) for group in groups for value, label in group.items]
    status = 200
    if form.validate_on_submit():
        try:
            staff_actions.staff_reschedule(
                appointment,
                starts_at=parse_start(form.start.data) or appointment.starts_at,
                actor=_actor(),
                now=now,
                base_url=base_url(),
                clinic_name=_clinic_name(),
            )
        except DomainError as error:
            db.session.rollback()
            appointment = _appointment(appointment_id)
            form.start.errors = [*form.start.errors, error.message]
            status = status_for(error)
        else:
            db.session.commit()
            flash(f"Session moved to {_session_label(appointment)}")
            return redirect(_day_url(appointment))
    page = render_template(
        "practitioner/change_time.html",
        appointment=appointment,
        label=_session_label(appointment),
        form=form,
        groups=groups,
        chosen=chosen,
        zone_line=zone_line(zone_name, chosen),
        previous_day=chosen - timedelta(days=1),
        next_day=chosen + timedelta(days=1),
    )
    return page, status


@bp.route("/sessions/<id:appointment_id>/cancel", methods=["GET", "POST"])
def session_cancel(appointment_id: int) -> Any:
    appointment = _appointment(appointment_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            staff_actions.staff_cancel(
                appointment,
                actor=_actor(),
                now=clock.utcnow(),
                reason=form.reason.data,
                base_url=base_url(),
                clinic_name=_clinic_name(),
            )
        except DomainError as error:
            db.session.rollback()
            appointment = _appointment(appointment_id)
            form.reason.errors = [*form.reason.errors, error.message]
        else:
            db.session.commit()
            flash(f"Cancelled: {_session_label(appointment)}. The patient has been emailed.")
            return redirect(_day_url(appointment))
    return render_template(
        "practitioner/cancel.html",
        appointment=appointment,
        label=_session_label(appointment),
        form=form,
    )
