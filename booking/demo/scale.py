"""Chain-scale data for measuring pages and queries (issue 22): `flask seed-scale`.

Builds a made-up chain into an EMPTY database in one transaction: locations with rooms and
public-holiday regions, practitioners with weekly hours and session types, staff sign-ins,
patients with names, phones, emails and dates of birth, appointments over two years (one
back, one ahead of today) and some treatment plans with outcome records.

Appointments are generated on a grid that never double-books a practitioner, a room place or
a patient (each patient belongs to one practitioner's list, so their sessions follow that
practitioner's non-overlapping day). For speed the overlap guards are dropped and re-created
with the initial migration's own code inside the same transaction: PostgreSQL re-checks every
row when the exclusion constraints come back, and on SQLite a whole-table window query counts
overlaps before the commit, so a generator bug rolls everything back. Rows are bulk-inserted
(COPY on PostgreSQL, executemany with relaxed pragmas on SQLite).

The benchmarks (benchmarks/availability.py, api_load.py) use the same pieces: `make_layout`,
`generate`, `load_reference`, `load_appointments`, `settle`.
"""

from __future__ import annotations

import heapq
import importlib.util
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine

MIGRATION = (
    Path(__file__).resolve().parents[2] / "migrations" / "versions" / "20261125_initial_schema.py"
)
VERSIONS_MIGRATION = MIGRATION.with_name("20261207_s22cache_versions.py")
SCALE_ZONE = "Europe/London"  # the clinic's zone: "today" is read there
PERIOD_WEEKS = 104  # the benchmarks' fixed two years
# seed-scale: three years back (mostly full days) and one ahead (filling less with distance).
WEEKS_BACK, WEEKS_AHEAD = 156, 52
OPEN, CLOSE = time(9), time(17)
ACCOUNT_EVERY = 10  # one patient in ten signs in to a patient account

# (zone, country, subdivision, town) per location, repeated when there are more locations.
PLACES = (
    ("Europe/London", "GB", "ENG", "Camden"),
    ("Europe/London", "GB", "ENG", "Brixton"),
    ("Europe/London", "GB", "ENG", "Leeds"),
    ("Europe/Dublin", "IE", None, "Dublin"),
    ("Europe/Dublin", "IE", None, "Cork"),
    ("America/New_York", "US", "NY", "Brooklyn"),
    ("America/New_York", "US", "NY", "Queens"),
    ("America/New_York", "US", "NY", "Albany"),
    ("Australia/Sydney", "AU", "NSW", "Newtown"),
    ("Australia/Sydney", "AU", "NSW", "Parramatta"),
)
GIVEN = (  # noqa: SIM905 - a word list reads better as text
    "Amelia Oliver Aoife Liam Sofia Noah Chloé Mateo Isla Jack Zara Ethan Mei Hiroshi "
    "Aisha Omar Priya Arjun Fatima Yusuf Hannah Lucas Grace Leo Maya Finn Emily James "
    "Niamh Seán Olivia William Ava Henry Mia Thomas Ella George Ruby Samuel Freya Daniel "
    "Lily Joseph Ana José Björn Zoë Chen Wei Kofi Ama Tomás Inés Rafael Lucía Dmitri Olga "
    "Siobhán Ciarán"
).split()
FAMILY = (  # noqa: SIM905 - a word list reads better as text
    "Smith Jones Williams Brown Taylor Davies Evans Wilson Thomas Johnson Roberts Walker "
    "Wright Robinson Thompson White Hughes Edwards Green Hall Wood Harris Martin Jackson "
    "Clarke Lewis Murphy Kelly O'Brien O'Sullivan Byrne Ryan Walsh McCarthy Doyle Nguyen "
    "Tran Kim Park Chen Wang Li Zhang Liu Patel Shah Khan Ahmed Ali Singh Kaur García "
    "Martínez Núñez Rodríguez López Hernández Rossi Russo Müller Schmidt Schäfer Kowalski "
    "Nowak Novák Dubois Lefèvre Okafor Mensah Adeyemi Cohen Levi Silva Santos Costa "
    "Smith-Jones Lloyd-Webber Fitzgerald MacDonald Campbell Stewart Anderson Scott"
).split()
DOMAINS = ("example.com", "example.org", "example.net")


