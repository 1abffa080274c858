"""Practitioners, weekly hours, time off, extra hours, closures and holidays.

Each write checks its own rules (the forms check them first; these checks are the backstop for
any other caller), writes an audit row and flushes; the view commits. Nothing here ever moves
an appointment: after a change, `appointments_now_outside_hours` lists the sessions left
outside open hours, computed on read by the scheduling engine and stored nowhere.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    ExceptionKind,
    Location,
    Practitioner,
    Role,
    ScheduleException,
    SessionType,
    User,
    WorkingHours,
)
from booking.scheduling import availability as engine
from booking.scheduling.errors import InvalidInput, NotFound
from booking.services.audit import record_event
from booking.services.clinic import DEFAULT_ZONE, get_clinic
from booking.services.setup import NAME_MAX
from booking.services.users import (
    STAFF_PASSWORD_MIN,
    check_password_rule,
    hash_password,
)

WEEKDAYS = engine.WEEKDAY_NAMES
BIO_MAX = 2000
REASON_MAX = 200
EMAIL_MAX = 254
PASSWORD_MIN = STAFF_PASSWORD_MIN
EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com"
PRACTITIONER_KINDS = frozenset({ExceptionKind.time_off, ExceptionKind.extra_hours})
CLINIC_KINDS = frozenset({ExceptionKind.closure, ExceptionKind.holiday})
# Sessions still to be resolved by staff; held, completed and cancelled rows need nobody.
REVIEW_STATUSES = (AppointmentStatus.booked, AppointmentStatus.checked_in)


@dataclass(frozen=True, slots=True)
class NewPractitionerValues:
    display_name: str
    email: str
    password: str


@dataclass(frozen=True, slots=True)
class PractitionerValues:
    display_name: str
    bio: str
    session_type_ids: tuple[int, ...]
    can_review_articles: bool
    is_active: bool


@dataclass(frozen=True, slots=True)
class HoursValues:
    location_id: int
    weekday: int
    start_time: time
    end_time: time
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True, slots=True)
class ExceptionValues:
    """Time off or extra hours of a practitioner, or a closure or holiday.

    No times means the whole day. `location_id` is where extra hours are worked, or where a
    closure applies (None: every location).
    """

    kind: str
    on_date: date
    start_time: time | None = None
    end_time: time | None = None
    location_id: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class HoursGroup:
    """A practitioner's weekly hours at one location, by weekday (Monday first)."""

    location: Location
    days: tuple[tuple[str, tuple[WorkingHours, ...]], ...]


# ---- Words ------------------------------------------------------------------------------------


def clock(value: time) -> str:
    """'9am', '2:30pm', as the pages show times."""
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


def describe_hours(hours: WorkingHours, location_name: str) -> str:
    """'Monday 9am to 1pm at Islington', naming one interval on a button or in a message."""
    return (
        f"{WEEKDAYS[hours.weekday]} {clock(hours.start_time)} to {clock(hours.end_time)} "
        f"at {location_name}"
    )


# ---- Reading ----------------------------------------------------------------------------------


def practitioners() -> list[Practitioner]:
    """Every practitioner, in use or not, with account and session types loaded (3 queries)."""
    return list(
        db.session.scalars(
            select(Practitioner)
            .options(selectinload(Practitioner.user), selectinload(Practitioner.session_types))
            .order_by(Practitioner.display_name, Practitioner.id)
        )
    )


def get_practitioner(practitioner_id: int) -> Practitioner:
    """The practitioner with this id. Raises NotFound."""
    practitioner = db.session.get(Practitioner, practitioner_id)
    if practitioner is None:
        raise NotFound("Practitioner not found")
    return practitioner


def practitioner_of(user: User) -> Practitioner | None:
    """The practitioner row of a signed-in practitioner, if there is one."""
    return db.session.scalar(select(Practitioner).where(Practitioner.user_id == user.id))


def session_type_choices(selected: Iterable[int] = ()) -> list[tuple[int, str]]:
    """Bookable session types, plus any others already chosen, as (id, name)."""
    keep = set(selected)
    rows = db.session.execute(
        select(SessionType.id, SessionType.name, SessionType.is_active).order_by(
            SessionType.sort_order, SessionType.id
        )
    )
    return [(tid, name) for tid, name, active in rows if active or tid in keep]


