"""The demo clinic of domain.md §8, created idempotently by natural keys.

Its activity (sessions, time off, a closure, intakes) is `demo_activity.seed_demo_activity`,
which `flask seed-demo` runs next; the tests' `demo` fixture seeds an empty calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import select

from booking.domain.errors import InvalidInput, NotAllowed
from booking.extensions import db
from booking.models import (
    Audience,
    Clinic,
    Location,
    PatientProfile,
    Practitioner,
    Role,
    Room,
    RoomKind,
    SessionType,
    User,
    WorkingHours,
)
from booking.services.accounts.passwords import hash_password
from booking.services.clinic.practitioners import practitioner_of
from booking.services.clinic.settings import get_clinic

DEMO_PASSWORD = "meridian-demo-2026"  # noqa: S105 - published demo sign-in, demo clinics only
DOMAIN = "meridian.example"


@dataclass(frozen=True)
class DemoSignIn:
    role: str
    email: str
    password: str


LOCATIONS = (
    (
        "islington",
        "Islington",
        "12 Upper Street, London N1 0PQ",
        "+442079460321",
        "Europe/London",
        "GB",
        "ENG",
    ),
    (
        "dublin",
        "Dublin",
        "4 Camden Row, Dublin 8, D08 X2Y3",
        "+35315550143",
        "Europe/Dublin",
        "IE",
        None,
    ),
)
ROOMS = (
    ("islington", "Treatment room 1", RoomKind.treatment, 1, 1),
    ("islington", "Community room", RoomKind.community, 4, 2),
    ("dublin", "Treatment room", RoomKind.treatment, 1, 1),
)
SESSION_TYPES = (
    # slug, name, minutes, before, after, pence, audience, room kind, modalities, description
    (
        "first-acupuncture-session",
        "First acupuncture session",
        40,
        0,
        10,
        7000,
        Audience.new,
        RoomKind.treatment,
        "needling",
        "Your first visit: we talk through your health and your goals, then treat.",
    ),
    (
        "follow-up-acupuncture",
        "Follow-up acupuncture",
        30,
        0,
        5,
        5500,
        Audience.follow_up,
        RoomKind.treatment,
        "needling",
        "A further treatment after your first session.",
    ),
    (
        "cupping-and-moxibustion",
        "Cupping and moxibustion",
        20,
        5,
        5,
        4000,
        Audience.follow_up,
        RoomKind.treatment,
        "cupping,moxibustion",
        "Cupping (suction cups on the skin) or moxibustion (gentle warmth from mugwort).",
    ),
    (
        "community-acupuncture",
        "Community acupuncture",
        30,
        0,
        5,
        3000,
        Audience.any,
        RoomKind.community,
        "needling",
        "A quieter, lower-cost treatment in a shared room, sitting in a recliner.",
    ),
)
MON, TUE, WED, THU, FRI, SAT = range(6)
PRACTITIONERS = (
    # email local part, name, reviewer, session types, hours (location, weekdays, intervals)
    (
        "mei.chen",
        "Mei Lin Chen",
        True,
        ("first-acupuncture-session", "follow-up-acupuncture", "cupping-and-moxibustion"),
        (("islington", (MON, TUE, WED, THU, FRI), ((time(9), time(13)), (time(14), time(18)))),),
    ),
    (
        "tom.okafor",
        "Tom Okafor",
        False,
        ("first-acupuncture-session", "follow-up-acupuncture", "community-acupuncture"),
        (("islington", (TUE, WED, THU, FRI, SAT), ((time(10), time(16)),)),),
    ),
    (
        "aoife.byrne",
        "Aoife Byrne",
        False,
        ("first-acupuncture-session", "follow-up-acupuncture", "cupping-and-moxibustion"),
        (("dublin", (MON, TUE, WED, THU), ((time(8, 30), time(16, 30)),)),),
    ),
    (
        "sam.patel",
        "Sam Patel",
        False,
        ("first-acupuncture-session", "follow-up-acupuncture", "community-acupuncture"),
        (
            ("islington", (MON, WED), ((time(12), time(20)),)),
            ("dublin", (FRI,), ((time(9), time(17)),)),
        ),
    ),
)
PATIENT_NAMES = (
    ("Alex", "Morgan"),
    ("Priya", "Shah"),
    ("Liam", "Walsh"),
    ("Grace", "Adeyemi"),
    ("Noah", "Fitzgerald"),
    ("Chloe", "Bennett"),
    ("Omar", "Haddad"),
    ("Isla", "McKenzie"),
    ("Ethan", "Nowak"),
    ("Sofia", "Rossi"),
    ("Daniel", "O'Brien"),
    ("Amara", "Okoye"),
    ("Jack", "Thompson"),
    ("Hannah", "Kowalski"),
    ("Ravi", "Patel"),
    ("Niamh", "Doyle"),
    ("Lucas", "Martin"),
    ("Zara", "Ahmed"),
    ("Finn", "Gallagher"),
    ("Maya", "Singh"),
    ("Oscar", "Hughes"),
    ("Leah", "Cohen"),
    ("Samuel", "Evans"),
    ("Aisha", "Bello"),
    ("Harry", "Clarke"),
    ("Emily", "Byrne"),
    ("Kenji", "Sato"),
    ("Ruby", "Foster"),
    ("Adam", "Murphy"),
    ("Elena", "Petrova"),
)


def _user(email: str, role: Role, name: str, cost: tuple[int, int, int]) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(
            email=email,
            role=role,
            display_name=name,
            password_hash=hash_password(DEMO_PASSWORD, cost=cost),
        )
        db.session.add(user)
        db.session.flush()
    return user


def seed_demo_clinic(*, cost: tuple[int, int, int]) -> list[DemoSignIn]:
    """Create or complete the demo clinic and return its sign-ins.

    Raises NotAllowed when the database holds a real (non-demo) clinic.
    """
    clinic = get_clinic()
    if clinic is not None and not clinic.is_demo:
        raise NotAllowed("This database holds a real clinic; the demo was not seeded.")
    if clinic is None:
        clinic = Clinic(
            name="Meridian Acupuncture",
            timezone="Europe/London",
            phone="020 7946 0321",
            is_demo=True,
        )
        db.session.add(clinic)

    locations = {}
    for slug, name, address, phone, zone, country, subdivision in LOCATIONS:
        location = db.session.scalar(select(Location).where(Location.slug == slug))
        if location is None:
            location = Location(
                slug=slug,
                name=name,
                address=address,
                phone=phone,
                timezone=zone,
                country_code=country,
                subdivision=subdivision,
            )
            db.session.add(location)
            db.session.flush()
        locations[slug] = location

    for slug, name, kind, capacity, order in ROOMS:
        exists = db.session.scalar(
            select(Room).where(Room.location_id == locations[slug].id, Room.name == name)
        )
        if exists is None:
            db.session.add(
                Room(
                    location_id=locations[slug].id,
                    name=name,
                    kind=kind,
                    capacity=capacity,
                    sort_order=order,
                )
            )

    types = {}
    for order, row in enumerate(SESSION_TYPES):
        slug, name, minutes, before, after, pence, audience, room_kind, modalities, text = row
        session_type = db.session.scalar(select(SessionType).where(SessionType.slug == slug))
        if session_type is None:
            session_type = SessionType(
                slug=slug,
                name=name,
                duration_minutes=minutes,
                buffer_before_minutes=before,
                buffer_after_minutes=after,
                price_pence=pence,
                audience=audience,
                room_kind=room_kind,
                modalities=modalities,
                description=text,
                sort_order=order,
            )
            db.session.add(session_type)
            db.session.flush()
        types[slug] = session_type

    sign_ins = [
        DemoSignIn("admin", f"admin@{DOMAIN}", DEMO_PASSWORD),
        DemoSignIn("receptionist", f"reception@{DOMAIN}", DEMO_PASSWORD),
    ]
    _user(f"admin@{DOMAIN}", Role.admin, "Clinic admin", cost)
    _user(f"reception@{DOMAIN}", Role.receptionist, "Reception", cost)

    for local, name, reviewer, offered, hours in PRACTITIONERS:
        email = f"{local}@{DOMAIN}"
        user = _user(email, Role.practitioner, name, cost)
        sign_ins.append(DemoSignIn("practitioner", email, DEMO_PASSWORD))
        practitioner = practitioner_of(user)
        if practitioner is not None:
            continue
        practitioner = Practitioner(
            user_id=user.id,
            display_name=name,
            can_review_articles=reviewer,
            session_types=[types[slug] for slug in offered],
        )
        db.session.add(practitioner)
        db.session.flush()
        for location_slug, weekdays, intervals in hours:
            for weekday in weekdays:
                for start, end in intervals:
                    db.session.add(
                        WorkingHours(
                            practitioner_id=practitioner.id,
                            location_id=locations[location_slug].id,
                            weekday=weekday,
                            start_time=start,
                            end_time=end,
                        )
                    )

    for index, (given, family) in enumerate(PATIENT_NAMES):
        email = f"{given.lower()}.{family.lower().replace(chr(39), '')}@{DOMAIN}"
        patient = db.session.scalar(select(PatientProfile).where(PatientProfile.email == email))
        if patient is not None:
            continue
        user_id = None
        if index == 0:  # Alex Morgan has an account
            user_id = _user(email, Role.patient, f"{given} {family}", cost).id
        db.session.add(
            PatientProfile(
                user_id=user_id,
                given_name=given,
                family_name=family,
                email=email,
                phone=f"+4474001{index:05d}",
                date_of_birth=date(1950 + (index * 7) % 50, 1 + index % 12, 1 + (index * 3) % 28),
            )
        )
    sign_ins.append(DemoSignIn("patient", f"alex.morgan@{DOMAIN}", DEMO_PASSWORD))
    db.session.flush()
    _import_demo_articles()
    return sign_ins


def _import_demo_articles() -> None:
    """The 5 demo articles, published; rerunning changes nothing unless a file changed."""
    from pathlib import Path

    from booking import clock
    from booking.services.articles.importing import import_articles

    report = import_articles(Path(__file__).resolve().parent / "articles", now=clock.utcnow())
    if report.failed:
        raise InvalidInput("; ".join(f"{name}: {reason}" for name, reason in report.failed))
