"""What the API accepts and returns: query and body parsing with per-field errors, JSON shapes.

Parsing lists the fields it reads (no bulk binding: extra keys are ignored). Every refusal
names its field, so a client can show each message beside its input.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, cast
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email

from booking.domain.errors import InvalidInput
from booking.domain.phones import parse_phone, phone_format_message
from booking.inputs import CONTROL_CHARACTERS, MAX_ID, MAX_JSON_DEPTH, json_refusal
from booking.models import Appointment

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_AVAILABILITY_DAYS = 31
MAX_LIST_DAYS = 92
MAX_NAME = 100
MAX_REASON = 500
MIN_YEAR, MAX_YEAR = 1900, 2999
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DIGITS = re.compile(r"^[0-9]{1,10}$")


class RequestRefused(Exception):  # noqa: N818 - names the condition, as DomainError does
    """A request the API refuses before any service runs: 400 or 422 with per-field errors."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, str]]) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors


class _Errors:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, detail: str) -> None:
        self.items.append({"field": field, "detail": detail})

    def raise_if_any(self, status: int) -> None:
        if self.items:
            noun = "field" if len(self.items) == 1 else "fields"
            names = ", ".join(item["field"] for item in self.items)
            raise RequestRefused(status, f"Check the {noun}: {names}.", self.items)


# --- query strings ----------------------------------------------------------------------


def _id_value(raw: Any) -> int | None:
    """A JSON id: an integer (not a boolean, not text) from 1 to MAX_ID."""
    if isinstance(raw, bool) or not isinstance(raw, int):
        return None
    return raw if 1 <= raw <= MAX_ID else None


def _id_arg(args: Mapping[str, str], name: str, errors: _Errors, *, needed: bool) -> int | None:
    raw = args.get(name)
    if raw is None or raw == "":
        if needed:
            errors.add(name, f"Give {name} as a whole number from 1 to {MAX_ID}.")
        return None
    value = int(raw) if _DIGITS.match(raw) else 0
    if not 1 <= value <= MAX_ID:
        errors.add(name, f"{name} must be a whole number from 1 to {MAX_ID}.")
        return None
    return value


def _date_value(raw: Any) -> date | None:
    if not isinstance(raw, str) or not _DATE.match(raw):
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        return None
    # Far-off years only overflow the time-zone maths; no clinic books there.
    return value if MIN_YEAR <= value.year <= MAX_YEAR else None


def _date_arg(args: Mapping[str, str], name: str, errors: _Errors, *, needed: bool) -> date | None:
    raw = args.get(name)
    if raw is None or raw == "":
        if needed:
            errors.add(name, f"Give {name} as a date, like 2026-12-01.")
        return None
    value = _date_value(raw)
    if value is None:
        errors.add(
            name, f"{name} must be a real date from {MIN_YEAR} to {MAX_YEAR}, like 2026-12-01."
        )
    return value


