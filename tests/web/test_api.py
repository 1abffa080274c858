"""Contract tests of the JSON API v1 (issue 9), on SQLite and PostgreSQL.

Every response checked here is also validated against the OpenAPI document the API serves
(`conforms`), so the document and the code cannot drift apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_schema_validator import OAS31Validator
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from booking.extensions import db
from booking.models import (
    ApiIdempotencyKey,
    ApiToken,
    Appointment,
    AuditEvent,
    OutboxMessage,
    PatientProfile,
    User,
)
from booking.services.api.tokens import create_token
from booking.services.platform.tokens import token_hash as hash_token
from tests.conftest import DEMO_EMAILS, FrozenClock, count_queries, freeze_clock, listening
from tests.web.booking_helpers import Demo, demo_ids

# Monday 1 March 2027, 8am in London (GMT): the demo's hours and no appointments.
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
DAY = "2027-03-03"  # a Wednesday: Mei Lin Chen works 9am–1pm and 2pm–6pm at Islington
START = "2027-03-03T10:00:00+00:00"
BANNED = ("please", "sorry", "valid", "invalid", "required")


# --- helpers shared with the other API test modules -------------------------------------


def make_tokens(app: Flask) -> dict[str, str]:
    """A token per staff role of the demo users, and one for the demo patient (refused)."""
    tokens = {}
    with app.app_context():
        for role in ("practitioner", "receptionist", "admin"):
            _, tokens[role] = create_token(email=DEMO_EMAILS[role], name=role, now=NOW)
        patient = db.session.scalar(select(User).where(User.email == DEMO_EMAILS["patient"]))
        tokens["patient"] = "mrd_patient-token-for-tests"
        db.session.add(
            ApiToken(
                user_id=patient.id,
                name="patient",
                prefix="mrd_patient-",
                token_hash=hash_token(tokens["patient"]),
            )
        )
        db.session.commit()
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_patient(**overrides: Any) -> dict[str, Any]:
    return {
        "email": "jo.bloggs@example.com",
        "given_name": "Jo",
        "family_name": "Bloggs",
        "date_of_birth": "1980-04-03",
        "phone": "07400 123456",
        **overrides,
    }


def booking_body(ids: Demo, **overrides: Any) -> dict[str, Any]:
    return {
        "session_type_id": ids.follow_up,
        "practitioner_id": ids.mei,
        "start": START,
        "patient": new_patient(),
        **overrides,
    }


_DOCUMENT: dict[str, Any] = {}


def document() -> dict[str, Any]:
    if not _DOCUMENT:
        from booking.api.openapi import openapi_document

        _DOCUMENT.update(json.loads(json.dumps(openapi_document())))
    return _DOCUMENT


def conforms(response: TestResponse, path: str, method: str = "get") -> Any:
    """Check the status, media type, headers and body against the OpenAPI document."""
    operation = document()["paths"][path][method]
    status = str(response.status_code)
    assert status in operation["responses"], (path, method, status, response.get_data(True))
    spec = operation["responses"][status]
    for header, rule in spec.get("headers", {}).items():
        if rule.get("required"):
            assert header in response.headers, (path, status, header)
    if "content" not in spec:
        assert not response.get_data()
        return None
    media = response.mimetype
    assert media in spec["content"], (path, status, media)
    body = response.get_json()
    schema = {"components": document()["components"], **spec["content"][media]["schema"]}
    errors = list(OAS31Validator(schema).iter_errors(body))
    assert errors == [], [e.message for e in errors]
    if media == "application/problem+json":
        text = (body["detail"] + " " + json.dumps(body.get("errors", []))).lower()
        assert not [w for w in BANNED if w in text.split() or f" {w} " in f" {text} "], text
    return body


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Every statement the request runs (BEGIN IMMEDIATE included), and COMMIT."""
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def statement(_conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
        seen.append(" ".join(text.split()))

    def commit(_conn: Any) -> None:
        seen.append("COMMIT")

    with listening([engine], ("before_cursor_execute", statement), ("commit", commit)):
        yield seen


def app_only(seen: list[str]) -> list[str]:
    """The statements of the request itself, without the rate limiter's counter writes."""
    return [s for s in seen if "rate_limit_counter" not in s and "synchronous" not in s]


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    return freeze_clock(monkeypatch, NOW)


@pytest.fixture
def ids(demo: Flask) -> Demo:
    return demo_ids(demo)


@pytest.fixture
def tokens(demo: Flask) -> dict[str, str]:
    return make_tokens(demo)


@pytest.fixture
def api(demo: Flask, clock: FrozenClock, tokens: dict[str, str]) -> FlaskClient:
    return demo.test_client()


def book(
    api: FlaskClient,
    tokens: dict[str, str],
    body: dict[str, Any],
    role: str = "receptionist",
    **headers: str,
) -> TestResponse:
    return api.post("/api/v1/appointments", json=body, headers={**bearer(tokens[role]), **headers})


# --- public lists -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/locations", {"id", "name", "timezone"}),
        ("/practitioners", {"id", "name", "location_id"}),
        ("/session-types", {"id", "name", "duration_minutes"}),
    ],
)
def test_public_lists_need_no_token(api: FlaskClient, path: str, fields: set[str]) -> None:
    response = api.get(f"/api/v1{path}")
    assert response.status_code == 200
    body = conforms(response, path)
    assert body["items"]
    assert all(fields <= set(item) for item in body["items"])
    assert body["next_cursor"] is None


