"""Issue 15: a receptionist booking on a patient's behalf and a patient booking online race
for the same time on a real `gunicorn -w 4`, SQLite and PostgreSQL: exactly one wins.

Both go through the same holds and guards: the patient's browser POSTs the time page, the
receptionist POSTs the desk's "Hold this time" at the same moment (a barrier releases
them). The winner books; the loser is told the time was taken and books nothing.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from sqlalchemy import select, text

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    PatientProfile,
    Practitioner,
    SessionType,
)
from tests.concurrency.conftest import Gunicorn, overlapping_live_pairs
from tests.concurrency.test_booking_races import finish_booking, radio_values, to_time_page
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD
from tests.http_client import Client

pytestmark = [pytest.mark.concurrency, pytest.mark.xdist_group("gunicorn")]
ROUNDS = 4
_HOLD_ACTION = re.compile(r'<form method="post" action="([^"]*/book/hold[^"]*)"')


def _receptionist(server: Gunicorn) -> Client:
    client = Client(server.port)
    status, _, _ = client.post_form(
        "/auth/sign-in", {"email": DEMO_EMAILS["receptionist"], "password": DEMO_PASSWORD}
    )
    assert status == 302
    return client


def _ids(server: Gunicorn) -> tuple[int, int, int]:
    with server.app.app_context():
        found = (
            db.session.scalar(select(PatientProfile.id).order_by(PatientProfile.id)),
            db.session.scalar(
                select(Practitioner.id).where(Practitioner.display_name == "Mei Lin Chen")
            ),
            db.session.scalar(
                select(SessionType.id).where(SessionType.slug == "follow-up-acupuncture")
            ),
        )
        db.session.remove()
        return found  # type: ignore[return-value]


def _location_id(server: Gunicorn) -> int:
    with server.app.app_context():
        found = db.session.execute(text("SELECT id FROM location WHERE slug = 'islington'"))
        value = found.scalar_one()
        db.session.remove()
        return int(value)


def _booked_at(server: Gunicorn, start: datetime) -> list[str]:
    """Sources of the booked rows starting at `start` (compared in Python: SQLite keeps text)."""
    with server.app.app_context():
        rows = db.session.execute(
            select(Appointment.source, Appointment.starts_at).where(
                Appointment.status == AppointmentStatus.booked
            )
        ).all()
        db.session.remove()
    return [str(source) for source, starts_at in rows if starts_at == start]


def _post_together(*posts: tuple[Client, str, dict[str, str]]) -> list[str]:
    """POST each form at the same moment (a barrier); the redirect target of each."""
    barrier = threading.Barrier(len(posts))

    def one(item: tuple[Client, str, dict[str, str]]) -> str:
        client, path, data = item
        barrier.wait()
        status, headers, _ = client.request("POST", path, data)
        assert status == 303, (path, status, client.last_body[:500])
        return headers["Location"]

    with ThreadPoolExecutor(max_workers=len(posts)) as pool:
        return list(pool.map(one, posts))


def test_desk_and_online_race_for_one_time(gunicorn_server: Gunicorn) -> None:
    patient_id, mei, follow_up = _ids(gunicorn_server)
    islington = _location_id(gunicorn_server)
    desk = _receptionist(gunicorn_server)
    winners = []
    for round_ in range(ROUNDS):
        online, day = to_time_page(gunicorn_server, "follow-up-acupuncture")
        status, _, html = online.get(f"/book/time?day={day}")
        assert status == 200
        online_token = online.csrf()
        starts = radio_values(html, "start")
        assert starts, "the day offered has no free time"
        # The first free time: late in the day, today (the first day offered) may have
        # fewer free times left than rounds (starts[round_] failed after ~12:30 UTC).
        target = starts[0]
        status, _, page = desk.get(
            f"/reception/patients/{patient_id}/book?session_type={follow_up}"
            f"&location={islington}&practitioner={mei}&day={day}"
        )
        assert status == 200, page[:500]
        wanted = datetime.fromisoformat(target)
        [desk_value] = [
            v
            for v in radio_values(page, "start")
            if datetime.fromisoformat(v.partition("|")[2]) == wanted
        ]
        hold_url = _HOLD_ACTION.search(page).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
        desk_token = desk.csrf()
        online_to, desk_to = _post_together(
            (online, f"/book/time?day={day}", {"csrf_token": online_token, "start": target}),
            (desk, hold_url, {"csrf_token": desk_token, "start": desk_value}),
        )
        online_won = "/book/taken" not in online_to
        desk_won = "/book/confirm" in desk_to
        assert online_won != desk_won, (online_to, desk_to)  # exactly one holds the time
        if desk_won:
            status, _, _ = desk.post_form(desk_to, {})
            winners.append("staff")
        else:
            status = finish_booking(online, 100 + round_)
            winners.append("online")
        assert status in (302, 303)
        assert _booked_at(gunicorn_server, wanted) == [winners[-1]]
    print("winners by round:", winners)  # either side may win each round
    assert len(winners) == ROUNDS
    assert overlapping_live_pairs(gunicorn_server.app) == 0
    assert "database is locked" not in gunicorn_server.log()
    assert "Traceback" not in gunicorn_server.log()
