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

import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    BookingSource,
    Clinic,
    IntakeResponse,
    Location,
    PatientProfile,
    Practitioner,
    Room,
    ScheduleException,
    SessionType,
    User,
    WorkingHours,
)
from booking.scheduling import intake_rules as rules
from booking.scheduling.dst import require_aware
from booking.scheduling.errors import InvalidInput, NotAllowed, PolicyRefused, SlotTaken
from booking.services import intake as intake_service
from booking.services.appointments import insert_live, is_first_visit, token_hash
from booking.services.availability import effective_policy, validate_start
from booking.services.schedule_setup import ExceptionValues, add_closure, add_exception

SEED = 20261125
DOMAIN = "meridian.example"
FIRST = "first-acupuncture-session"
FOLLOW_UP = "follow-up-acupuncture"
CUPPING = "cupping-and-moxibustion"
COMMUNITY = "community-acupuncture"
DAYS_BACK, DAYS_AHEAD = 14, 21
# 60 sessions for 30 patients: 8 new patients with one (future) first visit, 22 on a course.
VISIT_COUNTS = (1,) * 8 + (2,) * 14 + (3,) * 8
HOMES = (("mei.chen", 9), ("tom.okafor", 8), ("aoife.byrne", 8), ("sam.patel", 5))
COMMUNITY_TRACK = frozenset({"tom.okafor", "sam.patel"})
DAY_SEARCH = (0, 1, -1, 2, -2, 3, -3)


@dataclass(frozen=True)
class DemoActivity:
    """What `seed_demo_activity` did: `added` is False when activity was already present."""

    added: bool
    sessions: int = 0
    checked_in: bool = False  # False when nobody works today at any location (say, a Sunday)


# ---- Intake answers -----------------------------------------------------------------------

_CALM: dict[str, Any] = {
    "concern": "Stiff neck and shoulders after long days at a desk",
    "body_regions": ["neck", "shoulders"],
    "onset": "3_to_12_months",
    "pain_now": "3",
    "pain_average": "4",
    "peg_enjoyment": "3",
    "peg_activity": "4",
    "rf_saddle_numbness": "no",
    "rf_bladder_bowel": "no",
    "rf_leg_weakness": "no",
    "rf_fever": "no",
    "rf_weight_loss": "no",
    "rf_cancer_history": "no",
    "rf_recent_injury": "no",
    "conditions": ["none"],
    "anticoagulants": "no",
    "allergies": ["none"],
    "pregnancy": "no",
    "implants": "no",
    "bleeding_disorder": "no",
    "needle_fainting": "no",
    "skin_problem": "no",
    "ec_name": "Robin Lee",
    "ec_phone": "07700 900123",
}
# In order of the first-visit sessions they answer for (soonest first); None = the draft.
INTAKES: tuple[dict[str, Any] | None, ...] = (
    {},
    {  # a back-pain red flag: the intake is urgent and reception calls the patient
        "concern": "Low back pain spreading down my left leg since lifting a wardrobe",
        "body_regions": ["lower_back", "legs"],
        "onset": "under_6_weeks",
        "pain_now": "7",
        "pain_average": "6",
        "peg_enjoyment": "7",
        "peg_activity": "8",
        "rf_saddle_numbness": "yes",
    },
    {  # bleeding_risk
        "concern": "Aching knees, worse on stairs",
        "body_regions": ["legs"],
        "onset": "over_a_year",
        "conditions": ["heart"],
        "history_details": "Atrial fibrillation",
        "anticoagulants": "yes",
        "medicines": "Apixaban 5 mg twice a day",
    },
    {
        "concern": "Tension headaches two or three times a week",
        "body_regions": ["head", "neck"],
        "onset": "6_to_12_weeks",
    },
    {  # no_electro
        "concern": "Pain in my right shoulder when I reach up",
        "body_regions": ["shoulders"],
        "conditions": ["heart"],
        "history_details": "Pacemaker fitted in 2019",
        "implants": "yes",
    },
    None,  # stopped on page 4 ("Save and come back later")
    {
        "concern": "Plantar fasciitis in my left heel",
        "body_regions": ["feet"],
        "onset": "over_a_year",
        "pain_now": "5",
        "pain_average": "5",
    },
)
DRAFT_PAGE_INDEX = 3  # page 4
DRAFT_PARTIAL = {"peg_enjoyment": "6"}


# ---- Loaded facts -------------------------------------------------------------------------


