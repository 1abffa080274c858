"""Offering freed times to waiting patients, and booking an offer: first to confirm wins.

An offer reserves nothing. Confirming places a normal hold through the booking engine and
books it in the same transaction, so the database overlap guards decide a race between two
patients offered the same time: one books, the other is told the time has gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update

from booking.domain.errors import DomainError, NotFound, SlotTaken
from booking.domain.scheduling.dst import day_bounds
from booking.domain.scheduling.values import Slot
from booking.domain.waitlist import accepts
from booking.extensions import db
from booking.mail import gettext, render_email
from booking.models import (
    Appointment,
    Location,
    OfferStatus,
    ScheduleException,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
    WorkingHours,
)
from booking.services.booking.availability import AvailabilityQuery, find_slots, nearest_free
from booking.services.booking.holds import book_hold, hold_slot
from booking.services.clinic.settings import clinic_zone
from booking.services.platform import outbox
from booking.services.platform.audit import record_event
from booking.services.platform.tokens import new_token, token_hash

OFFERS_PER_TIME = 3  # the first eligible entries are emailed; the first to confirm books
OFFER_HOURS = 12  # an offer's link works this long (never past the session's start)


class OfferGone(SlotTaken):
    """The offered time was booked by someone else, or the offer expired."""


@dataclass(frozen=True)
class FreedTime:
    """A practitioner's range that just became free (a cancellation, time off removed, hours)."""

    practitioner_id: int
    start: datetime
    end: datetime
    location_id: int | None = None  # None: any location the practitioner works at


ROTA_WINDOW = timedelta(days=14)  # how far ahead new hours are offered to the waitlist


def freed_by_rota_change(
    row: ScheduleException | WorkingHours, *, now: datetime
) -> FreedTime | None:
    """The range a rota change opened: removed time off or closure day, added extra or
    weekly hours (the next two weeks). None when the change frees nothing for one
    practitioner (a clinic-wide closure is left to the next cancellation).
    """
    if isinstance(row, WorkingHours):
        return FreedTime(row.practitioner_id, now, now + ROTA_WINDOW, row.location_id)
    if row.practitioner_id is None:
        return None
    location = db.session.get(Location, row.location_id) if row.location_id else None
    zone = location.zone if location is not None else clinic_zone()
    start, end = day_bounds(row.on_date, zone)
    return FreedTime(row.practitioner_id, max(start, now), end, row.location_id)


def _candidates(freed: FreedTime, *, now: datetime) -> list[WaitlistEntry]:
    query = select(WaitlistEntry).where(
        WaitlistEntry.status == WaitlistStatus.waiting,
        WaitlistEntry.expires_at > now,
        or_(
            WaitlistEntry.practitioner_id.is_(None),
            WaitlistEntry.practitioner_id == freed.practitioner_id,
        ),
    )
    if freed.location_id is not None:
        query = query.where(WaitlistEntry.location_id == freed.location_id)
    return list(db.session.scalars(query.order_by(WaitlistEntry.created_at, WaitlistEntry.id)))


def _free_slots(entry: WaitlistEntry, freed: FreedTime, *, now: datetime) -> list[Slot]:
    """This entry's bookable starts that overlap the freed range (so were not free before)."""
    zone = entry.location.zone
    try:
        slots = find_slots(
            AvailabilityQuery(
                session_type_id=entry.session_type_id,
                location_id=entry.location_id,
                date_from=freed.start.astimezone(zone).date(),
                date_to=freed.end.astimezone(zone).date(),
                practitioner_id=freed.practitioner_id,
            ),
            now=now,
        )
    except DomainError:  # the type, place or practitioner is no longer offered
        return []
    return [s for s in slots if s.busy_from < freed.end and s.busy_until > freed.start]


def offer_freed_time(
    freed: FreedTime, *, now: datetime, base_url: str, clinic_name: str
) -> list[WaitlistOffer]:
    """Email the first eligible waiting entries an offer of the freed time.

    Entries go oldest first; each gets the earliest free start its preferences accept, one
    offer per patient, at most OFFERS_PER_TIME in all, never the same time twice.
    """
    offers: list[WaitlistOffer] = []
    if freed.end <= freed.start:
        return offers
    slots_by_kind: dict[tuple[int, int], list[Slot]] = {}
    patients: set[int] = set()
    for entry in _candidates(freed, now=now):
        if len(offers) >= OFFERS_PER_TIME:
            break
        if entry.patient_id in patients:
            continue
        kind = (entry.session_type_id, entry.location_id)
        if kind not in slots_by_kind:
            slots_by_kind[kind] = _free_slots(entry, freed, now=now)
        zone = entry.location.zone
        slot = next(
            (
                s
                for s in slots_by_kind[kind]
                if accepts(entry.weekdays, entry.day_parts, s.starts_at.astimezone(zone))
            ),
            None,
        )
        if slot is None or _already_offered(entry.id, slot):
            continue
        offers.append(_make_offer(entry, slot, now=now, base_url=base_url, clinic_name=clinic_name))
        patients.add(entry.patient_id)
    return offers


def _already_offered(entry_id: int, slot: Slot) -> bool:
    return (
        db.session.scalar(
            select(WaitlistOffer.id).where(
                WaitlistOffer.entry_id == entry_id,
                WaitlistOffer.practitioner_id == slot.practitioner_id,
                WaitlistOffer.starts_at == slot.starts_at,
            )
        )
        is not None
    )