@dataclass(frozen=True)
class ScaleSize:
    locations: int = 10
    practitioners: int = 100
    patients: int = 50_000
    appointments: int = 1_000_000
    plans: int | None = None  # None: one patient in a hundred (at least one)
    seed: int = 22

    @property
    def plan_count(self) -> int:
        if self.plans is not None:
            return self.plans
        return max(1, self.patients // 100) if self.patients else 0


@dataclass(frozen=True)
class Kind:
    type_id: int
    slug: str
    name: str
    minutes: int
    before: int
    after: int
    room_kind: str | None
    weight: int
    price_pence: int


KINDS = (
    Kind(1, "follow-up", "Follow-up acupuncture", 30, 0, 5, "treatment", 4, 5500),
    Kind(2, "first-session", "First acupuncture session", 40, 0, 10, "treatment", 2, 7500),
    Kind(3, "cupping", "Cupping", 20, 5, 5, None, 2, 3500),
    Kind(4, "community", "Community acupuncture", 30, 0, 5, "community", 2, 2500),
)
TIMED_KIND = KINDS[0]  # a follow-up needs a treatment room: the fullest availability question
NO_ROOM_KIND = KINDS[2]
GAPS = (0, 0, 0, 0, 0, 300, 900, 1800)  # seconds of free time before a session

APPOINTMENT_COLUMNS = (
    "id",
    "status",
    "starts_at",
    "ends_at",
    "busy_from",
    "busy_until",
    "practitioner_id",
    "location_id",
    "room_id",
    "room_place",
    "patient_id",
    "session_type_id",
    "source",
    "hold_expires_at",
    "hold_created_at",
    "hold_owner",
    "ics_uid",
    "ics_sequence",
    "is_first_visit",
    "late_cancel",
    "cancelled_at",
    "created_at",
    "updated_at",
)

# (status, starts, ends, busy_from, busy_until, practitioner, location, room, place, patient,
#  type, hold_expires) with instants as UTC epoch seconds.
Row = tuple[str, int, int, int, int, int, int, int | None, int | None, int | None, int, int | None]
LIVE = ("held", "booked", "checked_in", "completed")


@dataclass(frozen=True)
class LocationSpec:
    id: int
    name: str
    slug: str
    zone: str
    country: str
    subdivision: str | None


@dataclass(frozen=True)
class Layout:
    """Ids of everything but appointments; ids are assigned here, not by the database."""

    size: ScaleSize
    period_start: date  # a Monday
    locations: list[LocationSpec]
    practitioners: dict[int, list[int]]  # location id -> practitioner ids (1..P)
    rooms: list[tuple[int, int, str, str, int, int]]  # id, location, name, kind, capacity, order
    patients: int
    receptionist_id: int
    admin_id: int
    zones: dict[int, str] = field(default_factory=dict)
    weeks: int = PERIOD_WEEKS

    @property
    def days(self) -> int:
        return self.weeks * 7

    def patient_user_id(self, patient: int) -> int | None:
        """One patient in ten has an account (patients 1, 11, 21, ...): user ids after staff."""
        if patient % ACCOUNT_EVERY != 1 % ACCOUNT_EVERY:
            return None
        return self.admin_id + 1 + patient // ACCOUNT_EVERY

    @property
    def practitioner_ids(self) -> list[int]:
        return [p for group in self.practitioners.values() for p in group]


def scale_layout(size: ScaleSize, today: date) -> Layout:
    """seed-scale's layout: from the Monday WEEKS_BACK weeks before this week's, to a year on."""
    monday = today - timedelta(days=today.weekday())
    return make_layout(
        size, period_start=monday - timedelta(weeks=WEEKS_BACK), weeks=WEEKS_BACK + WEEKS_AHEAD
    )


def make_layout(size: ScaleSize, *, period_start: date, weeks: int = PERIOD_WEEKS) -> Layout:
    if size.locations < 1 or size.practitioners < size.locations:
        raise ValueError("need at least one location and one practitioner per location")
    locations = []
    for n in range(size.locations):
        zone, country, subdivision, town = PLACES[n % len(PLACES)]
        round_ = n // len(PLACES)
        name = f"Meridian {town}" + (f" {round_ + 1}" if round_ else "")
        slug = name.lower().replace(" ", "-")
        locations.append(LocationSpec(n + 1, name, slug, zone, country, subdivision))
    base, extra = divmod(size.practitioners, size.locations)
    practitioners: dict[int, list[int]] = {}
    next_id = 1
    for loc in locations:
        count = base + (loc.id <= extra)
        practitioners[loc.id] = list(range(next_id, next_id + count))
        next_id += count
    rooms = []
    for loc in locations:
        first = (loc.id - 1) * 3
        rooms += [
            (first + 1, loc.id, "Treatment room 1", "treatment", 1, 1),
            (first + 2, loc.id, "Treatment room 2", "treatment", 4 if loc.id % 2 else 1, 2),
            (first + 3, loc.id, "Community room", "community", 4, 3),
        ]
    return Layout(
        size=size,
        period_start=period_start,
        locations=locations,
        practitioners=practitioners,
        rooms=rooms,
        patients=size.patients,
        receptionist_id=size.practitioners + 1,
        admin_id=size.practitioners + 2,
        zones={loc.id: loc.zone for loc in locations},
        weeks=weeks,
    )


# --- appointments --------------------------------------------------------------------------


def _local_seconds(day: date, wall: time, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, wall, tzinfo=zone).timestamp())