def location_choices(selected: int | None = None) -> list[tuple[int, str]]:
    """Locations in use, plus the one already chosen, as (id, name)."""
    rows = db.session.execute(
        select(Location.id, Location.name, Location.is_active).order_by(Location.name)
    )
    return [(lid, name) for lid, name, active in rows if active or lid == selected]


def location_names() -> dict[int, str]:
    return dict(db.session.execute(select(Location.id, Location.name)).all())


def hours_by_location(practitioner_id: int) -> list[HoursGroup]:
    """A practitioner's weekly hours grouped by location, then weekday (2 queries)."""
    rows = list(
        db.session.scalars(
            select(WorkingHours)
            .where(WorkingHours.practitioner_id == practitioner_id)
            .order_by(WorkingHours.weekday, WorkingHours.start_time, WorkingHours.id)
        )
    )
    if not rows:
        return []
    locations = db.session.scalars(
        select(Location)
        .where(Location.id.in_({h.location_id for h in rows}))
        .order_by(Location.name, Location.id)
    )
    groups = []
    for location in locations:
        by_day: dict[int, list[WorkingHours]] = defaultdict(list)
        for hours in rows:
            if hours.location_id == location.id:
                by_day[hours.weekday].append(hours)
        days = tuple((WEEKDAYS[day], tuple(items)) for day, items in sorted(by_day.items()))
        groups.append(HoursGroup(location, days))
    return groups


def clinic_today(now: datetime, location: Location | None = None) -> date:
    """Today at a location, or in the clinic's zone."""
    if location is not None:
        zone = location.timezone
    else:
        clinic = get_clinic()
        zone = clinic.timezone if clinic else DEFAULT_ZONE
    return now.astimezone(ZoneInfo(zone)).date()


def upcoming_exceptions(practitioner_id: int, *, today: date) -> list[ScheduleException]:
    """From `today` on: the practitioner's time off and extra hours, and every closure or
    holiday (they apply to everyone), by date."""
    return list(
        db.session.scalars(
            select(ScheduleException)
            .where(
                ScheduleException.on_date >= today,
                or_(
                    ScheduleException.practitioner_id == practitioner_id,
                    ScheduleException.practitioner_id.is_(None),
                ),
            )
            .order_by(ScheduleException.on_date, ScheduleException.start_time, ScheduleException.id)
        )
    )


def upcoming_closures(*, today: date) -> list[ScheduleException]:
    """Closures and holidays from `today` on, by date."""
    return list(
        db.session.scalars(
            select(ScheduleException)
            .where(
                ScheduleException.on_date >= today,
                ScheduleException.kind.in_(CLINIC_KINDS),
                ScheduleException.practitioner_id.is_(None),
            )
            .order_by(ScheduleException.on_date, ScheduleException.start_time, ScheduleException.id)
        )
    )


# ---- Checks -----------------------------------------------------------------------------------


def _name(text: str) -> str:
    cleaned = " ".join(text.split())
    if not cleaned:
        raise InvalidInput("Enter a name", field="display_name")
    if len(cleaned) > NAME_MAX:
        raise InvalidInput(f"Name must be {NAME_MAX} characters or fewer", field="display_name")
    return cleaned


def normalise_email(text: str) -> str:
    """The address as email-validator normalises it, lower-cased. Raises InvalidInput."""
    text = text.strip()
    if not text:
        raise InvalidInput("Enter an email address", field="email")
    if len(text) > EMAIL_MAX:
        raise InvalidInput("Email address must be 254 characters or fewer", field="email")
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise InvalidInput(EMAIL_FORMAT, field="email") from error


def check_password(password: str) -> None:
    """Raises InvalidInput unless the password is 15 to 128 characters long and not common."""
    check_password_rule(password, minimum=PASSWORD_MIN, field="password")