def test_lists_page_with_limit_and_an_opaque_cursor(api: FlaskClient) -> None:
    everyone = api.get("/api/v1/practitioners").get_json()["items"]
    assert len(everyone) == 4
    seen, cursor = [], None
    while True:
        query = "?limit=1" + (f"&cursor={cursor}" if cursor else "")
        response = api.get(f"/api/v1/practitioners{query}")
        body = conforms(response, "/practitioners")
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert str(seen[-1]["id"]) not in cursor  # opaque, not the raw id
    assert seen == everyone


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=x", "limit"),
        ("cursor=%%%", "cursor"),
        ("cursor=WzFd", None),
        ("cursor=eyJhIjogMX0", "cursor"),
    ],
)
def test_bad_paging_is_refused_with_400(api: FlaskClient, query: str, field: str | None) -> None:
    response = api.get(f"/api/v1/locations?{query}")
    if field is None:  # a real cursor ([1]) is fine
        assert response.status_code == 200
        return
    assert response.status_code == 400
    body = conforms(response, "/locations")
    assert [e["field"] for e in body["errors"]] == [field]


def test_practitioners_name_their_main_location(api: FlaskClient, ids: Demo) -> None:
    items = {p["id"]: p for p in api.get("/api/v1/practitioners").get_json()["items"]}
    assert items[ids.mei]["location_id"] == ids.islington
    assert items[ids.aoife]["location_id"] == ids.dublin
    # Sam works Monday and Wednesday at Islington, Friday in Dublin.
    assert items[ids.sam]["location_id"] == ids.islington
    assert items[ids.sam]["location_ids"] == sorted([ids.islington, ids.dublin])
    assert ids.follow_up in items[ids.mei]["session_type_ids"]


def test_session_types_carry_duration(api: FlaskClient, ids: Demo) -> None:
    items = {t["id"]: t for t in api.get("/api/v1/session-types").get_json()["items"]}
    assert items[ids.follow_up]["duration_minutes"] == 30
    assert items[ids.first_type]["duration_minutes"] == 40


def test_list_query_count_does_not_grow_with_rows(demo: Flask, api: FlaskClient) -> None:
    with count_queries(demo) as one:
        assert api.get("/api/v1/practitioners?limit=1").status_code == 200
    with count_queries(demo) as many:
        assert api.get("/api/v1/practitioners?limit=20").status_code == 200
    assert len(app_only(one)) == len(app_only(many)) <= 3  # practitioners, their types, hours


# --- availability -----------------------------------------------------------------------


def availability(api: FlaskClient, ids: Demo, **params: Any) -> TestResponse:
    query = {"session_type_id": ids.follow_up, "from": DAY, "to": DAY, **params}
    return api.get(
        "/api/v1/availability", query_string={k: v for k, v in query.items() if v is not None}
    )


def test_availability_lists_sessions_with_offsets(api: FlaskClient, ids: Demo) -> None:
    response = availability(api, ids, practitioner_id=ids.mei)
    assert response.status_code == 200
    body = conforms(response, "/availability")
    items = body["items"]
    assert items[0] == {
        "start": "2027-03-03T09:00:00+00:00",
        "end": "2027-03-03T09:30:00+00:00",
        "practitioner_id": ids.mei,
        "room_id": items[0]["room_id"],
        "location_id": ids.islington,
    }
    assert items[0]["room_id"] is not None
    assert {i["practitioner_id"] for i in items} == {ids.mei}
    assert START in [i["start"] for i in items]
    assert [i["start"] for i in items] == sorted(i["start"] for i in items)