def _plan_day(
    rng: random.Random,
    practitioners: list[int],
    places: dict[str, list[tuple[int, int]]],
    open_s: int,
    close_s: int,
) -> dict[int, list[tuple[Kind, int, int, int, int, int | None, int | None]]]:
    """Sessions for one location-day, packed practitioner by practitioner.

    Practitioners are served in order of when they are next free, and a room place is given
    only if it is free from the session's busy start (a place keeps the end of its last range),
    so no practitioner and no room place is ever double-booked. A session that finds no room
    becomes one that needs none.
    """
    weights = [k.weight for k in KINDS]
    free_at = dict.fromkeys((p for group in places.values() for p in group), 0)
    queue = [(open_s + rng.choice(GAPS), p) for p in practitioners]
    heapq.heapify(queue)
    plan: dict[int, list[tuple[Kind, int, int, int, int, int | None, int | None]]] = {
        p: [] for p in practitioners
    }
    while queue:
        cursor, pid = heapq.heappop(queue)
        kind = rng.choices(KINDS, weights)[0]
        busy_from = cursor + rng.choice(GAPS)
        place = None
        if kind.room_kind is not None:
            place = next(
                (k for k in places.get(kind.room_kind, []) if free_at[k] <= busy_from), None
            )
            if place is None:
                kind = NO_ROOM_KIND
        start = busy_from + kind.before * 60
        end = start + kind.minutes * 60
        if end > close_s:
            continue  # this practitioner's day is full
        busy_until = end + kind.after * 60
        if place is not None:
            free_at[place] = busy_until
        room_id, room_place = place if place is not None else (None, None)
        plan[pid].append((kind, start, end, busy_from, busy_until, room_id, room_place))
        heapq.heappush(queue, (busy_until, pid))
    return plan


