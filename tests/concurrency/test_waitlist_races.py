"""W1: two waitlisted patients confirm the same offered time at once on `gunicorn -w 4`.

Both got an offer email when the session was cancelled; each opens the link in their own
browser, then a barrier releases the two confirmations together. Exactly one books (the
database overlap guards decide); the other gets the "already taken" page.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from booking import clock
from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, OutboxMessage, WaitlistEntry
from booking.services.booking.availability import AvailabilityQuery, find_slots
from booking.services.booking.changes import cancel_appointment
from booking.services.clinic.settings import clinic_today
from tests.concurrency.conftest import Gunicorn, overlapping_live_pairs
from tests.conftest import csrf_from
from tests.factories import (
    make_appointment,
    make_hours,
    make_location,
    make_patient,
    make_practitioner,
    make_session_type,
)
from tests.http_client import Client

pytestmark = [pytest.mark.concurrency, pytest.mark.xdist_group("gunicorn")]


def _two_offers(server: Gunicorn) -> tuple[list[str], int]:
    """A cancelled session offered to two waiting patients: their links and the patient ids."""
    with server.app.app_context():
        now = clock.utcnow()
        location = make_location()
        session_type = make_session_type()
        practitioner = make_practitioner(session_types=[session_type])
        make_hours(practitioner=practitioner, location=location, weekdays=range(7))
        today = clinic_today(now)
        slot = find_slots(
            AvailabilityQuery(
                session_type_id=session_type.id,
                location_id=location.id,
                date_from=today + timedelta(days=1),
                date_to=today + timedelta(days=7),
                practitioner_id=practitioner.id,
            ),
            now=now,
        )[0]
        booked = make_appointment(
            starts_at=slot.starts_at,
            practitioner=practitioner,
            location=location,
            session_type=session_type,
        )
        for _ in range(2):
            db.session.add(
                WaitlistEntry(
                    patient_id=make_patient().id,
                    session_type_id=session_type.id,
                    location_id=location.id,
                    expires_at=now + timedelta(days=30),
                )
            )
        db.session.flush()
        cancel_appointment(
            booked,
            now=now,
            actor=None,
            by_staff=True,
            reason=None,
            base_url=server.url,
            clinic_name="Race Clinic",
        )
        db.session.commit()
        bodies = db.session.scalars(
            select(OutboxMessage.body_text)
            .where(OutboxMessage.kind == "waitlist.offer")
            .order_by(OutboxMessage.id)
        ).all()
        links = ["/waitlist/offer/" + b.split("/waitlist/offer/", 1)[1].split()[0] for b in bodies]
        practitioner_id = practitioner.id
        db.session.remove()
        return links, practitioner_id


def test_two_confirmations_at_once_book_once(gunicorn_server: Gunicorn) -> None:
    links, practitioner_id = _two_offers(gunicorn_server)
    assert len(links) == 2
    clients = [Client(gunicorn_server.port) for _ in links]
    tokens = []
    for client, link in zip(clients, links, strict=True):
        status, _, body = client.get(link)
        assert status == 200, body[:300]
        tokens.append(csrf_from(body))
    barrier = threading.Barrier(len(links))

    def confirm(index: int) -> tuple[int, str]:
        barrier.wait()
        status, _, body = clients[index].request(
            "POST", links[index], {"csrf_token": tokens[index]}
        )
        return status, body

    with ThreadPoolExecutor(max_workers=len(links)) as pool:
        results = list(pool.map(confirm, range(len(links))))
    statuses = sorted(status for status, _ in results)
    assert statuses == [303, 409], (statuses, gunicorn_server.log()[-6000:])
    loser = next(body for status, body in results if status == 409)
    assert "Sorry, this time has already been taken" in loser
    with gunicorn_server.app.app_context():
        booked = db.session.scalar(
            select(func.count(Appointment.id)).where(
                Appointment.practitioner_id == practitioner_id,
                Appointment.status == AppointmentStatus.booked,
            )
        )
        db.session.remove()
    assert booked == 1
    assert overlapping_live_pairs(gunicorn_server.app) == 0