def test_a_warm_answer_reads_only_the_stamps_and_follows_a_zone_change(
    demo: Flask, api: FlaskClient, ids: Demo
) -> None:
    """Zones are kept per worker under the clinic-wide stamp, which a location write bumps."""
    from booking.models import Location

    assert (
        availability(api, ids, practitioner_id=ids.mei, location_id=ids.islington).status_code
        == 200
    )
    with count_queries(demo) as statements:
        items = conforms(
            availability(api, ids, practitioner_id=ids.mei, location_id=ids.islington),
            "/availability",
        )["items"]
    assert items
    assert items[0]["start"].endswith("+00:00")
    mine = [s for s in app_only(statements) if not s.lstrip().upper().startswith("BEGIN")]
    assert len(mine) == 1, mine
    assert "availability_version" in mine[0]
    with demo.app_context():
        db.session.get_one(Location, ids.islington).timezone = "Europe/Paris"
        db.session.commit()
    items = conforms(
        availability(api, ids, practitioner_id=ids.mei, location_id=ids.islington), "/availability"
    )["items"]
    assert items
    assert all(i["start"].endswith("+01:00") for i in items)


def test_summer_times_carry_the_summer_offset(api: FlaskClient, ids: Demo) -> None:
    response = availability(
        api, ids, practitioner_id=ids.mei, **{"from": "2027-04-07", "to": "2027-04-07"}
    )
    first = conforms(response, "/availability")["items"][0]
    assert first["start"] == "2027-04-07T09:00:00+01:00"


def test_any_practitioner_gives_one_item_per_start_and_practitioner(
    api: FlaskClient, ids: Demo
) -> None:
    items = conforms(availability(api, ids), "/availability")["items"]
    at_ten = [i for i in items if i["start"] == START]
    # Wednesday 10:00 at Islington: Mei (9–1) and Tom (10–4) are both free; Sam starts at 12.
    assert {i["practitioner_id"] for i in at_ten} >= {ids.mei, ids.tom}
    assert len(at_ten) == len({i["practitioner_id"] for i in at_ten})
    keys = [(i["start"], i["practitioner_id"], i["location_id"]) for i in items]
    assert keys == sorted(keys)


def test_availability_without_location_uses_the_practitioners_places(
    api: FlaskClient, ids: Demo
) -> None:
    # Friday 5 March: Sam works in Dublin.
    items = availability(
        api, ids, practitioner_id=ids.sam, **{"from": "2027-03-05", "to": "2027-03-05"}
    ).get_json()["items"]
    assert items
    assert {i["location_id"] for i in items} == {ids.dublin}
    dublin_only = availability(
        api,
        ids,
        location_id=ids.islington,
        practitioner_id=ids.sam,
        **{"from": "2027-03-05", "to": "2027-03-05"},
    )
    assert dublin_only.get_json()["items"] == []


def test_availability_pages_with_a_cursor(api: FlaskClient, ids: Demo) -> None:
    everything = availability(api, ids, to="2027-03-05", limit=500).get_json()["items"]
    assert everything[-1]["start"].startswith("2027-03-05")
    assert len(everything) > 10
    seen, cursor = [], None
    while True:
        response = availability(api, ids, to="2027-03-05", limit=7, cursor=cursor)
        body = conforms(response, "/availability")
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == everything


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"to": "2027-04-02"}, ["to"]),  # 31 days from 3 March is 2 April: 31 days included
        ({"to": "2027-04-03"}, ["to"]),
        ({"to": "2027-03-02"}, ["to"]),
        ({"from": "2027-02-30"}, ["from"]),
        ({"from": None, "to": None, "session_type_id": None}, ["session_type_id", "from", "to"]),
        (
            {"session_type_id": "x", "practitioner_id": "0", "location_id": "99999999999"},
            ["session_type_id", "practitioner_id", "location_id"],
        ),
    ],
)
def test_bad_availability_queries_are_400(
    api: FlaskClient, ids: Demo, params: dict[str, Any], fields: list[str]
) -> None:
    response = availability(api, ids, **params)
    if params == {"to": "2027-04-02"}:
        assert response.status_code == 200  # exactly 31 days is allowed
        return
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    body = conforms(response, "/availability")
    assert [e["field"] for e in body["errors"]] == fields


def test_a_range_over_31_days_is_refused(api: FlaskClient, ids: Demo) -> None:
    response = availability(api, ids, **{"from": "2027-03-01", "to": "2027-04-01"})
    assert response.status_code == 400
    assert "31 days" in conforms(response, "/availability")["errors"][0]["detail"]