def generate(layout: Layout, total: int, seed: int, *, today: date | None = None) -> list[Row]:
    """`total` appointments on the weekdays of the period: live ones never overlap.

    Without `today` (the benchmarks) each practitioner-day gets an equal share of `total`,
    and days before the middle of the period hold completed sessions. With `today`
    (seed-scale) a coming day's share falls from 0.9 of a past day's tomorrow to 0.05 a year
    ahead, as bookings thin out with distance, so there are free times to book. When a share
    exceeds what fits in 09:00–17:00, the surplus are cancelled or no-show rows at already
    booked times (the guards ignore them; the queries must still skip them). Days before
    `today` hold completed sessions, later days booked ones; about 0.5% are holds.
    """
    if total < 0:
        raise ValueError("total must not be negative")
    middle = today or layout.period_start + timedelta(days=layout.days // 2)
    master = random.Random(seed)  # noqa: S311 - made-up data, not secrets
    days = [
        d
        for d in (layout.period_start + timedelta(days=n) for n in range(layout.days))
        if d.weekday() < 5
    ]
    slots = [(loc.id, day) for loc in layout.locations for day in days]
    per_day = sum(len(layout.practitioners[loc]) for loc, _ in slots)
    base, extra = divmod(total, per_day) if per_day else (0, 0)
    bonus = set(master.sample(range(per_day), extra))
    shares = None if today is None else _shares(layout, slots, total, today)
    zones = {loc.id: ZoneInfo(loc.zone) for loc in layout.locations}
    places: dict[int, dict[str, list[tuple[int, int]]]] = {}
    for rid, loc_id, _name, room_kind, cap, _order in layout.rooms:
        places.setdefault(loc_id, {}).setdefault(room_kind, []).extend(
            (rid, n) for n in range(1, cap + 1)
        )
    practitioner_count = len(layout.practitioner_ids)
    patients = layout.patients
    rows: list[Row] = []
    counter = 0  # index of the practitioner-day, for the bonus rows
    for loc_id, day in slots:
        group = layout.practitioners[loc_id]
        if shares is None:
            wants = [base + (counter + n in bonus) for n in range(len(group))]
        else:
            wants = shares[counter : counter + len(group)]
        counter += len(group)
        if not any(wants):
            continue  # small runs: most days stay empty, so skip planning them
        zone = zones[loc_id]
        rng = random.Random(f"{seed}:{loc_id}:{day.toordinal()}")  # noqa: S311 - made-up data, not secrets
        open_s, close_s = _local_seconds(day, OPEN, zone), _local_seconds(day, CLOSE, zone)
        plan = _plan_day(rng, group, places[loc_id], open_s, close_s)
        past = day < middle
        for want, (pid, sessions) in zip(wants, plan.items(), strict=True):
            live = sessions if want >= len(sessions) else rng.sample(sessions, want)
            # This practitioner's own patients: ids pid, pid + P, pid + 2P, ...
            own = len(range(pid, patients + 1, practitioner_count))
            for kind, start, end, bfrom, buntil, room_id, place in live:
                patient: int | None = pid + practitioner_count * rng.randrange(own) if own else None
                status, expires = ("completed" if past else "booked"), None
                if patient is None or rng.random() < 0.005:
                    # A hold, lapsing around a day before the session.
                    status, patient = "held", None
                    expires = start - 86_400 + rng.randrange(-43_200, 43_200)
                row = (status, start, end, bfrom, buntil, pid, loc_id, room_id, place, patient)
                rows.append((*row, kind.type_id, expires))
            for _ in range(max(0, want - len(sessions)) if patients else 0):
                kind, start, end, bfrom, buntil, room_id, place = rng.choice(sessions)
                status = "cancelled" if rng.random() < 0.75 else "no_show"
                anyone = rng.randrange(1, patients + 1)
                row = (status, start, end, bfrom, buntil, pid, loc_id, room_id, place, anyone)
                rows.append((*row, kind.type_id, None))
    if patients and len(rows) != total:
        raise RuntimeError(f"generated {len(rows)} appointments, not {total}")
    return rows


def _shares(layout: Layout, slots: list[tuple[int, date]], total: int, today: date) -> list[int]:
    """Rows per practitioner-day, in `slots` order, adding up to `total` exactly."""
    weights: list[float] = []
    for loc_id, day in slots:
        ahead = (day - today).days
        weight = 1.0 if ahead < 0 else max(0.05, 0.9 * (1 - ahead / 365))
        weights += [weight] * len(layout.practitioners[loc_id])
    per_weight = total / sum(weights) if weights else 0.0
    shares, running, given = [], 0.0, 0
    for weight in weights:
        running += weight * per_weight
        share = round(running) - given
        shares.append(share)
        given += share
    if shares:
        shares[-1] += total - given
    return shares


class Stamp:
    """Epoch seconds → the engine's timestamp text, cached per day."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self.days: dict[int, str] = {}

    def __call__(self, seconds: int | None) -> str | None:
        if seconds is None:
            return None
        day, rest = divmod(seconds, 86_400)
        prefix = self.days.get(day)
        if prefix is None:
            prefix = self.days[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
        hours, rest = divmod(rest, 3600)
        return f"{prefix} {hours:02d}:{rest // 60:02d}:{rest % 60:02d}.000000{self.suffix}"


def _db_rows(rows: Sequence[Row], ids: Sequence[int], stamp: Stamp, now_s: int) -> Iterator[Any]:
    for n in ids:
        status, start, end, bfrom, buntil, pid, loc, room, place, patient, kind, expires = rows[n]
        held = status == "held"
        created = min(start - 14 * 86_400, now_s)
        yield (
            n + 1,
            status,
            stamp(start),
            stamp(end),
            stamp(bfrom),
            stamp(buntil),
            pid,
            loc,
            room,
            place,
            patient,
            kind,
            "online",
            stamp(expires),
            stamp(expires - 600) if held and expires is not None else None,
            f"{n:016x}" if held else None,
            f"scale-{n + 1}@meridian.example",
            0,
            False,
            False,
            stamp(start - 86_400) if status == "cancelled" else None,
            stamp(created),
            stamp(created),
        )


def _migration_module(path: Path = MIGRATION) -> Any:
    spec = importlib.util.spec_from_file_location(f"_scale_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _guards(conn: Connection, *, present: bool) -> None:
    """Drop or re-create the overlap guards with the initial migration's own code."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    module = _migration_module()
    with Operations.context(MigrationContext.configure(conn)):
        if not present:
            module.drop_guards()
            return
        if conn.dialect.name == "postgresql":
            # More memory for building the three GiST indexes behind the constraints.
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
        module.create_guards()


def _version_triggers(conn: Connection, *, present: bool) -> None:
    """Drop or re-create the appointment table's availability-stamp triggers (the cache
    migration's own code): a million bumps of a hundred stamp rows in one transaction would
    pile up row versions on PostgreSQL. Once they are back, every practitioner's and room's
    stamp moves on, so no answer cached before the load is served after it."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    module = _migration_module(VERSIONS_MIGRATION)
    with Operations.context(MigrationContext.configure(conn)):
        if not present:
            module.drop_triggers(["appointment"])
            return
        module.create_triggers(["appointment"])
    for statement in STAMPS_AFTER_LOAD[conn.dialect.name]:
        conn.exec_driver_sql(statement)


# Every practitioner's and room's availability stamp, set anew after the bulk load.
STAMPS_AFTER_LOAD = {
    "postgresql": [
        "INSERT INTO availability_version (kind, ref_id, version) "
        "SELECT 'p', id, floor(random() * 1e12)::bigint FROM practitioner UNION ALL "
        "SELECT 'r', id, floor(random() * 1e12)::bigint FROM room "
        "ON CONFLICT (kind, ref_id) DO UPDATE SET version = "
        "availability_version.version + 1 + floor(random() * 2147483647)::bigint"
    ],
    "sqlite": [
        "INSERT OR IGNORE INTO availability_version (kind, ref_id, version) "
        "SELECT 'p', id, abs(random() % 1000000000000) FROM practitioner UNION ALL "
        "SELECT 'r', id, abs(random() % 1000000000000) FROM room",
        "UPDATE availability_version SET version = version + 1 + abs(random() % 2147483648) "
        "WHERE kind IN ('p', 'r')",
    ],
}


OVERLAPS = """
SELECT
  (SELECT count(*) FROM (
     SELECT busy_from < lag(busy_until) OVER (
              PARTITION BY practitioner_id ORDER BY busy_from) AS clash
     FROM appointment
     WHERE status IN ('held', 'booked', 'checked_in', 'completed')) AS p WHERE clash)
+ (SELECT count(*) FROM (
     SELECT busy_from < lag(busy_until) OVER (
              PARTITION BY room_id, room_place ORDER BY busy_from) AS clash
     FROM appointment
     WHERE status IN ('held', 'booked', 'checked_in', 'completed')
       AND room_id IS NOT NULL) AS r WHERE clash)
+ (SELECT count(*) FROM (
     SELECT starts_at < lag(ends_at) OVER (
              PARTITION BY patient_id ORDER BY starts_at) AS clash
     FROM appointment
     WHERE status IN ('held', 'booked', 'checked_in', 'completed')
       AND patient_id IS NOT NULL) AS q WHERE clash)
"""


def count_overlaps(conn: Connection) -> int:
    """Live rows overlapping the previous live row of their practitioner, place or patient."""
    return int(conn.exec_driver_sql(OVERLAPS).scalar() or 0)


def load_appointments(
    conn: Connection, rows: Sequence[Row], ids: Sequence[int], *, now: datetime
) -> None:
    """Bulk-insert rows[ids] (id = index + 1) inside the caller's transaction.

    The guards are dropped for the load and re-created before the caller commits: PostgreSQL
    re-validates every row; on SQLite the rows are counted for overlaps instead.
    """
    if not ids:
        return
    _guards(conn, present=False)
    _version_triggers(conn, present=False)
    columns = ", ".join(APPOINTMENT_COLUMNS)
    raw = conn.connection.driver_connection
    now_s = int(now.timestamp())
    if conn.dialect.name == "postgresql":
        copy_sql = f"COPY appointment ({columns}) FROM STDIN"
        with raw.cursor() as cur, cur.copy(copy_sql) as copy:  # type: ignore[union-attr]
            for row in _db_rows(rows, ids, Stamp("+00"), now_s):
                copy.write_row(row)
    else:
        marks = ", ".join("?" * len(APPOINTMENT_COLUMNS))
        raw.executemany(  # type: ignore[union-attr]
            f"INSERT INTO appointment ({columns}) VALUES ({marks})",  # noqa: S608 - constants
            _db_rows(rows, ids, Stamp(""), now_s),
        )
    _guards(conn, present=True)
    _version_triggers(conn, present=True)
    if conn.dialect.name == "sqlite":
        clashes = count_overlaps(conn)
        if clashes:
            raise RuntimeError(f"the generator produced {clashes} overlapping live rows")


# --- reference data ------------------------------------------------------------------------


def _phone(rng: random.Random, country: str) -> str:
    if country == "GB":
        return f"+447{rng.randrange(400, 1000)}{rng.randrange(1_000_000):06d}"
    if country == "IE":
        return f"+3538{rng.choice('3567')}{rng.randrange(1_000_000, 10_000_000)}"
    if country == "US":
        area = rng.choice(("212", "347", "646", "718", "917"))
        return f"+1{area}{rng.randrange(200, 1000)}{rng.randrange(10_000):04d}"
    return f"+614{rng.randrange(10_000_000, 100_000_000)}"


def _patient_rows(layout: Layout, now: datetime) -> Iterator[dict[str, Any]]:
    """Patient n belongs to practitioner ((n - 1) % P) + 1 and that practitioner's location."""
    from booking.domain.patients.search import name_key, soundex

    rng = random.Random(f"{layout.size.seed}:patients")  # noqa: S311 - made-up data, not secrets
    keys: dict[str, tuple[str, str]] = {}

    def keyed(name: str) -> tuple[str, str]:
        found = keys.get(name)
        if found is None:
            key = name_key(name)
            found = keys[name] = (key, soundex(key))
        return found

    location_of = {p: loc for loc, group in layout.practitioners.items() for p in group}
    country = {loc.id: loc.country for loc in layout.locations}
    count = len(layout.practitioner_ids)
    for n in range(1, layout.patients + 1):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        (sg, dg), (sf, df) = keyed(given), keyed(family)
        local = f"{sg.replace(' ', '')}.{sf.replace(' ', '')}{n}"
        email = f"{local}@{rng.choice(DOMAINS)}"
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(68 * 365))
        practitioner = (n - 1) % count + 1
        has_phone = rng.random() < 0.9
        yield {
            "id": n,
            "user_id": layout.patient_user_id(n),
            "given_name": given,
            "family_name": family,
            "date_of_birth": born if rng.random() < 0.95 else None,
            "email": email,
            "phone": _phone(rng, country[location_of[practitioner]]) if has_phone else None,
            "contact_preference": "phone" if has_phone and rng.random() < 0.2 else "email",
            "opted_out": False,
            "created_at": now - timedelta(days=rng.randrange(400, 1500)),
            "search_given": sg,
            "search_family": sf,
            "sound_given": dg,
            "sound_family": df,
            "search_email": email.lower(),
        }