@dataclass
class _Context:
    now: datetime
    rng: random.Random
    admin: User
    practitioners: dict[str, Practitioner]
    types: dict[str, SessionType]
    locations: dict[int, Location]
    zones: dict[int, ZoneInfo]
    today: dict[int, date]
    step: dict[int, timedelta]
    notice: dict[int, timedelta]
    room_kinds: dict[int, set[str]]
    hours: list[WorkingHours]

    def open_on(self, practitioner_id: int, offset: int) -> Iterator[tuple[int, list[tuple]]]:
        """(location id, [(UTC start, UTC end)]) of a practitioner's weekly hours that day."""
        for location_id in sorted(self.locations):
            day = self.today[location_id] + timedelta(days=offset)
            zone = self.zones[location_id]
            spans = [
                (
                    datetime.combine(day, h.start_time, zone).astimezone(UTC),
                    datetime.combine(day, h.end_time, zone).astimezone(UTC),
                )
                for h in self.hours
                if h.practitioner_id == practitioner_id
                and h.location_id == location_id
                and h.weekday == day.weekday()
                and (h.valid_from is None or h.valid_from <= day)
                and (h.valid_until is None or h.valid_until >= day)
            ]
            if spans:
                yield location_id, sorted(spans)


@dataclass
class _Patient:
    profile: PatientProfile
    home: str
    visits: int
    first_offset: int = 0
    community: bool = False
    check_in_visit: int | None = None
    account: bool = False  # Alex Morgan, the demo patient who signs in
    rows: list[Appointment] = field(default_factory=list)


def _load(now: datetime) -> _Context:
    clinic = db.session.scalar(select(Clinic).order_by(Clinic.id).limit(1))
    admin = db.session.scalar(select(User).where(User.email == f"admin@{DOMAIN}"))
    if clinic is None or admin is None:
        raise InvalidInput("Seed the demo clinic first.")
    practitioners = {
        p.user.email.split("@")[0]: p
        for p in db.session.scalars(select(Practitioner).order_by(Practitioner.id))
    }
    types = {t.slug: t for t in db.session.scalars(select(SessionType).order_by(SessionType.id))}
    missing = [home for home, _ in HOMES if home not in practitioners]
    missing += [slug for slug in (FIRST, FOLLOW_UP, CUPPING, COMMUNITY) if slug not in types]
    if missing:
        raise InvalidInput(f"The demo clinic is incomplete: {', '.join(missing)} missing.")
    locations = {
        loc.id: loc
        for loc in db.session.scalars(
            select(Location).where(Location.is_active.is_(True)).order_by(Location.id)
        )
    }
    zones = {i: ZoneInfo(loc.timezone) for i, loc in locations.items()}
    policies = {i: effective_policy(loc, clinic) for i, loc in locations.items()}
    room_kinds: dict[int, set[str]] = {i: set() for i in locations}
    for room in db.session.scalars(select(Room).where(Room.is_active.is_(True))):
        if room.location_id in room_kinds:
            room_kinds[room.location_id].add(str(room.kind))
    return _Context(
        now=now,
        rng=random.Random(SEED),  # noqa: S311 - reproducible demo data, not a secret
        admin=admin,
        practitioners=practitioners,
        types=types,
        locations=locations,
        zones=zones,
        today={i: now.astimezone(zone).date() for i, zone in zones.items()},
        step={i: timedelta(minutes=p.slot_step_minutes) for i, p in policies.items()},
        notice={i: timedelta(minutes=p.min_notice_minutes) for i, p in policies.items()},
        room_kinds=room_kinds,
        hours=list(db.session.scalars(select(WorkingHours).order_by(WorkingHours.id))),
    )


# ---- Entry point --------------------------------------------------------------------------


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
    clinic = db.session.scalar(select(Clinic).order_by(Clinic.id).limit(1))
    if clinic is not None and not clinic.is_demo:
        raise NotAllowed("This database holds a real clinic; the demo was not seeded.")
    if activity_present():
        return DemoActivity(added=False)
    context = _load(now)
    _time_off_and_closure(context)
    patients = _plan(context)
    checked_in = _book_sessions(context, patients)
    _mark_missed_and_cancelled(context, patients)
    _seed_intakes(context, patients)
    db.session.flush()
    return DemoActivity(
        added=True,
        sessions=sum(len(p.rows) for p in patients),
        checked_in=checked_in,
    )


# ---- Time off and closure -----------------------------------------------------------------


def _time_off_and_closure(context: _Context) -> None:
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


# ---- Sessions -----------------------------------------------------------------------------