@pytest.mark.parametrize("param", ["session_type_id", "practitioner_id", "location_id"])
def test_unknown_ids_in_availability_are_404(api: FlaskClient, ids: Demo, param: str) -> None:
    response = availability(api, ids, **{param: 999_999})
    assert response.status_code == 404
    conforms(response, "/availability")


def test_etag_answers_304_until_a_booking_changes_the_times(
    api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    first = availability(api, ids, practitioner_id=ids.mei)
    etag = first.headers["ETag"]
    again = api.get(first.request.full_path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    conforms(again, "/availability")
    assert book(api, tokens, booking_body(ids)).status_code == 201
    changed = api.get(first.request.full_path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert START not in [i["start"] for i in changed.get_json()["items"]]


# --- booking ----------------------------------------------------------------------------


def test_booking_returns_201_with_the_appointment(
    demo: Flask, api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    response = book(api, tokens, booking_body(ids))
    assert response.status_code == 201, response.get_json()
    body = conforms(response, "/appointments", "post")
    assert body["start"] == START
    assert body["end"] == "2027-03-03T10:30:00+00:00"
    assert body["status"] == "booked"
    assert body["practitioner_id"] == ids.mei
    assert body["location_id"] == ids.islington
    assert body["room_id"] is not None
    assert response.headers["Location"] == f"/api/v1/appointments/{body['id']}"
    with demo.app_context():
        row = db.session.get(Appointment, body["id"])
        assert (row.source, row.status, row.patient_id) == ("api", "booked", body["patient_id"])
        patient = db.session.get(PatientProfile, body["patient_id"])
        assert (patient.email, patient.phone) == ("jo.bloggs@example.com", "+447400123456")
        mail = db.session.scalars(select(OutboxMessage)).all()
        assert [m.kind for m in mail] == ["appointment.confirmation"]
        assert mail[0].ics_method == "REQUEST"
        actions = db.session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.object_id == body["id"], AuditEvent.object_type == "appointment"
            )
        ).all()
        assert actions == ["appointment.book"]


def test_a_booking_runs_nothing_after_its_commit(
    demo: Flask, api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    """The answer is built before the commit: a read of the expired row afterwards would open
    a second transaction (on SQLite a second BEGIN IMMEDIATE, queueing for the write lock)."""
    with statements(demo) as seen:
        response = book(api, tokens, booking_body(ids))
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"] == f"/api/v1/appointments/{response.json['id']}"
    mine = app_only(seen)
    assert "COMMIT" in mine
    assert mine[len(mine) - mine[::-1].index("COMMIT") :] == []


def test_booking_an_existing_patient_by_id(
    demo: Flask, api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    response = book(api, tokens, booking_body(ids, patient={"id": ids.patient}))
    assert conforms(response, "/appointments", "post")["patient_id"] == ids.patient
    with demo.app_context():
        assert db.session.scalar(select(func.count(PatientProfile.id))) == 30


def test_the_location_follows_the_practitioners_hours(
    api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    body = booking_body(ids, practitioner_id=ids.sam, start="2027-03-05T10:00:00+00:00")
    response = book(api, tokens, body)
    assert conforms(response, "/appointments", "post")["location_id"] == ids.dublin


def test_a_taken_time_is_409_problem_json(
    api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    assert book(api, tokens, booking_body(ids)).status_code == 201
    again = book(api, tokens, booking_body(ids, patient=new_patient(email="other@example.com")))
    assert again.status_code == 409
    assert again.mimetype == "application/problem+json"
    body = conforms(again, "/appointments", "post")
    assert body["status"] == 409


def test_overlapping_a_longer_session_is_409(
    api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    # A 40-minute first session at 10:00 (+10 min after) blocks a 10:30 follow-up.
    assert book(api, tokens, booking_body(ids, session_type_id=ids.first_type)).status_code == 201
    later = book(api, tokens, booking_body(ids, start="2027-03-03T10:30:00+00:00"))
    assert later.status_code == 409


def test_outside_hours_is_409(api: FlaskClient, ids: Demo, tokens: dict[str, str]) -> None:
    response = book(api, tokens, booking_body(ids, start="2027-03-03T13:15:00+00:00"))
    assert response.status_code == 409
    assert conforms(response, "/appointments", "post")["code"] == "outside_hours"


def test_too_soon_is_422_naming_start(api: FlaskClient, ids: Demo, tokens: dict[str, str]) -> None:
    response = book(api, tokens, booking_body(ids, start="2027-03-01T09:00:00+00:00"))
    assert response.status_code == 422
    body = conforms(response, "/appointments", "post")
    assert body["errors"][0]["field"] == "start"


def test_422_names_each_refused_field(api: FlaskClient, ids: Demo, tokens: dict[str, str]) -> None:
    body = {
        "practitioner_id": "one",
        "start": "2027-03-03T10:00:00",
        "patient": new_patient(
            email="not-an-email", phone="12", date_of_birth="2099-01-01", given_name=" "
        ),
    }
    response = book(api, tokens, body)
    assert response.status_code == 422
    problem = conforms(response, "/appointments", "post")
    assert [e["field"] for e in problem["errors"]] == [
        "session_type_id",
        "practitioner_id",
        "start",
        "patient.given_name",
        "patient.email",
        "patient.date_of_birth",
        "patient.phone",
    ]


@pytest.mark.parametrize(
    ("patient", "field"),
    [
        ({"id": 999_999}, "patient.id"),
        ({"id": "1"}, "patient.id"),
        ("Jo", "patient"),
        (new_patient(date_of_birth="1980-02-30"), "patient.date_of_birth"),
        (new_patient(family_name="x" * 101), "patient.family_name"),
        (new_patient(given_name="Jo\x00"), "patient.given_name"),
    ],
)
def test_422_for_each_patient_problem(
    api: FlaskClient, ids: Demo, tokens: dict[str, str], patient: Any, field: str
) -> None:
    response = book(api, tokens, booking_body(ids, patient=patient))
    assert response.status_code == 422
    assert [e["field"] for e in conforms(response, "/appointments", "post")["errors"]] == [field]


@pytest.mark.parametrize(
    ("key", "value"),
    [("session_type_id", 999_999), ("practitioner_id", 999_999), ("location_id", 999_999)],
)
def test_unknown_references_are_404(
    api: FlaskClient, ids: Demo, tokens: dict[str, str], key: str, value: int
) -> None:
    response = book(api, tokens, booking_body(ids, **{key: value}))
    assert response.status_code == 404
    conforms(response, "/appointments", "post")


def test_a_body_that_is_not_json_is_400(api: FlaskClient, tokens: dict[str, str]) -> None:
    response = api.post(
        "/api/v1/appointments", data="start=now", headers=bearer(tokens["receptionist"])
    )
    assert response.status_code == 400
    conforms(response, "/appointments", "post")


def test_extra_fields_change_nothing(
    demo: Flask, api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    body = booking_body(
        ids, status="completed", source="online", patient_id=ids.patient, room_id=999
    )
    created = conforms(book(api, tokens, body), "/appointments", "post")
    assert (created["status"], created["source"]) == ("booked", "api")
    assert created["patient_id"] != ids.patient


@pytest.mark.parametrize(
    ("role", "headers", "status"),
    [
        ("anonymous", {}, 401),
        ("patient", None, 401),
        ("garbage", {"Authorization": "Bearer not-a-token"}, 401),
        ("basic", {"Authorization": "Basic dXNlcjpwYXNz"}, 401),
        ("admin", None, 403),
    ],
)
def test_booking_needs_a_staff_token(
    demo: Flask,
    api: FlaskClient,
    ids: Demo,
    tokens: dict[str, str],
    role: str,
    headers: dict[str, str] | None,
    status: int,
) -> None:
    sent = bearer(tokens[role]) if headers is None else headers
    response = api.post("/api/v1/appointments", json=booking_body(ids), headers=sent)
    assert response.status_code == status
    conforms(response, "/appointments", "post")
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    with demo.app_context():
        assert db.session.scalar(select(func.count(Appointment.id))) == 0


def test_a_revoked_token_is_refused(demo: Flask, api: FlaskClient, tokens: dict[str, str]) -> None:
    from booking.services.api.tokens import revoke_token

    assert api.get("/api/v1/me", headers=bearer(tokens["receptionist"])).status_code == 200
    with demo.app_context():
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.name == "receptionist"))
        revoke_token(token_id, now=NOW)
        db.session.commit()
    assert api.get("/api/v1/me", headers=bearer(tokens["receptionist"])).status_code == 401


def test_token_use_is_recorded_and_audited(
    demo: Flask, api: FlaskClient, tokens: dict[str, str]
) -> None:
    response = api.get("/api/v1/me", headers=bearer(tokens["practitioner"]))
    assert conforms(response, "/me")["email"] == DEMO_EMAILS["practitioner"]
    with demo.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.name == "practitioner"))
        assert row.last_used_at == NOW
        used = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "api.token_used")
        ).all()
        assert [(e.object_id, e.actor_role) for e in used] == [(row.id, "practitioner")]


def test_practitioners_book_only_their_own_calendar(
    api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    # The demo practitioner's token belongs to Mei Lin Chen.
    theirs = book(api, tokens, booking_body(ids, practitioner_id=ids.tom), role="practitioner")
    assert theirs.status_code == 403
    conforms(theirs, "/appointments", "post")
    own = book(api, tokens, booking_body(ids), role="practitioner")
    assert own.status_code == 201


# --- one appointment, cancel ------------------------------------------------------------


@pytest.fixture
def booked(api: FlaskClient, ids: Demo, tokens: dict[str, str]) -> dict[str, Any]:
    response = book(api, tokens, booking_body(ids, practitioner_id=ids.tom))
    assert response.status_code == 201
    return response.get_json()


def test_get_one_appointment(
    api: FlaskClient, tokens: dict[str, str], booked: dict[str, Any]
) -> None:
    response = api.get(
        f"/api/v1/appointments/{booked['id']}", headers=bearer(tokens["receptionist"])
    )
    assert conforms(response, "/appointments/{appointment_id}") == booked


@pytest.mark.parametrize(
    ("role", "status"), [("practitioner", 404), ("admin", 403), ("patient", 401)]
)
def test_others_cannot_read_it(
    api: FlaskClient, tokens: dict[str, str], booked: dict[str, Any], role: str, status: int
) -> None:
    # Tom's session: Mei's token does not see it.
    response = api.get(f"/api/v1/appointments/{booked['id']}", headers=bearer(tokens[role]))
    assert response.status_code == status
    conforms(response, "/appointments/{appointment_id}")


@pytest.mark.parametrize("appointment_id", [999_999, 2**31, 10**30])
def test_unknown_appointments_are_404(
    api: FlaskClient, tokens: dict[str, str], appointment_id: int
) -> None:
    response = api.get(
        f"/api/v1/appointments/{appointment_id}", headers=bearer(tokens["receptionist"])
    )
    assert response.status_code == 404
    conforms(response, "/appointments/{appointment_id}")


def test_cancel_with_a_reason_is_idempotent(
    demo: Flask, api: FlaskClient, tokens: dict[str, str], booked: dict[str, Any]
) -> None:
    path = f"/api/v1/appointments/{booked['id']}/cancel"
    first = api.post(
        path, json={"reason": "Patient phoned"}, headers=bearer(tokens["receptionist"])
    )
    body = conforms(first, "/appointments/{appointment_id}/cancel", "post")
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "Patient phoned")
    assert body["cancelled_at"] is not None
    again = api.post(path, headers=bearer(tokens["receptionist"]))
    assert conforms(again, "/appointments/{appointment_id}/cancel", "post") == body
    with demo.app_context():
        kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
        assert kinds == ["appointment.confirmation", "appointment.cancellation"]


def test_cancel_frees_the_time(
    api: FlaskClient, ids: Demo, tokens: dict[str, str], booked: dict[str, Any]
) -> None:
    api.post(f"/api/v1/appointments/{booked['id']}/cancel", headers=bearer(tokens["receptionist"]))
    rebook = book(
        api,
        tokens,
        booking_body(ids, practitioner_id=ids.tom, patient={"id": booked["patient_id"]}),
    )
    assert rebook.status_code == 201


@pytest.mark.parametrize(
    ("body", "status"), [({"reason": "x" * 501}, 422), ({"reason": 5}, 422), ([], 400)]
)
def test_cancel_refuses_bad_reasons(
    api: FlaskClient, tokens: dict[str, str], booked: dict[str, Any], body: Any, status: int
) -> None:
    response = api.post(
        f"/api/v1/appointments/{booked['id']}/cancel",
        json=body,
        headers=bearer(tokens["receptionist"]),
    )
    assert response.status_code == status
    conforms(response, "/appointments/{appointment_id}/cancel", "post")


def test_a_completed_session_cannot_be_cancelled(
    demo: Flask, api: FlaskClient, tokens: dict[str, str], booked: dict[str, Any]
) -> None:
    with demo.app_context():
        db.session.get(Appointment, booked["id"]).status = "completed"
        db.session.commit()
    response = api.post(
        f"/api/v1/appointments/{booked['id']}/cancel", headers=bearer(tokens["receptionist"])
    )
    assert response.status_code == 422
    conforms(response, "/appointments/{appointment_id}/cancel", "post")


def test_practitioners_cannot_cancel_others_sessions(
    api: FlaskClient, tokens: dict[str, str], booked: dict[str, Any]
) -> None:
    response = api.post(
        f"/api/v1/appointments/{booked['id']}/cancel", headers=bearer(tokens["practitioner"])
    )
    assert response.status_code == 404


# --- staff list -------------------------------------------------------------------------


STARTS = [
    timedelta(hours=h, minutes=m)
    for h, m in ((10, 0), (10, 45), (11, 30), (12, 15), (14, 0), (14, 45))
]


def _book_many(
    api: FlaskClient, ids: Demo, tokens: dict[str, str], count: int
) -> list[dict[str, Any]]:
    """`count` sessions from Wednesday 3 March: Mei's follow-ups, Tom's community sessions."""
    made = []
    for n in range(count):
        day = datetime(2027, 3, 3, tzinfo=UTC) + timedelta(days=7 * (n // 12))
        when = day + STARTS[n % 12 // 2]
        body = booking_body(
            ids,
            practitioner_id=ids.mei if n % 2 == 0 else ids.tom,
            session_type_id=ids.follow_up if n % 2 == 0 else ids.community_type,
            start=when.isoformat(),
            patient={"id": ids.patient + n},
        )
        response = book(api, tokens, body)
        assert response.status_code == 201, (n, response.get_json())
        made.append(response.get_json())
    return made


def test_staff_list_filters_and_pages(api: FlaskClient, ids: Demo, tokens: dict[str, str]) -> None:
    made = _book_many(api, ids, tokens, 6)
    response = api.get(
        "/api/v1/appointments?from=2027-03-01&to=2027-03-31", headers=bearer(tokens["receptionist"])
    )
    body = conforms(response, "/appointments")
    assert sorted(i["id"] for i in body["items"]) == sorted(m["id"] for m in made)
    keys = [(i["start"], i["id"]) for i in body["items"]]
    assert keys == sorted(keys)
    toms = api.get(
        f"/api/v1/appointments?from=2027-03-01&to=2027-03-31&practitioner_id={ids.tom}",
        headers=bearer(tokens["receptionist"]),
    )
    assert {i["practitioner_id"] for i in toms.get_json()["items"]} == {ids.tom}
    seen, cursor = [], None
    while True:
        query = "from=2027-03-01&to=2027-03-31&limit=4" + (f"&cursor={cursor}" if cursor else "")
        page = conforms(
            api.get(f"/api/v1/appointments?{query}", headers=bearer(tokens["receptionist"])),
            "/appointments",
        )
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == body["items"]
    outside = api.get(
        "/api/v1/appointments?from=2027-03-04&to=2027-03-31", headers=bearer(tokens["receptionist"])
    )
    assert outside.get_json()["items"] == []


def test_staff_list_defaults_to_the_next_30_days(
    api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    made = _book_many(api, ids, tokens, 1)
    body = conforms(
        api.get("/api/v1/appointments", headers=bearer(tokens["receptionist"])), "/appointments"
    )
    assert [i["id"] for i in body["items"]] == [made[0]["id"]]


def test_practitioners_list_only_their_own(
    api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    _book_many(api, ids, tokens, 4)
    mine = api.get(
        "/api/v1/appointments?from=2027-03-01&to=2027-03-31", headers=bearer(tokens["practitioner"])
    )
    assert {i["practitioner_id"] for i in conforms(mine, "/appointments")["items"]} == {ids.mei}
    other = api.get(
        f"/api/v1/appointments?practitioner_id={ids.tom}", headers=bearer(tokens["practitioner"])
    )
    assert other.status_code == 403
    conforms(other, "/appointments")
    admin = api.get("/api/v1/appointments", headers=bearer(tokens["admin"]))
    assert admin.status_code == 403


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2027-03-10&to=2027-03-01", "to"),
        ("from=2027-01-01&to=2027-06-01", "to"),
        ("from=yesterday", "from"),
    ],
)
def test_staff_list_refuses_bad_ranges(
    api: FlaskClient, tokens: dict[str, str], query: str, field: str
) -> None:
    response = api.get(f"/api/v1/appointments?{query}", headers=bearer(tokens["receptionist"]))
    assert response.status_code == 400
    assert [e["field"] for e in conforms(response, "/appointments")["errors"]] == [field]


def test_staff_list_query_count_does_not_grow(
    demo: Flask, api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    _book_many(api, ids, tokens, 20)
    path = "/api/v1/appointments?from=2027-03-01&to=2027-05-31&limit="
    with count_queries(demo) as one:
        assert (
            len(api.get(path + "1", headers=bearer(tokens["receptionist"])).get_json()["items"])
            == 1
        )
    with count_queries(demo) as twenty:
        assert (
            len(api.get(path + "20", headers=bearer(tokens["receptionist"])).get_json()["items"])
            == 20
        )
    assert len(app_only(one)) == len(app_only(twenty)) <= 10


# --- Idempotency-Key --------------------------------------------------------------------


def test_a_retry_with_the_same_key_replays_the_first_answer(
    demo: Flask, api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    first = book(api, tokens, booking_body(ids), **{"Idempotency-Key": "retry-1"})
    again = book(api, tokens, booking_body(ids), **{"Idempotency-Key": "retry-1"})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    with demo.app_context():
        assert db.session.scalar(select(func.count(Appointment.id))) == 1
        assert db.session.scalar(select(func.count(ApiIdempotencyKey.id))) == 1


def test_the_same_key_with_another_request_is_refused(
    api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    assert book(api, tokens, booking_body(ids), **{"Idempotency-Key": "k"}).status_code == 201
    other = book(
        api,
        tokens,
        booking_body(ids, start="2027-03-03T11:00:00+00:00"),
        **{"Idempotency-Key": "k"},
    )
    assert other.status_code == 422
    conforms(other, "/appointments", "post")


def test_keys_are_per_token_and_expire_after_a_day(
    demo: Flask, api: FlaskClient, clock: FrozenClock, ids: Demo, tokens: dict[str, str]
) -> None:
    assert book(api, tokens, booking_body(ids), **{"Idempotency-Key": "k"}).status_code == 201
    # Mei's own token, same key: not a replay, so the taken time is a 409.
    assert (
        book(
            api, tokens, booking_body(ids), role="practitioner", **{"Idempotency-Key": "k"}
        ).status_code
        == 409
    )
    clock.now = NOW + timedelta(hours=24, seconds=1)
    assert book(api, tokens, booking_body(ids), **{"Idempotency-Key": "k"}).status_code == 409


def test_failed_requests_are_not_stored(
    demo: Flask, api: FlaskClient, ids: Demo, tokens: dict[str, str]
) -> None:
    assert book(api, tokens, {"bad": 1}, **{"Idempotency-Key": "k"}).status_code == 422
    with demo.app_context():
        assert db.session.scalar(select(func.count(ApiIdempotencyKey.id))) == 0


# --- the document and the access rules --------------------------------------------------


def test_openapi_document_is_public_and_covers_every_route(demo: Flask, api: FlaskClient) -> None:
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    served = response.get_json()
    assert served["openapi"].startswith("3.1")
    for schema in served["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    documented = {
        (re.sub(r"\{(\w+_id)\}", r"<id:\1>", f"/api/v1{path}"), method.upper())
        for path, item in served["paths"].items()
        for method in item
    }
    routes = {
        (rule.rule, method)
        for rule in demo.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == documented


def test_access_entries_for_the_api(demo: Flask, tokens: dict[str, str]) -> None:
    """The API rows of the access matrix, checked here too (Z1 runs them with every route)."""
    from flask import url_for

    from tests.web.access import api as entries

    failures = []
    for (endpoint, method), expected in entries.MATRIX.items():
        with demo.test_request_context():
            url = url_for(endpoint, **entries.URL_ARGS.get(endpoint, {}))
        for role, status in expected.items():
            headers = bearer(tokens[role]) if role in tokens else {}
            response = demo.test_client().open(
                url, method=method, data={"csrf_token": "x"}, headers=headers
            )
            if response.status_code != status:
                failures.append((endpoint, role, response.status_code, status))
            if endpoint != "api.openapi":
                conforms(
                    response,
                    url.removeprefix("/api/v1").replace("/1", "/{appointment_id}"),
                    method.lower(),
                )
    assert failures == []


def test_every_api_error_is_problem_json(api: FlaskClient, tokens: dict[str, str]) -> None:
    missing = api.get("/api/v1/nothing-here")
    assert (missing.status_code, missing.mimetype) == (404, "application/problem+json")
    wrong = api.delete("/api/v1/locations")
    assert (wrong.status_code, wrong.mimetype) == (405, "application/problem+json")
    big = api.post(
        "/api/v1/appointments",
        data="x" * (1024 * 1024 + 1),
        headers={**bearer(tokens["receptionist"]), "Content-Type": "application/json"},
    )
    assert (big.status_code, big.mimetype) == (413, "application/problem+json")