def _chunks(items: Iterator[dict[str, Any]], size: int = 5000) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def load_reference(conn: Connection, layout: Layout, *, password_hash: str, now: datetime) -> None:
    """Clinic, locations, rooms, session types, staff, hours and patients (Core inserts)."""
    from booking.models import (
        Clinic,
        Location,
        PatientProfile,
        Practitioner,
        Room,
        SessionType,
        User,
        WorkingHours,
        practitioner_session_type,
    )

    pids = layout.practitioner_ids
    location_of = {p: loc for loc, group in layout.practitioners.items() for p in group}
    names = random.Random(f"{layout.size.seed}:staff")  # noqa: S311 - made-up data, not secrets
    conn.execute(
        insert(Clinic),
        [
            {
                "id": 1,
                "name": "Meridian Chain (scale data)",
                "timezone": SCALE_ZONE,
                "is_demo": False,
                "max_advance_days": 365,
            }
        ],
    )
    conn.execute(
        insert(Location),
        [
            {
                "id": loc.id,
                "name": loc.name,
                "slug": loc.slug,
                "address": f"{loc.id} High Street, {loc.name.removeprefix('Meridian ')}",
                "timezone": loc.zone,
                "country_code": loc.country,
                "subdivision": loc.subdivision,
            }
            for loc in layout.locations
        ],
    )
    conn.execute(
        insert(Room),
        [
            {
                "id": rid,
                "location_id": loc,
                "name": name,
                "kind": kind,
                "capacity": cap,
                "sort_order": order,
            }
            for rid, loc, name, kind, cap, order in layout.rooms
        ],
    )
    conn.execute(
        insert(SessionType),
        [
            {
                "id": k.type_id,
                "name": k.name,
                "slug": k.slug,
                "duration_minutes": k.minutes,
                "buffer_before_minutes": k.before,
                "buffer_after_minutes": k.after,
                "price_pence": k.price_pence,
                "room_kind": k.room_kind,
                "sort_order": k.type_id,
            }
            for k in KINDS
        ],
    )
    staff = {p: f"{names.choice(GIVEN)} {names.choice(FAMILY)}" for p in pids}
    conn.execute(
        insert(User),
        [
            {
                "id": p,
                "email": f"practitioner{p}@scale.example",
                "password_hash": password_hash,
                "role": "practitioner",
                "display_name": staff[p],
            }
            for p in pids
        ]
        + [
            {
                "id": layout.receptionist_id,
                "email": "reception@scale.example",
                "password_hash": password_hash,
                "role": "receptionist",
                "display_name": "Reception",
            },
            {
                "id": layout.admin_id,
                "email": "admin@scale.example",
                "password_hash": password_hash,
                "role": "admin",
                "display_name": "Chain admin",
            },
        ],
    )
    conn.execute(
        insert(Practitioner),
        [{"id": p, "user_id": p, "display_name": staff[p]} for p in pids],
    )
    conn.execute(
        practitioner_session_type.insert(),
        [{"practitioner_id": p, "session_type_id": k.type_id} for p in pids for k in KINDS],
    )
    conn.execute(
        insert(WorkingHours),
        [
            {
                "practitioner_id": p,
                "location_id": location_of[p],
                "weekday": weekday,
                "start_time": OPEN,
                "end_time": CLOSE,
            }
            for p in pids
            for weekday in range(5)
        ],
    )
    for chunk in _chunks(_patient_rows(layout, now)):
        accounts = [
            {
                "id": row["user_id"],
                "email": row["search_email"],
                "password_hash": password_hash,
                "role": "patient",
                "display_name": f"{row['given_name']} {row['family_name']}",
            }
            for row in chunk
            if row["user_id"] is not None
        ]
        if accounts:
            conn.execute(insert(User), accounts)
        conn.execute(insert(PatientProfile), chunk)