def _reason(text: str) -> str:
    cleaned = " ".join(text.split())
    if len(cleaned) > REASON_MAX:
        raise InvalidInput(f"Reason must be {REASON_MAX} characters or fewer", field="reason")
    return cleaned


def _location(location_id: int | None, message: str) -> Location:
    location = db.session.get(Location, location_id) if location_id is not None else None
    if location is None:
        raise InvalidInput(message, field="location_id")
    return location


def _times(start: time | None, end: time | None, *, needed: bool) -> None:
    if start is None and end is None and not needed:
        return
    if start is None:
        raise InvalidInput("Enter a start time, like 9:00 or 2:30pm", field="start_time")
    if end is None:
        raise InvalidInput("Enter an end time, like 5:30pm or 17:30", field="end_time")
    if end <= start:
        raise InvalidInput("End time must be after start time", field="end_time")


def _audit(
    action: str,
    obj: Practitioner | WorkingHours | ScheduleException,
    actor: User,
    now: datetime,
    detail: str,
) -> None:
    record_event(
        action,
        actor=actor,
        now=now,
        object_type=type(obj).__tablename__,
        object_id=obj.id,
        detail=detail[:200] or None,
    )


def _validity_overlaps(a: engine.WeeklyHours, b: engine.WeeklyHours) -> bool:
    return max(a.valid_from or date.min, b.valid_from or date.min) <= min(
        a.valid_until or date.max, b.valid_until or date.max
    )


def _spec(hours: WorkingHours | HoursValues, practitioner_id: int) -> engine.WeeklyHours:
    return engine.WeeklyHours(
        practitioner_id=practitioner_id,
        location_id=hours.location_id,
        weekday=hours.weekday,
        start_time=hours.start_time,
        end_time=hours.end_time,
        valid_from=hours.valid_from,
        valid_until=hours.valid_until,
    )


# ---- Practitioners ----------------------------------------------------------------------------


def create_practitioner(
    values: NewPractitionerValues, *, actor: User, now: datetime, cost: tuple[int, int, int]
) -> Practitioner:
    """Add a practitioner with a sign-in account; they change the first password later.

    Raises InvalidInput (with `field`) for an empty or over-long name, a malformed email, an
    email that already has an account, or a password shorter than 15 characters.
    """
    name = _name(values.display_name)
    email = normalise_email(values.email)
    taken = db.session.scalar(select(User.id).where(func.lower(User.email) == email))
    if taken is not None:
        raise InvalidInput("There is already an account with this email address", field="email")
    check_password(values.password)
    user = User(
        email=email,
        role=Role.practitioner,
        display_name=name,
        password_hash=hash_password(values.password, cost=cost),
    )
    db.session.add(user)
    db.session.flush()
    practitioner = Practitioner(user_id=user.id, display_name=name, bio="")
    db.session.add(practitioner)
    db.session.flush()
    _audit("setup.practitioner.create", practitioner, actor, now, "display_name, email")
    return practitioner


def update_practitioner(
    practitioner_id: int, values: PractitionerValues, *, actor: User, now: datetime
) -> Practitioner:
    """Change a practitioner's profile and the session types they offer.

    Booked sessions stay booked, even of a type they no longer offer or when they are no
    longer in use. Raises NotFound for an unknown id, InvalidInput (with `field`) for an empty
    or over-long name, a bio over 2,000 characters or an unknown session type.
    """
    practitioner = get_practitioner(practitioner_id)
    name = _name(values.display_name)
    bio = values.bio.strip()
    if len(bio) > BIO_MAX:
        raise InvalidInput(f"Bio must be {BIO_MAX:,} characters or fewer", field="bio")
    wanted = set(values.session_type_ids)
    types = list(
        db.session.scalars(
            select(SessionType)
            .where(SessionType.id.in_(wanted))
            .order_by(SessionType.sort_order, SessionType.id)
        )
    )
    if len(types) != len(wanted):
        raise InvalidInput("Select session types from the list", field="session_type_ids")
    changed = []
    for field, value in (
        ("display_name", name),
        ("bio", bio),
        ("can_review_articles", values.can_review_articles),
        ("is_active", values.is_active),
    ):
        if getattr(practitioner, field) != value:
            setattr(practitioner, field, value)
            changed.append(field)
    if {t.id for t in practitioner.session_types} != wanted:
        practitioner.session_types = types
        changed.append("session_types")
    if practitioner.user.display_name != name:
        practitioner.user.display_name = name
    db.session.flush()
    _audit("setup.practitioner.update", practitioner, actor, now, ", ".join(sorted(changed)))
    return practitioner