def _limit_arg(args: Mapping[str, str], errors: _Errors) -> int:
    raw = args.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not _DIGITS.match(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        errors.add("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}.")
        return DEFAULT_LIMIT
    return int(raw)


def encode_cursor(key: list[Any]) -> str:
    """An opaque cursor for the row after `key` (its sort key)."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _cursor_arg(args: Mapping[str, str], errors: _Errors, shape: tuple[type, ...]) -> Any:
    raw = args.get("cursor")
    if raw is None or raw == "":
        return None
    try:
        if len(raw) > 400:
            raise ValueError
        key = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(key, list) or len(key) != len(shape):
            raise ValueError
        if not all(
            isinstance(v, t) and not isinstance(v, bool) for v, t in zip(key, shape, strict=True)
        ):
            raise ValueError
        # Every number in a cursor is an id: beyond 32 bits it would fail inside the query.
        if any(isinstance(v, int) and not 1 <= v <= MAX_ID for v in key):
            raise ValueError
        if str in shape:
            key = [datetime.fromisoformat(v) if isinstance(v, str) else v for v in key]
            if any(
                isinstance(v, datetime) and (v.tzinfo is None or not MIN_YEAR <= v.year <= MAX_YEAR)
                for v in key
            ):
                raise ValueError
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        errors.add("cursor", "cursor must be a next_cursor value returned by this API.")
        return None
    return key


@dataclass(frozen=True)
class Page:
    limit: int
    after: Any  # the decoded cursor: the sort key of the last row already returned


def page_args(args: Mapping[str, str], shape: tuple[type, ...] = (int,)) -> Page:
    """`limit` and `cursor` of a list request. Raises RequestRefused (400)."""
    errors = _Errors()
    limit = _limit_arg(args, errors)
    after = _cursor_arg(args, errors, shape)
    errors.raise_if_any(400)
    return Page(limit, after)


@dataclass(frozen=True)
class AvailabilityArgs:
    session_type_id: int
    date_from: date
    date_to: date
    practitioner_id: int | None
    location_id: int | None
    page: Page


def availability_args(args: Mapping[str, str]) -> AvailabilityArgs:
    """Parse GET /availability. Raises RequestRefused (400), also for ranges over 31 days."""
    errors = _Errors()
    session_type_id = _id_arg(args, "session_type_id", errors, needed=True)
    date_from = _date_arg(args, "from", errors, needed=True)
    date_to = _date_arg(args, "to", errors, needed=True)
    practitioner_id = _id_arg(args, "practitioner_id", errors, needed=False)
    location_id = _id_arg(args, "location_id", errors, needed=False)
    limit = _limit_arg(args, errors)
    after = _cursor_arg(args, errors, (str, int, int))
    if date_from and date_to:
        if date_to < date_from:
            errors.add("to", "to must be the same as or after from.")
        elif (date_to - date_from).days + 1 > MAX_AVAILABILITY_DAYS:
            errors.add(
                "to", f"The range from from to to must be {MAX_AVAILABILITY_DAYS} days or fewer."
            )
    errors.raise_if_any(400)
    # raise_if_any refused a missing one, so these are set.
    return AvailabilityArgs(
        cast(int, session_type_id),
        cast(date, date_from),
        cast(date, date_to),
        practitioner_id,
        location_id,
        Page(limit, after),
    )


@dataclass(frozen=True)
class ListArgs:
    date_from: date | None
    date_to: date | None
    practitioner_id: int | None
    page: Page


def appointment_list_args(args: Mapping[str, str]) -> ListArgs:
    """Parse GET /appointments. Raises RequestRefused (400)."""
    errors = _Errors()
    date_from = _date_arg(args, "from", errors, needed=False)
    date_to = _date_arg(args, "to", errors, needed=False)
    practitioner_id = _id_arg(args, "practitioner_id", errors, needed=False)
    limit = _limit_arg(args, errors)
    after = _cursor_arg(args, errors, (str, int))
    if date_from and date_to:
        if date_to < date_from:
            errors.add("to", "to must be the same as or after from.")
        elif (date_to - date_from).days + 1 > MAX_LIST_DAYS:
            errors.add("to", f"The range from from to to must be {MAX_LIST_DAYS} days or fewer.")
    errors.raise_if_any(400)
    return ListArgs(date_from, date_to, practitioner_id, Page(limit, after))


# --- bodies -----------------------------------------------------------------------------


def check_json_body(data: bytes) -> None:
    """Refuse a JSON body nested deeper than MAX_JSON_DEPTH (400) or with unstorable text (422).

    A body that does not parse is left to the view, which answers it in its own words.
    """
    too_deep = f"JSON may be nested at most {MAX_JSON_DEPTH} levels deep."
    try:
        refused = json_refusal(json.loads(data))
    except RecursionError:  # the parser gave up long before MAX_CONTENT_LENGTH
        refused = (400, "body")
    except ValueError:
        return
    if refused is None:
        return
    status, field = refused
    if status == 400:
        raise RequestRefused(400, too_deep, [{"field": "body", "detail": too_deep}])
    raise RequestRefused(
        422,
        f"Check the field: {field}.",
        [{"field": field, "detail": f"Text {CONTROL_CHARACTERS}."}],
    )


def json_object(raw: Any, *, optional: bool = False) -> dict[str, Any]:
    """The request body as a JSON object. Raises RequestRefused (400)."""
    if raw is None and optional:
        return {}
    if not isinstance(raw, dict):
        raise RequestRefused(
            400,
            "Send a JSON object with the header Content-Type: application/json.",
            [{"field": "body", "detail": "The body must be a JSON object."}],
        )
    return raw


def _text(
    body: Mapping[str, Any], key: str, label: str, errors: _Errors, *, field: str, max_len: int
) -> str | None:
    raw = body.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        errors.add(field, f"Enter {label}.")
        return None
    if not isinstance(raw, str):
        errors.add(field, f"{label.capitalize()} must be text.")
        return None
    value = raw.strip()
    if len(value) > max_len:
        errors.add(field, f"{label.capitalize()} must be {max_len} characters or fewer.")
        return None
    if _CONTROL.search(value):
        errors.add(field, f"{label.capitalize()} must not contain control characters.")
        return None
    return value


@dataclass(frozen=True)
class NewPatient:
    given_name: str
    family_name: str
    email: str
    date_of_birth: date
    phone: str | None


@dataclass(frozen=True)
class BookingArgs:
    session_type_id: int
    practitioner_id: int
    location_id: int | None
    starts_at: datetime
    patient_id: int | None
    new_patient: NewPatient | None


def _start(raw: Any, errors: _Errors) -> datetime | None:
    example = "like 2026-12-01T09:30:00+00:00"
    if not isinstance(raw, str) or not raw.strip():
        errors.add("start", f"Give start as an ISO 8601 date and time with its offset, {example}.")
        return None
    try:
        value = datetime.fromisoformat(raw.strip()) if len(raw) <= 40 else None
    except ValueError:
        value = None
    if value is None or "T" not in raw.upper():
        errors.add("start", f"start must be an ISO 8601 date and time, {example}.")
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        errors.add("start", f"start must include its UTC offset, {example}.")
        return None
    if not MIN_YEAR < value.year < MAX_YEAR:
        errors.add("start", f"start must be in the years {MIN_YEAR + 1} to {MAX_YEAR - 1}.")
        return None
    return value


def _email(raw: Any, errors: _Errors) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        errors.add("patient.email", "Enter an email address, like name@example.com.")
        return None
    try:
        if len(raw) > 254 or _CONTROL.search(raw):
            raise EmailNotValidError
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        errors.add(
            "patient.email", "Enter an email address in the correct format, like name@example.com."
        )
        return None


def _phone(raw: Any, region: str, errors: _Errors) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str):
        errors.add("patient.phone", phone_format_message(region) + ".")
        return None
    try:
        return parse_phone(raw, region)
    except InvalidInput as error:
        errors.add("patient.phone", error.message + ".")
        return None


def _birth_date(raw: Any, today: date, errors: _Errors) -> date | None:
    value = _date_value(raw)
    if value is None:
        errors.add(
            "patient.date_of_birth",
            f"Date of birth must be a real date after {MIN_YEAR}, like 1980-04-03.",
        )
        return None
    if value >= today:
        errors.add("patient.date_of_birth", "Date of birth must be in the past.")
        return None
    return value


def _patient(
    raw: Any, today: date, region: str, errors: _Errors
) -> tuple[int | None, NewPatient | None]:
    if not isinstance(raw, dict):
        errors.add("patient", 'Give patient as {"id": N} or the new patient\'s details.')
        return None, None
    if "id" in raw:
        patient_id = _id_value(raw["id"])
        if patient_id is None:
            errors.add("patient.id", f"patient.id must be a whole number from 1 to {MAX_ID}.")
        return patient_id, None
    given = _text(
        raw, "given_name", "a given name", errors, field="patient.given_name", max_len=MAX_NAME
    )
    family = _text(
        raw, "family_name", "a family name", errors, field="patient.family_name", max_len=MAX_NAME
    )
    email = _email(raw.get("email"), errors)
    birth = _birth_date(raw.get("date_of_birth"), today, errors)
    phone = _phone(raw.get("phone"), region, errors)
    if given and family and email and birth:
        return None, NewPatient(given, family, email, birth, phone)
    return None, None


def booking_args(body: Mapping[str, Any], *, today: date, region: str = "GB") -> BookingArgs:
    """Parse POST /appointments. Raises RequestRefused (422) naming every bad field."""
    errors = _Errors()
    ids: dict[str, int | None] = {}
    for name in ("session_type_id", "practitioner_id"):
        ids[name] = _id_value(body.get(name))
        if ids[name] is None:
            errors.add(name, f"Give {name} as a whole number from 1 to {MAX_ID}.")
    location_id = None
    if body.get("location_id") is not None:
        location_id = _id_value(body["location_id"])
        if location_id is None:
            errors.add("location_id", f"location_id must be a whole number from 1 to {MAX_ID}.")
    starts_at = _start(body.get("start"), errors)
    patient_id, new_patient = _patient(body.get("patient"), today, region, errors)
    errors.raise_if_any(422)
    return BookingArgs(
        session_type_id=ids["session_type_id"] or 0,
        practitioner_id=ids["practitioner_id"] or 0,
        location_id=location_id,
        starts_at=cast(datetime, starts_at),
        patient_id=patient_id,
        new_patient=new_patient,
    )


def cancel_reason(body: Mapping[str, Any]) -> str | None:
    """The optional reason of POST /appointments/ID/cancel. Raises RequestRefused (422)."""
    raw = body.get("reason")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    errors = _Errors()
    value = _text(body, "reason", "a reason", errors, field="reason", max_len=MAX_REASON)
    errors.raise_if_any(422)
    return value


# --- responses --------------------------------------------------------------------------


def instant(value: datetime | None, zone: ZoneInfo) -> str | None:
    """ISO 8601 in the location's zone, with its offset."""
    return None if value is None else value.astimezone(zone).isoformat(timespec="seconds")


def appointment_json(
    appointment: Appointment, zone: ZoneInfo, sequence: tuple[int, int, int] | None = None
) -> dict[str, Any]:
    """`sequence` is its `progress.sequence_of` value: "plan" is null outside a plan."""
    return {
        "id": appointment.id,
        "start": instant(appointment.starts_at, zone),
        "end": instant(appointment.ends_at, zone),
        "status": str(appointment.status),
        "practitioner_id": appointment.practitioner_id,
        "room_id": appointment.room_id,
        "patient_id": appointment.patient_id,
        "location_id": appointment.location_id,
        "session_type_id": appointment.session_type_id,
        "source": str(appointment.source),
        "cancel_reason": appointment.cancel_reason,
        "cancelled_at": instant(appointment.cancelled_at, zone),
        "plan": None
        if sequence is None
        else {"id": sequence[2], "sequence": sequence[0], "of": sequence[1]},
    }


# --- treatment plans --------------------------------------------------------------------

MAX_GOAL = 500
MAX_PLAN_SESSIONS = 52
MAX_PLAN_INTERVAL = 8
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


@dataclass(frozen=True)
class ProposalArgs:
    session_type_id: int
    practitioner_id: int
    location_id: int | None
    first_date: date
    wall_time: time
    count: int
    interval_weeks: int
    allow_other_practitioner: bool


@dataclass(frozen=True)
class PlanArgs:
    session_type_id: int
    practitioner_id: int
    location_id: int | None
    goal: str
    starts: list[datetime]
    patient_id: int | None
    new_patient: NewPatient | None


def _ids(body: Mapping[str, Any], errors: _Errors) -> tuple[int, int, int | None]:
    ids: dict[str, int | None] = {}
    for name in ("session_type_id", "practitioner_id"):
        ids[name] = _id_value(body.get(name))
        if ids[name] is None:
            errors.add(name, f"Give {name} as a whole number from 1 to {MAX_ID}.")
    location_id = None
    if body.get("location_id") is not None:
        location_id = _id_value(body["location_id"])
        if location_id is None:
            errors.add("location_id", f"location_id must be a whole number from 1 to {MAX_ID}.")
    return ids["session_type_id"] or 0, ids["practitioner_id"] or 0, location_id


def _small_int(body: Mapping[str, Any], name: str, top: int, errors: _Errors) -> int:
    raw = body.get(name)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= top:
        errors.add(name, f"Give {name} as a whole number from 1 to {top}.")
        return 0
    return raw


def proposal_args(body: Mapping[str, Any]) -> ProposalArgs:
    """Parse POST /plans/proposal. Raises RequestRefused (422) naming every bad field."""
    errors = _Errors()
    session_type_id, practitioner_id, location_id = _ids(body, errors)
    first_date = _date_value(body.get("first_date"))
    if first_date is None:
        errors.add("first_date", "Give first_date as a real date, like 2027-09-20.")
    raw_time = body.get("time")
    wall = None
    if isinstance(raw_time, str) and _TIME.match(raw_time):
        wall = time.fromisoformat(raw_time)
    else:
        errors.add("time", "Give time as a 24-hour local time, like 10:00.")
    count = _small_int(body, "count", MAX_PLAN_SESSIONS, errors)
    interval = _small_int(body, "interval_weeks", MAX_PLAN_INTERVAL, errors)
    other = body.get("allow_other_practitioner", False)
    if not isinstance(other, bool):
        errors.add("allow_other_practitioner", "allow_other_practitioner must be true or false.")
    errors.raise_if_any(422)
    return ProposalArgs(
        session_type_id=session_type_id,
        practitioner_id=practitioner_id,
        location_id=location_id,
        first_date=cast(date, first_date),
        wall_time=cast(time, wall),
        count=count,
        interval_weeks=interval,
        allow_other_practitioner=bool(other),
    )


def plan_args(body: Mapping[str, Any], *, today: date, region: str = "GB") -> PlanArgs:
    """Parse POST /plans. Raises RequestRefused (422) naming every bad field."""
    errors = _Errors()
    session_type_id, practitioner_id, location_id = _ids(body, errors)
    goal = _text(body, "goal", "the plan's goal", errors, field="goal", max_len=MAX_GOAL)
    raw_starts = body.get("starts")
    starts: list[datetime] = []
    if not isinstance(raw_starts, list) or not 1 <= len(raw_starts) <= MAX_PLAN_SESSIONS:
        errors.add("starts", f"Give starts as a list of 1 to {MAX_PLAN_SESSIONS} start times.")
    else:
        for raw in raw_starts:
            one = _Errors()
            value = _start(raw, one)
            if value is None:
                errors.add("starts", one.items[0]["detail"].replace("start ", "each start ", 1))
                break
            starts.append(value)
    patient_id, new_patient = _patient(body.get("patient"), today, region, errors)
    errors.raise_if_any(422)
    return PlanArgs(
        session_type_id=session_type_id,
        practitioner_id=practitioner_id,
        location_id=location_id,
        goal=cast(str, goal),
        starts=starts,
        patient_id=patient_id,
        new_patient=new_patient,
    )