GOALS = (
    ("Less lower back pain when sitting at work", "back pain"),
    ("Sleep through the night at least five nights a week", "insomnia"),
    ("Fewer tension headaches", "headache"),
    ("Walk to the shops without knee pain", "knee pain"),
    ("Ease neck and shoulder stiffness", "neck pain"),
)


def load_plans(
    conn: Connection, layout: Layout, rows: Sequence[Row], *, now: datetime, count: int
) -> int:
    """Plans for `count` patients: their live sessions with their own practitioner, linked.

    Each plan takes up to 10 of the patient's booked or completed sessions; completed ones
    carry a pain score (0-10) that falls over the course. Returns the plans made.
    """
    from booking.models import OutcomeRecord, PlanAppointment, PlanPhase, TreatmentPlan

    if count <= 0 or layout.patients == 0:
        return 0
    rng = random.Random(f"{layout.size.seed}:plans")  # noqa: S311 - made-up data, not secrets
    chosen = set(rng.sample(range(1, layout.patients + 1), min(count, layout.patients)))
    sessions: dict[int, list[int]] = {}
    for n, row in enumerate(rows):
        if row[9] in chosen and row[0] in ("booked", "completed"):
            sessions.setdefault(row[9], []).append(n)
    now_s = int(now.timestamp())
    plans, phases, links, outcomes = [], [], [], []
    for plan_id, patient in enumerate(sorted(sessions), start=1):
        ordered = sorted(sessions[patient], key=lambda n: rows[n][1])
        # Up to ten sessions: the latest past ones and up to three coming ones.
        coming = next((i for i, n in enumerate(ordered) if rows[n][1] > now_s), len(ordered))
        end = min(len(ordered), coming + 3)
        picked = ordered[max(0, end - 10) : end]
        first = rows[picked[0]]
        zone = ZoneInfo(layout.zones[first[6]])
        local = datetime.fromtimestamp(first[1], UTC).astimezone(zone)
        goal, tag = GOALS[plan_id % len(GOALS)]
        ongoing = any(rows[n][1] > now_s for n in picked)
        created = datetime.fromtimestamp(first[1] - 7 * 86_400, UTC)
        plans.append(
            {
                "id": plan_id,
                "patient_id": patient,
                "practitioner_id": first[5],
                "location_id": first[6],
                "goal": goal,
                "condition_tag": tag,
                "status": "active" if ongoing else "completed",
                "measure": "pain_nrs",
                "review_points": "3,6",
                "created_at": created,
                "updated_at": created,
            }
        )
        phases.append(
            {
                "plan_id": plan_id,
                "position": 1,
                "session_type_id": first[10],
                "count": max(len(picked), 6),
                "interval_weeks": 1,
                "weekday": local.weekday(),
                "local_time": local.time().replace(second=0, microsecond=0),
            }
        )
        score = rng.randrange(6, 10)
        for n in picked:
            links.append({"appointment_id": n + 1, "plan_id": plan_id})
            if rows[n][0] == "completed":
                outcomes.append(
                    {
                        "plan_id": plan_id,
                        "appointment_id": n + 1,
                        "measure": "pain_nrs",
                        "item1": score,
                        "item2": None,
                        "item3": None,
                        "score": float(score),
                        "recorded_by_id": rows[n][5],
                        "recorded_at": datetime.fromtimestamp(rows[n][2], UTC),
                    }
                )
                score = max(0, score - rng.choice((0, 1, 1, 2)))
    for model, items in (
        (TreatmentPlan, plans),
        (PlanPhase, phases),
        (PlanAppointment, links),
        (OutcomeRecord, outcomes),
    ):
        if items:
            conn.execute(insert(model), items)
    return len(plans)


