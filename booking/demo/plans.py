"""The demo's treatment plans (issue 17): two active plans and one completed plan.

- Mei Lin Chen: weekly × 8 for low back pain, five sessions done with pain scores falling
  7, 6, 5, 4, 3, three to come (active). Its patient is Alex Morgan, the demo patient who
  signs in, so the account shows a plan with its chart; the other plans' patients are new.
- Tom Okafor: weekly × 6 (active), nothing recorded yet, starting next week; when the next
  clock change in London is near enough that the plan can start within the demo's three
  weeks of bookings (`LATEST_START_WEEK`), it starts two weeks before the change instead,
  so its wall time is seen staying put across it. Further off (e.g. seeded on 7 December,
  the change is 28 March) it is not moved: the demo books no more than weeks ahead, and the
  test suite's fixed dates in March 2027 expect an empty demo calendar.
- Tom Okafor: weekly × 4 that ended last month, all done, scores 6, 5, 3, 2 (completed).

Sessions go through the engine's check and the overlap guards like every demo session
(`validate_start` + `insert_live`); past ones skip only the notice rule. No email is queued.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from booking.demo.context import DOMAIN, DemoContext
from booking.demo.sessions import grid_starts
from booking.domain.errors import InvalidInput, PolicyRefused, SlotTaken
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    BookingSource,
    OutcomeMeasure,
    OutcomeRecord,
    PatientProfile,
    PlanAppointment,
    PlanPhase,
    PlanStatus,
    Practitioner,
    TreatmentPlan,
)
from booking.services.booking.availability import validate_start
from booking.services.booking.guard import insert_live
from booking.services.platform.tokens import new_token, token_hash

# (patient, practitioner, goal, condition tag, first week from now, sessions, status, scores)
PLANS = (
    (
        ("Alex", "Morgan"),  # the demo patient account (booking/demo/clinic.py)
        "mei.chen",
        "Sit at my desk for a full morning",
        "low-back-pain",
        -5,
        8,
        "active",
        (7, 6, 5, 4, 3),
    ),
    (
        ("Daniel", "Reyes"),
        "tom.okafor",
        "Fewer tension headaches",
        "headache",
        None,  # the weeks around the next clock change (`_clock_change_week`)
        6,
        "active",
        (),
    ),
    (
        ("Hannah", "Kowalski"),
        "tom.okafor",
        "Turn my head to drive without pain",
        "neck-pain",
        -10,
        4,
        "completed",
        (6, 5, 3, 2),
    ),
)


REVIEW_POINTS = {8: "4,8", 6: "3,6", 4: "4"}


LATEST_START_WEEK = 3  # the demo's bookings reach three weeks ahead (domain.md §8)


def clock_change_week(today: date, zone: ZoneInfo) -> int:
    """The week (from `today`) a weekly × 6 plan starts: two weeks before the next clock
    change when that start is within `LATEST_START_WEEK`, so the plan crosses it; else 1."""
    day = today + timedelta(weeks=3)
    for _ in range(7 * LATEST_START_WEEK):
        noon = datetime.combine(day, time(12), zone)
        next_noon = datetime.combine(day + timedelta(days=1), time(12), zone)
        if noon.utcoffset() != next_noon.utcoffset():
            return max(1, (day - today).days // 7 - 2)
        day += timedelta(days=1)
    return 1


def _try(
    context: DemoContext,
    practitioner: Practitioner,
    patient: PatientProfile,
    type_id: int,
    location_id: int,
    start: Any,
) -> Appointment | None:
    past = start < context.now

    def pick() -> tuple[int, Any]:
        return location_id, validate_start(
            session_type_id=type_id,
            location_id=location_id,
            practitioner_id=practitioner.id,
            starts_at=start,
            now=context.now,
            override_limits=past,
        )

    try:
        return insert_live(
            pick,
            practitioner_id=practitioner.id,
            now=context.now,
            status=AppointmentStatus.completed if past else AppointmentStatus.booked,
            patient_id=patient.id,
            session_type_id=type_id,
            source=BookingSource.staff,
            booked_at=min(start, context.now) - timedelta(days=7),
            manage_token_hash=token_hash(new_token()),
        )
    except (SlotTaken, PolicyRefused, InvalidInput):
        return None


def _first_session(
    context: DemoContext,
    practitioner: Practitioner,
    patient: PatientProfile,
    type_id: int,
    week: int,
) -> tuple[int, Appointment] | None:
    """The first free start on a working day of the plan's first week: (day offset, row)."""
    for offset in range(week * 7, week * 7 + 7):
        if offset == 0:
            continue
        for location_id, spans in context.open_on(practitioner.id, offset):
            for start in grid_starts(context, location_id, spans, 30):
                if start.astimezone(context.zones[location_id]).hour < 10:
                    continue
                row = _try(context, practitioner, patient, type_id, location_id, start)
                if row is not None:
                    return offset, row
    return None


