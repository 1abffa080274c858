"""JSON API v1: bearer-token authentication, problem+json errors, public lists and bookings.

Public endpoints (lists, availability, the OpenAPI document) need no token; the rest act
with the token's user and role. Every error answers application/problem+json
(booking/errors.py); refused fields are listed in `errors`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, cast

from flask import Blueprint, Response, current_app, g, jsonify, request

from booking import clock
from booking.api import schemas
from booking.api.answer_cache import answers
from booking.api.openapi import openapi_document
from booking.db_hooks import WRITE_TX, after_commit, after_rollback, begin_writes
from booking.domain.errors import InvalidInput, PolicyRefused, SeriesConflict
from booking.domain.scheduling.dst import day_bounds, local_today
from booking.errors import problem
from booking.extensions import db
from booking.links import base_url
from booking.models import (
    ApiToken,
    Appointment,
    BookingSource,
    PatientProfile,
    TreatmentPlan,
    User,
)
from booking.services.api import booking as api_booking
from booking.services.api import catalogue as api_catalogue
from booking.services.api import idempotency as api_idempotency
from booking.services.api import tokens as api_tokens
from booking.services.booking.changes import cancel_appointment
from booking.services.booking.patients import create_patient
from booking.services.plans import planning as plan_planning
from booking.services.plans import progress as plan_progress

bp = Blueprint("api", __name__)

# Endpoints open without a token.
PUBLIC_ENDPOINTS: frozenset[str] = frozenset(
    {
        "api.locations",
        "api.practitioners",
        "api.session_types",
        "api.availability",
        "api.openapi",
    }
)
# Service field names that differ from the API's.
FIELD_NAMES = {"starts_at": "start", "date_to": "to", "date_from": "from"}

# Rate limits: every request to this blueprint is counted per token and per address before
# any other of its hooks (booking/api/ratelimit.py, `API_LIMITS`).


# Endpoints that read before they write: on SQLite their reads run in a deferred read
# transaction and the token's use is recorded with their writes (`_start_writes`), so the
# write lock is taken for the writes only, and never by a request refused before them.
# On both engines their token use is written by their own transaction, at its end
# (`_record_token_use`); a refusal records it on its own afterwards (PostgreSQL) or, as
# it always was on SQLite, not at all.
READ_FIRST_ENDPOINTS: frozenset[str] = frozenset({"api.create_appointment"})


def _token_row(*, defer_use: bool) -> ApiToken | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 200:
        return None
    row = api_tokens.find_token(token.strip())
    if row is None:
        return None
    use = api_tokens.token_use(
        row, now=clock.utcnow(), ip_address=request.remote_addr, request_id=g.get("request_id")
    )
    if defer_use:
        g.api_token_use = use
    else:
        api_tokens.record_token_use(use)
    return row


@bp.before_request
def _guard() -> Response | None:
    """The API's one guard: a valid bearer token of a staff user."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    defer_use = request.endpoint in READ_FIRST_ENDPOINTS
    read_first = defer_use and WRITE_TX.get() and db.engine.dialect.name == "sqlite"
    if read_first:
        WRITE_TX.set(False)  # security.py's teardown restores the request's setting
    row = _token_row(defer_use=defer_use)
    if row is None:
        response = problem(401, "Send a staff user's API token as 'Authorization: Bearer <token>'.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="meridian"'
        return response
    g.api_user = row.user
    g.api_token_id = row.id
    if defer_use and not read_first:
        _record_token_use()  # PostgreSQL: the request's transaction is a write one already
    return None


def _start_writes() -> bool:
    """Begin the request's writes: on SQLite after its reads, the write transaction opens
    here, and will record the token's use (deferred by the guard). True when a read
    transaction ended here (what it read must be checked again)."""
    switched = begin_writes()
    _record_token_use()
    return switched


def _record_token_use() -> None:
    """Have the request's transaction record its token's use (deferred by the guard) with its
    own writes, at its end; once committed, the use is no longer pending."""
    use = g.get("api_token_use")
    if use is None or g.get("api_token_use_queued"):
        return
    api_tokens.record_token_use(use, with_request=True)
    g.api_token_use_queued = True

    def committed() -> None:
        g.pop("api_token_use", None)

    def forgotten() -> None:
        g.pop("api_token_use_queued", None)

    session = db.session()
    after_commit(session, committed)
    after_rollback(session, forgotten)


@bp.after_request
def _token_use_of_a_refusal(response: Response) -> Response:
    """A read-first request whose transaction did not commit its token's use: recorded on
    its own on PostgreSQL (as every API request's is); on SQLite it never was (the use is
    kept only with the booking it authorised)."""
    use = g.pop("api_token_use", None)
    if use is not None and db.engine.dialect.name != "sqlite":
        api_tokens.record_token_use(use)
    return response


@bp.before_request
def _json_body() -> None:
    """A JSON body nested too deep or holding unstorable text never reaches a view."""
    if request.is_json:
        schemas.check_json_body(request.get_data())


@bp.errorhandler(schemas.RequestRefused)
def _refused(error: schemas.RequestRefused) -> Response:
    db.session.rollback()
    return problem(error.status, error.detail, errors=error.errors)


@bp.errorhandler(InvalidInput)
@bp.errorhandler(PolicyRefused)
def _unprocessable(error: InvalidInput | PolicyRefused) -> Response:
    db.session.rollback()
    field = getattr(error, "field", None) or ("start" if error.code.startswith("too_") else "")
    errors = [{"field": FIELD_NAMES.get(field, field), "detail": error.message}] if field else []
    return problem(422, error.message, code=error.code, errors=errors)


def _page(items: list[Any], limit: int, key: Callable[[Any], list[Any]]) -> dict[str, Any]:
    more = len(items) > limit
    shown = items[:limit]
    return {
        "items": shown,
        "next_cursor": schemas.encode_cursor(key(shown[-1])) if more and shown else None,
    }


def _finish(payload: dict[str, Any], status: int) -> Response:
    """Commit once, storing the answer under the request's Idempotency-Key if it has one."""
    body = json.dumps(payload)
    claimed = g.pop("idempotency_row", None)
    if claimed is not None:
        api_idempotency.store_answer(claimed, status_code=status, body=body)
    db.session.commit()
    return current_app.response_class(body, status=status, mimetype="application/json")


def idempotent(view: Callable[..., Response]) -> Callable[..., Response]:
    """Honour an optional Idempotency-Key: replay a stored answer, refuse a reused key."""

    @wraps(view)
    def wrapper(**kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(**kwargs)
        if not 1 <= len(key) <= 255 or not key.isprintable():
            return problem(400, "Idempotency-Key must be 1 to 255 printable characters.")
        _start_writes()  # claiming the key writes
        fingerprint = api_idempotency.request_hash(request.method, request.path, request.get_data())
        row, is_new = api_idempotency.claim_key(
            token_id=g.api_token_id, key=key, fingerprint=fingerprint, now=clock.utcnow()
        )
        if not is_new:
            db.session.commit()
            if row.request_hash != fingerprint:
                return problem(422, "This Idempotency-Key was used with a different request.")
            response = current_app.response_class(
                row.response_body, status=row.status_code, mimetype="application/json"
            )
            response.headers["Idempotent-Replayed"] = "true"
            return response
        g.idempotency_row = row
        return view(**kwargs)

    return wrapper


def _appointment_json(appointment: Appointment, *, in_no_plan: bool = False) -> dict[str, Any]:
    """The appointment's JSON; `in_no_plan` skips the "session k of N" query for a booking
    just made by `book_directly` (plans book through POST /plans, so it belongs to none)."""
    return schemas.appointment_json(
        appointment,
        api_catalogue.location_zone(appointment.location_id),
        None if in_no_plan else plan_progress.sequence_of([appointment.id]).get(appointment.id),
    )


def _clinic_name() -> str:
    return api_catalogue.clinic_name(current_app.config["CLINIC_NAME"])


@bp.route("/me")
def me() -> Response:
    user: User = g.api_user
    return jsonify({"id": user.id, "email": user.email, "role": str(user.role)})


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


@bp.get("/locations")
def locations() -> Response:
    page = schemas.page_args(request.args)
    rows = api_catalogue.locations_page(after=page.after and page.after[0], limit=page.limit)
    items = [
        {
            "id": row.id,
            "name": row.name,
            "slug": row.slug,
            "timezone": row.timezone,
            "address": row.address,
            "phone": row.phone,
        }
        for row in rows
    ]
    return jsonify(_page(items, page.limit, lambda item: [item["id"]]))


@bp.get("/practitioners")
def practitioners() -> Response:
    page = schemas.page_args(request.args)
    rows = api_catalogue.practitioners_page(after=page.after and page.after[0], limit=page.limit)
    items = [
        {
            "id": row.practitioner.id,
            "name": row.practitioner.display_name,
            "location_id": row.location_id,
            "location_ids": row.location_ids,
            "session_type_ids": row.session_type_ids,
        }
        for row in rows
    ]
    return jsonify(_page(items, page.limit, lambda item: [item["id"]]))


@bp.get("/session-types")
def session_types() -> Response:
    page = schemas.page_args(request.args)
    rows = api_catalogue.session_types_page(after=page.after and page.after[0], limit=page.limit)
    items = [
        {
            "id": row.id,
            "name": row.name,
            "slug": row.slug,
            "duration_minutes": row.duration_minutes,
            "buffer_before_minutes": row.buffer_before_minutes,
            "buffer_after_minutes": row.buffer_after_minutes,
            "price_pence": row.price_pence,
            "room_kind": None if row.room_kind is None else str(row.room_kind),
        }
        for row in rows
    ]
    return jsonify(_page(items, page.limit, lambda item: [item["id"]]))


@bp.get("/availability")
def availability() -> Response:
    args = schemas.availability_args(request.args)
    answer = api_catalogue.free_times(
        session_type_id=args.session_type_id,
        date_from=args.date_from,
        date_to=args.date_to,
        practitioner_id=args.practitioner_id,
        location_id=args.location_id,
        now=clock.utcnow(),
    )
    # The stamps and time bucket behind the answer, and the page asked for.
    asked = json.dumps(sorted(request.args.items(multi=True)))
    etag = hashlib.sha256(f"{answer.etag}|{asked}".encode()).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        kept = answers()
        body = kept.get(etag)  # equal tags, equal bodies (booking/api/answer_cache.py)
        if body is None:
            response = jsonify(_availability_page(answer.times(), args.page))
            kept.put(etag, response.get_data())
        else:
            response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(etag)
    # Anyone may keep it, but must ask again each time: a booking can change it any moment.
    response.headers["Cache-Control"] = "no-cache"
    return response


def _availability_page(found: list[api_catalogue.PlacedSlot], page: schemas.Page) -> dict[str, Any]:
    if page.after is not None:
        after = tuple(page.after)
        found = [p for p in found if p.sort_key > after]
    items = [
        {
            "start": schemas.instant(p.slot.starts_at, p.zone),
            "end": schemas.instant(p.slot.ends_at, p.zone),
            "practitioner_id": p.slot.practitioner_id,
            "room_id": p.slot.room_id,
            "location_id": p.location_id,
            "_key": [p.slot.starts_at.isoformat(), p.slot.practitioner_id, p.location_id],
        }
        for p in found[: page.limit + 1]
    ]
    body = _page(items, page.limit, lambda item: item["_key"])
    for item in body["items"]:
        del item["_key"]
    return body


@bp.post("/appointments")
@idempotent
def create_appointment() -> Response:
    api_booking.check_may_manage(g.api_user)
    body = schemas.json_object(request.get_json(silent=True))
    args = schemas.booking_args(body, today=clock.utcnow().date())
    patient = _patient_for(args)
    booked = api_booking.book_directly(
        session_type_id=args.session_type_id,
        practitioner_id=args.practitioner_id,
        location_id=args.location_id,
        starts_at=args.starts_at,
        patient=patient,
        actor=g.api_user,
        now=clock.utcnow(),
        base_url=base_url(),
        clinic_default=current_app.config["CLINIC_NAME"],  # the clinic's is read if free
        # Only reads so far (SQLite): the writes begin inside the booking, after its checks.
        start_writes=None if WRITE_TX.get() else _start_writes,
    )
    appointment = booked.appointment
    # Read before the commit: touching the expired row afterwards would open a new
    # transaction (on SQLite another BEGIN IMMEDIATE, queueing for the write lock again).
    location = f"{request.path}/{appointment.id}"
    response = _finish(_appointment_json(appointment, in_no_plan=True), 201)
    response.headers["Location"] = location
    return response


def _patient_for(args: schemas.BookingArgs | schemas.PlanArgs) -> PatientProfile:
    if args.patient_id is not None:
        # A patient the token's user may not book is answered like one that does not exist.
        patient = api_booking.patient_to_book(args.patient_id, actor=g.api_user)
        if patient is None:
            raise schemas.RequestRefused(
                422,
                "Check the field: patient.id.",
                [{"field": "patient.id", "detail": "No patient has that id."}],
            )
        return patient
    details = cast(schemas.NewPatient, args.new_patient)  # booking_args gives one or the other
    _start_writes()
    return create_patient(
        given_name=details.given_name,
        family_name=details.family_name,
        date_of_birth=details.date_of_birth,
        email=details.email,
        phone=details.phone,
        contact_preference="email",
        now=clock.utcnow(),
    )


@bp.get("/appointments/<id:appointment_id>")
def get_appointment(appointment_id: int) -> Response:
    appointment = api_booking.get_for_actor(appointment_id, actor=g.api_user)
    return jsonify(_appointment_json(appointment))


@bp.post("/appointments/<id:appointment_id>/cancel")
@idempotent
def cancel(appointment_id: int) -> Response:
    appointment = api_booking.get_for_actor(appointment_id, actor=g.api_user)
    raw = request.get_json(silent=True) if request.get_data() else None
    reason = schemas.cancel_reason(schemas.json_object(raw, optional=True))
    cancel_appointment(
        appointment,
        now=clock.utcnow(),
        actor=g.api_user,
        by_staff=True,
        reason=reason,
        base_url=base_url(),
        clinic_name=_clinic_name(),
    )
    return _finish(_appointment_json(appointment), 200)


@bp.get("/appointments")
def list_appointments() -> Response:
    args = schemas.appointment_list_args(request.args)
    clinic_zone = api_catalogue.clinic_zone()
    first = args.date_from or local_today(clinic_zone, now=clock.utcnow())
    last = args.date_to or first + timedelta(days=30)
    if last < first or (last - first).days + 1 > schemas.MAX_LIST_DAYS:
        raise schemas.RequestRefused(
            400,
            "Check the field: to.",
            [{"field": "to", "detail": "to must be within 92 days of from."}],
        )
    rows = api_booking.list_for_actor(
        actor=g.api_user,
        starts_from=day_bounds(first, clinic_zone)[0],
        starts_before=day_bounds(last, clinic_zone)[1],
        practitioner_id=args.practitioner_id,
        after=tuple(args.page.after) if args.page.after else None,
        limit=args.page.limit + 1,
    )
    zones = api_catalogue.location_zones()
    sequences = plan_progress.sequence_of([row.id for row in rows])
    items = [
        schemas.appointment_json(row, zones[row.location_id], sequences.get(row.id)) for row in rows
    ]
    return jsonify(
        _page(items, args.page.limit, lambda item: [_utc_start(rows, item["id"]), item["id"]])
    )


def _utc_start(rows: list[Any], appointment_id: int) -> str:
    return next(r.starts_at.isoformat() for r in rows if r.id == appointment_id)


@bp.post("/plans/proposal")
def propose_plan() -> Response:
    """Every occurrence of a course and, where taken, up to three alternatives."""
    api_booking.check_may_manage(g.api_user)
    args = schemas.proposal_args(schemas.json_object(request.get_json(silent=True)))
    proposal = plan_planning.propose_plan(
        session_type_id=args.session_type_id,
        practitioner_id=args.practitioner_id,
        location_id=args.location_id,
        first_date=args.first_date,
        wall_time=args.wall_time,
        count=args.count,
        interval_weeks=args.interval_weeks,
        allow_other_practitioner=args.allow_other_practitioner,
        actor=g.api_user,
        now=clock.utcnow(),
    )
    zone = api_catalogue.location_zone(proposal.location_id)
    sessions = [
        {
            "sequence": item.occurrence.sequence,
            "start": schemas.instant(item.occurrence.starts_at, zone),
            "end": schemas.instant(item.ends_at, zone),
            "free": item.free,
            "moved_for_clock_change": item.occurrence.moved,
            "alternatives": [
                {
                    "start": schemas.instant(alt.starts_at, zone),
                    "end": schemas.instant(alt.ends_at, zone),
                    "practitioner_id": alt.practitioner_id,
                }
                for alt in item.alternatives
            ],
        }
        for item in proposal.sessions
    ]
    return jsonify({"location_id": proposal.location_id, "sessions": sessions})


@bp.post("/plans")
@idempotent
def create_plan() -> Response:
    """Book a whole series atomically: 201, or 409 listing `conflicts` with nothing booked."""
    api_booking.check_may_manage(g.api_user)
    body = schemas.json_object(request.get_json(silent=True))
    args = schemas.plan_args(body, today=clock.utcnow().date())
    patient = _patient_for(args)
    try:
        booked = plan_planning.book_series(
            patient=patient,
            practitioner_id=args.practitioner_id,
            session_type_id=args.session_type_id,
            location_id=args.location_id,
            starts=args.starts,
            goal=args.goal,
            actor=g.api_user,
            now=clock.utcnow(),
            base_url=base_url(),
            clinic_name=_clinic_name(),
            source=BookingSource.api,
            secret=current_app.config["SECRET_KEY"],
        )
    except SeriesConflict as conflict:
        db.session.rollback()
        g.pop("idempotency_row", None)
        zone = api_catalogue.location_zone(
            plan_planning.plan_location(args.practitioner_id, args.location_id)
        )
        return problem(
            409,
            conflict.message,
            code=conflict.code,
            conflicts=[schemas.instant(start, zone) for start in conflict.conflicts],
        )
    db.session.flush()
    location = f"{request.path}/{booked.plan.id}"  # before the commit expires the row
    response = _finish(_plan_json(booked.plan), 201)
    response.headers["Location"] = location
    return response


@bp.get("/plans/<id:plan_id>")
def get_plan(plan_id: int) -> Response:
    api_booking.check_may_manage(g.api_user)
    plan = plan_progress.plan_for(plan_id, actor=g.api_user)
    return jsonify(_plan_json(plan))


def _plan_json(plan: TreatmentPlan) -> dict[str, Any]:
    zone = api_catalogue.location_zone(plan.location_id)
    sessions = plan_progress.plan_sessions(plan)
    counts = plan_progress.progress(plan, sessions)
    return {
        "id": plan.id,
        "patient_id": plan.patient_id,
        "practitioner_id": plan.practitioner_id,
        "location_id": plan.location_id,
        "goal": plan.goal,
        "condition_tag": plan.condition_tag,
        "status": str(plan.status),
        "total": counts.total,
        "done": counts.done,
        "booked": counts.booked,
        "remaining": counts.remaining,
        "appointments": [
            {
                "id": item.appointment.id,
                "start": schemas.instant(item.appointment.starts_at, zone),
                "end": schemas.instant(item.appointment.ends_at, zone),
                "status": str(item.appointment.status),
                "sequence": item.sequence,
                "of": item.of,
            }
            for item in sessions
        ],
    }