# ---- Weekly hours -----------------------------------------------------------------------------


def add_hours(
    practitioner_id: int, values: HoursValues, *, actor: User, now: datetime
) -> WorkingHours:
    """Add a weekly interval; booked sessions are never moved by it.

    Raises NotFound for an unknown practitioner, InvalidInput (with `field`) for an unknown
    location, a weekday outside Monday to Sunday, an end not after the start, an end date
    before the start date, or hours overlapping the practitioner's other hours on that weekday
    at any location while both apply (checked by `validate_weekly_hours`).
    """
    get_practitioner(practitioner_id)
    location = _location(values.location_id, "Select a location from the list")
    if not 0 <= values.weekday <= 6:
        raise InvalidInput("Select a day", field="weekday")
    _times(values.start_time, values.end_time, needed=True)
    if values.valid_from and values.valid_until and values.valid_until < values.valid_from:
        raise InvalidInput(
            "The last day must be the same as or after the first day", field="valid_until"
        )
    existing = list(
        db.session.scalars(
            select(WorkingHours).where(WorkingHours.practitioner_id == practitioner_id)
        )
    )
    specs = [_spec(h, practitioner_id) for h in existing]
    new = _spec(values, practitioner_id)
    if len(engine.validate_weekly_hours([*specs, new])) > len(engine.validate_weekly_hours(specs)):
        clash = next(
            (
                h
                for h, spec in zip(existing, specs, strict=True)
                if spec.weekday == new.weekday
                and spec.start_time < new.end_time
                and new.start_time < spec.end_time
                and _validity_overlaps(spec, new)
            ),
            None,
        )
        where = describe_hours(clash, location_names()[clash.location_id]) if clash else ""
        raise InvalidInput(f"These hours overlap {where}".strip(), field="start_time")
    hours = WorkingHours(
        practitioner_id=practitioner_id,
        location_id=location.id,
        weekday=values.weekday,
        start_time=values.start_time,
        end_time=values.end_time,
        valid_from=values.valid_from,
        valid_until=values.valid_until,
    )
    db.session.add(hours)
    db.session.flush()
    _audit("setup.hours.add", hours, actor, now, describe_hours(hours, location.name))
    return hours


def remove_hours(practitioner_id: int, hours_id: int, *, actor: User, now: datetime) -> str:
    """Delete one of a practitioner's weekly intervals and return its description.

    Raises NotFound when the interval does not exist or belongs to someone else.
    """
    hours = db.session.get(WorkingHours, hours_id)
    if hours is None or hours.practitioner_id != practitioner_id:
        raise NotFound("Hours not found")
    described = describe_hours(hours, location_names().get(hours.location_id, "a location"))
    _audit("setup.hours.remove", hours, actor, now, described)
    db.session.delete(hours)
    db.session.flush()
    return described


# ---- Time off, extra hours, closures and holidays ---------------------------------------------


def _check_date(on_date: date, location: Location | None, now: datetime) -> None:
    if on_date < clinic_today(now, location):
        raise InvalidInput("Date must be today or in the future", field="on_date")


