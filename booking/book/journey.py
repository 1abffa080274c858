"""The booking draft and the order of the journey's questions (ux.md §2)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import request, session
from flask_login import current_user
from sqlalchemy import and_, bindparam, select

from booking.book.slot_pages import Booking, parse_day, parse_start
from booking.catalogue_cache import PlaceRef, TypeRef, catalogue, journey_refs
from booking.db_hooks import read_rows
from booking.domain.errors import NotFound
from booking.domain.scheduling.dst import local_today
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    BookingDraft,
    PatientProfile,
    Role,
)
from booking.reference_cache import VERSION, read_version_with
from booking.security import signed_in
from booking.services.booking.availability import AvailabilityQuery
from booking.services.booking.availability_cache import Stamp, parse_stamp, stamp_columns
from booking.services.booking.drafts import DRAFT_LIFETIME, load_draft
from booking.services.booking.holds import is_first_visit
from booking.services.booking.patients import profile_for_user
from booking.services.platform.tokens import new_token, token_hash

T = TypeVar("T")
BOOKING_KEY = "booking_key"
# A journey started by GET /book and not yet answered: its first choices (ids of a session
# type and a place, never personal data) and when it started. The draft row is written by
# the first POST, so every GET of the journey is a plain read (issue 22).
BOOKING_START = "booking_start"
DETAILS = ("name", "date_of_birth", "contact", "contact_preference")
DRAFT_SECONDS = DRAFT_LIFETIME.total_seconds()
# The only answers GET /book may keep in the session cookie: ids, nothing personal.
START_ANSWERS = ("session_type_id", "location_id")
# Steps from here on show the hold line.
AFTER_TIME = ("returning", "find_you", *DETAILS, "safety", "check")


# `holds.current_hold` for the hold line: the two columns it shows, built once.
HOLD_STATEMENT = select(Appointment.id, Appointment.hold_expires_at).where(
    Appointment.hold_owner == bindparam("owner"), Appointment.status == AppointmentStatus.held
)


# A GET's one read (issue 22): the draft's columns, the reference version and the hold
# line's hold, instead of three statements (and on PostgreSQL BEGIN and ROLLBACK).
_draft = BookingDraft.__table__.c
_held = Appointment.__table__.c
GET_STATEMENT = (
    select(
        _draft.answers,
        _draft.expires_at,
        VERSION.label("reference_version"),
        _held.id.label("hold_id"),
        _held.hold_expires_at,
    )
    .select_from(BookingDraft.__table__)
    .outerjoin(
        Appointment.__table__,
        and_(
            _held.hold_owner == bindparam("key_hash"),
            _held.status == AppointmentStatus.held,
        ),
    )
    .where(_draft.key_hash == bindparam("key_hash"))
)
# The day and time pickers' read on PostgreSQL: the same, with the availability stamps of
# the draft's choices (their ids read from its answers, returned too so that the stamps
# are used only for the very choices the picker asks about): one statement, one round trip.
_chosen = (
    select(
        _draft.answers["session_type_id"].as_integer().label("session_type_id"),
        _draft.answers["location_id"].as_integer().label("location_id"),
        _draft.answers["practitioner"].as_string().label("practitioner"),
    )
    .where(_draft.key_hash == bindparam("key_hash"))
    .cte("chosen")
    .prefix_with("MATERIALIZED")  # the JSON read once, not once per row looked at
)
GET_WITH_STAMPS = GET_STATEMENT.add_columns(
    *(select(column).scalar_subquery().label(f"stamp_{column.name}") for column in _chosen.c),
    *(column.label(f"stamps_{n}") for n, column in enumerate(stamp_columns(_chosen))),
)
# Where the stamps are read with the draft. On PostgreSQL that saves a round trip (~120 µs
# of a GET's wall time measured at 1,000,000 appointments); SQLite reads the answers' JSON
# in each lookup, which costs more than its second statement (~0.3 ms against ~0.1 ms).
STAMPS_WITH_DRAFT = frozenset({"postgresql"})
STAMP_COLUMNS = [c.name for c in GET_WITH_STAMPS.selected_columns if c.name.startswith("stamps_")]


@dataclass(frozen=True)
class HeldTime:
    id: int
    hold_expires_at: datetime | None


def need(value: T | None) -> T:
    """A value the step order guarantees; its absence means the draft went away."""
    if value is None:
        raise NotFound("Start your booking again.")
    return value


def browser_key(*, create: bool = False) -> str | None:
    """This browser's random booking key (kept across sign-in); its hash keys the draft."""
    key = session.get(BOOKING_KEY)
    if key is None and create:
        key = new_token()
        session[BOOKING_KEY] = key
    return key


