"""Treatment plans over the JSON API (issue 17): proposal, atomic series, k of N; both engines.

Every response is validated against the OpenAPI document the API serves (`conforms`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Appointment, TreatmentPlan
from tests.conftest import freeze_clock
from tests.web.booking_helpers import Demo, demo_ids
from tests.web.test_api import NOW, bearer, book, booking_body, conforms, make_tokens, new_patient

LONDON = ZoneInfo("Europe/London")
# Six Wednesdays at 10:00 London from 3 March 2027: the clocks go forward on 28 March.
WEDNESDAYS = [f"2027-03-{d:02d}" for d in (3, 10, 17, 24, 31)] + ["2027-04-07"]


@pytest.fixture
def ids(demo: Flask) -> Demo:
    return demo_ids(demo)


@pytest.fixture
def tokens(demo: Flask) -> dict[str, str]:
    return make_tokens(demo)


@pytest.fixture
def api(demo: Flask, monkeypatch: pytest.MonkeyPatch, tokens: dict[str, str]) -> FlaskClient:
    freeze_clock(monkeypatch, NOW)
    return demo.test_client()


def proposal_body(ids: Demo, **overrides: Any) -> dict[str, Any]:
    return {
        "session_type_id": ids.follow_up,
        "practitioner_id": ids.mei,
        "first_date": "2027-03-03",
        "time": "10:00",
        "count": 6,
        "interval_weeks": 1,
        **overrides,
    }


def propose(api: FlaskClient, tokens: dict[str, str], body: dict[str, Any]) -> Any:
    response = api.post("/api/v1/plans/proposal", json=body, headers=bearer(tokens["receptionist"]))
    assert response.status_code == 200, response.get_json()
    return conforms(response, "/plans/proposal", "post")


def local_start(day: str) -> str:
    return datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=LONDON).isoformat()


def appointment_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Appointment.id))) or 0


def test_proposal_keeps_the_wall_time_and_offers_alternatives_where_taken(
    api: FlaskClient, tokens: dict[str, str], ids: Demo
) -> None:
    taken = book(api, tokens, booking_body(ids, start=local_start(WEDNESDAYS[2])))
    assert taken.status_code == 201
    body = propose(api, tokens, proposal_body(ids))
    sessions = body["sessions"]
    assert [s["start"] for s in sessions] == [local_start(d) for d in WEDNESDAYS]
    assert sessions[0]["start"].endswith("+00:00")
    assert sessions[-1]["start"].endswith("+01:00")  # 10:00 BST after the change
    assert [s["sequence"] for s in sessions if not s["free"]] == [3]
    assert [s["sequence"] for s in sessions if s["alternatives"]] == [3]
    alternatives = sessions[2]["alternatives"]
    assert len(alternatives) == 3
    assert all(a["start"].startswith("2027-03-17T") for a in alternatives)


def test_a_series_is_booked_whole_or_refused_with_its_conflicts(
    demo: Flask, api: FlaskClient, tokens: dict[str, str], ids: Demo
) -> None:
    taken = book(api, tokens, booking_body(ids, start=local_start(WEDNESDAYS[4])))
    assert taken.status_code == 201
    before = appointment_count(demo)
    body = {
        "session_type_id": ids.follow_up,
        "practitioner_id": ids.mei,
        "goal": "Less knee pain on stairs",
        "starts": [local_start(d) for d in WEDNESDAYS],
        "patient": new_patient(email="plan.patient@example.com"),
    }
    headers = bearer(tokens["receptionist"])
    refused = api.post("/api/v1/plans", json=body, headers=headers)
    assert refused.status_code == 409
    problem = conforms(refused, "/plans", "post")
    assert problem["conflicts"] == [local_start(WEDNESDAYS[4])]
    assert appointment_count(demo) == before
    with demo.app_context():
        assert db.session.scalar(select(func.count(TreatmentPlan.id))) == 0

    body["starts"] = [local_start(d) for d in WEDNESDAYS[:4]] + [local_start("2027-04-07")]
    created = api.post("/api/v1/plans", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    plan = conforms(created, "/plans", "post")
    assert [(a["sequence"], a["of"]) for a in plan["appointments"]] == [(k, 5) for k in range(1, 6)]
    assert appointment_count(demo) == before + 5

    read = api.get(created.headers["Location"], headers=headers)
    assert conforms(read, "/plans/{plan_id}") == plan
    assert (plan["total"], plan["booked"], plan["remaining"]) == (5, 5, 0)

    # Each appointment names its plan and "k of N" (one shared helper, progress.sequence_of).
    third = plan["appointments"][2]
    one = api.get(f"/api/v1/appointments/{third['id']}", headers=headers)
    shown = conforms(one, "/appointments/{appointment_id}")
    assert shown["plan"] == {"id": plan["id"], "sequence": 3, "of": 5}
    listed = api.get("/api/v1/appointments?from=2027-03-01&to=2027-04-30", headers=headers)
    numbered = {a["id"]: a["plan"] for a in conforms(listed, "/appointments")["items"] if a["plan"]}
    assert numbered[third["id"]] == {"id": plan["id"], "sequence": 3, "of": 5}
    loose = api.get(f"/api/v1/appointments/{taken.get_json()['id']}", headers=headers)
    assert loose.get_json()["plan"] is None


def test_plans_follow_the_calendar_rules_of_each_role(
    api: FlaskClient, tokens: dict[str, str], ids: Demo
) -> None:
    other = proposal_body(ids, practitioner_id=ids.tom)
    mine = api.post("/api/v1/plans/proposal", json=other, headers=bearer(tokens["practitioner"]))
    assert mine.status_code == 403
    conforms(mine, "/plans/proposal", "post")
    admin = api.post("/api/v1/plans/proposal", json=other, headers=bearer(tokens["admin"]))
    assert admin.status_code == 403
    bad = api.post(
        "/api/v1/plans/proposal",
        json=proposal_body(ids, time="25:00", count=0),
        headers=bearer(tokens["receptionist"]),
    )
    assert bad.status_code == 422
    assert {e["field"] for e in conforms(bad, "/plans/proposal", "post")["errors"]} == {
        "time",
        "count",
    }
    missing = api.get("/api/v1/plans/999", headers=bearer(tokens["receptionist"]))
    assert missing.status_code == 404
    conforms(missing, "/plans/{plan_id}")
