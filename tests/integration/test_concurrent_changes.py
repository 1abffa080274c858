"""Two requests changing one session, each having read it before the other committed.

Found by tests/scaleout: two app hosts moving the same session at once. The second move
started from the row as it was before the first (ics_sequence included), so it overwrote the
first move and queued its "changed" email under the first one's dedupe key: a unique
violation and a 500. Cancel and reschedule now lock the row and read it again first.

The stale read is made deterministic here: the first request's session keeps the values it
read (no expiry at commit) while a second app context, with its own session, commits a move.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from booking.domain.errors import PolicyRefused
from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, OutboxMessage, Role, User
from booking.services.booking import staff_actions as actions
from tests.factories import (
    make_appointment,
    make_hours,
    make_location,
    make_practitioner,
    make_session_type,
    make_user,
)

# Wednesday 14 April 2027, 09:00 London; the changes happen two days before.
START = datetime(2027, 4, 14, 8, 0, tzinfo=UTC)
NOW = START - timedelta(days=2)
BASE = "http://127.0.0.1:5000"
CLINIC = "Meridian Acupuncture"


@pytest.fixture
def stale(app: Flask) -> Iterator[tuple[Appointment, User, list[datetime]]]:
    """A booked session and a receptionist, read by this request, which then ends its
    transaction keeping the values it read."""
    with app.app_context():
        location = make_location()
        session_type = make_session_type()
        mei = make_practitioner(session_types=[session_type])
        make_hours(practitioner=mei, location=location)
        appointment = make_appointment(
            starts_at=START, practitioner=mei, location=location, session_type=session_type
        )
        make_user(role=Role.receptionist)
        db.session.commit()
        free = [s.starts_at for s in actions.free_times(appointment, day=START.date(), now=NOW)]
        staff = db.session.scalars(select(User).where(User.role == Role.receptionist)).one()
        db.session().expire_on_commit = False
        db.session.commit()
        yield appointment, staff, [t for t in free if t >= START + timedelta(hours=2)]


def _meanwhile(app: Flask, appointment_id: int, change: str, to: datetime) -> None:
    """Another request (its own app context and session) changes the session and commits."""
    with app.app_context():
        other = db.session.get(Appointment, appointment_id)
        staff = db.session.scalars(select(User).where(User.role == Role.receptionist)).one()
        assert other is not None
        if change == "move":
            actions.staff_reschedule(
                other, starts_at=to, actor=staff, now=NOW, base_url=BASE, clinic_name=CLINIC
            )
        else:
            actions.staff_cancel(
                other, actor=staff, now=NOW, reason="Unwell", base_url=BASE, clinic_name=CLINIC
            )
        db.session.commit()
        db.session.remove()


def test_a_move_builds_on_a_move_committed_meanwhile(
    app: Flask, stale: tuple[Appointment, User, list[datetime]]
) -> None:
    appointment, staff, free = stale
    _meanwhile(app, appointment.id, "move", free[0])
    actions.staff_reschedule(
        appointment, starts_at=free[-1], actor=staff, now=NOW, base_url=BASE, clinic_name=CLINIC
    )
    db.session.commit()
    assert (appointment.starts_at, appointment.ics_sequence) == (free[-1], 2)
    kinds = db.session.scalars(select(OutboxMessage.dedupe_key).order_by(OutboxMessage.id))
    assert list(kinds) == [
        f"appointment:{appointment.id}:change:1",
        f"appointment:{appointment.id}:change:2",
    ]


def test_a_move_of_a_session_cancelled_meanwhile_is_refused(
    app: Flask, stale: tuple[Appointment, User, list[datetime]]
) -> None:
    appointment, staff, free = stale
    _meanwhile(app, appointment.id, "cancel", free[0])
    with pytest.raises(PolicyRefused):
        actions.staff_reschedule(
            appointment, starts_at=free[-1], actor=staff, now=NOW, base_url=BASE, clinic_name=CLINIC
        )
    db.session.rollback()
    assert appointment.status == AppointmentStatus.cancelled
    assert appointment.starts_at == START
