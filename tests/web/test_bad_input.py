"""Bad input never reaches the database (issue 13, item 5), on SQLite and PostgreSQL.

Ids beyond 32 bits, NUL and lone surrogates, far-off date parts, deep JSON, bad cursors and
invalid UTF-8 each get a 404, a form error, a 400 page or a 4xx problem+json, never a 500.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter

from booking import clock
from booking.extensions import db
from booking.services.api.tokens import create_token
from tests.conftest import DEMO_EMAILS, csrf_from
from tests.web.booking_helpers import Clock, demo_ids, error_summary, hold, post, to_time
from tests.web.intake_helpers import book_first_visit, guest_patient_id

LoginAs = Callable[[str], FlaskClient]
HUGE_IDS = (2**31, 2**63, 2**64, 10**30)


def _token(app: Flask, role: str = "receptionist") -> dict[str, str]:
    with app.app_context():
        _, token = create_token(
            email=DEMO_EMAILS[role], name=f"bad-input-{role}", now=clock.utcnow()
        )
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _is_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def _cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


# ---- Ids: one converter, 1 … 2^31 − 1 ---------------------------------------------------------

# Routes that take an id, by the role that passes their guard. Anonymous ones are looked up
# before the sign-in redirect: those answered 500 to anyone.
ID_PATHS = {
    "anonymous": ["/intake/{id}", "/intake/start/{id}/some-token", "/intake/{id}/concern"],
    "patient": ["/patient/sessions/{id}", "/patient/sessions/{id}/calendar.ics"],
    "practitioner": ["/practitioner/patients/{id}/health", "/practitioner/intake/{id}"],
    "receptionist": ["/reception/intake/{id}", "/reception/patients/{id}/consent"],
    "admin": ["/admin/locations/{id}", "/admin/practitioners/{id}/hours", "/admin/rooms/{id}"],
}


@pytest.mark.parametrize("role", sorted(ID_PATHS))
def test_an_id_beyond_32_bits_is_not_found(login_as: LoginAs, role: str) -> None:
    client = login_as(role)
    answers = {
        (path, huge): client.get(path.format(id=huge)).status_code
        for path in ID_PATHS[role]
        for huge in HUGE_IDS
    }
    assert answers == dict.fromkeys(answers, 404)


def test_an_id_beyond_32_bits_is_not_found_on_posts(login_as: LoginAs) -> None:
    client = login_as("admin")
    token = csrf_from(client.get("/admin/closures").get_data(as_text=True))
    answers = {
        huge: client.post(f"/admin/closures/{huge}/remove", data={"csrf_token": token}).status_code
        for huge in HUGE_IDS
    }
    assert answers == dict.fromkeys(HUGE_IDS, 404)


def test_ids_are_plain_positive_whole_numbers(login_as: LoginAs) -> None:
    client = login_as("patient")
    values = ["0", "-1", "007", "1e3", "%D9%A3", "%00", "1%00", "%ff"]  # %D9%A3: Arabic-Indic 3
    answers = {v: client.get(f"/patient/sessions/{v}").status_code for v in values}
    assert answers == dict.fromkeys(values, 404)


def test_an_api_id_beyond_32_bits_is_a_problem_404(demo: Flask) -> None:
    client = demo.test_client()
    headers = _token(demo)
    for huge in HUGE_IDS:
        _is_problem(client.get(f"/api/v1/appointments/{huge}", headers=headers), 404)
        body = _is_problem(client.post(f"/api/v1/appointments/{huge}/cancel", headers=headers), 404)
        assert body["detail"] == "Nothing exists at this address."


def test_the_largest_id_is_still_looked_up(login_as: LoginAs) -> None:
    # 2^31 − 1 fits every engine: an ordinary "not found", and real ids still work.
    assert login_as("patient").get(f"/patient/sessions/{2**31 - 1}").status_code == 404
    assert login_as("admin").get("/admin/locations/1").status_code == 200


def test_no_route_uses_the_unbounded_int_converter(sqlite_app: Flask) -> None:
    unbounded = [
        rule.rule
        for rule in sqlite_app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values())
    ]
    assert unbounded == [], "take ids as <id:name> (booking/inputs.py)"


# ---- API cursors: validated like ids ---------------------------------------------------------

BAD_CURSORS = [
    ("/api/v1/locations", [2**63]),
    ("/api/v1/locations", [2**31]),
    ("/api/v1/locations", [-1]),
    ("/api/v1/session-types", [2**64]),
    ("/api/v1/practitioners", [0]),
    ("/api/v1/appointments", ["2027-03-01T09:00:00+00:00", 2**63]),
    ("/api/v1/appointments", ["2027-03-01T09:00:00+00:00", 2**31]),
    ("/api/v1/appointments", ["0001-01-01T00:00:00+05:00", 1]),  # overflows on the way to UTC
    ("/api/v1/appointments", ["9999-12-31T23:59:59-05:00", 1]),
    (
        "/api/v1/availability?session_type_id=1&from=2027-03-01&to=2027-03-02",
        ["2027-03-01T09:00:00+00:00", 2**63, 1],
    ),
]


def test_a_cursor_out_of_range_is_a_problem_400(demo: Flask) -> None:
    client = demo.test_client()
    headers = _token(demo)
    for path, key in BAD_CURSORS:
        sep = "&" if "?" in path else "?"
        response = client.get(f"{path}{sep}cursor={_cursor(key)}", headers=headers)
        body = _is_problem(response, 400)
        assert [e["field"] for e in body["errors"]] == ["cursor"], (path, key)


# ---- NUL and lone surrogates ------------------------------------------------------------------


def test_nul_in_the_sign_in_email_is_a_form_error(demo: Flask) -> None:
    client = demo.test_client()
    token = csrf_from(client.get("/auth/sign-in").get_data(as_text=True))
    response = client.post(
        "/auth/sign-in",
        data={"email": "admin@meridian.example\x00", "password": "x", "csrf_token": token},
    )
    assert response.status_code == 200
    assert "Email address must not contain control characters" in error_summary(response)


def test_nul_in_the_booking_name_is_a_form_error(
    demo: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    Clock(monkeypatch)
    client = demo.test_client()
    to_time(client, demo_ids(demo))
    assert hold(client).status_code == 303
    assert post(client, "/book/returning", {"returning": "no"}).status_code == 303
    response = post(client, "/book/name", {"given_name": "Jo\x00", "family_name": "Bloggs"})
    assert response.status_code == 200
    assert "First name must not contain control characters" in error_summary(response)


def test_nul_in_an_intake_answer_is_a_form_error(demo: Flask) -> None:
    booked = book_first_visit(demo, guest_patient_id(demo))
    client = demo.test_client()
    token = csrf_from(client.get(booked.start_url).get_data(as_text=True))
    started = client.post(booked.start_url, data={"csrf_token": token})
    page = started.headers["Location"].rstrip("/") + "/concern"
    token = csrf_from(client.get(page).get_data(as_text=True))
    answers = {"concern": "Back\x00ache", "body_regions": ["lower_back"], "csrf_token": token}
    response = client.post(page, data=answers)
    assert response.status_code == 200
    assert "must not contain control characters" in error_summary(response)
    # "Save and come back later" skips validation: the unstorable answer is dropped instead.
    response = client.post(page, data={**answers, "save_later": "Save and come back later"})
    assert response.status_code == 303
    assert "Back" not in client.get(page).get_data(as_text=True)


def test_nul_in_a_query_string_is_a_bad_request(demo: Flask) -> None:
    client = demo.test_client()
    for query in ["type=%00", "type=first%00", "next=/%00", "tag=a%00", "a%00=1"]:
        response = client.get(f"/book?{query}")
        assert response.status_code == 400, query
        assert "The address must not contain control characters" in response.get_data(as_text=True)
    assert client.get("/articles/?tag=%00").status_code == 400
    problem = _is_problem(client.get("/api/v1/locations?limit=1%00"), 400)
    assert [e["field"] for e in problem["errors"]] == ["limit"]


def test_nul_in_a_path_matches_nothing(demo: Flask) -> None:
    client = demo.test_client()
    paths = ["/articles/a%00b", "/static/%00", "/manage/tok%00en"]
    answers = {path: client.get(path).status_code for path in paths}
    assert answers == dict.fromkeys(paths, 404)
    assert "This link has expired or is not valid" in client.get("/manage/%00").get_data(
        as_text=True
    )
    assert client.get("/book/find-you/%00").status_code < 500


API_UNSTORABLE = [
    ({"given_name": "Jo\x00"}, "patient.given_name"),
    ({"family_name": "\ud800"}, "patient.family_name"),
    ({"email": "jo\x00@example.com"}, "patient.email"),
    ({"phone": "\udfff"}, "patient.phone"),
    ({"notes\x00": "x"}, "patient"),
]


def test_unstorable_text_in_api_json_is_a_problem_422(demo: Flask) -> None:
    ids = demo_ids(demo)
    client = demo.test_client()
    headers = _token(demo)
    for patient, field in API_UNSTORABLE:
        body = {
            "session_type_id": ids.follow_up,
            "practitioner_id": ids.mei,
            "start": "2027-03-03T10:00:00+00:00",
            "patient": {
                "email": "jo.bloggs@example.com",
                "given_name": "Jo",
                "family_name": "Bloggs",
                "date_of_birth": "1980-04-03",
                **patient,
            },
        }
        raw = json.dumps(body)  # escapes NUL and the lone surrogates as \u0000, \ud800
        response = client.post(
            "/api/v1/appointments", data=raw, content_type="application/json", headers=headers
        )
        problem = _is_problem(response, 422)
        assert field in [e["field"] for e in problem["errors"]], (patient, problem)


def test_unstorable_text_in_an_api_cancel_reason_is_a_problem_422(demo: Flask) -> None:
    booked = book_first_visit(demo, guest_patient_id(demo))
    response = demo.test_client().post(
        f"/api/v1/appointments/{booked.appointment_id}/cancel",
        data=json.dumps({"reason": "ill\ud83d"}),
        content_type="application/json",
        headers=_token(demo),
    )
    problem = _is_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["reason"]


def test_every_form_shares_the_input_filter(sqlite_app: Flask) -> None:
    import booking.intake.forms as intake_forms
    from booking import forms

    with sqlite_app.test_request_context():
        intake_forms.page_form({"questions": []})  # its class is built per page

    def subclasses(cls: type) -> list[type]:
        found = []
        for sub in cls.__subclasses__():
            found += [sub, *subclasses(sub)]
        return found

    ours = [c for c in subclasses(FlaskForm) if c.__module__.startswith("booking.")]
    assert len(ours) > 20, "the app's forms were not found"
    missed = [c.__qualname__ for c in ours if not issubclass(c, forms.FlaskForm)]
    assert missed == [], "derive forms from booking.forms.FlaskForm"


# ---- Date parts ---------------------------------------------------------------------------------

HUGE_PARTS = [
    (str(2**63), "1"),  # (day, month)
    ("1", str(2**63)),
    ("9999999999", "1"),
    ("1", "9999999999"),
    ("1", "²"),  # a digit that int() refuses
    ("²", "1"),
]


def test_a_huge_date_of_birth_part_is_a_form_error(
    demo: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    Clock(monkeypatch)
    client = demo.test_client()
    to_time(client, demo_ids(demo))
    assert hold(client).status_code == 303
    assert post(client, "/book/returning", {"returning": "no"}).status_code == 303
    assert post(client, "/book/name", {"given_name": "Jo", "family_name": "B"}).status_code == 303
    for day, month in HUGE_PARTS:
        parts = {"dob_day": day, "dob_month": month, "dob_year": "1980"}
        response = post(client, "/book/date-of-birth", parts)
        assert response.status_code == 200, parts
        assert "Date of birth must be a real date" in error_summary(response)


def test_a_huge_admin_date_part_is_a_form_error(login_as: LoginAs) -> None:
    client = login_as("admin")
    token = csrf_from(client.get("/admin/closures").get_data(as_text=True))
    for day, month in HUGE_PARTS:
        data = {"on_date-day": day, "on_date-month": month, "on_date-year": "2027"}
        response = client.post(
            "/admin/closures", data={**data, "kind": "closure", "csrf_token": token}
        )
        assert response.status_code < 500, (day, month)
        assert "Date must be a real date" in error_summary(response), (day, month)


# ---- JSON depth ---------------------------------------------------------------------------------


def test_json_nested_too_deep_is_a_problem_400(demo: Flask) -> None:
    client = demo.test_client()
    headers = _token(demo)
    for depth in (33, 1000, 100_000):
        deep = "[" * depth + "]" * depth
        response = client.post(
            "/api/v1/appointments", data=deep, content_type="application/json", headers=headers
        )
        assert "nested at most 32 levels deep" in _is_problem(response, 400)["detail"]
        nested = '{"reason": ' + '{"a": ' * depth + "1" + "}" * depth + "}"
        response = client.post(
            "/api/v1/appointments/1/cancel",
            data=nested,
            content_type="application/json",
            headers=headers,
        )
        _is_problem(response, 400)


def test_json_nested_32_deep_is_still_read(demo: Flask) -> None:
    body = '{"reason": "x", "extra": ' + "[" * 31 + "]" * 31 + "}"
    response = demo.test_client().post(
        "/api/v1/appointments/1/cancel",
        data=body,
        content_type="application/json",
        headers=_token(demo),
    )
    _is_problem(response, 404)  # read, then there is no such appointment


# ---- Invalid UTF-8 ------------------------------------------------------------------------------


def test_invalid_utf8_in_a_path_or_query_is_a_4xx(login_as: LoginAs) -> None:
    client = login_as("receptionist")
    paths = [
        "/articles/%ff%fe",
        "/manage/%c3%28",
        "/reception/intake/%ff",
        "/book?type=%ff",
        "/book?%ff=1",
        "/api/v1/locations?cursor=%ff",
        "/auth/sign-in?next=%ed%a0%80",
    ]
    answers = {path: client.get(path).status_code for path in paths}
    assert all(300 <= status < 500 for status in answers.values()), answers


def test_invalid_utf8_in_a_form_body_is_a_4xx(demo: Flask) -> None:
    client = demo.test_client()
    token = csrf_from(client.get("/auth/sign-in").get_data(as_text=True))
    kind = "application/x-www-form-urlencoded"
    encoded = f"csrf_token={token}&email=a%ff%00@example.com&password=%ed%a0%80".encode()
    raw = f"csrf_token={token}&email=\xff\xfe@example.com&password=x".encode("latin-1")
    for body in (encoded, raw):
        response = client.post("/auth/sign-in", data=body, content_type=kind)
        assert 200 <= response.status_code < 500, body
