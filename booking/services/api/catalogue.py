"""What the public API lists: locations, practitioners, session types and free times.

Lists are keyset-paginated by id (or by start for times) and read in a fixed number of
queries whatever the page size.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.domain.errors import NotFound
from booking.domain.scheduling.values import Slot
from booking.extensions import availability_cache, db
from booking.models import Clinic, Location, Practitioner, SessionType, WorkingHours
from booking.services.api.booking import working_location_ids
from booking.services.booking.availability import AvailabilityQuery
from booking.services.booking.availability_cache import cached_slots


def clinic_name(default: str) -> str:
    """The clinic's name for emails the API sends, or `default` before it is set up."""
    name = db.session.scalar(select(Clinic.name).order_by(Clinic.id).limit(1))
    return name or default


def clinic_zone() -> ZoneInfo:
    """The zone the API's date ranges are read in: the clinic's, else UTC."""
    return ZoneInfo(db.session.scalar(select(Clinic.timezone).limit(1)) or "UTC")


def location_zone(location_id: int) -> ZoneInfo:
    return db.session.get_one(Location, location_id).zone


def location_zones() -> dict[int, ZoneInfo]:
    """Every location's zone, by id."""
    rows = db.session.execute(select(Location.id, Location.timezone))
    return {location_id: ZoneInfo(zone) for location_id, zone in rows}


def locations_page(*, after: int | None, limit: int) -> list[Location]:
    """Active locations with id > `after`, by id; `limit` + 1 rows tell whether more follow."""
    query = select(Location).where(Location.is_active.is_(True))
    if after is not None:
        query = query.where(Location.id > after)
    return list(db.session.scalars(query.order_by(Location.id).limit(limit + 1)))


def session_types_page(*, after: int | None, limit: int) -> list[SessionType]:
    """Active session types with id > `after`, by id (`limit` + 1 rows)."""
    query = select(SessionType).where(SessionType.is_active.is_(True))
    if after is not None:
        query = query.where(SessionType.id > after)
    return list(db.session.scalars(query.order_by(SessionType.id).limit(limit + 1)))


@dataclass(frozen=True)
class PractitionerListing:
    practitioner: Practitioner
    location_id: int | None  # where they work most weekly intervals (ties: lowest id)
    location_ids: list[int]
    session_type_ids: list[int]


def practitioners_page(*, after: int | None, limit: int) -> list[PractitionerListing]:
    """Active practitioners with id > `after`, by id (`limit` + 1 rows), with their places."""
    query = (
        select(Practitioner)
        .where(Practitioner.is_active.is_(True))
        .options(selectinload(Practitioner.session_types))
    )
    if after is not None:
        query = query.where(Practitioner.id > after)
    rows = list(db.session.scalars(query.order_by(Practitioner.id).limit(limit + 1)))
    counts: dict[int, Counter[int]] = {row.id: Counter() for row in rows}
    if rows:
        for practitioner_id, location_id in db.session.execute(
            select(WorkingHours.practitioner_id, WorkingHours.location_id).where(
                WorkingHours.practitioner_id.in_(list(counts))
            )
        ):
            counts[practitioner_id][location_id] += 1
    listings = []
    for row in rows:
        places = counts[row.id]
        main = min(places, key=lambda loc: (-places[loc], loc)) if places else None
        listings.append(
            PractitionerListing(
                practitioner=row,
                location_id=main,
                location_ids=sorted(places),
                session_type_ids=sorted(t.id for t in row.session_types),
            )
        )
    return listings


@dataclass(frozen=True)
class PlacedSlot:
    location_id: int
    zone: ZoneInfo
    slot: Slot

    @property
    def sort_key(self) -> tuple[datetime, int, int]:
        return (self.slot.starts_at, self.slot.practitioner_id, self.location_id)


@dataclass(frozen=True)
class FreeTimes:
    """Each location's free times and a validator for them: equal tags mean equal answers.

    The times are placed (zones read, sorted) only when asked for, so a request answered
    304 from its validator reads nothing but the stamps.
    """

    parts: list[tuple[int, tuple[Slot, ...]]]
    etag: str
    clinic_version: int | None = None

    def times(self) -> list[PlacedSlot]:
        """Every part's slots with its location and zone, in (start, practitioner, place) order."""
        shown = [(place, slots) for place, slots in self.parts if slots]
        if not shown:
            return []
        zones = location_zones_of([place for place, _ in shown], self.clinic_version)
        found = [PlacedSlot(place, zones[place], s) for place, slots in shown for s in slots]
        if len(shown) > 1:
            found.sort(key=lambda p: p.sort_key)
        return found


def free_times(
    *,
    session_type_id: int,
    date_from: date,
    date_to: date,
    practitioner_id: int | None,
    location_id: int | None,
    now: datetime,
) -> FreeTimes:
    """Free times, one per (start, practitioner) ("any practitioner" lists each), sorted.

    Without a location: the practitioner's working locations, or every active location.
    Each location's answer comes from the availability cache (one stamp query when warm).
    Raises NotFound for an unknown session type, practitioner or location, InvalidInput as
    `find_slots` does.
    """
    # find_slots refuses an unknown session type, location or practitioner itself; only
    # the paths that may not call it check up front.
    if location_id is not None:
        places = [location_id]
    elif practitioner_id is not None:
        if db.session.get(Practitioner, practitioner_id) is None:
            raise NotFound("That practitioner does not exist.")
        places = working_location_ids(practitioner_id)
    else:
        places = list(
            db.session.scalars(
                select(Location.id).where(Location.is_active.is_(True)).order_by(Location.id)
            )
        )
    if not places and db.session.get(SessionType, session_type_id) is None:
        raise NotFound("That session type does not exist.")
    parts: list[tuple[int, tuple[Slot, ...]]] = []
    tags: list[str] = []
    clinic_version: int | None = None
    for place in places:
        query = AvailabilityQuery(
            session_type_id=session_type_id,
            location_id=place,
            date_from=date_from,
            date_to=date_to,
            practitioner_id=practitioner_id,
        )
        answer = cached_slots(query, now=now)
        tags.append(answer.etag)
        parts.append((place, answer.slots))
        clinic_version = answer.clinic_version
    etag = hashlib.sha256("|".join(tags).encode()).hexdigest()[:32]
    return FreeTimes(parts, etag, clinic_version)


# Locations' zones kept per app, keyed by the clinic-wide availability stamp that any write to
# `location` bumps in its own transaction (the s22cache triggers): a read whose stamps were
# read in this transaction never sees a zone older than them. Issue 22: the zone query was
# the one query an availability answer ran after its (cached) stamps.
_ZONES_KEPT = 4096


def location_zones_of(
    location_ids: list[int], clinic_version: int | None = None
) -> dict[int, ZoneInfo]:
    """The zones of `location_ids`; from memory when `clinic_version` (the 'c' stamp) is known."""
    kept: dict[tuple[int, int], ZoneInfo] = availability_cache.zones
    if clinic_version is not None:
        found = {i: kept.get((clinic_version, i)) for i in location_ids}
        if all(zone is not None for zone in found.values()):
            return cast(dict[int, ZoneInfo], found)
    zones = {
        row.id: ZoneInfo(row.timezone)
        for row in db.session.execute(
            select(Location.id, Location.timezone).where(Location.id.in_(location_ids))
        )
    }
    if clinic_version is not None:
        if len(kept) > _ZONES_KEPT:
            kept.clear()
        kept.update({(clinic_version, i): zone for i, zone in zones.items()})
    return zones
