"""Change and cancel pages (ux.md §5 M1–M5), shared by the manage link and the patient account.

A `Links` object says how this appointment's pages are addressed: by manage token or by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from booking import clock
from booking.book.forms import CancelForm, ChangeForm, DayForm, TimeForm
from booking.book.journey import hold_owner
from booking.book.slot_pages import (
    Booking,
    day_label,
    day_page,
    parse_day,
    parse_start,
    start_value,
    time_groups,
    zone_line,
)
from booking.domain.errors import DomainError, PolicyRefused, SlotTaken
from booking.domain.formatting import format_date, format_time
from booking.domain.scheduling.dst import local_today
from booking.extensions import db
from booking.links import base_url
from booking.models import Appointment, AppointmentStatus, LateCancelMode, Role, User
from booking.services.articles.queries import articles_for_session_type
from booking.services.booking import changes
from booking.services.booking import cutoff as cutoff_service
from booking.services.booking.availability import AvailabilityQuery
from booking.services.booking.calendar import appointment_ics
from booking.services.clinic.settings import get_clinic
from booking.services.intake.links import first_visit_intake
from booking.services.plans import progress as plan_progress
from booking.services.plans.patient_side import scores_link


@dataclass(frozen=True)
class Links:
    """Endpoints of one appointment's pages: `manage.session*` by token or `patient.session*`."""

    prefix: str
    args: dict[str, Any]

    def url(self, page: str = "", **query: Any) -> str:
        endpoint = self.prefix + (f"_{page}" if page else "")
        return url_for(endpoint, **self.args, **query)


@dataclass(frozen=True)
class Policy:
    deadline: datetime
    late: bool
    mode: str
    phone: str
    # What the page says about changing online: never a deadline that has passed.
    sentences: tuple[str, ...] = ()

    @property
    def must_call(self) -> bool:
        return self.late and self.mode == LateCancelMode.call

    @property
    def late_recorded(self) -> bool:
        return self.late and self.mode == LateCancelMode.record


def local(appointment: Appointment, instant: datetime) -> datetime:
    return instant.astimezone(appointment.location.zone)


def when_words(appointment: Appointment, instant: datetime) -> str:
    start = local(appointment, instant)
    return f"{format_time(start)} on {format_date(start)}"


def policy(appointment: Appointment, *, now: datetime) -> Policy:
    clinic, cutoff = cutoff_service.policy_for(appointment.location)
    return Policy(
        deadline=cutoff_service.change_deadline(appointment, cutoff),
        late=cutoff_service.is_late(appointment, cutoff_hours=cutoff, now=now),
        mode=str(clinic.late_cancel_mode),
        phone=cutoff_service.location_phone(appointment.location) or clinic.phone or "",
        sentences=cutoff_service.change_sentences(appointment, now=now),
    )


def changeable(appointment: Appointment, *, now: datetime) -> bool:
    return appointment.status == AppointmentStatus.booked and appointment.starts_at > now


def render(template: str, appointment: Appointment, links: Links, **context: Any) -> str:
    now = clock.utcnow()
    return render_template(
        template,
        appointment=appointment,
        links=links,
        policy=policy(appointment, now=now),
        can_change=changeable(appointment, now=now),
        starts=local(appointment, appointment.starts_at),
        ends=local(appointment, appointment.ends_at),
        when_words=lambda instant: when_words(appointment, instant),
        sequence=plan_progress.sequence_of([appointment.id]).get(appointment.id),
        **context,
    )


def show(appointment: Appointment, links: Links) -> str:
    """M1 "Your session"; a first visit also says whether the health questions are sent, and a
    session of an active treatment plan links to sending the patient's scores before it."""
    live = changeable(appointment, now=clock.utcnow())
    return render(
        "manage/session.html",
        appointment,
        links,
        articles=articles_for_session_type(appointment.session_type.slug),
        intake=first_visit_intake(appointment, base_url="", secret=current_app.config["SECRET_KEY"])
        if live
        else None,
        scores_url=scores_link(appointment, base_url="", secret=current_app.config["SECRET_KEY"])
        if live
        else None,
    )


def picker(appointment: Appointment, now: datetime) -> Booking:
    today = local_today(appointment.location.zone, now=now)
    return Booking(
        query=AvailabilityQuery(
            session_type_id=appointment.session_type_id,
            location_id=appointment.location_id,
            date_from=today,
            date_to=today,
            practitioner_id=appointment.practitioner_id,
        ),
        location=appointment.location,
        clinic=get_clinic(),
    )


def blocked(appointment: Appointment, links: Links, now: datetime) -> Response | None:
    """Back to "Your session" when it cannot be changed online (it says why)."""
    if not changeable(appointment, now=now) or policy(appointment, now=now).must_call:
        return redirect(links.url())
    return None