def _plan(context: _Context) -> list[_Patient]:
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
        _Patient(profile, home, count)
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


def _swap_to_front(items: list[Any], wanted: Any) -> None:
    index = items.index(wanted)
    items[0], items[index] = items[index], items[0]


def _session_type(context: _Context, patient: _Patient, visit: int) -> SessionType:
    if patient.check_in_visit == visit:  # a treatment room exists at every location
        slug = FIRST if visit == 0 else FOLLOW_UP
    elif patient.community:
        slug = COMMUNITY
    elif visit == 0:
        slug = FIRST
    elif patient.home in COMMUNITY_TRACK:
        slug = context.rng.choice((FOLLOW_UP, FOLLOW_UP, COMMUNITY))
    else:
        slug = context.rng.choice((FOLLOW_UP, FOLLOW_UP, CUPPING))
    return context.types[slug]


def _book_sessions(context: _Context, patients: list[_Patient]) -> bool:
    """Place each patient's visits about a week apart; True if one was checked in today."""
    checked_in = False
    for patient in patients:
        previous: int | None = None
        # New patients come later; their first visits take the intakes.
        earliest = 1 if patient.visits == 1 and patient.check_in_visit is None else -DAYS_BACK
        for visit in range(patient.visits):
            session_type = _session_type(context, patient, visit)
            target = patient.first_offset + 7 * visit
            check_in = patient.check_in_visit == visit
            for shift in (0,) if check_in else DAY_SEARCH:
                offset = target + shift
                if not earliest <= offset <= DAYS_AHEAD:
                    continue
                if previous is not None and offset <= previous + 2:
                    continue
                row = _book_day(context, patient, session_type, offset, check_in=check_in)
                if row is not None:
                    patient.rows.append(row)
                    previous = offset
                    checked_in = checked_in or check_in
                    break
    return checked_in


def _starts(context: _Context, location_id: int, spans: list[tuple], minutes: int) -> list:
    length, step = timedelta(minutes=minutes), context.step[location_id]
    starts = []
    for start, end in spans:
        at = start
        while at + length <= end:
            starts.append(at)
            at += step
    return starts


def _book_day(
    context: _Context,
    patient: _Patient,
    session_type: SessionType,
    offset: int,
    *,
    check_in: bool,
) -> Appointment | None:
    """Book the visit on the home practitioner's day at `offset`, or None if nothing fits."""
    rng, now = context.rng, context.now
    practitioner = context.practitioners[patient.home]
    length = timedelta(minutes=session_type.duration_minutes)
    for location_id, spans in context.open_on(practitioner.id, offset):
        kind = session_type.room_kind
        if kind is not None and str(kind) not in context.room_kinds[location_id]:
            continue
        starts = _starts(context, location_id, spans, session_type.duration_minutes)
        if check_in:  # the session nearest the clock: under way, just over or about to start
            starts.sort(key=lambda s: (abs(s - now), s))
        else:
            rng.shuffle(starts)
        for start in starts:
            if check_in:
                status, override = AppointmentStatus.checked_in, True
            elif start + length <= now:
                status, override = AppointmentStatus.completed, True
            elif start >= now + context.notice[location_id]:
                status, override = AppointmentStatus.booked, False
            else:
                continue  # under way or too soon to book: only the check-in sits there
            row = _insert(
                context, patient, session_type, location_id, start, status, override=override
            )
            if row is not None:
                return row
    return None


def _insert(
    context: _Context,
    patient: _Patient,
    session_type: SessionType,
    location_id: int,
    start: datetime,
    status: AppointmentStatus,
    *,
    override: bool,
) -> Appointment | None:
    rng, now = context.rng, context.now
    practitioner_id = context.practitioners[patient.home].id

    def pick() -> tuple[int, Any]:
        return location_id, validate_start(
            session_type_id=session_type.id,
            location_id=location_id,
            practitioner_id=practitioner_id,
            starts_at=start,
            now=now,
            override_limits=override,
        )

    if status == AppointmentStatus.booked:
        booked_at = now - timedelta(days=rng.randint(0, 9), hours=rng.randint(3, 20))
    else:
        booked_at = start - timedelta(days=rng.randint(2, 13), hours=rng.randint(1, 8))
    source = rng.choice((BookingSource.online, BookingSource.online, BookingSource.staff))
    try:
        row = insert_live(
            pick,
            practitioner_id=practitioner_id,
            now=now,
            status=status,
            patient_id=patient.profile.id,
            session_type_id=session_type.id,
            source=source,
            booked_at=booked_at,
            manage_token_hash=token_hash(secrets.token_urlsafe(32)),
            is_first_visit=is_first_visit(patient.profile.id),
        )
    except (SlotTaken, PolicyRefused, InvalidInput):
        return None  # taken, full or off the grid: try another time
    row.created_at = booked_at
    if status == AppointmentStatus.completed:
        row.updated_at = row.ends_at
    elif status == AppointmentStatus.checked_in:
        row.updated_at = min(now, row.starts_at)
    else:
        row.updated_at = booked_at
    return row


