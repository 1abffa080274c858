"""Plan series under races on `gunicorn -w 4`, both engines (issue 17).

Each round releases its clients together with a barrier. Two series sharing one occurrence:
one 201, one 409 listing that start, and the loser has no session at all. A single booking
racing a series for its 7th occurrence: never both, and never a partial series.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from booking import clock
from booking.extensions import db
from booking.models import Appointment, PatientProfile, Practitioner, SessionType
from booking.services.api.tokens import create_token
from tests.concurrency.conftest import Gunicorn, overlapping_live_pairs
from tests.concurrency.test_api_races import call
from tests.conftest import DEMO_EMAILS

pytestmark = [pytest.mark.concurrency, pytest.mark.xdist_group("gunicorn")]
LONDON = ZoneInfo("Europe/London")
ROUNDS = 4
TIMES = ("09:00", "10:00", "11:00", "12:00", "14:00", "15:00", "16:00", "17:00")


class World:
    def __init__(self, server: Gunicorn) -> None:
        app = server.app
        self.server = server
        with app.app_context():
            _, self.token = create_token(
                email=DEMO_EMAILS["receptionist"], name="plan race", now=clock.utcnow()
            )
            db.session.commit()
            self.mei = db.session.scalar(
                select(Practitioner.id).where(Practitioner.display_name == "Mei Lin Chen")
            )
            self.follow_up = db.session.scalar(
                select(SessionType.id).where(SessionType.slug == "follow-up-acupuncture")
            )
            db.session.remove()
        today = clock.utcnow().astimezone(LONDON).date()
        self.first = today + timedelta(days=(2 - today.weekday()) % 7 + 7)  # a Wednesday

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, str, Any]:
        return call(self.server.port, "POST", f"/api/v1{path}", body, self.token)

    def free_times(self, count: int) -> list[list[str]]:
        """Wall times at which `count` weekly Wednesdays are all free, as start lists."""
        found = []
        for wall in TIMES:
            status, _, body = self.post(
                "/plans/proposal",
                {
                    "session_type_id": self.follow_up,
                    "practitioner_id": self.mei,
                    "first_date": self.first.isoformat(),
                    "time": wall,
                    "count": count,
                    "interval_weeks": 1,
                },
            )
            assert status == 200, body
            if all(s["free"] for s in body["sessions"]):
                found.append([s["start"] for s in body["sessions"]])
        assert len(found) >= ROUNDS, found
        return found[:ROUNDS]

    def plan(self, starts: list[str], email: str) -> dict[str, Any]:
        return {
            "session_type_id": self.follow_up,
            "practitioner_id": self.mei,
            "goal": "Race",
            "starts": starts,
            "patient": {
                "email": email,
                "given_name": "Race",
                "family_name": email.split("@")[0],
                "date_of_birth": "1980-04-03",
            },
        }

    def sessions_of(self, email: str) -> int:
        with self.server.app.app_context():
            count = db.session.scalar(
                select(func.count(Appointment.id))
                .join(PatientProfile, PatientProfile.id == Appointment.patient_id)
                .where(PatientProfile.email == email)
            )
            db.session.remove()
        return count or 0


def together(world: World, *attempts: tuple[str, dict[str, Any]]) -> list[tuple[int, str, Any]]:
    """POST each (path, body) at once, released by one barrier."""
    barrier = threading.Barrier(len(attempts))

    def run(attempt: tuple[str, dict[str, Any]]) -> tuple[int, str, Any]:
        barrier.wait()
        return world.post(*attempt)

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(run, attempts))


def test_two_series_sharing_one_occurrence_book_one_whole_and_nothing_else(
    gunicorn_server: Gunicorn,
) -> None:
    world = World(gunicorn_server)
    for round_no, starts in enumerate(world.free_times(7)):
        shared = starts[5]
        first, second = starts[:6], starts[5:]  # weeks 1-6 and weeks 6-7
        emails = (f"a{round_no}@example.com", f"b{round_no}@example.com")
        outcomes = together(
            world,
            ("/plans", world.plan(first, emails[0])),
            ("/plans", world.plan(second, emails[1])),
        )
        statuses = sorted(status for status, _, _ in outcomes)
        assert statuses == [201, 409], (outcomes, gunicorn_server.log()[-3000:])
        loser = next(i for i, (status, _, _) in enumerate(outcomes) if status == 409)
        status, content_type, problem = outcomes[loser]
        assert content_type.startswith("application/problem+json")
        assert problem["conflicts"] == [shared]
        assert world.sessions_of(emails[loser]) == 0
        assert world.sessions_of(emails[1 - loser]) == (6, 2)[1 - loser]
    assert overlapping_live_pairs(gunicorn_server.app) == 0
    assert "Traceback" not in gunicorn_server.log()


def test_a_single_booking_racing_a_series_for_its_seventh_session_never_both(
    gunicorn_server: Gunicorn,
) -> None:
    world = World(gunicorn_server)
    for round_no, starts in enumerate(world.free_times(10)):
        single_email, series_email = f"s{round_no}@example.com", f"p{round_no}@example.com"
        single = {
            "session_type_id": world.follow_up,
            "practitioner_id": world.mei,
            "start": starts[6],
            "patient": world.plan([], single_email)["patient"],
        }
        outcomes = together(
            world, ("/appointments", single), ("/plans", world.plan(starts, series_email))
        )
        statuses = [status for status, _, _ in outcomes]
        assert sorted(statuses) == [201, 409], (outcomes, gunicorn_server.log()[-3000:])
        if statuses[1] == 201:
            assert (world.sessions_of(series_email), world.sessions_of(single_email)) == (10, 0)
        else:
            assert outcomes[1][2]["conflicts"] == [starts[6]]
            assert (world.sessions_of(series_email), world.sessions_of(single_email)) == (0, 1)
    assert overlapping_live_pairs(gunicorn_server.app) == 0
    assert "Traceback" not in gunicorn_server.log()