def add_exception(
    practitioner_id: int, values: ExceptionValues, *, actor: User, now: datetime
) -> ScheduleException:
    """Add time off (whole or part day, every location) or extra hours at one location.

    Time off beats extra hours on the same day. Booked sessions are never moved.
    Raises NotFound for an unknown practitioner, InvalidInput (with `field`) for another kind,
    a date before today, a missing location for extra hours, missing times for extra hours or
    only one time for time off, an end not after the start, extra hours overlapping the
    practitioner's weekly or extra hours that day (at any location), or a long reason.
    """
    practitioner = get_practitioner(practitioner_id)
    if values.kind not in PRACTITIONER_KINDS:
        raise InvalidInput("Select time off or extra hours", field="kind")
    kind = ExceptionKind(values.kind)
    location = None
    if kind == ExceptionKind.extra_hours:
        location = _location(values.location_id, "Select where the extra hours are")
    _check_date(values.on_date, location, now)
    _times(values.start_time, values.end_time, needed=kind == ExceptionKind.extra_hours)
    reason = _reason(values.reason)
    if kind == ExceptionKind.extra_hours:
        _check_extra_hours(practitioner.id, values)
    row = ScheduleException(
        kind=kind,
        practitioner_id=practitioner.id,
        location_id=location.id if location else None,
        on_date=values.on_date,
        start_time=values.start_time,
        end_time=values.end_time,
        reason=reason,
    )
    db.session.add(row)
    db.session.flush()
    _audit(f"setup.{kind.value}.add", row, actor, now, values.on_date.isoformat())
    return row


def _check_extra_hours(practitioner_id: int, values: ExceptionValues) -> None:
    """Extra hours must add time: refuse any overlap with hours already open that day."""
    start, end, day = values.start_time, values.end_time, values.on_date
    if start is None or end is None:  # refused earlier by _times
        return
    names = location_names()
    weekly = db.session.scalars(
        select(WorkingHours).where(
            WorkingHours.practitioner_id == practitioner_id,
            WorkingHours.weekday == day.weekday(),
            WorkingHours.start_time < end,
            WorkingHours.end_time > start,
        )
    )
    for hours in weekly:
        if _spec(hours, practitioner_id).valid_on(day):
            where = f"{clock(hours.start_time)} to {clock(hours.end_time)}"
            raise InvalidInput(
                f"These extra hours overlap working hours, {where} at "
                f"{names.get(hours.location_id, 'another location')}",
                field="start_time",
            )
    extra = db.session.scalar(
        select(ScheduleException).where(
            ScheduleException.practitioner_id == practitioner_id,
            ScheduleException.kind == ExceptionKind.extra_hours,
            ScheduleException.on_date == day,
            ScheduleException.start_time < end,
            ScheduleException.end_time > start,
        )
    )
    # The query compared both times, so neither is None on a row it found.
    if extra is not None and extra.start_time is not None and extra.end_time is not None:
        raise InvalidInput(
            f"These extra hours overlap extra hours already added, "
            f"{clock(extra.start_time)} to {clock(extra.end_time)}",
            field="start_time",
        )


def remove_exception(
    practitioner_id: int, exception_id: int, *, actor: User, now: datetime
) -> ScheduleException:
    """Delete a practitioner's time off or extra hours.

    Raises NotFound when it does not exist or is someone else's (closures are removed with
    `remove_closure`).
    """
    row = db.session.get(ScheduleException, exception_id)
    if row is None or row.practitioner_id != practitioner_id:
        raise NotFound("Time off not found")
    _audit(f"setup.{row.kind.value}.remove", row, actor, now, row.on_date.isoformat())
    db.session.delete(row)
    db.session.flush()
    return row


def add_closure(values: ExceptionValues, *, actor: User, now: datetime) -> ScheduleException:
    """Close one location, or every location when `location_id` is None, for a day or part.

    Closures beat everyone's hours and extra hours; booked sessions are never moved.
    Raises InvalidInput (with `field`) for a kind other than closure or holiday, an unknown
    location, a date before today, only one time, an end not after the start or a long reason.
    """
    if values.kind not in CLINIC_KINDS:
        raise InvalidInput("Select closure or public holiday", field="kind")
    location = None
    if values.location_id is not None:
        location = _location(values.location_id, "Select where it applies")
    _check_date(values.on_date, location, now)
    _times(values.start_time, values.end_time, needed=False)
    row = ScheduleException(
        kind=ExceptionKind(values.kind),
        practitioner_id=None,
        location_id=location.id if location else None,
        on_date=values.on_date,
        start_time=values.start_time,
        end_time=values.end_time,
        reason=_reason(values.reason),
    )
    db.session.add(row)
    db.session.flush()
    _audit(f"setup.{values.kind}.add", row, actor, now, values.on_date.isoformat())
    return row