def _mark_missed_and_cancelled(context: _Context, patients: list[_Patient]) -> None:
    """2 no-shows, a late cancel and a cancel in the past, a cancel ahead; never a first visit.

    Each falls on a different patient, so nobody reaches the missed-session threshold.
    """
    rng, now = context.rng, context.now
    later = [(p, row) for p in patients if not p.account for row in p.rows[1:]]
    past = [(p, r) for p, r in later if r.status == AppointmentStatus.completed]
    ahead = [(p, r) for p, r in later if r.status == AppointmentStatus.booked]
    rng.shuffle(past)
    rng.shuffle(ahead)
    used: list[int] = []
    picked: list[Appointment] = []
    for patient, row in past:
        if patient.profile.id not in used and len(picked) < 4:
            used.append(patient.profile.id)
            picked.append(row)
    for row, kind in zip(picked, ("no_show", "no_show", "late", "early"), strict=False):
        if kind == "no_show":
            row.status = AppointmentStatus.no_show
            row.updated_at = row.starts_at + timedelta(minutes=20)
            continue
        # Late: inside the 24-hour cut-off; early: just outside it.
        ahead_by = timedelta(hours=3) if kind == "late" else timedelta(hours=26)
        _cancel(
            row,
            at=max(_booked_at(row), row.starts_at - ahead_by),
            late=kind == "late",
            reason="Phoned on the day: unwell" if kind == "late" else "Work commitment",
        )
    for patient, row in ahead:
        if patient.profile.id not in used:
            booked_at = _booked_at(row)
            _cancel(row, at=booked_at + (now - booked_at) / 2, late=False, reason=None)
            break


def _booked_at(row: Appointment) -> datetime:
    """When a demo session was booked: the seeder sets it on every row it books."""
    if row.booked_at is None:
        raise ValueError(f"demo appointment {row.id} has no booked_at")
    return row.booked_at


def _cancel(row: Appointment, *, at: datetime, late: bool, reason: str | None) -> None:
    row.status = AppointmentStatus.cancelled
    row.cancelled_at = at
    row.late_cancel = late
    row.cancel_reason = reason
    row.ics_sequence += 1
    row.updated_at = at


# ---- Intakes ------------------------------------------------------------------------------


def _seed_intakes(context: _Context, patients: list[_Patient]) -> None:
    """6 sent intakes and a draft, for the soonest booked first visits (first sessions)."""
    first_visits = sorted(
        (
            row
            for p in patients
            for row in p.rows
            if row.is_first_visit
            and row.status == AppointmentStatus.booked
            and row.session_type.slug == FIRST
        ),
        key=lambda row: (row.starts_at, row.id),
    )
    if not first_visits:
        return
    for appointment, answers in zip(first_visits, INTAKES, strict=False):
        _answer(appointment, answers, at=_booked_at(appointment) + timedelta(hours=2))


def _answer(appointment: Appointment, overrides: dict[str, Any] | None, *, at: datetime) -> None:
    """Answer every page through the intake service and send; or stop on page 4 (None)."""
    intake = intake_service.start_intake(appointment, now=at)
    answers = {**_CALM, **(overrides or {})}
    for index, page_key in enumerate(intake_service.flow(intake)):
        page = intake_service.page_questions(intake, page_key)
        if overrides is None and index == DRAFT_PAGE_INDEX:
            intake_service.save_page(
                intake, page_key, DRAFT_PARTIAL, complete=False, actor=None, now=at
            )
            return
        modality = intake_service.modality_of_page(page_key)
        if modality is not None:
            values = {intake_service.consent_answer_key(modality): "yes"}
        else:
            values = {q["key"]: answers[q["key"]] for q in page["questions"] if q["key"] in answers}
        if not rules.is_page_complete(page, values):
            raise InvalidInput(f"Demo intake answers do not fit page {page_key}.")
        intake_service.save_page(intake, page_key, values, complete=True, actor=None, now=at)
    intake_service.submit_intake(intake, actor=None, now=at)
