"""What seeding the demo activity works from: the demo clinic's rows, its names and the plan."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from booking.domain.errors import InvalidInput
from booking.domain.scheduling.dst import local_today
from booking.extensions import db
from booking.models import (
    Appointment,
    Location,
    PatientProfile,
    Practitioner,
    Room,
    SessionType,
    User,
    WorkingHours,
)
from booking.services.booking.availability import effective_policy
from booking.services.clinic.settings import get_clinic

SEED = 20261125


DOMAIN = "meridian.example"


FIRST = "first-acupuncture-session"


FOLLOW_UP = "follow-up-acupuncture"


CUPPING = "cupping-and-moxibustion"


COMMUNITY = "community-acupuncture"
DAYS_BACK, DAYS_AHEAD = 14, 21


# 60 sessions for 30 patients: 8 new patients with one (future) first visit, 22 on a course.
VISIT_COUNTS = (1,) * 8 + (2,) * 14 + (3,) * 8


HOMES = (("mei.chen", 9), ("tom.okafor", 8), ("aoife.byrne", 8), ("sam.patel", 5))


COMMUNITY_TRACK = frozenset({"tom.okafor", "sam.patel"})


DAY_SEARCH = (0, 1, -1, 2, -2, 3, -3)


DRAFT_PAGE_INDEX = 3  # page 4


DRAFT_PARTIAL = {"peg_enjoyment": "6"}


@dataclass
class DemoContext:
    now: datetime
    rng: random.Random
    admin: User
    practitioners: dict[str, Practitioner]
    types: dict[str, SessionType]
    locations: dict[int, Location]
    zones: dict[int, ZoneInfo]
    today: dict[int, date]
    step: dict[int, timedelta]
    notice: dict[int, timedelta]
    room_kinds: dict[int, set[str]]
    hours: list[WorkingHours]

    def open_on(self, practitioner_id: int, offset: int) -> Iterator[tuple[int, list[tuple]]]:
        """(location id, [(UTC start, UTC end)]) of a practitioner's weekly hours that day."""
        for location_id in sorted(self.locations):
            day = self.today[location_id] + timedelta(days=offset)
            zone = self.zones[location_id]
            spans = [
                (
                    datetime.combine(day, h.start_time, zone).astimezone(UTC),
                    datetime.combine(day, h.end_time, zone).astimezone(UTC),
                )
                for h in self.hours
                if h.practitioner_id == practitioner_id
                and h.location_id == location_id
                and h.weekday == day.weekday()
                and (h.valid_from is None or h.valid_from <= day)
                and (h.valid_until is None or h.valid_until >= day)
            ]
            if spans:
                yield location_id, sorted(spans)


@dataclass
class DemoPatient:
    profile: PatientProfile
    home: str
    visits: int
    first_offset: int = 0
    community: bool = False
    check_in_visit: int | None = None
    account: bool = False  # Alex Morgan, the demo patient who signs in
    rows: list[Appointment] = field(default_factory=list)


def load_context(now: datetime) -> DemoContext:
    clinic = get_clinic()
    admin = db.session.scalar(select(User).where(User.email == f"admin@{DOMAIN}"))
    if clinic is None or admin is None:
        raise InvalidInput("Seed the demo clinic first.")
    practitioners = {
        p.user.email.split("@")[0]: p
        for p in db.session.scalars(select(Practitioner).order_by(Practitioner.id))
    }
    types = {t.slug: t for t in db.session.scalars(select(SessionType).order_by(SessionType.id))}
    missing = [home for home, _ in HOMES if home not in practitioners]
    missing += [slug for slug in (FIRST, FOLLOW_UP, CUPPING, COMMUNITY) if slug not in types]
    if missing:
        raise InvalidInput(f"The demo clinic is incomplete: {', '.join(missing)} missing.")
    locations = {
        loc.id: loc
        for loc in db.session.scalars(
            select(Location).where(Location.is_active.is_(True)).order_by(Location.id)
        )
    }
    zones = {i: loc.zone for i, loc in locations.items()}
    policies = {i: effective_policy(loc, clinic) for i, loc in locations.items()}
    room_kinds: dict[int, set[str]] = {i: set() for i in locations}
    for room in db.session.scalars(select(Room).where(Room.is_active.is_(True))):
        if room.location_id in room_kinds:
            room_kinds[room.location_id].add(str(room.kind))
    return DemoContext(
        now=now,
        rng=random.Random(SEED),  # noqa: S311 - reproducible demo data, not a secret
        admin=admin,
        practitioners=practitioners,
        types=types,
        locations=locations,
        zones=zones,
        today={i: local_today(zone, now=now) for i, zone in zones.items()},
        step={i: timedelta(minutes=p.slot_step_minutes) for i, p in policies.items()},
        notice={i: timedelta(minutes=p.min_notice_minutes) for i, p in policies.items()},
        room_kinds=room_kinds,
        hours=list(db.session.scalars(select(WorkingHours).order_by(WorkingHours.id))),
    )