def hold_owner(*, create: bool = False) -> str | None:
    key = browser_key(create=create)
    return token_hash(key) if key else None


def signed_in_profile() -> PatientProfile | None:
    if signed_in() and current_user.role == Role.patient:
        return profile_for_user(current_user.id)
    return None


@dataclass
class Journey:
    """One browser's draft with what the pages derive from it."""

    draft: BookingDraft | None  # None: a GET's `read_answers`, never saved
    owner: str
    now: datetime
    # True while the draft lives only in memory (from BOOKING_START): the first save writes it.
    unsaved: bool = False
    # A GET's copy of the draft's answers, read with the hold in one statement: never saved.
    read_only: bool = False
    read_answers: dict[str, Any] | None = None
    read_hold: HeldTime | None = None
    # The day and time pickers' GETs: the availability stamps read with the draft, and
    # the (type id, location id, practitioner text) they were read for.
    read_stamp: tuple[tuple[Any, Any, Any], Stamp] | None = None
    _steps: list[str] | None = field(default=None, repr=False)

    @property
    def answers(self) -> dict[str, Any]:
        if self.draft is None:
            return self.read_answers or {}
        return self.draft.answers or {}

    def get(self, name: str, default: Any = None) -> Any:
        return self.answers.get(name, default)

    @cached_property
    def session_type(self) -> TypeRef | None:
        """The chosen type: this worker's copy of its row (reference version checked)."""
        type_id = self.get("session_type_id")
        return journey_refs().types.get(type_id) if type_id else None

    @cached_property
    def location(self) -> PlaceRef | None:
        location_id = self.get("location_id")
        return journey_refs().places.get(location_id) if location_id else None

    @property
    def zone_name(self) -> str:
        return self.location.timezone if self.location else "Europe/London"

    @property
    def practitioner_id(self) -> int | None:
        chosen = self.get("practitioner")
        return None if chosen in (None, "any") else int(chosen)

    @cached_property
    def picker(self) -> Booking:
        session_type, location = need(self.session_type), need(self.location)
        today = local_today(ZoneInfo(self.zone_name), now=self.now)
        practitioner_id = self.practitioner_id
        stamp = None
        if self.read_stamp is not None:
            (type_id, place_id, person), read = self.read_stamp
            if (type_id, place_id) == (session_type.id, location.id) and (
                person in (None, "any")
                if practitioner_id is None
                else person == str(practitioner_id)
            ):
                stamp = read  # read for these very choices: no statement of its own
        return Booking(
            query=AvailabilityQuery(
                session_type_id=session_type.id,
                location_id=location.id,
                date_from=today,
                date_to=today,
                practitioner_id=practitioner_id,
            ),
            location=location,
            clinic=journey_refs().clinic,
            stamp=stamp,
        )

    @property
    def day(self) -> date | None:
        return parse_day(self.get("day"))

    @property
    def starts_at(self) -> datetime | None:
        return parse_start(self.get("starts_at"))

    @cached_property
    def hold(self) -> HeldTime | None:
        """This browser's hold, live or expired: its id and expiry (one narrow read)."""
        if self.read_only:
            return self.read_hold  # read with the draft
        row = db.session.execute(HOLD_STATEMENT, {"owner": self.owner}).first()
        return None if row is None else HeldTime(id=row.id, hold_expires_at=row.hold_expires_at)

    @property
    def hold_is_live(self) -> bool:
        hold = self.hold
        return (
            hold is not None
            and hold.id == self.get("hold_id")
            and hold.hold_expires_at is not None
            and hold.hold_expires_at > self.now
        )

    @cached_property
    def patient(self) -> PatientProfile | None:
        profile = signed_in_profile()
        if profile is not None:
            return profile
        patient_id = self.get("patient_id")
        return db.session.get(PatientProfile, patient_id) if patient_id else None

    @cached_property
    def first_visit(self) -> bool:
        if self.patient is None:
            return True
        return is_first_visit(self.patient.id)

    @cached_property
    def several_locations(self) -> bool:
        type_id = self.get("session_type_id")
        if not type_id or self.session_type is None:
            return True
        return len(catalogue().places_offering(type_id)) > 1

    def steps(self) -> list[str]:
        """The questions this browser will be asked, in order.

        A GET's journey (read-only: its answers never change) works them out once; the step
        guard and the back link ask three times a request.
        """
        if self.read_only:
            if self._steps is None:
                self._steps = self._work_out_steps()
            return list(self._steps)
        return self._work_out_steps()

    def _work_out_steps(self) -> list[str]:
        order = ["type"]
        if self.several_locations:
            order.append("location")
        order += ["practitioner", "day", "time"]
        if signed_in_profile() is None:
            order.append("returning")
            if self.get("returning") == "yes" and self.patient is None:
                order.append("find_you")
        if self.patient is None and self.get("returning") != "yes":
            order += list(DETAILS)
        if self.first_visit:
            order.append("safety")
        order.append("check")
        return order

    def answered(self, step: str) -> bool:
        return _ANSWERED[step](self)

    def first_missing(self) -> str:
        for step in self.steps():
            if not self.answered(step):
                return step
        return "check"

    def after(self, step: str) -> str:
        order = self.steps()
        if step in order and order.index(step) + 1 < len(order):
            return order[order.index(step) + 1]
        return self.first_missing()

    def before(self, step: str) -> str | None:
        order = self.steps()
        if step in order and order.index(step) > 0:
            return order[order.index(step) - 1]
        return None