def remove_closure(exception_id: int, *, actor: User, now: datetime) -> ScheduleException:
    """Delete a closure or holiday. Raises NotFound for anything else."""
    row = db.session.get(ScheduleException, exception_id)
    if row is None or row.kind not in CLINIC_KINDS or row.practitioner_id is not None:
        raise NotFound("Closure not found")
    _audit(f"setup.{row.kind.value}.remove", row, actor, now, row.on_date.isoformat())
    db.session.delete(row)
    db.session.flush()
    return row


# ---- What a change left outside hours --------------------------------------------------------


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def appointments_now_outside_hours(
    *,
    now: datetime,
    practitioner_id: int | None = None,
    on_dates: Iterable[date] | None = None,
) -> list[Appointment]:
    """Booked and checked-in sessions not yet over that lie outside open hours, by start.

    Either one practitioner's sessions, or everyone's on the given local dates (at most a day
    either side is loaded, then each session's date is read in its location's zone). Uses
    `booking.scheduling.availability.appointments_outside_hours`; loads in at most 7 queries.
    Raises InvalidInput for a naive `now`.
    """
    if now.tzinfo is None:
        raise InvalidInput("now must be timezone-aware", field="now")
    query = (
        select(Appointment)
        .where(Appointment.status.in_(REVIEW_STATUSES), Appointment.ends_at > now)
        .options(
            selectinload(Appointment.patient),
            selectinload(Appointment.practitioner),
            selectinload(Appointment.session_type),
            selectinload(Appointment.location),
        )
        .order_by(Appointment.starts_at, Appointment.practitioner_id, Appointment.id)
    )
    dates: set[date] | None = None
    if practitioner_id is not None:
        query = query.where(Appointment.practitioner_id == practitioner_id)
    if on_dates is not None:
        dates = set(on_dates)
        if not dates:
            return []
        query = query.where(
            or_(
                *(
                    and_(
                        Appointment.starts_at >= _utc_midnight(d - timedelta(days=1)),
                        Appointment.starts_at < _utc_midnight(d + timedelta(days=2)),
                    )
                    for d in sorted(dates)
                )
            )
        )
    appointments = list(db.session.scalars(query))
    if dates is not None:
        appointments = [
            a
            for a in appointments
            if a.starts_at.astimezone(ZoneInfo(a.location.timezone)).date() in dates
        ]
    if not appointments:
        return []
    pids = {a.practitioner_id for a in appointments}
    first = min(a.starts_at for a in appointments).date() - timedelta(days=1)
    last = max(a.ends_at for a in appointments).date() + timedelta(days=1)
    hours = [
        engine.WeeklyHours(*row)
        for row in db.session.execute(
            select(
                WorkingHours.practitioner_id,
                WorkingHours.location_id,
                WorkingHours.weekday,
                WorkingHours.start_time,
                WorkingHours.end_time,
                WorkingHours.valid_from,
                WorkingHours.valid_until,
            ).where(WorkingHours.practitioner_id.in_(pids))
        )
    ]
    exceptions = [
        engine.ScheduleException(str(kind), on_date, practitioner_id, location_id, start, end)
        for kind, on_date, practitioner_id, location_id, start, end in db.session.execute(
            select(
                ScheduleException.kind,
                ScheduleException.on_date,
                ScheduleException.practitioner_id,
                ScheduleException.location_id,
                ScheduleException.start_time,
                ScheduleException.end_time,
            ).where(
                ScheduleException.on_date.between(first, last),
                or_(
                    ScheduleException.practitioner_id.in_(pids),
                    ScheduleException.practitioner_id.is_(None),
                ),
            )
        )
    ]
    zones = {a.location_id: a.location.timezone for a in appointments}
    outside = set(
        engine.appointments_outside_hours(
            hours=hours,
            exceptions=exceptions,
            timezone=zones,
            appointments=[
                (a.id, a.practitioner_id, a.location_id, a.starts_at, a.ends_at)
                for a in appointments
            ],
        )
    )
    return [a for a in appointments if a.id in outside]