def seed_plans(context: DemoContext) -> int:
    """Add the demo plans; returns how many were made (fewer if the calendar is too full)."""
    follow_up = context.types["follow-up-acupuncture"]
    made = 0
    for index, ((given, family), key, goal, tag, week, count, status, scores) in enumerate(PLANS):
        practitioner = context.practitioners[key]
        email = f"{given.lower()}.{family.lower()}@{DOMAIN}"
        patient = db.session.scalar(
            select(PatientProfile).where(
                PatientProfile.email == email, PatientProfile.user_id.is_not(None)
            )
        )
        if patient is None:
            patient = PatientProfile(
                given_name=given,
                family_name=family,
                email=email,
                phone=f"+4474009{index:05d}",
                date_of_birth=date(1968 + index * 9, 3 + index, 12),
            )
            db.session.add(patient)
            db.session.flush()
        if week is None:
            home = min(h.location_id for h in context.hours if h.practitioner_id == practitioner.id)
            week = clock_change_week(context.today[home], context.zones[home])
        first = _first_session(context, practitioner, patient, follow_up.id, week)
        if first is None:
            continue
        offset, row = first
        row.is_first_visit = patient.user_id is None  # Alex's first visit is on the account
        zone = context.zones[row.location_id]
        local = row.starts_at.astimezone(zone)
        rows = [row]
        for k in range(1, count):
            start = row.starts_at.astimezone(zone) + timedelta(weeks=k)
            start = start.replace(tzinfo=None).replace(tzinfo=zone)  # same wall time
            again = _try(context, practitioner, patient, follow_up.id, row.location_id, start)
            if again is not None:
                rows.append(again)
        plan = TreatmentPlan(
            patient_id=patient.id,
            practitioner_id=practitioner.id,
            location_id=row.location_id,
            goal=goal,
            condition_tag=tag,
            status=PlanStatus(status),
            measure=OutcomeMeasure.pain_nrs,
            review_points=REVIEW_POINTS.get(count, ""),
            created_at=context.now + timedelta(days=offset - 7),
            updated_at=context.now,
        )
        plan.phases = [
            PlanPhase(
                position=1,
                session_type_id=follow_up.id,
                count=count,
                interval_weeks=1,
                weekday=local.weekday(),
                local_time=local.time().replace(tzinfo=None),
            )
        ]
        db.session.add(plan)
        db.session.flush()
        db.session.add_all(PlanAppointment(appointment_id=r.id, plan_id=plan.id) for r in rows)
        done = [r for r in rows if r.status == AppointmentStatus.completed]
        for session, score in zip(done, scores, strict=False):
            db.session.add(
                OutcomeRecord(
                    plan_id=plan.id,
                    appointment_id=session.id,
                    measure=OutcomeMeasure.pain_nrs,
                    item1=score,
                    score=float(score),
                    recorded_by_id=practitioner.user_id,
                    recorded_at=session.starts_at - timedelta(minutes=10),
                )
            )
        made += 1
    db.session.flush()
    return made
