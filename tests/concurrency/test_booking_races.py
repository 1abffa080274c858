"""B1, B2: concurrent patients on a real `gunicorn -w 4`, SQLite and PostgreSQL.

Each client is a separate browser (own cookies) that walks the real booking pages up to the
time question; a barrier then releases them together to POST their chosen times, which is
where a hold is placed and the race is decided. Winners finish booking; the database must
hold no two overlapping live rows of one practitioner or one room place.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from sqlalchemy import text

from booking.extensions import db
from tests.concurrency.conftest import Gunicorn, overlapping_live_pairs
from tests.http_client import Client

pytestmark = [pytest.mark.concurrency, pytest.mark.xdist_group("gunicorn")]
# Browsers walking the question pages in parallel before the race (not part of the race).
PREPARERS = 8

_RADIO = re.compile(r'<input[^>]*name="(?P<name>[a-z_]+)"[^>]*value="(?P<value>[^"]*)"')
_RADIO_ALT = re.compile(r'<input[^>]*value="(?P<value>[^"]*)"[^>]*name="(?P<name>[a-z_]+)"')


def radio_values(html: str, name: str) -> list[str]:
    values = [m["value"] for m in _RADIO.finditer(html) if m["name"] == name]
    values += [m["value"] for m in _RADIO_ALT.finditer(html) if m["name"] == name]
    return list(dict.fromkeys(v for v in values if v))


def step(client: Client, path: str, field: str, value: str) -> str:
    """Answer one question page; returns where it redirected."""
    status, headers, _ = client.post_form(path, {field: value})
    assert status in (302, 303), (path, status, client.last_body[:300])
    return headers["Location"]


def value_for_label(client: Client, path: str, name: str, label_text: str) -> str:
    """The value of the radio on `path` whose label contains `label_text`."""
    client.get(path)
    html = client.last_body
    for value in radio_values(html, name):
        label = re.search(rf'value="{re.escape(value)}"[^>]*>\s*<label[^>]*>\s*([^<]+)<', html)
        if label and label_text in label.group(1):
            return value
    raise AssertionError(f"no {name} radio labelled {label_text!r} on {path}")


def to_time_page(
    server: Gunicorn, type_slug: str, day: str | None = None, pick: int = 0
) -> tuple[Client, str]:
    """A new browser that has answered type, place and practitioner and picked a day."""
    client = Client(server.port)
    status, headers, _ = client.get(f"/book?type={type_slug}")
    assert status in (302, 303)
    location = headers["Location"]
    if "/book/location" in location:
        islington = value_for_label(client, "/book/location", "location", "Islington")
        location = step(client, "/book/location", "location", islington)
    assert "/book/practitioner" in location, location
    mei = value_for_label(client, "/book/practitioner", "practitioner", "Mei Lin")
    location = step(client, "/book/practitioner", "practitioner", mei)
    assert "/book/day" in location, location
    client.get("/book/day")
    days = radio_values(client.last_body, "day")
    assert days, "no free day offered"
    chosen = day or days[pick]
    assert chosen in days
    location = step(client, "/book/day", "day", chosen)
    assert "/book/time" in location
    return client, chosen


def time_choices(client: Client, day: str) -> tuple[list[str], str]:
    status, _, html = client.get(f"/book/time?day={day}")
    assert status == 200
    return radio_values(html, "start"), client.csrf()


def finish_booking(client: Client, index: int) -> int:
    """New-patient details through to "Book session"; returns the final status."""
    answers = [
        ("/book/returning", {"returning": "no"}),
        ("/book/name", {"given_name": "Race", "family_name": f"Patient {index}"}),
        ("/book/date-of-birth", {"dob_day": "3", "dob_month": "4", "dob_year": "1980"}),
        ("/book/contact", {"email": f"race{index}@example.com", "phone": "07400 123456"}),
        ("/book/contact-preference", {"contact_preference": "email"}),
        ("/book/safety", {"safety": "no"}),
    ]
    location = "/book/returning"
    for path, data in answers:
        if not location.startswith(path):
            continue
        status, headers, _ = client.post_form(path, data)
        assert status in (302, 303), (path, status, client.last_body[:500])
        location = headers["Location"]
    assert location.startswith("/book/check"), location
    status, headers, _ = client.post_form("/book/check", {})
    return status


def _booked_rows(server: Gunicorn) -> list[tuple[int, str, str]]:
    with server.app.app_context():
        rows = db.session.execute(
            text(
                "SELECT practitioner_id, status, starts_at FROM appointment "
                "WHERE status IN ('held', 'booked')"
            )
        ).all()
        db.session.remove()
        return [tuple(r) for r in rows]


@pytest.mark.matrix("B1")
def test_fifty_clients_one_slot_one_booking(gunicorn_server: Gunicorn) -> None:
    with ThreadPoolExecutor(max_workers=PREPARERS) as pool:
        clients = list(
            pool.map(lambda _: to_time_page(gunicorn_server, "follow-up-acupuncture"), range(50))
        )
    day = clients[0][1]
    assert all(chosen == day for _, chosen in clients)
    prepared = []
    for client, _ in clients:
        starts, token = time_choices(client, day)
        prepared.append((client, token))
    target = starts[0]
    barrier = threading.Barrier(len(prepared))

    def server_log() -> str:
        errors = [line for line in gunicorn_server.log().splitlines() if "Error" in line]
        return "\n".join(line[:3000] for line in errors[-1:])

    def attempt(item: tuple[Client, str]) -> str:
        client, token = item
        barrier.wait()
        status, headers, _ = client.request(
            "POST", f"/book/time?day={day}", {"csrf_token": token, "start": target}
        )
        assert status == 303, (status, server_log())
        return headers["Location"]

    with ThreadPoolExecutor(max_workers=len(prepared)) as pool:
        outcomes = list(pool.map(attempt, prepared))
    winners = [
        c for (c, _), loc in zip(prepared, outcomes, strict=True) if "/book/taken" not in loc
    ]
    assert len(winners) == 1, Counter(outcomes)
    for (client, _), location in zip(prepared, outcomes, strict=True):
        if "/book/taken" in location:
            status, _, body = client.get("/book/taken")
            assert status == 200
            assert "has just been booked" in body
    assert finish_booking(winners[0], 0) in (302, 303)
    rows = _booked_rows(gunicorn_server)
    assert [r[1] for r in rows] == ["booked"]
    assert overlapping_live_pairs(gunicorn_server.app) == 0
    assert "database is locked" not in gunicorn_server.log()
    assert "Traceback" not in gunicorn_server.log()


@pytest.mark.matrix("B2")
def test_two_hundred_mixed_length_attempts_never_overlap(gunicorn_server: Gunicorn) -> None:
    types = ["cupping-and-moxibustion", "follow-up-acupuncture", "first-acupuncture-session"]
    first, day = to_time_page(gunicorn_server, types[0], pick=1)  # a whole working day
    starts, _ = time_choices(first, day)
    grid = starts[:20]
    assert len(grid) == 20

    def prepare(index: int) -> tuple[int, Client, str, str]:
        client, chosen = to_time_page(gunicorn_server, types[index % 3], day)
        offered, token = time_choices(client, chosen)
        wanted = grid[index % 20]
        if wanted not in offered:  # a longer session may not fit at the very end of hours
            target = datetime.fromisoformat(wanted)
            wanted = min(offered, key=lambda s: abs(datetime.fromisoformat(s) - target))
        return index, client, token, wanted

    with ThreadPoolExecutor(max_workers=PREPARERS) as pool:
        prepared = list(pool.map(prepare, range(200)))
    barrier = threading.Barrier(len(prepared))

    def server_log() -> str:
        errors = [line for line in gunicorn_server.log().splitlines() if "Error" in line]
        return "\n".join(line[:3000] for line in errors[-1:])

    def attempt(item: tuple[int, Client, str, str]) -> tuple[int, Client, str]:
        index, client, token, wanted = item
        barrier.wait()
        status, headers, _ = client.request(
            "POST", f"/book/time?day={day}", {"csrf_token": token, "start": wanted}
        )
        assert status == 303, (status, server_log())
        return index, client, headers["Location"]

    with ThreadPoolExecutor(max_workers=len(prepared)) as pool:
        outcomes = list(pool.map(attempt, prepared))
    winners = [(i, c) for i, c, loc in outcomes if "/book/taken" not in loc]
    losers = [loc for _, _, loc in outcomes if "/book/taken" in loc]
    assert winners
    assert len(winners) + len(losers) == 200
    assert overlapping_live_pairs(gunicorn_server.app) == 0  # holds are live rows too

    def complete(item: tuple[int, Client]) -> int:
        return finish_booking(item[1], item[0])

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(complete, winners))
    assert all(status in (302, 303) for status in statuses)
    rows = _booked_rows(gunicorn_server)
    assert len([r for r in rows if r[1] == "booked"]) == len(winners)
    assert overlapping_live_pairs(gunicorn_server.app) == 0
    assert "database is locked" not in gunicorn_server.log()
    assert "Traceback" not in gunicorn_server.log()
