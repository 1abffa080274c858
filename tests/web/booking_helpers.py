"""Helpers for the booking web tests: a fixed clock for the booking views and a journey driver."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import (
    Appointment,
    Location,
    OutboxMessage,
    PatientProfile,
    Practitioner,
    SessionType,
)
from tests.conftest import FrozenClock, csrf_from

# Monday 1 March 2027, 8am in London (GMT): the demo's hours and no appointments.
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
DAY = "2027-03-03"  # a Wednesday: Mei Lin Chen works 9am–1pm and 2pm–6pm at Islington
START = "2027-03-03T10:00:00+00:00"
BANNED = ("please", "sorry", "valid", "invalid", "required")


class Clock(FrozenClock):
    """The app's one clock (tests/conftest.py), frozen at NOW unless told otherwise."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, now: datetime = NOW) -> None:
        super().__init__(now)
        monkeypatch.setattr("booking.clock.utcnow", self)


@dataclass(frozen=True)
class Demo:
    islington: int
    dublin: int
    mei: int
    tom: int
    sam: int
    aoife: int
    first_type: int
    follow_up: int
    community_type: int
    patient: int  # the first demo patient (Alex Morgan)


def demo_ids(app: Flask) -> Demo:
    with app.app_context():

        def loc(slug: str) -> int:
            return db.session.scalar(select(Location.id).where(Location.slug == slug))

        def who(name: str) -> int:
            return db.session.scalar(
                select(Practitioner.id).where(Practitioner.display_name == name)
            )

        def st(slug: str) -> int:
            return db.session.scalar(select(SessionType.id).where(SessionType.slug == slug))

        return Demo(
            islington=loc("islington"),
            dublin=loc("dublin"),
            mei=who("Mei Lin Chen"),
            tom=who("Tom Okafor"),
            sam=who("Sam Patel"),
            aoife=who("Aoife Byrne"),
            first_type=st("first-acupuncture-session"),
            follow_up=st("follow-up-acupuncture"),
            community_type=st("community-acupuncture"),
            patient=db.session.scalar(select(PatientProfile.id).order_by(PatientProfile.id)),
        )


def counts(app: Flask) -> dict[str, Any]:
    with app.app_context():
        by_status = dict(
            db.session.execute(
                select(Appointment.status, func.count()).group_by(Appointment.status)
            ).all()
        )
        return {
            "appointments": {str(k): v for k, v in by_status.items()},
            "patients": db.session.scalar(select(func.count(PatientProfile.id))),
            "outbox": db.session.scalar(select(func.count(OutboxMessage.id))),
        }


def token_for(client: FlaskClient) -> str:
    return csrf_from(client.get("/manage-link").get_data(as_text=True))


def post(client: FlaskClient, path: str, data: dict[str, str] | None = None) -> Any:
    return client.post(path, data={"csrf_token": token_for(client), **(data or {})})


def text(response: Any) -> str:
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def error_summary(response: Any) -> str:
    html = response.get_data(as_text=True)
    match = re.search(r'<div class="govuk-error-summary".*?</ul>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))) if match else ""


def to_time(client: FlaskClient, ids: Demo, *, practitioner: str | None = None) -> None:
    """Start a draft and answer up to the time page (first session at Islington)."""
    assert client.get("/book?type=first-acupuncture-session").status_code == 302
    assert post(client, "/book/location", {"location": str(ids.islington)}).status_code == 303
    chosen = practitioner or str(ids.mei)
    assert post(client, "/book/practitioner", {"practitioner": chosen}).status_code == 303
    response = post(client, "/book/day", {"day": DAY})
    assert response.status_code == 303, text(response)[:2000]


def hold(client: FlaskClient, start: str = START) -> Any:
    return post(client, f"/book/time?day={DAY}", {"start": start})


NEW_PATIENT = (
    ("/book/returning", {"returning": "no"}),
    ("/book/name", {"given_name": "Jo", "family_name": "Bloggs"}),
    ("/book/date-of-birth", {"dob_day": "3", "dob_month": "jan", "dob_year": "1980"}),
    ("/book/contact", {"email": "jo@example.com", "phone": "07400 123 456"}),
    ("/book/contact-preference", {"contact_preference": "email"}),
    ("/book/safety", {"safety": "no"}),
)


def to_check(client: FlaskClient, ids: Demo, start: str = START) -> None:
    to_time(client, ids)
    response = hold(client, start)
    assert response.status_code == 303, text(response)[:2000]
    assert response.headers["Location"].endswith("/book/returning")
    for path, data in NEW_PATIENT:
        response = post(client, path, data)
        assert response.status_code == 303, (path, error_summary(response))
    assert response.headers["Location"].endswith("/book/check")


def book(client: FlaskClient, ids: Demo, start: str = START) -> str:
    """Book as a new patient; return the manage token from the confirmation page."""
    to_check(client, ids, start)
    return confirm(client)


def confirm(client: FlaskClient) -> str:
    """Press "Book session" on the check page; return the confirmation's manage token."""
    response = post(client, "/book/check")
    assert response.headers["Location"].endswith("/book/confirmation")
    html = client.get("/book/confirmation").get_data(as_text=True)
    match = re.search(r"/manage/([A-Za-z0-9_\-]+)\"", html)
    assert match, html[:3000]
    return match.group(1)