def _make_offer(
    entry: WaitlistEntry, slot: Slot, *, now: datetime, base_url: str, clinic_name: str
) -> WaitlistOffer:
    token = new_token()
    offer = WaitlistOffer(
        entry_id=entry.id,
        practitioner_id=slot.practitioner_id,
        starts_at=slot.starts_at,
        token_hash=token_hash(token),
        expires_at=min(now + timedelta(hours=OFFER_HOURS), slot.starts_at),
        created_at=now,
    )
    db.session.add(offer)
    db.session.flush()
    location = entry.location
    outbox.enqueue(
        kind="waitlist.offer",
        recipient=entry.patient.email,
        subject=gettext("A time has come up – %(clinic)s") % {"clinic": clinic_name},
        body_text=render_email(
            "waitlist_offer",
            given_name=entry.patient.given_name,
            session_type=entry.session_type.name,
            start=slot.starts_at.astimezone(location.zone),
            practitioner=offer.practitioner.display_name,
            place=location.name,
            link=f"{base_url.rstrip('/')}/waitlist/offer/{token}",
            expires=offer.expires_at.astimezone(location.zone),
            clinic_name=clinic_name,
        ),
        dedupe_key=f"waitlist-offer:{offer.id}",
        now=now,
    )
    record_event(
        "waitlist.offer",
        actor=None,
        now=now,
        object_type="waitlist_offer",
        object_id=offer.id,
        patient_id=entry.patient_id,
    )
    return offer


def offer_by_token(token: str) -> WaitlistOffer:
    """The offer an emailed link names, in any state; NotFound for any other token."""
    if not token or len(token) > 100:
        raise NotFound("This link is not valid.")
    offer = db.session.scalar(
        select(WaitlistOffer).where(WaitlistOffer.token_hash == token_hash(token))
    )
    if offer is None:
        raise NotFound("This link is not valid.")
    return offer


def is_open(offer: WaitlistOffer, *, now: datetime) -> bool:
    return (
        offer.status == OfferStatus.open
        and offer.expires_at > now
        and offer.entry.status == WaitlistStatus.waiting
    )


def confirm_offer(
    offer: WaitlistOffer, *, now: datetime, base_url: str, clinic_name: str
) -> Appointment:
    """Book the offered time for the entry's patient, or raise OfferGone.

    The offers of this time are locked, this one is claimed with a conditional UPDATE (a
    double click books once), then a normal hold is placed and booked under the overlap
    guards. When the time has gone the
    offer is marked taken, which the caller commits with the "already taken" page.
    """
    if not is_open(offer, now=now):
        raise OfferGone("This time is no longer available.")
    # Every offer of this time, locked in id order on PostgreSQL: two confirmations of one
    # time then queue here instead of deadlocking on each other's offer rows further on.
    db.session.execute(
        select(WaitlistOffer.id)
        .where(
            WaitlistOffer.practitioner_id == offer.practitioner_id,
            WaitlistOffer.starts_at == offer.starts_at,
        )
        .order_by(WaitlistOffer.id)
        .with_for_update()
    ).all()
    claimed = db.session.execute(
        update(WaitlistOffer)
        .where(WaitlistOffer.id == offer.id, WaitlistOffer.status == OfferStatus.open)
        .values(status=OfferStatus.booked)
        .execution_options(synchronize_session=False)
    )
    if not cast(CursorResult[Any], claimed).rowcount:
        raise OfferGone("This time is no longer available.")
    entry = offer.entry
    owner = f"waitlist-offer:{offer.id}"
    try:
        hold = hold_slot(
            session_type_id=entry.session_type_id,
            location_id=entry.location_id,
            practitioner_id=offer.practitioner_id,
            starts_at=offer.starts_at,
            hold_owner=owner,
            now=now,
        )
        booked = book_hold(
            hold_id=hold.id,
            hold_owner=owner,
            retake={
                "session_type_id": entry.session_type_id,
                "location_id": entry.location_id,
                "practitioner_id": offer.practitioner_id,
                "starts_at": offer.starts_at,
            },
            patient=entry.patient,
            now=now,
            base_url=base_url,
            clinic_name=clinic_name,
            detail="waitlist",
        )
    except DomainError:
        mark_taken(offer)
        raise OfferGone("This time is no longer available.") from None
    db.session.refresh(offer)
    offer.appointment_id = booked.appointment.id
    entry.status = WaitlistStatus.booked
    entry.updated_at = now
    # Everyone else offered this time is told it has gone when they follow their link.
    db.session.execute(
        update(WaitlistOffer)
        .where(
            WaitlistOffer.practitioner_id == offer.practitioner_id,
            WaitlistOffer.starts_at == offer.starts_at,
            WaitlistOffer.status == OfferStatus.open,
        )
        .values(status=OfferStatus.taken)
        .execution_options(synchronize_session=False)
    )
    return booked.appointment


def mark_taken(offer: WaitlistOffer) -> None:
    db.session.execute(
        update(WaitlistOffer)
        .where(WaitlistOffer.id == offer.id)
        .values(status=OfferStatus.taken)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(offer)


def nearest_times(offer: WaitlistOffer, *, now: datetime, limit: int = 5) -> list[Slot]:
    """Free starts nearest the offered one for the same session, for the "taken" page."""
    entry = offer.entry
    try:
        return nearest_free(
            AvailabilityQuery(
                session_type_id=entry.session_type_id,
                location_id=entry.location_id,
                date_from=now.date(),
                date_to=now.date(),
                practitioner_id=entry.practitioner_id,
            ),
            max(offer.starts_at, now),
            now=now,
            limit=limit,
        )
    except DomainError:
        return []