def day(appointment: Appointment, links: Links) -> Response | str:
    """M2: choose a new day."""
    now = clock.utcnow()
    stop = blocked(appointment, links, now)
    if stop is not None:
        return stop
    booking = picker(appointment, now)
    data = day_page(booking, parse_day(request.args.get("week")), now=now)
    if data is None:
        return render("manage/session_no_times.html", appointment, links)
    form = DayForm()
    form.day.choices = data.choices
    if form.validate_on_submit():
        return redirect(links.url("time", day=form.day.data), 303)
    return render(
        "manage/session_day.html",
        appointment,
        links,
        form=form,
        data=data,
        title="Choose a new day",
        week_url=lambda d: links.url("day", week=d.isoformat()),
    )


def time(appointment: Appointment, links: Links) -> Response | tuple[str, int] | str:
    """M2: choose a new time on the chosen day (nothing is held; the check page books it)."""
    now = clock.utcnow()
    stop = blocked(appointment, links, now)
    if stop is not None:
        return stop
    booking = picker(appointment, now)
    chosen = parse_day(request.args.get("day"))
    if chosen is None or not booking.today(now) <= chosen <= booking.last_day(now):
        return redirect(links.url("day"))
    zone_name = appointment.location.timezone
    groups = time_groups(booking.slots(chosen, chosen, now=now), zone_name, chosen)
    form = TimeForm()
    form.start.choices = [item for g in groups for item in g.items]
    status = 200
    if request.args.get("taken") and request.method == "GET":
        form.start.errors = ["That time has just been taken. Select another time"]
        status = 409
    if form.validate_on_submit():
        return redirect(links.url("check", start=form.start.data), 303)
    html = render(
        "manage/session_time.html",
        appointment,
        links,
        form=form,
        groups=groups,
        title=f"Choose a new time on {day_label(chosen)}",
        zone_line=zone_line(zone_name, chosen),
        day_url=links.url("day", week=chosen.isoformat()),
    )
    return html, status


def actor() -> User | None:
    """The signed-in patient (a proxy to their User row), or None for a manage link."""
    if current_user.is_authenticated and current_user.role == Role.patient:
        return current_user
    return None


def check(appointment: Appointment, links: Links) -> Response | str:
    """M3: "Check your new time", then **Change session**."""
    now = clock.utcnow()
    stop = blocked(appointment, links, now)
    if stop is not None:
        return stop
    form = ChangeForm()
    raw = form.start.data if request.method == "POST" else request.args.get("start")
    starts_at = parse_start(raw)
    if starts_at is None or starts_at <= now:
        return redirect(links.url("day"), 303)
    if form.validate_on_submit():
        try:
            changes.reschedule_appointment(
                appointment,
                starts_at=starts_at,
                hold_owner=hold_owner(create=True) or "",
                now=now,
                actor=actor(),
                by_staff=False,
                base_url=base_url(),
                clinic_name=current_app.config["CLINIC_NAME"],
                secret=current_app.config["SECRET_KEY"],
            )
        except SlotTaken:
            db.session.rollback()
            day_value = local(appointment, starts_at).date().isoformat()
            return redirect(links.url("time", day=day_value, taken=1), 303)
        except PolicyRefused:
            db.session.rollback()
            return redirect(links.url(), 303)
        except DomainError:
            db.session.rollback()
            return redirect(links.url("day"), 303)
        db.session.commit()
        return redirect(links.url("done"), 303)
    form.start.data = start_value(starts_at)
    duration = appointment.ends_at - appointment.starts_at
    new_start = local(appointment, starts_at)
    return render(
        "manage/session_check.html",
        appointment,
        links,
        form=form,
        new_start=new_start,
        new_end=local(appointment, starts_at + duration),
        change_url=links.url("time", day=new_start.date().isoformat()),
    )


def cancel(appointment: Appointment, links: Links) -> Response | tuple[str, int] | str:
    """M4: the interruption page. Inside the cut-off: phone only (`call`) or a late warning."""
    now = clock.utcnow()
    if not changeable(appointment, now=now):
        return redirect(links.url())
    form = CancelForm()
    status = 200
    if form.validate_on_submit():
        try:
            changes.cancel_appointment(
                appointment,
                now=now,
                actor=actor(),
                by_staff=False,
                reason=None,
                base_url=base_url(),
                clinic_name=current_app.config["CLINIC_NAME"],
            )
        except PolicyRefused:
            db.session.rollback()
            status = 422
        else:
            db.session.commit()
            return redirect(links.url("done"), 303)
    return render("manage/session_cancel.html", appointment, links, form=form), status


def done(appointment: Appointment, links: Links) -> str:
    """M5: "Session changed" or "Session cancelled"."""
    cancelled = appointment.status == AppointmentStatus.cancelled
    return render(
        "manage/session_done.html",
        appointment,
        links,
        title="Session cancelled" if cancelled else "Session changed",
        cancelled=cancelled,
    )


def calendar(appointment: Appointment) -> Response:
    """The session as an .ics file (METHOD:CANCEL once cancelled)."""
    method = "CANCEL" if appointment.status == AppointmentStatus.cancelled else "REQUEST"
    body = appointment_ics(
        appointment,
        clinic_name=current_app.config["CLINIC_NAME"],
        method=method,
        now=clock.utcnow(),
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'attachment; filename="session.ics"'
    return response
