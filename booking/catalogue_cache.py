"""The catalogue every visitor sees (session types, places, their articles), cached per worker.

Plain frozen values built from `catalogue` and `articles.queries`, reused while the reference
version stays the same (`booking.reference_cache`): the start page and the journey's first
steps read one row instead of four queries (issue 22).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from booking.models import Location
from booking.reference_cache import cached, frozen_mapping
from booking.services.articles.queries import articles_for_session_types
from booking.services.booking.catalogue import (
    active_locations,
    active_session_types,
    locations_offering,
)


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