# --- whole runs ----------------------------------------------------------------------------

# Tables that must be empty for seed-scale: anything here means someone's data (or the demo).
GUARDED_TABLES = ("clinic", "location", "user", "patient_profile", "appointment")


def refusal(engine: Engine) -> str | None:
    """Why seed-scale must not run on this database, or None when it holds no data at all."""
    from sqlalchemy import inspect

    inspector = inspect(engine)
    missing = [t for t in GUARDED_TABLES if not inspector.has_table(t)]
    if missing:
        return "the database has no schema: run `flask --app wsgi db upgrade` first"
    from sqlalchemy import table

    with engine.connect() as conn:
        for name in GUARDED_TABLES:
            rows = conn.execute(select(func.count()).select_from(table(name))).scalar()
            if rows:
                return (
                    f"the database is not empty ({name} holds rows): "
                    "seed-scale only fills an empty, migrated database"
                )
        conn.rollback()
    return None


def settle(engine: Engine) -> None:
    """After explicit ids: move PostgreSQL's id sequences past them and refresh statistics;
    on SQLite gather statistics too (without them its planner answers the day sheet's missed
    count from the status index, 0.7 s a query at 1M rows, instead of the patient index, 12 ms)
    and checkpoint the write-ahead log so the first reader does not pay for it."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            raw = conn.connection.driver_connection
            raw.execute(RESET_SEQUENCES)  # type: ignore[union-attr]  # no parameters: %L stays
            raw.execute("VACUUM (ANALYZE)")  # type: ignore[union-attr]
        return
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        raw.execute("ANALYZE")  # type: ignore[union-attr]
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]


RESET_SEQUENCES = """
DO $$
DECLARE t record;
BEGIN
    -- The sequence is looked up inside the loop: in a WHERE clause PostgreSQL may call
    -- pg_get_serial_sequence for a table without an id column (alembic_version) and fail.
    FOR t IN
        SELECT table_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND column_name = 'id'
    LOOP
        IF pg_get_serial_sequence(quote_ident(t.table_name), 'id') IS NOT NULL THEN
            EXECUTE format(
                'SELECT setval(pg_get_serial_sequence(%L, ''id''), '
                'COALESCE((SELECT max(id) FROM %I), 0) + 1, false)',
                quote_ident(t.table_name), t.table_name
            );
        END IF;
    END LOOP;
