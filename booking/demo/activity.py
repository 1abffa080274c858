"""The demo clinic's activity (domain.md §8): sessions, time off, a closure and intakes.

Seeded once, after `seed_demo_clinic`, by `flask seed-demo` only: tests start from an empty
calendar. Deterministic: a fixed random seed and dates counted from `now` in each location's
zone, so the same `now` and the same clinic give the same rows (tokens and calendar UIDs
aside, which stay random). Idempotent: once the calendar holds any session, time off, closure
or intake, nothing is added.

Every session passes the engine's check of hours, rooms and overlaps (`validate_start`) and is
inserted under the database overlap guards (`insert_live`). Sessions that have already started
skip only the notice rule, as a staff override does; future ones pass every rule a booking
does. No email is queued: `insert_live` queues none and this module calls no mail helper, so
the outbox never sends demo mail for seeded history (demo addresses are @meridian.example).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from booking.demo.arrivals import book_arrivals
from booking.demo.context import (
    COMMUNITY_TRACK,
    DAYS_AHEAD,
    DAYS_BACK,
    DOMAIN,
    HOMES,
    VISIT_COUNTS,
    DemoContext,
    DemoPatient,
    load_context,
)
from booking.demo.notes import seed_notes
from booking.demo.plans import seed_plans
from booking.demo.sessions import book_sessions, mark_missed_and_cancelled, seed_intakes
from booking.demo.waitlist import seed_waitlist_and_aftercare
from booking.demo.week import fill_demo_practitioner_week
from booking.domain.errors import NotAllowed
from booking.domain.scheduling.dst import require_aware
from booking.domain.scheduling.holidays import public_holidays
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    ErasureRequest,
    ExceptionKind,
    IntakeResponse,
    PatientProfile,
    ScheduleException,
)
from booking.services.clinic.settings import get_clinic
from booking.services.rota.exceptions import ExceptionValues, add_closure, add_exception


@dataclass(frozen=True)
class DemoActivity:
    """What `seed_demo_activity` did: `added` is False when activity was already present."""

    added: bool
    sessions: int = 0
    checked_in: bool = False  # False when nobody works today at any location (say, a Sunday)
    arrivals: int = 0  # booked later today, for the desk to check in (issue 15)


def activity_present() -> bool:
    """True once the calendar holds a session (holds aside), an exception or an intake."""
    return bool(
        db.session.scalar(
            select(
                select(Appointment.id).where(Appointment.status != AppointmentStatus.held).exists()
                | select(ScheduleException.id).exists()
                | select(IntakeResponse.id).exists()
            )
        )
    )


def seed_demo_activity(*, now: datetime) -> DemoActivity:
    """Add the demo activity of domain.md §8 to the demo clinic, dated from `now`.

    Adds nothing when activity is already present. Raises NotAllowed for a real (non-demo)
    clinic, InvalidInput when the demo clinic has not been seeded or `now` is naive.
    """
    require_aware(now, "now")
    clinic = get_clinic()
    if clinic is not None and not clinic.is_demo:
        raise NotAllowed("This database holds a real clinic; the demo was not seeded.")
    if activity_present():
        return DemoActivity(added=False)
    context = load_context(now)
    _time_off_and_closure(context)
    patients = _plan(context)
    checked_in = book_sessions(context, patients)
    mark_missed_and_cancelled(context, patients)
    seed_intakes(context, patients)
    fill_demo_practitioner_week(context, patients)
    arrivals = book_arrivals(context, patients)
    _erasure_request(context, patients)
    seed_waitlist_and_aftercare(context, patients)
    seed_plans(context)
    seed_notes(context)
    db.session.flush()
    return DemoActivity(
        added=True,
        sessions=sum(len(p.rows) for p in patients),
        checked_in=checked_in,
        arrivals=arrivals,
    )


def _time_off_and_closure(context: DemoContext) -> None:
    """Aoife off for the week (Monday to Sunday) 4 weeks ahead; Dublin closed 5 weeks ahead."""
    dublin = next(loc for loc in context.locations.values() if loc.slug == "dublin")
    today = context.today[dublin.id]
    target = today + timedelta(weeks=4)
    monday = target - timedelta(days=target.weekday())
    aoife = context.practitioners["aoife.byrne"]
    for day in range(7):
        add_exception(
            aoife.id,
            ExceptionValues(
                kind="time_off", on_date=monday + timedelta(days=day), reason="Annual leave"
            ),
            actor=context.admin,
            now=context.now,
        )
    closed = today + timedelta(weeks=5)
    while closed.weekday() >= 5:  # a weekday, when Dublin is open
        closed += timedelta(days=1)
    add_closure(
        ExceptionValues(
            kind="closure", on_date=closed, location_id=dublin.id, reason="Staff training day"
        ),
        actor=context.admin,
        now=context.now,
    )
    _good_fridays(context)


def _good_fridays(context: DemoContext) -> None:
    """The demo clinic never books on Good Friday, which is no public holiday in Ireland.

    Public holidays close each location already (25 December, Easter Monday; Good Friday in
    England); every location without Good Friday among them gets a holiday row for it, from
    last year to next, past dates included, so no demo session lands on one.
    """
    years = (date(context.now.year - 1, 1, 1), date(context.now.year + 1, 12, 31))
    fridays = [h.on_date for h in public_holidays("GB", "ENG", *years) if h.name == "Good Friday"]
    for location in context.locations.values():
        kept = {
            h.on_date for h in public_holidays(location.country_code, location.subdivision, *years)
        }
        for friday in fridays:
            if friday not in kept:
                db.session.add(
                    ScheduleException(
                        kind=ExceptionKind.holiday,
                        location_id=location.id,
                        on_date=friday,
                        reason="Good Friday",
                    )
                )
    db.session.flush()


def _plan(context: DemoContext) -> list[DemoPatient]:
    """Who sees whom, how often and from when; the check-in patient first."""
    rng = context.rng
    profiles = list(
        db.session.scalars(
            select(PatientProfile)
            .where(PatientProfile.email.like(f"%@{DOMAIN}"))
            .order_by(PatientProfile.id)
        )
    )[: len(VISIT_COUNTS)]
    counts = list(VISIT_COUNTS)
    rng.shuffle(counts)
    homes = [home for home, weight in HOMES for _ in range(weight)]
    rng.shuffle(homes)
    alex = bool(profiles) and profiles[0].email == f"alex.morgan@{DOMAIN}"
    if alex:  # the demo patient account: a course with Mei Lin under way, swapped in
        _swap_to_front(counts, 3)
        _swap_to_front(homes, "mei.chen")
    patients = [
        DemoPatient(profile, home, count)
        for profile, home, count in zip(profiles, homes, counts, strict=False)
    ]
    for patient in patients:
        if patient.visits == 1:  # new patients: a first visit coming up
            patient.first_offset = rng.randint(2, DAYS_AHEAD)
        else:
            patient.first_offset = rng.randint(-DAYS_BACK, DAYS_AHEAD - 7 * (patient.visits - 1))
        patient.community = (
            patient.home in COMMUNITY_TRACK and patient.visits > 1 and rng.random() < 0.4
        )
    if alex:  # two sessions behind, one ahead, none missed or cancelled
        patients[0].first_offset = rng.randint(-10, -8)
        patients[0].account = True
    order = list(range(len(patients)))
    rng.shuffle(order)
    for index in order:
        patient = patients[index]
        practitioner = context.practitioners[patient.home]
        if (alex and index == 0) or not any(context.open_on(practitioner.id, 0)):
            continue
        patient.first_offset = 0 if patient.visits == 1 else -7
        patient.check_in_visit = 0 if patient.visits == 1 else 1
        patient.community = False
        return [patient, *patients[:index], *patients[index + 1 :]]
    return patients


def _erasure_request(context: DemoContext, patients: list[DemoPatient]) -> None:
    """One patient (not Alex) asked three days ago to have their personal data erased."""
    asking = next((p for p in reversed(patients) if not p.account), None)
    if asking is not None:
        db.session.add(
            ErasureRequest(
                patient_id=asking.profile.id, requested_at=context.now - timedelta(days=3)
            )
        )


def _swap_to_front(items: list[Any], wanted: Any) -> None:
    index = items.index(wanted)
    items[0], items[index] = items[index], items[0]