# Whether each question has its answer (only the asked one is worked out: `first_missing`
# asks them in order on every journey page).
_ANSWERED: dict[str, Callable[[Journey], bool]] = {
    "type": lambda j: j.session_type is not None,
    "location": lambda j: j.location is not None,
    "practitioner": lambda j: "practitioner" in j.answers,
    "day": lambda j: j.day is not None,
    "time": lambda j: j.starts_at is not None,
    "returning": lambda j: "returning" in j.answers or j.patient is not None,
    "find_you": lambda j: j.patient is not None,
    "name": lambda j: "given_name" in j.answers,
    "date_of_birth": lambda j: "date_of_birth" in j.answers,
    "contact": lambda j: "email" in j.answers and "phone" in j.answers,
    "contact_preference": lambda j: "contact_preference" in j.answers,
    "safety": lambda j: "safety" in j.answers,
    "check": lambda j: False,
}


def begin_journey(answers: dict[str, Any], *, now: datetime) -> Journey:
    """Start again without a write: the choices wait in the session until the first POST."""
    browser_key(create=True)
    session[BOOKING_START] = {"answers": answers, "at": now.timestamp()}
    return need(load_journey(now=now))


def load_journey(*, now: datetime, stamps: bool = False) -> Journey | None:
    """This browser's journey, or None. `stamps`: a GET reads the availability stamps of
    the draft's choices with it (the day and time pickers), in its one statement."""
    key = browser_key()
    if key is None:
        return None
    started = session.get(BOOKING_START)
    if isinstance(started, dict) and now.timestamp() - started.get("at", 0) < DRAFT_SECONDS:
        answers = {k: v for k, v in (started.get("answers") or {}).items() if k in START_ANSWERS}
        fresh = BookingDraft(key_hash=token_hash(key), answers=answers, expires_at=now)
        return Journey(draft=fresh, owner=token_hash(key), now=now, unsaved=True)
    if request.method in ("GET", "HEAD"):
        return _read_journey(token_hash(key), now=now, stamps=stamps)
    draft = load_draft(token_hash(key), now=now)
    if draft is None:
        return None
    return Journey(draft=draft, owner=token_hash(key), now=now)


def _read_journey(key_hash: str, *, now: datetime, stamps: bool = False) -> Journey | None:
    """A GET's journey: the draft (a copy, not in the session), the reference version and
    the hold (and the pickers' availability stamps) in one statement, on its own when the
    request has read nothing yet: the stamps are read before any free time is."""
    stamps = stamps and db.engine.dialect.name in STAMPS_WITH_DRAFT
    rows = read_rows(GET_WITH_STAMPS if stamps else GET_STATEMENT, {"key_hash": key_hash})
    if not rows:
        return None
    row = rows[0]
    read_version_with(row.reference_version)
    if row.expires_at <= now:
        return None
    hold = None if row.hold_id is None else HeldTime(row.hold_id, row.hold_expires_at)
    return Journey(
        draft=None,
        owner=key_hash,
        now=now,
        read_only=True,
        read_answers=row.answers,
        read_hold=hold,
        read_stamp=(
            (
                (row.stamp_session_type_id, row.stamp_location_id, row.stamp_practitioner),
                parse_stamp(row._mapping[name] for name in STAMP_COLUMNS),
            )
            if stamps
            else None
        ),
    )


def booked_appointment(journey: Journey) -> Appointment | None:
    booked_id = journey.get("booked_id")
    if not booked_id:
        return None
    appointment = db.session.get(Appointment, booked_id)
    if appointment is None or appointment.hold_owner != journey.owner:
        return None
    if appointment.status == AppointmentStatus.held:
        return None
    return appointment