END $$;
"""


class _FastSqlite:
    """Relaxed SQLite pragmas on this connection for a bulk load; the app's own after."""

    def __init__(self, conn: Connection) -> None:
        self.raw = conn.connection.driver_connection if conn.dialect.name == "sqlite" else None

    def __enter__(self) -> None:
        if self.raw is not None:
            self.raw.execute("PRAGMA synchronous=OFF")
            self.raw.execute("PRAGMA cache_size=-65536")
            self.raw.execute("PRAGMA temp_store=MEMORY")

    def __exit__(self, *_exc: object) -> None:
        if self.raw is not None:
            self.raw.execute("PRAGMA synchronous=FULL")
            self.raw.execute("PRAGMA cache_size=-2000")
            self.raw.execute("PRAGMA temp_store=DEFAULT")


@contextmanager
def bulk_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction for a bulk load, with SQLite's relaxed pragmas around it."""
    with engine.connect() as conn, _FastSqlite(conn), conn.begin():
        yield conn


@dataclass(frozen=True)
class ScaleSummary:
    locations: int
    rooms: int
    practitioners: int
    patients: int
    appointments: int
    live_appointments: int
    accounts: int
    first_patient_email: str | None
    plans: int
    first_day: date
    last_day: date


def seed_scale(
    engine: Engine, size: ScaleSize, *, now: datetime, password_hash: str, today: date
) -> ScaleSummary:
    """Everything in one transaction (the caller checked `refusal` first)."""
    from booking.models import PatientProfile

    layout = scale_layout(size, today)
    rows = generate(layout, size.appointments, size.seed, today=today)
    with engine.connect() as conn, _FastSqlite(conn), conn.begin():
        load_reference(conn, layout, password_hash=password_hash, now=now)
        load_appointments(conn, rows, range(len(rows)), now=now)
        plans = load_plans(conn, layout, rows, now=now, count=size.plan_count)
        first_email = conn.execute(
            select(PatientProfile.email).where(PatientProfile.id == 1)
        ).scalar()
    settle(engine)
    return ScaleSummary(
        locations=len(layout.locations),
        rooms=len(layout.rooms),
        practitioners=len(layout.practitioner_ids),
        patients=layout.patients,
        appointments=len(rows),
        live_appointments=sum(1 for row in rows if row[0] in LIVE),
        accounts=len(range(1, layout.patients + 1, ACCOUNT_EVERY)),
        first_patient_email=first_email,
        plans=plans,
        first_day=layout.period_start,
        last_day=layout.period_start + timedelta(days=layout.days - 1),
    )
