"""The demo's sessions and intakes: booked through the engine's checks and the overlap guards."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from booking.demo.context import (
    COMMUNITY,
    COMMUNITY_TRACK,
    CUPPING,
    DAY_SEARCH,
    DAYS_AHEAD,
    DAYS_BACK,
    DRAFT_PAGE_INDEX,
    DRAFT_PARTIAL,
    FIRST,
    FOLLOW_UP,
    DemoContext,
    DemoPatient,
)
from booking.domain.errors import InvalidInput, PolicyRefused, SlotTaken
from booking.domain.intake import rules
from booking.models import Appointment, AppointmentStatus, BookingSource, SessionType
from booking.services.booking.availability import validate_start
from booking.services.booking.guard import insert_live
from booking.services.booking.holds import is_first_visit
from booking.services.intake import answers as answers_service
from booking.services.intake import pages
from booking.services.platform.tokens import new_token, token_hash

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
    "ec_phone": "07400 900123",
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


def _session_type(context: DemoContext, patient: DemoPatient, visit: int) -> SessionType:
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


def book_sessions(context: DemoContext, patients: list[DemoPatient]) -> bool:
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


def grid_starts(context: DemoContext, location_id: int, spans: list[tuple], minutes: int) -> list:
    length, step = timedelta(minutes=minutes), context.step[location_id]
    starts = []
    for start, end in spans:
        at = start
        while at + length <= end:
            starts.append(at)
            at += step
    return starts


def _book_day(
    context: DemoContext,
    patient: DemoPatient,
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
        starts = grid_starts(context, location_id, spans, session_type.duration_minutes)
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
    context: DemoContext,
    patient: DemoPatient,
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
            manage_token_hash=token_hash(new_token()),
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


def mark_missed_and_cancelled(context: DemoContext, patients: list[DemoPatient]) -> None:
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


def seed_intakes(context: DemoContext, patients: list[DemoPatient]) -> None:
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
    intake = answers_service.start_intake(appointment, now=at)
    answers = {**_CALM, **(overrides or {})}
    for index, page_key in enumerate(pages.flow(intake)):
        page = pages.page_questions(intake, page_key)
        if overrides is None and index == DRAFT_PAGE_INDEX:
            answers_service.save_page(
                intake, page_key, DRAFT_PARTIAL, complete=False, actor=None, now=at
            )
            return
        modality = pages.modality_of_page(page_key)
        if modality is not None:
            values = {pages.consent_answer_key(modality): "yes"}
        else:
            values = {q["key"]: answers[q["key"]] for q in page["questions"] if q["key"] in answers}
        if not rules.is_page_complete(page, values):
            raise InvalidInput(f"Demo intake answers do not fit page {page_key}.")
        answers_service.save_page(intake, page_key, values, complete=True, actor=None, now=at)
    answers_service.submit_intake(intake, actor=None, now=at)
