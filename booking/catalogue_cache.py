"""The catalogue every visitor sees (session types, places, their articles), cached per worker.

Plain frozen values built from `catalogue` and `articles.queries`, reused while the reference
version stays the same (`booking.reference_cache`): the start page and the journey's first
steps read one row instead of four queries (issue 22).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

from booking.domain.errors import NotFound
from booking.extensions import db
from booking.models import Clinic, Location, Practitioner, SessionType
from booking.reference_cache import cached, frozen_mapping
from booking.services.articles.queries import articles_for_session_types
from booking.services.booking.catalogue import (
    active_locations,
    active_session_types,
    locations_offering,
    practitioners_offering,
)
from booking.services.booking.cutoff import BookingPolicy, booking_policy


@dataclass(frozen=True)
class TypeCard:
    id: int
    slug: str
    name: str
    description: str
    duration_minutes: int
    price_pence: int | None


@dataclass(frozen=True)
class PlaceCard:
    id: int
    name: str
    address: str
    phone: str | None
    country_code: str


@dataclass(frozen=True)
class ArticleLink:
    id: int
    slug: str
    title: str


@dataclass(frozen=True)
class Catalogue:
    session_types: tuple[TypeCard, ...]
    locations: tuple[PlaceCard, ...]
    # Session type id -> the active places offering it (`catalogue.locations_offering`).
    offering: Mapping[int, tuple[PlaceCard, ...]]
    # Session type slug -> up to 3 published articles about it.
    articles: Mapping[str, tuple[ArticleLink, ...]]

    def type_by_slug(self, slug: str) -> TypeCard | None:
        return next((t for t in self.session_types if t.slug == slug), None)

    def places_offering(self, session_type_id: int) -> tuple[PlaceCard, ...]:
        """Places for an active type; an inactive one (an old draft's) is looked up afresh."""
        found = self.offering.get(session_type_id)
        if found is None:
            return tuple(_place(loc) for loc in locations_offering(session_type_id))
        return found

    def articles_about_all(self) -> tuple[ArticleLink, ...]:
        """Each article tagged with any active type, once, in type order."""
        seen: dict[int, ArticleLink] = {}
        for card in self.session_types:
            for link in self.articles.get(card.slug, ()):
                seen.setdefault(link.id, link)
        return tuple(seen.values())


def _place(loc: Location) -> PlaceCard:
    return PlaceCard(
        id=loc.id,
        name=loc.name,
        address=loc.address,
        phone=loc.phone,
        country_code=loc.country_code,
    )


def _build() -> Catalogue:
    types = active_session_types()
    cards = tuple(
        TypeCard(
            id=t.id,
            slug=t.slug,
            name=t.name,
            description=t.description or "",
            duration_minutes=t.duration_minutes,
            price_pence=t.price_pence,
        )
        for t in types
    )
    by_slug = articles_for_session_types([t.slug for t in types])
    return Catalogue(
        session_types=cards,
        locations=tuple(_place(loc) for loc in active_locations()),
        offering=frozen_mapping(
            {t.id: tuple(_place(loc) for loc in locations_offering(t.id)) for t in types}
        ),
        articles=frozen_mapping(
            {
                slug: tuple(ArticleLink(id=a.id, slug=a.slug, title=a.title) for a in found)
                for slug, found in by_slug.items()
            }
        ),
    )


def catalogue() -> Catalogue:
    """The current catalogue: from this worker's memory unless the reference data changed."""
    return cached("catalogue", _build)


# ---- What the journey's pages read by id ------------------------------------------------------
# The journey's GET steps named the draft's session type and place (and the clinic's policy)
# with an ORM query each on every request; these frozen copies of every row (active or not,
# as `db.session.get` found them) live under the same reference version (issue 22).


@dataclass(frozen=True)
class TypeRef:
    id: int
    name: str
    slug: str
    duration_minutes: int
    price_pence: int | None


@dataclass(frozen=True)
class PlaceRef:
    id: int
    name: str
    address: str
    phone: str | None
    timezone: str
    country_code: str
    min_notice_minutes: int | None
    max_advance_days: int | None
    slot_step_minutes: int | None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class PolicyRef:
    """The clinic's booking policy values (`get_clinic()`'s row: the first clinic)."""

    min_notice_minutes: int | None
    max_advance_days: int | None
    slot_step_minutes: int | None


@dataclass(frozen=True)
class JourneyRefs:
    types: Mapping[int, TypeRef]
    places: Mapping[int, PlaceRef]
    clinic: PolicyRef | None


@dataclass(frozen=True)
class PersonCard:
    """A practitioner as the practitioner step lists them."""

    id: int
    display_name: str
    bio: str | None


def _build_refs() -> JourneyRefs:
    types = db.session.scalars(select(SessionType))
    places = db.session.scalars(select(Location))
    clinic = db.session.scalar(select(Clinic).order_by(Clinic.id).limit(1))
    return JourneyRefs(
        types=frozen_mapping(
            {
                t.id: TypeRef(
                    id=t.id,
                    name=t.name,
                    slug=t.slug,
                    duration_minutes=t.duration_minutes,
                    price_pence=t.price_pence,
                )
                for t in types
            }
        ),
        places=frozen_mapping(
            {
                loc.id: PlaceRef(
                    id=loc.id,
                    name=loc.name,
                    address=loc.address,
                    phone=loc.phone,
                    timezone=loc.timezone,
                    country_code=loc.country_code,
                    min_notice_minutes=loc.min_notice_minutes,
                    max_advance_days=loc.max_advance_days,
                    slot_step_minutes=loc.slot_step_minutes,
                )
                for loc in places
            }
        ),
        clinic=None
        if clinic is None
        else PolicyRef(
            min_notice_minutes=clinic.min_notice_minutes,
            max_advance_days=clinic.max_advance_days,
            slot_step_minutes=clinic.slot_step_minutes,
        ),
    )


def journey_refs() -> JourneyRefs:
    """Every session type and place by id, and the clinic's policy, while unchanged."""
    return cached("journey-refs", _build_refs)


def people_offering(session_type_id: int, location_id: int) -> tuple[PersonCard, ...]:
    """`catalogue.practitioners_offering` (reference tables only), kept per version."""

    def build() -> tuple[PersonCard, ...]:
        found = practitioners_offering(session_type_id, location_id)
        return tuple(PersonCard(id=p.id, display_name=p.display_name, bio=p.bio) for p in found)

    return cached(f"people:{session_type_id}:{location_id}", build)


def person(practitioner_id: int) -> PersonCard | None:
    """`db.session.get(Practitioner, id)` as a card (active or not), kept per version."""

    def build() -> PersonCard | None:
        found = db.session.get(Practitioner, practitioner_id)
        return None if found is None else PersonCard(found.id, found.display_name, found.bio)

    return cached(f"person:{practitioner_id}", build)


def place_policy(location_id: int) -> BookingPolicy:
    """`cutoff.booking_policy` of the place's row (and the clinic's), kept per version."""
    return cached(
        f"booking-policy:{location_id}",
        lambda: booking_policy(need_row(db.session.get(Location, location_id))),
    )


def need_row(location: Location | None) -> Location:
    if location is None:
        raise NotFound("Start your booking again.")
    return location
