"""The waitlist through its services: freed times become offers, the first to confirm books."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    ExceptionKind,
    OfferStatus,
    OutboxMessage,
    ScheduleException,
    WaitlistOffer,
    WaitlistStatus,
)
from booking.services.booking.changes import cancel_appointment
from booking.services.waitlist import entries, offers
from tests.factories import (
    make_appointment,
    make_hours,
    make_location,
    make_patient,
    make_practitioner,
    make_session_type,
    the_clinic,
)

NOW = datetime(2027, 4, 12, 7, 0, tzinfo=UTC)  # Monday 12 April 2027, 08:00 in London
SLOT = datetime(2027, 4, 14, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in London
BASE = "http://127.0.0.1:5000"
CLINIC = "Test Clinic"


@pytest.fixture
def clinic(app_ctx: Flask) -> dict:
    """One practitioner whose Wednesday 10:00-10:30 is the only time: fully booked otherwise."""
    the_clinic()
    location = make_location()
    session_type = make_session_type()
    mei = make_practitioner(session_types=[session_type])
    make_hours(practitioner=mei, location=location, weekdays=[2], start="10:00", end="10:30")
    booked = make_appointment(
        starts_at=SLOT, practitioner=mei, location=location, session_type=session_type
    )
    return {"location": location, "type": session_type, "mei": mei, "booked": booked}


def _join(clinic: dict, **prefs: object) -> entries.WaitlistEntry:
    return entries.join(
        make_patient(),
        session_type_id=clinic["type"].id,
        location_id=clinic["location"].id,
        practitioner_id=prefs.get("practitioner_id"),
        weekdays=list(prefs.get("weekdays", [])),  # type: ignore[call-overload]
        day_parts=list(prefs.get("day_parts", [])),  # type: ignore[call-overload]
        now=NOW,
        actor=None,
    )


def _cancel(appointment: Appointment) -> None:
    cancel_appointment(
        appointment,
        now=NOW,
        actor=None,
        by_staff=True,
        reason="Patient unwell",
        base_url=BASE,
        clinic_name=CLINIC,
    )


def _offers() -> list[WaitlistOffer]:
    return list(db.session.scalars(select(WaitlistOffer).order_by(WaitlistOffer.id)))


def _token(offer: WaitlistOffer) -> str:
    """The token in the offer email (only its hash is stored)."""
    body = db.session.scalar(
        select(OutboxMessage.body_text).where(
            OutboxMessage.dedupe_key == f"waitlist-offer:{offer.id}"
        )
    )
    assert body is not None
    return body.split("/waitlist/offer/", 1)[1].split()[0]


def test_a_cancellation_offers_the_time_to_both_matching_patients(clinic: dict) -> None:
    first = _join(clinic)
    second = _join(clinic, practitioner_id=clinic["mei"].id, weekdays=[2], day_parts=["morning"])
    _join(clinic, weekdays=[0])  # Mondays only: not offered a Wednesday
    _join(clinic, day_parts=["evening"])  # not offered a morning
    _cancel(clinic["booked"])
    made = _offers()
    assert [o.entry_id for o in made] == [first.id, second.id]
    assert {o.starts_at for o in made} == {SLOT}
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "waitlist.offer")
    ).all()
    assert sorted(m.recipient for m in mails) == sorted([first.patient.email, second.patient.email])
    assert "Wednesday 14 April 2027 at 10am" in mails[0].body_text
    # Cancelling again (or another event for the same time) never offers it twice.
    offers.offer_freed_time(
        offers.FreedTime(clinic["mei"].id, SLOT, SLOT + timedelta(minutes=30)),
        now=NOW,
        base_url=BASE,
        clinic_name=CLINIC,
    )
    assert len(_offers()) == 2


def test_the_first_to_confirm_books_and_the_second_is_told_it_has_gone(clinic: dict) -> None:
    first, second = _join(clinic), _join(clinic)
    _cancel(clinic["booked"])
    offer_one, offer_two = _offers()
    appointment = offers.confirm_offer(
        offers.offer_by_token(_token(offer_two)), now=NOW, base_url=BASE, clinic_name=CLINIC
    )
    assert appointment.status == AppointmentStatus.booked
    assert appointment.patient_id == second.patient_id
    assert appointment.starts_at == SLOT
    assert second.status == WaitlistStatus.booked
    db.session.refresh(offer_one)
    assert offer_one.status == OfferStatus.taken
    with pytest.raises(offers.OfferGone):
        offers.confirm_offer(offer_one, now=NOW, base_url=BASE, clinic_name=CLINIC)
    assert first.status == WaitlistStatus.waiting  # still waiting for the next time
    confirmation = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == "appointment.confirmation")
    )
    assert confirmation is not None
    assert confirmation.recipient == second.patient.email
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "appointment.book"))
    assert audit is not None
    assert audit.detail == "waitlist"


def test_an_offer_whose_time_went_another_way_is_gone(clinic: dict) -> None:
    _join(clinic)
    _cancel(clinic["booked"])
    (offer,) = _offers()
    make_appointment(  # reception booked the time by phone
        starts_at=SLOT,
        practitioner=clinic["mei"],
        location=clinic["location"],
        session_type=clinic["type"],
    )
    with pytest.raises(offers.OfferGone):
        offers.confirm_offer(offer, now=NOW, base_url=BASE, clinic_name=CLINIC)
    assert offer.status == OfferStatus.taken
    nearest = offers.nearest_times(offer, now=NOW)
    assert nearest[0].starts_at == SLOT + timedelta(days=7)  # the next Wednesday


def test_offers_and_entries_expire(clinic: dict) -> None:
    entry = _join(clinic)
    _cancel(clinic["booked"])
    (offer,) = _offers()
    assert offer.expires_at == NOW + timedelta(hours=offers.OFFER_HOURS)
    with pytest.raises(offers.OfferGone):
        offers.confirm_offer(offer, now=offer.expires_at, base_url=BASE, clinic_name=CLINIC)
    assert entry.expires_at == NOW + timedelta(days=entries.ENTRY_DAYS)
    assert entries.waiting_entries(now=entry.expires_at) == []


def test_removed_time_off_offers_the_day(clinic: dict) -> None:
    entry = _join(clinic)
    db.session.delete(clinic["booked"])
    row = ScheduleException(
        kind=ExceptionKind.time_off,
        practitioner_id=clinic["mei"].id,
        on_date=date(2027, 4, 14),
        start_time=time(10, 0),
        end_time=time(10, 30),
    )
    db.session.add(row)
    db.session.flush()
    freed = offers.freed_by_rota_change(row, now=NOW)
    db.session.delete(row)
    db.session.flush()
    assert freed is not None
    (offer,) = offers.offer_freed_time(freed, now=NOW, base_url=BASE, clinic_name=CLINIC)
    assert (offer.entry_id, offer.starts_at) == (entry.id, SLOT)


def test_joining_twice_updates_one_entry_and_removing_stops_offers(clinic: dict) -> None:
    patient = make_patient()
    kwargs = {
        "session_type_id": clinic["type"].id,
        "location_id": clinic["location"].id,
        "practitioner_id": None,
        "now": NOW,
        "actor": None,
    }
    entry = entries.join(patient, weekdays=[1], day_parts=[], **kwargs)  # type: ignore[arg-type]
    again = entries.join(patient, weekdays=[2], day_parts=[], **kwargs)  # type: ignore[arg-type]
    assert again.id == entry.id
    assert again.weekdays == "2"
    entries.remove(entry, now=NOW, actor=None)
    _cancel(clinic["booked"])
    assert db.session.scalar(select(func.count(WaitlistOffer.id))) == 0


def test_moving_a_session_offers_its_old_time(clinic: dict) -> None:
    from booking.services.booking.changes import reschedule_appointment

    make_hours(
        practitioner=clinic["mei"],
        location=clinic["location"],
        weekdays=[3],
        start="10:00",
        end="10:30",
    )
    entry = _join(clinic, weekdays=[2])
    reschedule_appointment(
        clinic["booked"],
        starts_at=SLOT + timedelta(days=1),
        hold_owner="staff-move",
        now=NOW,
        actor=None,
        by_staff=True,
        base_url=BASE,
        clinic_name=CLINIC,
    )
    (offer,) = _offers()
    assert (offer.entry_id, offer.starts_at) == (entry.id, SLOT)
