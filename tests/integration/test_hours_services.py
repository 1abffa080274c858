"""Weekly hours, time off, extra hours and closures: the services' own checks, the sessions a
change leaves outside open hours, and what the availability service then offers. Both engines.

Demo ids: practitioners 1 Mei Lin Chen (Islington Mon–Fri 9–13, 14–18), 2 Tom Okafor,
3 Aoife Byrne, 4 Sam Patel (Islington Mon, Wed 12–20; Dublin Fri 9–17); locations 1 Islington,
2 Dublin.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from booking.domain.errors import InvalidInput, NotFound
from booking.domain.scheduling.hours import validate_weekly_hours
from booking.domain.scheduling.values import WeeklyHours
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    PatientProfile,
    Practitioner,
    ScheduleException,
    SessionType,
    User,
    WorkingHours,
)
from booking.services.accounts import staff
from booking.services.accounts.reset import EmailedLink
from booking.services.accounts.staff import InviteValues
from booking.services.booking.availability import AvailabilityQuery, find_slots
from booking.services.clinic import practitioners
from booking.services.clinic.practitioners import PractitionerValues
from booking.services.rota import exceptions, outside_hours
from booking.services.rota import hours as hours_service
from booking.services.rota.exceptions import ExceptionValues
from booking.services.rota.hours import HoursValues
from tests.conftest import DEMO_EMAILS, count_queries

NOW = datetime(2027, 4, 13, 9, 0, tzinfo=UTC)  # Tuesday, 10am in London
SUNDAY = date(2027, 4, 18)
MONDAY = date(2027, 4, 19)
SUNDAY_HOURS = HoursValues(location_id=1, weekday=6, start_time=time(10), end_time=time(12))


@pytest.fixture
def admin(demo: Flask) -> Iterator[User]:
    with demo.app_context():
        yield db.session.scalar(select(User).where(User.email == DEMO_EMAILS["admin"]))


def specs() -> list[WeeklyHours]:
    return [
        WeeklyHours(
            h.practitioner_id,
            h.location_id,
            h.weekday,
            h.start_time,
            h.end_time,
            h.valid_from,
            h.valid_until,
        )
        for h in db.session.scalars(select(WorkingHours))
    ]


def book(
    *,
    practitioner_id: int,
    starts_at: datetime,
    location_id: int = 1,
    status: str = "booked",
    minutes: int = 30,
    patient_index: int = 0,
) -> Appointment:
    """A session written straight to the table, as another part of the app would have."""
    session_type = db.session.scalar(
        select(SessionType).where(SessionType.slug == "follow-up-acupuncture")
    )
    patient = db.session.scalars(select(PatientProfile).order_by(PatientProfile.id)).all()[
        patient_index
    ]
    ends_at = starts_at + timedelta(minutes=minutes)
    appointment = Appointment(
        status=AppointmentStatus(status),
        starts_at=starts_at,
        ends_at=ends_at,
        busy_from=starts_at,
        busy_until=ends_at + timedelta(minutes=5),
        practitioner_id=practitioner_id,
        location_id=location_id,
        patient_id=None if status == "held" else patient.id,
        hold_expires_at=NOW + timedelta(minutes=10) if status == "held" else None,
        session_type_id=session_type.id,
        ics_uid=f"svc-{practitioner_id}-{starts_at:%Y%m%d%H%M}-{status}@meridian.example",
    )
    db.session.add(appointment)
    db.session.flush()
    return appointment


def outside_ids(**scope: object) -> list[int]:
    return [a.id for a in outside_hours.appointments_now_outside_hours(now=NOW, **scope)]


# ---- Weekly hours ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        # Mei's Monday 9am to 1pm at Islington, met at Dublin.
        (
            HoursValues(2, 0, time(12, 30), time(13, 30)),
            "start_time",
            "These hours overlap Monday 9am to 1pm at Islington",
        ),
        # Covering both of Mei's Monday intervals: named by the first.
        (
            HoursValues(1, 0, time(8), time(19)),
            "start_time",
            "These hours overlap Monday 9am to 1pm at Islington",
        ),
        (HoursValues(1, 0, time(13), time(13)), "end_time", "End time must be after start time"),
        (HoursValues(1, 0, time(14), time(13)), "end_time", "End time must be after start time"),
        (HoursValues(99, 6, time(9), time(10)), "location_id", "Select a location from the list"),
        (HoursValues(1, 7, time(9), time(10)), "weekday", "Select a day"),
        (
            HoursValues(1, 6, time(9), time(10), date(2027, 5, 2), date(2027, 5, 1)),
            "valid_until",
            "The last day must be the same as or after the first day",
        ),
    ],
)
def test_hours_refused(admin: User, values: HoursValues, field: str, message: str) -> None:
    before = specs()
    with pytest.raises(InvalidInput) as refused:
        hours_service.add_hours(1, values, actor=admin, now=NOW)
    assert (refused.value.field, refused.value.message) == (field, message)
    assert specs() == before


@pytest.mark.parametrize(
    "values",
    [
        HoursValues(1, 0, time(13), time(14)),  # Mei's lunch hour: touching is not overlapping
        HoursValues(2, 0, time(7), time(9)),  # Dublin, before Islington opens
        HoursValues(1, 5, time(10), time(16)),  # Saturday: Tom works then, Mei does not
    ],
)
def test_hours_accepted_keep_the_week_valid(admin: User, values: HoursValues) -> None:
    added = hours_service.add_hours(1, values, actor=admin, now=NOW)
    assert (added.practitioner_id, added.location_id, added.start_time) == (
        1,
        values.location_id,
        values.start_time,
    )
    assert validate_weekly_hours(specs()) == []
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "setup.hours.add"))
    assert (event.object_id, event.actor_role) == (added.id, "admin")


def test_hours_that_apply_in_different_weeks_do_not_overlap(admin: User) -> None:
    until_may = replace(SUNDAY_HOURS, valid_until=date(2027, 5, 1))
    hours_service.add_hours(1, until_may, actor=admin, now=NOW)
    later = replace(SUNDAY_HOURS, start_time=time(11), end_time=time(13))
    hours_service.add_hours(1, replace(later, valid_from=date(2027, 5, 2)), actor=admin, now=NOW)
    with pytest.raises(InvalidInput, match="overlap Sunday 10am to 12pm at Islington"):
        hours_service.add_hours(
            1, replace(later, valid_from=date(2027, 5, 1)), actor=admin, now=NOW
        )
    assert validate_weekly_hours(specs()) == []


def test_unknown_practitioner_and_someone_elses_hours(admin: User) -> None:
    with pytest.raises(NotFound):
        hours_service.add_hours(99, SUNDAY_HOURS, actor=admin, now=NOW)
    toms = db.session.scalar(select(WorkingHours.id).where(WorkingHours.practitioner_id == 2))
    with pytest.raises(NotFound):
        hours_service.remove_hours(1, toms, actor=admin, now=NOW)
    assert db.session.get(WorkingHours, toms) is not None
    assert (
        hours_service.remove_hours(2, toms, actor=admin, now=NOW)
        == "Tuesday 10am to 4pm at Islington"
    )
    assert db.session.get(WorkingHours, toms) is None


def test_hours_grouped_by_location_then_weekday(demo: Flask) -> None:
    with demo.app_context():
        groups = hours_service.hours_by_location(4)
        assert [g.location.name for g in groups] == ["Dublin", "Islington"]
        assert [day for day, _ in groups[1].days] == ["Monday", "Wednesday"]
        assert hours_service.hours_by_location(99) == []


# ---- Time off, extra hours, closures ---------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        (
            ExceptionValues("time_off", date(2027, 4, 12)),
            "on_date",
            "Date must be today or in the future",
        ),
        (ExceptionValues("closure", MONDAY), "kind", "Select time off or extra hours"),
        (
            ExceptionValues("time_off", MONDAY, time(14)),
            "end_time",
            "Enter an end time, like 5:30pm or 17:30",
        ),
        (
            ExceptionValues("extra_hours", SUNDAY, time(10), time(12)),
            "location_id",
            "Select where the extra hours are",
        ),
        (
            ExceptionValues("extra_hours", SUNDAY, location_id=1),
            "start_time",
            "Enter a start time, like 9:00 or 2:30pm",
        ),
        (
            ExceptionValues("extra_hours", MONDAY, time(12), time(14), location_id=2),
            "start_time",
            "These extra hours overlap working hours, 9am to 1pm at Islington",
        ),
        (
            ExceptionValues("time_off", MONDAY, reason="r" * 201),
            "reason",
            "Reason must be 200 characters or fewer",
        ),
    ],
)
def test_exceptions_refused(admin: User, values: ExceptionValues, field: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        exceptions.add_exception(1, values, actor=admin, now=NOW)
    assert (refused.value.field, refused.value.message) == (field, message)
    assert db.session.scalar(select(func.count()).select_from(ScheduleException)) == 0


def test_today_is_read_in_the_locations_zone(admin: User) -> None:
    # 23:30 UTC on Saturday 17 April is already Sunday in London (BST): Sunday is today.
    late = datetime(2027, 4, 17, 23, 30, tzinfo=UTC)
    values = ExceptionValues("extra_hours", SUNDAY, time(10), time(12), location_id=1)
    exceptions.add_exception(1, values, actor=admin, now=late)
    with pytest.raises(InvalidInput, match="today or in the future"):
        exceptions.add_exception(
            2, replace(values, on_date=date(2027, 4, 17)), actor=admin, now=late
        )


def test_extra_hours_only_clash_with_hours_that_apply_that_day(admin: User) -> None:
    # Mei's Monday hours end before 19 April from now on: Monday extra hours then fit.
    for hours in db.session.scalars(
        select(WorkingHours).where(WorkingHours.practitioner_id == 1, WorkingHours.weekday == 0)
    ):
        hours.valid_until = date(2027, 4, 18)
    values = ExceptionValues("extra_hours", MONDAY, time(12), time(14), location_id=2)
    row = exceptions.add_exception(1, values, actor=admin, now=NOW)
    assert (row.kind, row.location_id) == ("extra_hours", 2)


def test_closures_and_their_removal(admin: User) -> None:
    everywhere = exceptions.add_closure(
        ExceptionValues("holiday", MONDAY, reason="Easter Monday"), actor=admin, now=NOW
    )
    dublin = exceptions.add_closure(
        ExceptionValues("closure", SUNDAY, time(13), time(17), location_id=2), actor=admin, now=NOW
    )
    with pytest.raises(InvalidInput, match="Select where it applies"):
        exceptions.add_closure(
            ExceptionValues("closure", MONDAY, location_id=99), actor=admin, now=NOW
        )
    with pytest.raises(InvalidInput, match="Select closure or public holiday"):
        exceptions.add_closure(ExceptionValues("time_off", MONDAY), actor=admin, now=NOW)
    assert exceptions.upcoming_closures(today=SUNDAY) == [dublin, everywhere]
    assert exceptions.upcoming_closures(today=MONDAY) == [everywhere]
    # A practitioner's page shows closures too, but only removes their own rows.
    assert exceptions.upcoming_exceptions(1, today=SUNDAY) == [dublin, everywhere]
    with pytest.raises(NotFound):
        exceptions.remove_exception(1, everywhere.id, actor=admin, now=NOW)
    exceptions.remove_closure(everywhere.id, actor=admin, now=NOW)
    assert exceptions.upcoming_closures(today=SUNDAY) == [dublin]
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["setup.holiday.add", "setup.closure.add", "setup.holiday.remove"]


# ---- Sessions left outside open hours --------------------------------------------------------


def test_changes_list_the_sessions_left_outside_and_never_move_them(admin: User) -> None:
    monday_10 = datetime(2027, 4, 19, 9, tzinfo=UTC)  # 10am BST
    inside = book(practitioner_id=1, starts_at=monday_10)
    checked_in = book(
        practitioner_id=1, starts_at=monday_10 + timedelta(days=7), status="checked_in"
    )
    afternoon = book(practitioner_id=1, starts_at=monday_10 + timedelta(hours=5))
    for status in ("cancelled", "no_show", "held"):
        book(practitioner_id=1, starts_at=monday_10 + timedelta(hours=1), status=status)
    book(practitioner_id=1, starts_at=monday_10 - timedelta(days=7), status="completed")
    # Running past the end of the morning: outside already (the session, not its buffer, counts).
    over_lunch = book(
        practitioner_id=1, starts_at=monday_10 + timedelta(days=14, hours=2, minutes=45)
    )
    assert outside_ids(practitioner_id=1) == [over_lunch.id]

    monday_morning = db.session.scalar(
        select(WorkingHours.id).where(
            WorkingHours.practitioner_id == 1,
            WorkingHours.weekday == 0,
            WorkingHours.start_time == time(9),
        )
    )
    hours_service.remove_hours(1, monday_morning, actor=admin, now=NOW)
    assert outside_ids(practitioner_id=1) == [inside.id, checked_in.id, over_lunch.id]
    assert db.session.get(Appointment, inside.id).starts_at == monday_10  # never moved

    exceptions.add_exception(
        1, ExceptionValues("time_off", MONDAY, time(15), time(16)), actor=admin, now=NOW
    )
    assert outside_ids(practitioner_id=1) == [inside.id, afternoon.id, checked_in.id, over_lunch.id]
    # Someone else's sessions are not theirs to list.
    assert outside_ids(practitioner_id=2) == []


def test_extra_hours_can_cover_a_session_and_time_off_beats_them(admin: User) -> None:
    sunday_11 = book(practitioner_id=1, starts_at=datetime(2027, 4, 18, 10, tzinfo=UTC))
    assert outside_ids(practitioner_id=1) == [sunday_11.id]
    extra = ExceptionValues("extra_hours", SUNDAY, time(10), time(12), location_id=1)
    exceptions.add_exception(1, extra, actor=admin, now=NOW)
    assert outside_ids(practitioner_id=1) == []
    exceptions.add_exception(1, ExceptionValues("time_off", SUNDAY), actor=admin, now=NOW)
    assert outside_ids(practitioner_id=1) == [sunday_11.id]


def test_a_closure_lists_everyones_sessions_on_its_dates_only(admin: User) -> None:
    meis = book(practitioner_id=1, starts_at=datetime(2027, 4, 19, 9, tzinfo=UTC))
    sams = book(practitioner_id=4, starts_at=datetime(2027, 4, 19, 12, tzinfo=UTC))
    # Dublin, the same day: another location stays open.
    book(
        practitioner_id=3,
        location_id=2,
        starts_at=datetime(2027, 4, 19, 9, tzinfo=UTC),
        patient_index=1,
    )
    tuesday = book(practitioner_id=1, starts_at=datetime(2027, 4, 20, 9, tzinfo=UTC))
    exceptions.add_closure(ExceptionValues("closure", MONDAY, location_id=1), actor=admin, now=NOW)
    assert outside_ids(on_dates={MONDAY}) == [meis.id, sams.id]
    assert outside_ids(on_dates=set()) == []
    # Nothing is outside on Tuesday, even read directly.
    assert tuesday.id not in outside_ids(on_dates={date(2027, 4, 20)})


def test_local_dates_are_read_in_each_locations_zone(admin: User) -> None:
    # 23:30 UTC on Sunday 18 April is 00:30 BST on Monday 19 April: a Monday session.
    late = book(practitioner_id=1, starts_at=datetime(2027, 4, 18, 23, 30, tzinfo=UTC))
    exceptions.add_closure(ExceptionValues("closure", MONDAY), actor=admin, now=NOW)
    assert outside_ids(on_dates={MONDAY}) == [late.id]
    assert outside_ids(on_dates={SUNDAY}) == []


def test_listing_runs_a_bounded_number_of_queries(demo: Flask, admin: User) -> None:
    def queries() -> int:
        db.session.expire_all()
        with count_queries(demo) as statements:
            outside_hours.appointments_now_outside_hours(now=NOW, practitioner_id=1)
        return len(statements)

    book(practitioner_id=1, starts_at=datetime(2027, 4, 18, 9, tzinfo=UTC))
    one = queries()
    for day in range(1, 21):
        book(
            practitioner_id=1, starts_at=datetime(2027, 4, 18, 9, tzinfo=UTC) + timedelta(days=day)
        )
    assert queries() == one <= 7


def test_naive_now_is_refused(demo: Flask) -> None:
    with demo.app_context(), pytest.raises(InvalidInput):
        outside_hours.appointments_now_outside_hours(now=datetime(2027, 4, 13, 9))  # noqa: DTZ001


# ---- What the availability service then offers -----------------------------------------------


def sunday_starts() -> list[str]:
    follow_up = db.session.scalar(
        select(SessionType.id).where(SessionType.slug == "follow-up-acupuncture")
    )
    query = AvailabilityQuery(follow_up, 1, SUNDAY, SUNDAY, practitioner_id=1)
    london = ZoneInfo("Europe/London")
    return [f"{s.starts_at.astimezone(london):%H:%M}" for s in find_slots(query, now=NOW)]


def test_time_off_beats_extra_hours_in_what_patients_are_offered(admin: User) -> None:
    assert sunday_starts() == []  # Mei does not work Sundays
    extra = ExceptionValues("extra_hours", SUNDAY, time(10), time(12), location_id=1)
    exceptions.add_exception(1, extra, actor=admin, now=NOW)
    assert sunday_starts() == ["10:00", "10:15", "10:30", "10:45", "11:00", "11:15", "11:30"]
    part = exceptions.add_exception(
        1, ExceptionValues("time_off", SUNDAY, time(10), time(11)), actor=admin, now=NOW
    )
    assert sunday_starts() == ["11:00", "11:15", "11:30"]
    exceptions.remove_exception(1, part.id, actor=admin, now=NOW)
    exceptions.add_exception(1, ExceptionValues("time_off", SUNDAY), actor=admin, now=NOW)
    assert sunday_starts() == []


def test_a_closure_beats_extra_hours_in_what_patients_are_offered(admin: User) -> None:
    extra = ExceptionValues("extra_hours", SUNDAY, time(10), time(12), location_id=1)
    exceptions.add_exception(1, extra, actor=admin, now=NOW)
    exceptions.add_closure(
        ExceptionValues("closure", SUNDAY, time(11), time(12), location_id=1), actor=admin, now=NOW
    )
    assert sunday_starts() == ["10:00", "10:15", "10:30"]


# ---- Practitioners ---------------------------------------------------------------------------


def test_create_and_update_a_practitioner(admin: User) -> None:
    values = InviteValues(" Ana   Silva", "Ana.Silva@Meridian.Example", "practitioner")
    link = EmailedLink("raw-token", "https://clinic.example/auth/invitation/raw-token")
    ana = staff.invite_practitioner(values, link, actor=admin, now=NOW, clinic_name="Clinic")
    assert (ana.display_name, ana.user.email, ana.user.role, ana.is_active) == (
        "Ana Silva",
        "ana.silva@meridian.example",
        "practitioner",
        True,
    )
    assert ana.user.password_hash == staff.NO_PASSWORD  # they choose it on the link
    with pytest.raises(InvalidInput, match="already an account"):
        staff.invite_practitioner(
            replace(values, email="ANA.SILVA@meridian.example"),
            link,
            actor=admin,
            now=NOW,
            clinic_name="Clinic",
        )
    update = PractitionerValues("Ana Silva-Ng", " Bio. ", (3, 1), True, False)
    practitioners.update_practitioner(ana.id, update, actor=admin, now=NOW)
    assert [t.id for t in ana.session_types] == [1, 3]
    assert (ana.bio, ana.can_review_articles, ana.is_active, ana.user.display_name) == (
        "Bio.",
        True,
        False,
        "Ana Silva-Ng",
    )
    with pytest.raises(InvalidInput, match="Select session types from the list"):
        practitioners.update_practitioner(
            ana.id, replace(update, session_type_ids=(99,)), actor=admin, now=NOW
        )
    with pytest.raises(NotFound):
        practitioners.update_practitioner(99, update, actor=admin, now=NOW)
    details = db.session.scalars(
        select(AuditEvent.detail)
        .where(AuditEvent.action.like("setup.practitioner.%"))
        .order_by(AuditEvent.id)
    ).all()
    assert details == [
        "display_name, email",
        "bio, can_review_articles, display_name, is_active, session_types",
    ]
    assert db.session.scalar(select(func.count()).select_from(Practitioner)) == 5
