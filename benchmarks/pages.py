"""Pages under load (issue 22): real gunicorn on 127.0.0.1 over chain-size data, both engines.

For each engine and each gunicorn worker count, in one run: a bare Flask "hello" app, then
Meridian's busiest pages with wrk bounded in time — the start page and every GET step of the
booking journey (a journey walked through first, its cookies sent), the practitioner's week
view and the reception day sheet and patient search (signed in with password and TOTP), the
availability API (one practitioner × one day) at `--connections` (8); then booking POSTs to
the API at `--post-connections` (50), each body a time the availability API offered.

    python benchmarks/pages.py                      # both engines, 2 and 4 workers, 10 s loads
    python benchmarks/pages.py --quick              # smaller data, 2 workers, 1 s loads (< 3 min)
    python benchmarks/pages.py --engine sqlite --workers 2 --duration 5

The seeded databases are cached (SQLite files under instance/bench/, PostgreSQL databases
named bench_pages_c_<key>) and each run measures a copy, so a repeated run skips seeding.
Prints a table, which thresholds failed, then one JSON object as the last line. Exits 0
whether or not a threshold is met: it is a measurement (keys in benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import platform
import random
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time as clock
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for folder in (str(ROOT), str(HERE)):
    if folder not in sys.path:
        sys.path.insert(0, folder)

from _common import (  # noqa: E402 - benchmarks/ is on the path only from here
    HELLO_TARGET,
    Result,
    Workload,
    cpu_split,
    gunicorn,
    offered_bookings,
    request,
    rss_mb,
    run_wrk,
)

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# Encrypts the seeded staff TOTP secrets; fixed so a cached database stays usable across runs.
BENCH_TOTP_KEY = "bWVyaWRpYW4tYmVuY2gtcGFnZXMtdG90cC1rZXkhISE="
UNLIMITED = "100000000/minute"
BENCH_PASSWORD = "pages-benchmark-staff-password"  # noqa: S105 - made-up data's sign-in
GET_P99_MS = 100.0
POST_P99_MS = 150.0
HELLO_SHARE = 0.25
WORKER_MB = 150.0
# Full size (the chain) and --quick size for `flask seed-scale`.
SCALE = {"locations": 10, "practitioners": 100, "patients": 50_000, "appointments": 1_000_000}
QUICK_SCALE = {"locations": 10, "practitioners": 100, "patients": 5_000, "appointments": 50_000}
JOURNEY_STEPS = (
    "type",
    "location",
    "practitioner",
    "day",
    "time",
    "returning",
    "name",
    "date-of-birth",
    "contact",
    "contact-preference",
    "safety",
    "check",
)


# --- options -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server (default $BENCH_DATABASE_URL, $TEST_DATABASE_URL, then "
        "postgres@127.0.0.1:5432)",
    )
    parser.add_argument(
        "--workers", help="gunicorn worker counts, e.g. 2,4 (default 2,4; --quick 2)"
    )
    parser.add_argument("--duration", type=float, help="seconds per wrk load (10; --quick 1)")
    parser.add_argument("--connections", type=int, default=8, help="for the GET loads")
    parser.add_argument("--post-connections", type=int, default=50, help="for booking POSTs")
    parser.add_argument("--quick", action="store_true", help="smaller data, 2 workers, 1 s loads")
    parser.add_argument(
        "--data",
        choices=("auto", "scale", "demo"),
        default="auto",
        help="scale: flask seed-scale (auto: when the CLI has it); demo: flask seed-demo",
    )
    for name in SCALE:
        parser.add_argument(f"--{name}", type=int, help=f"seed-scale --{name}")
    parser.add_argument(
        "--cache-dir", type=Path, default=ROOT / "instance" / "bench", help="SQLite cache"
    )
    parser.add_argument("--rebuild", action="store_true", help="seed again, ignore the cache")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument(
        "--only",
        help="measure just these endpoints (comma-separated names, e.g. journey_day,booking_post); "
        "hello is always measured",
    )
    args = parser.parse_args(argv)
    args.only = {n.strip() for n in args.only.split(",") if n.strip()} if args.only else None
    try:
        args.workers = args.workers or ("2" if args.quick else "2,4")
        args.worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    except ValueError:
        parser.error("--workers takes whole numbers separated by commas, e.g. 2,4")
    if not args.worker_counts or min(args.worker_counts) < 1:
        parser.error("--workers takes whole numbers of at least 1, e.g. 2,4")
    args.duration = args.duration or (1.0 if args.quick else 10.0)
    if args.duration <= 0:
        parser.error("--duration must be positive")
    size = dict(QUICK_SCALE if args.quick else SCALE)
    for name in SCALE:
        if getattr(args, name) is not None:
            size[name] = getattr(args, name)
    args.size = size
    args.engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    args.database_url = (
        args.database_url
        or os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or DEFAULT_PG
    )
    return args


def say(message: str) -> None:
    print(message, flush=True)


# --- data: seeded once, cached, copied per run --------------------------------------------


@dataclass
class Seeded:
    """What the seeders printed: staff sign-ins and their TOTP secrets."""

    passwords: dict[str, str] = field(default_factory=dict)  # email -> password
    roles: dict[str, list[str]] = field(default_factory=dict)  # role -> emails
    totp: dict[str, str] = field(default_factory=dict)  # email -> base32 secret
    data: str = "demo"

    def first(self, role: str) -> str:
        emails = self.roles.get(role) or []
        if not emails:
            raise RuntimeError(f"the seeded data has no {role} sign-in")
        return emails[0]


SIGN_IN_LINE = re.compile(
    r"^\s+(admin|receptionist|practitioner|patient)\s+(\S+@\S+)\s+(\S+)\s*$", re.MULTILINE
)
SECRET_LINE = re.compile(r"^\s+(\S+@\S+)\s+([A-Z2-7]{16,})\s*$", re.MULTILINE)


def parse_seed_output(text: str) -> Seeded:
    """The sign-ins and TOTP keys `flask seed-demo` prints."""
    seeded = Seeded()
    for role, email, password in SIGN_IN_LINE.findall(text):
        seeded.passwords[email] = password
        seeded.roles.setdefault(role, []).append(email)
    for email, secret in SECRET_LINE.findall(text):
        seeded.totp[email] = secret
    return seeded


def has_seed_scale() -> bool:
    """Whether this checkout's CLI has `flask seed-scale` (issue 22)."""
    return any(
        '"seed-scale"' in p.read_text(errors="ignore") for p in (ROOT / "booking").rglob("*.py")
    )


def cache_key(args: argparse.Namespace) -> str:
    """Data kind and size, today's date, and the code that shapes the data (schema, seeders)."""
    digest = hashlib.sha256()
    digest.update(args.data_kind.encode())
    if args.data_kind == "scale":
        digest.update(json.dumps(args.size, sort_keys=True).encode())
    digest.update(date.today().isoformat().encode())  # noqa: DTZ011 - the seeders use today
    sources = sorted((ROOT / "migrations" / "versions").glob("*.py"))
    sources += sorted((ROOT / "booking" / "demo").rglob("*.py"))
    sources += sorted((ROOT / "booking").glob("cli*.py"))
    sources += sorted((ROOT / "booking" / "scale").rglob("*.py"))
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def server_env(url: str, folder: Path, secret_key: str) -> dict[str, str]:
    return {
        **os.environ,
        "BOOKING_INSTANCE_PATH": str(folder),
        "BOOKING_DEVELOPMENT": "true",  # loopback HTTP: no production checks
        "BOOKING_SECRET_KEY": secret_key,
        "BOOKING_TOTP_ENCRYPTION_KEYS": BENCH_TOTP_KEY,
        "BOOKING_SQLALCHEMY_DATABASE_URI": url,
        "BOOKING_API_RATELIMIT_PER_IP": UNLIMITED,
        "BOOKING_API_RATELIMIT_PER_TOKEN": UNLIMITED,
        "BOOKING_STAFF_IDLE_MINUTES": "600",
        "BOOKING_LOG_LEVEL": "WARNING",
    }


def flask_cli(env: dict[str, str], *command: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def parse_scale_output(text: str, password: str) -> Seeded:
    """The sign-ins `flask seed-scale` names (admin@…, reception@…, practitioner1@…)."""
    seeded = Seeded(data="scale")
    for email in re.findall(r"\b([\w.+-]+@[\w-]+(?:\.[\w-]+)+)\b", text):
        local = email.split("@")[0]
        role = next(
            (r for r, prefix in ROLE_PREFIXES if local.startswith(prefix)),
            None,
        )
        if role is not None and email not in seeded.passwords:
            seeded.passwords[email] = password
            seeded.roles.setdefault(role, []).append(email)
    return seeded


ROLE_PREFIXES = (
    ("receptionist", "reception"),
    ("practitioner", "practitioner"),
    ("admin", "admin"),
)


def seed_into(args: argparse.Namespace, url: str, folder: Path) -> Seeded:
    """Migrate, then seed: `seed-scale` (an empty database, its own staff) or `seed-demo`."""
    env = server_env(url, folder, secrets.token_hex(32))
    # Cheaper password hashing while seeding (the hash records its own parameters).
    env.update({"BOOKING_ARGON2_TIME_COST": "1", "BOOKING_ARGON2_MEMORY_COST": "8192"})
    flask_cli(env, "db", "upgrade")
    if args.data_kind == "scale":
        options = [f"--{name}={value}" for name, value in args.size.items()]
        output = flask_cli(env, "seed-scale", *options, f"--password={BENCH_PASSWORD}")
        say("  " + " ".join(output.split())[:300])
        return parse_scale_output(output, BENCH_PASSWORD)
    return parse_seed_output(flask_cli(env, "seed-demo"))


def pg_admin(server_url: str) -> Any:
    import psycopg
    from sqlalchemy.engine import make_url

    plain = make_url(server_url).set(drivername="postgresql")
    return psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True)


def pg_url(server_url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def run_database(
    args: argparse.Namespace, engine: str, folder: Path
) -> Iterator[tuple[str, Seeded]]:
    """A fresh copy of the cached seeded database for this run (seeding it first if needed)."""
    key = cache_key(args)
    # One cache per data size (quick and full runs keep theirs); a new key replaces the old.
    label = "demo" if args.data_kind == "demo" else f"scale{args.size['appointments']}"
    cache = args.cache_dir
    cache.mkdir(parents=True, exist_ok=True)
    meta_path = cache / f"pages-{engine}-{label}-{key}.json"
    if engine == "sqlite":
        cached = cache / f"pages-{label}-{key}.sqlite"
        if args.rebuild or not (cached.exists() and meta_path.exists()):
            stale = [
                *cache.glob(f"pages-{label}-*.sqlite*"),
                *cache.glob(f"pages-sqlite-{label}-*"),
            ]
            for old in stale:
                old.unlink()
            say(f"  seeding {args.data_kind} data into {cached} (cached for later runs)…")
            began = clock.perf_counter()
            seeded = seed_into(args, f"sqlite:///{cached}", folder)
            meta_path.write_text(json.dumps(seeded.__dict__))
            say(f"  seeded in {clock.perf_counter() - began:.0f} s")
        else:
            say(f"  using the cached database {cached}")
        seeded = Seeded(**json.loads(meta_path.read_text()))
        copy = folder / "run.sqlite"
        with sqlite3.connect(cached) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        yield f"sqlite:///{copy}", seeded
        return
    cached_name, run_name = f"bench_pages_c_{label}_{key}", f"bench_pages_run_{os.getpid()}"
    with pg_admin(args.database_url) as admin:
        names = [r[0] for r in admin.execute("SELECT datname FROM pg_database").fetchall()]
        fresh = args.rebuild or cached_name not in names or not meta_path.exists()
        if fresh:
            for old in names:
                if old.startswith(f"bench_pages_c_{label}_"):
                    admin.execute(f'DROP DATABASE "{old}" WITH (FORCE)')
            for old in cache.glob(f"pages-postgresql-{label}-*.json"):
                old.unlink()
            admin.execute(f'CREATE DATABASE "{cached_name}"')
    if fresh:
        say(f"  seeding {args.data_kind} data into database {cached_name} (cached for later runs)…")
        began = clock.perf_counter()
        seeded = seed_into(args, pg_url(args.database_url, cached_name), folder)
        meta_path.write_text(json.dumps(seeded.__dict__))
        say(f"  seeded in {clock.perf_counter() - began:.0f} s")
    else:
        say(f"  using the cached database {cached_name}")
    seeded = Seeded(**json.loads(meta_path.read_text()))
    with pg_admin(args.database_url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{run_name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{run_name}" TEMPLATE "{cached_name}"')
    try:
        yield pg_url(args.database_url, run_name), seeded
    finally:
        with pg_admin(args.database_url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{run_name}" WITH (FORCE)')


@dataclass
class Prepared:
    token: str
    patient_ids: list[int]
    family_names: list[str]
    location_ids: list[int]


def prepare(url: str, folder: Path, seeded: Seeded, rng: random.Random) -> Prepared:
    """In this process, on the run's copy: a receptionist's API token, patients to use."""
    from sqlalchemy import func, select

    from booking import create_app
    from booking.extensions import db
    from booking.models import Location, PatientProfile
    from booking.services.api.tokens import create_token

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": secrets.token_hex(32),
            "DEVELOPMENT": True,
            "TOTP_ENCRYPTION_KEYS": BENCH_TOTP_KEY,
            "LOG_LEVEL": "WARNING",
        },
        instance_path=folder,
    )
    with app.app_context():
        _, token = create_token(
            email=seeded.first("receptionist"), name="pages benchmark", now=datetime.now(UTC)
        )
        db.session.commit()
        count = db.session.scalar(select(func.count()).select_from(PatientProfile)) or 0
        step = max(1, count // 2000)
        rows = db.session.execute(
            select(PatientProfile.id, PatientProfile.family_name)
            .where(PatientProfile.id % step == 0)
            .limit(2000)
        ).all()
        locations = list(db.session.scalars(select(Location.id).order_by(Location.id)))
        db.session.remove()
        db.engine.dispose()
    ids = [r.id for r in rows]
    names = sorted({r.family_name for r in rows if r.family_name})
    rng.shuffle(names)
    return Prepared(token, ids, names[:300], locations)


# --- a browser: cookies, redirects, forms ---------------------------------------------------


class FormParser(HTMLParser):
    """The page's POST forms: action and fields (name, type, value, checked)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {"action": found.get("action", ""), "method": found.get("method", "get")}
            self._form["fields"] = []
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag in ("input", "textarea") and found.get("name"):
            kind = found.get("type", "text") if tag == "input" else "text"
            self._form["fields"].append(
                (found["name"], kind.lower(), found.get("value", ""), "checked" in found)
            )
        elif tag == "select":
            self._select = found.get("name")
        elif tag == "option" and self._select:
            self._form["fields"].append(
                (self._select, "radio", found.get("value", ""), "selected" in found)
            )

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def post_forms(html: str) -> list[dict[str, Any]]:
    parser = FormParser()
    parser.feed(html)
    return [f for f in parser.forms if f["method"].lower() == "post"]


def main_form(html: str) -> dict[str, Any] | None:
    """The page's question: the POST form with the most visible fields (not sign-out, not hold)."""

    def visible(form: dict[str, Any]) -> int:
        return sum(1 for _, kind, _, _ in form["fields"] if kind not in ("hidden", "submit"))

    forms = [f for f in post_forms(html) if visible(f)]
    return max(forms, key=visible) if forms else None


class Browser:
    """Enough of a browser for the benchmark: a cookie jar, redirects, form posts."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.path = "/"

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def _store(self, response: http.client.HTTPResponse) -> None:
        for header in response.msg.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                gone = morsel["max-age"] == "0" or "1970" in morsel["expires"]
                if gone or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def go(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        """Send, then follow redirects; (final status, body). `self.path` is where it landed."""
        for _ in range(12):
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            headers = {"Cookie": self.cookie_header()} if self.cookies else {}
            body = None
            if form is not None:
                body = urlencode(form)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                text = response.read().decode("utf-8", errors="replace")
                self._store(response)
            finally:
                conn.close()
            self.path = path
            location = response.getheader("Location")
            if response.status in (301, 302, 303, 307, 308) and location:
                parts = urlsplit(urljoin(f"http://127.0.0.1{path}", location))
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                if response.status in (301, 302, 303):
                    method, form = "GET", None
                continue
            return response.status, text
        raise RuntimeError(f"too many redirects from {path}")

    def submit(self, html: str, answers: dict[str, str]) -> tuple[int, str]:
        """Post the page's main form: hidden fields as they are, `answers` for the rest."""
        form = main_form(html)
        if form is None:
            raise RuntimeError(f"no form to answer on {self.path}")
        data: dict[str, str] = {}
        for name, kind, value, checked in form["fields"]:
            if checked or kind not in ("radio", "checkbox", "submit"):
                data.setdefault(name, value)
        data.update(answers)
        action = form["action"] or self.path
        return self.go("POST", urljoin(self.path, action), data)


def radio_values(html: str, name: str) -> list[str]:
    form = main_form(html)
    if form is None:
        return []
    return [v for n, kind, v, _ in form["fields"] if n == name and kind == "radio"]


def walk_journey(port: int, rng: random.Random, number: int) -> tuple[Browser, dict[str, str]]:
    """Answer the booking journey up to check answers; its cookies and each step's GET path.

    Radios are chosen at random (never "No preference", never a safety flag), so successive
    walks spread their holds over practitioners and times.
    """
    browser = Browser(port)
    status, html = browser.go("GET", "/book")
    visited: dict[str, str] = {}
    texts = {
        "given_name": "Bench",
        "family_name": f"Walker{number}",
        "dob_day": "12",
        "dob_month": "3",
        "dob_year": "1980",
        "email": f"bench.walker{number}@example.com",
        "phone": "07700 900123",
    }
    fixed = {"returning": "no", "safety": "no", "contact_preference": "email"}
    for _ in range(30):
        step = browser.path.split("?")[0].removeprefix("/book/")
        if status != 200:
            raise RuntimeError(f"journey page {browser.path} answered {status}")
        if step in JOURNEY_STEPS:
            visited.setdefault(step, browser.path)
        if step == "check":
            return browser, visited
        form = main_form(html)
        if form is None:
            raise RuntimeError(f"journey page {browser.path} has no question")
        answers: dict[str, str] = {}
        for name, kind, _, _ in form["fields"]:
            if name in texts and kind not in ("hidden", "radio"):
                answers[name] = texts[name]
            if name == "phone":  # the location's country decides the format: its own example
                example = re.search(r"For example, ([^<]+)<", html)
                answers[name] = unescape(example.group(1)).strip() if example else texts[name]
            if kind == "radio" and name not in answers:
                values = [v for v in radio_values(html, name) if v != "any"]
                wanted = fixed.get(name)
                answers[name] = wanted if wanted in values else rng.choice(values)
        status, html = browser.submit(html, answers)
    problem = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.DOTALL)
    detail = re.sub(r"<[^>]+>|\s+", " ", problem.group(1)).strip() if problem else ""
    raise RuntimeError(f"the journey did not reach check answers ({browser.path}: {detail})")


def sign_in(port: int, email: str, password: str, secret: str | None, home: str) -> Browser:
    """Sign in with password and, for staff, a TOTP code (enrolling first if asked to).

    The key is the seeded one, or the setup page's when the account has none yet.
    """
    import pyotp

    browser = Browser(port)
    status, html = browser.go("GET", "/auth/sign-in")
    status, html = browser.submit(html, {"email": email, "password": password})
    for _ in range(4):
        if browser.path.startswith("/auth/two-step/set-up"):
            shown = re.search(r"meridian-setup-key[^>]*><code>([^<]+)</code>", html)
            if shown is None:
                raise RuntimeError("the two-step set-up page shows no key")
            secret = shown.group(1).replace(" ", "")
        elif not browser.path.startswith("/auth/two-step"):
            break
        if secret is None:
            raise RuntimeError(f"{email} is asked for a code and no TOTP key was seeded")
        totp = pyotp.TOTP(secret)
        before = browser.path
        status, html = browser.submit(html, {"code": totp.now()})
        if browser.path == before and status >= 400:
            clock.sleep(31 - clock.time() % 30)  # a code is single use: wait for the next one
    status, _ = browser.go("GET", home)
    if status != 200 or browser.path != home:
        raise RuntimeError(f"signing in {email} ended on {browser.path} ({status})")
    return browser


# --- workloads ---------------------------------------------------------------------------


def api_get(port: int, path: str) -> Any:
    status, body = request(port, "GET", path)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
    return json.loads(body)


def catalogue(port: int) -> list[tuple[int, int, int]]:
    """(session type, practitioner, location) triples offered, from the public API."""
    triples, cursor = [], ""
    while True:
        page = api_get(port, f"/api/v1/practitioners?limit=500{cursor}")
        for item in page["items"]:
            for location in item["location_ids"]:
                for type_id in item["session_type_ids"]:
                    triples.append((type_id, item["id"], location))
        if not page.get("next_cursor"):
            return triples
        cursor = f"&cursor={page['next_cursor']}"


def availability_paths(triples: list[tuple[int, int, int]], rng: random.Random) -> list[str]:
    """One practitioner × one day, 1 to 60 days ahead, 500 different URLs."""
    today = date.today()  # noqa: DTZ011 - the server's real "now" decides the horizon
    paths = []
    for _ in range(500):
        type_id, practitioner, location = rng.choice(triples)
        day = (today + timedelta(days=rng.randrange(1, 60))).isoformat()
        query = urlencode(
            {
                "session_type_id": type_id,
                "practitioner_id": practitioner,
                "location_id": location,
                "from": day,
                "to": day,
            }
        )
        paths.append(f"/api/v1/availability?{query}")
    return paths


def booking_bodies(
    port: int,
    triples: list[tuple[int, int, int]],
    patients: list[int],
    rng: random.Random,
    wanted: int,
) -> list[str]:
    """Free times the API offers now (2 to 60 days ahead), each once: 201, then 409 on repeats.

    Up to `wanted` of them, from at most 120 availability calls.
    """
    bodies = offered_bookings(lambda path: api_get(port, path), triples, patients, rng, wanted)
    if not bodies:
        raise RuntimeError("the availability API offered no free time to book")
    rng.shuffle(bodies)
    return bodies


@dataclass
class Measured:
    name: str
    kind: str  # "hello", "journey" (start page, journey steps, availability API), "get", "post"
    connections: int
    result: Result
    first_status: int | None = None
    cpu: dict[str, float] | None = None  # cpu_split's figures for the load


def check_status(port: int, load: Workload) -> int:
    """The first item's status (and warm-up): a page that redirects is measured, but flagged."""
    statuses = []
    for item in (load.paths if load.method == "GET" else load.bodies[-2:])[:2]:
        if load.method == "GET":
            status, _ = request(port, "GET", item, None, load.headers)
        else:
            status, _ = request(port, "POST", load.paths[0], item.encode(), load.headers)
        statuses.append(status)
    return statuses[0] if statuses else 0


def measure_server(
    args: argparse.Namespace,
    port: int,
    folder: Path,
    prepared: Prepared,
    staff: dict[str, str],
    rng: random.Random,
    walk: int,
    app_pids: Callable[[], list[int]],
) -> list[Measured]:
    out: list[Measured] = []

    def load(name: str, kind: str, workload: Workload, connections: int) -> None:
        if args.only and name not in args.only:
            return
        first = check_status(port, workload)
        say(f"    {name}…" + ("" if 200 <= first < 300 else f" (first answer {first})"))
        with cpu_split(app_pids()) as cpu:
            result = run_wrk(port, workload, connections, args.duration, folder)
        out.append(Measured(name, kind, connections, result, first, cpu))

    gets = args.connections
    load("start_page", "journey", Workload("start_page", "GET", ["/"]), gets)
    browser, steps = walk_journey(port, rng, walk)
    cookie = {"Cookie": browser.cookie_header()}
    for step, path in steps.items():
        name = f"journey_{step.replace('-', '_')}"
        load(name, "journey", Workload(name, "GET", [path], headers=cookie), gets)
    today = date.today()  # noqa: DTZ011 - the server's "today" decides the week shown
    weeks = [
        f"/practitioner/week?start={(today + timedelta(weeks=w)).isoformat()}" for w in range(-4, 5)
    ]
    load(
        "practitioner_week",
        "get",
        Workload("practitioner_week", "GET", weeks, headers={"Cookie": staff["practitioner"]}),
        gets,
    )
    desk = {"Cookie": staff["receptionist"]}
    load(
        "reception_day_sheet",
        "get",
        Workload("reception_day_sheet", "GET", ["/reception/"], headers=desk),
        gets,
    )
    one = [f"/reception/?location={loc}" for loc in prepared.location_ids]
    load(
        "reception_day_sheet_location",
        "get",
        Workload("reception_day_sheet_location", "GET", one, headers=desk),
        gets,
    )
    searches = [f"/reception/patients?{urlencode({'q': n})}" for n in prepared.family_names]
    load(
        "patient_search",
        "get",
        Workload("patient_search", "GET", searches or ["/reception/patients?q=a"], headers=desk),
        gets,
    )
    triples = catalogue(port)
    load(
        "availability_api",
        "journey",
        Workload("availability_api", "GET", availability_paths(triples, rng)),
        gets,
    )
    # More free times than the load can book (a few hundred a second at most), within reason.
    wanted = min(5000, int(300 * args.duration))
    bodies = booking_bodies(port, triples, prepared.patient_ids, rng, wanted)
    headers = {"Authorization": f"Bearer {prepared.token}", "Content-Type": "application/json"}
    post = Workload("booking_post", "POST", ["/api/v1/appointments"], bodies, headers)
    load("booking_post", "post", post, args.post_connections)
    return out


# --- thresholds ----------------------------------------------------------------------------


def errors_of(statuses: dict[str, int], *, allowed: tuple[str, ...] = ()) -> int:
    """Answers other than 2xx (and the `allowed` statuses)."""
    return sum(n for s, n in statuses.items() if not s.startswith("2") and s not in allowed)


def evaluate(
    rows: list[dict[str, Any]], rss: list[float | None]
) -> tuple[list[dict[str, Any]], list[str], bool]:
    """Each row's pass/fail columns, the failed checks by name, and the memory check.

    Rows are dicts with name, kind, rps, p99_ms, statuses and connections; hello's row
    gives the ratio. None in a column means the check does not apply to that row.
    """
    hello_rps = next((r["rps"] for r in rows if r["kind"] == "hello"), 0.0)
    failed: list[str] = []
    for row in rows:
        row["ratio_to_hello"] = round(row["rps"] / hello_rps, 3) if hello_rps else None
        row["p99_ok"] = row["share_ok"] = row["errors_ok"] = None
        if row["kind"] == "post":
            row["errors"] = errors_of(row["statuses"], allowed=("409",))
            row["p99_ok"] = row["p99_ms"] < POST_P99_MS
        else:
            row["errors"] = errors_of(row["statuses"])
            row["p99_ok"] = row["p99_ms"] < GET_P99_MS
        row["errors_ok"] = row["errors"] == 0
        if row["kind"] == "journey":
            row["share_ok"] = (
                row["ratio_to_hello"] is not None and row["ratio_to_hello"] >= HELLO_SHARE
            )
        for check in ("p99_ok", "share_ok", "errors_ok"):
            if row[check] is False:
                failed.append(f"{row['name']}: {check.removesuffix('_ok')}")
    memory_ok = bool(rss) and all(m is not None and m < WORKER_MB for m in rss)
    if not memory_ok:
        failed.append("worker memory")
    return rows, failed, memory_ok


def failed_words(failed: list[str]) -> str:
    """'a: p99', 'a: share', 'b: p99' -> 'a (p99, share), b (p99)'."""
    checks: dict[str, list[str]] = {}
    for line in failed:
        name, _, check = line.partition(": ")
        checks.setdefault(name, []).append(check)
    return ", ".join(f"{n} ({', '.join(c)})" if c != [""] else n for n, c in checks.items())


def mark(value: bool | None) -> str:
    return "-" if value is None else ("pass" if value else "FAIL")


def print_block(
    engine: str, workers: int, rows: list[dict[str, Any]], rss: list[float | None]
) -> None:
    header = (
        f"{'endpoint':<32}{'conn':>5}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'×hello':>8}"
        f"{'p99':>6}{'≥25%':>6}{'errs':>6}{'app ms':>8}{'db ms':>7}{'idle':>6}  statuses"
    )
    say("")
    say(f"{engine}, {workers} workers")
    say(header)
    say("-" * len(header))
    for r in rows:
        ratio = f"{r['ratio_to_hello']:.2f}" if r["ratio_to_hello"] is not None else "-"
        statuses = ", ".join(f"{k}: {v}" for k, v in r["statuses"].items())
        cpu = r.get("cpu_ms_per_request")
        spent = (
            f"{cpu['app']:>8.2f}{cpu['database']:>7.2f}{r['idle_share']:>6.0%}"
            if cpu
            else f"{'-':>8}{'-':>7}{'-':>6}"
        )
        say(
            f"{r['name']:<32}{r['connections']:>5}{r['rps']:>9.1f}{r['p50_ms']:>9.2f}"
            f"{r['p99_ms']:>9.2f}{ratio:>8}{mark(r['p99_ok']):>6}{mark(r['share_ok']):>6}"
            f"{r['errors']:>6}{spent}  {statuses}"
        )
    shown = ", ".join("?" if m is None else f"{m:.0f}" for m in rss)
    ok = bool(rss) and all(m is not None and m < WORKER_MB for m in rss)
    say(f"worker resident memory MB: {shown} ({mark(ok)}, limit {WORKER_MB:.0f})")


def cpu_per_request(measured: Measured) -> dict[str, Any]:
    """CPU ms per request of the app's workers, PostgreSQL and wrk, and the idle share of the
    cores, during the load (none for hello: its server is not Meridian's)."""
    cpu, requests = measured.cpu, measured.result.requests
    if not cpu or not requests:
        return {}
    return {
        "cpu_ms_per_request": {
            side: round(1000 * cpu[f"{side}_s"] / requests, 2)
            for side in ("app", "database", "load", "other")
        },
        "idle_share": cpu["idle_share"],
    }


def post_phases(
    log: str, clients: int, *, path: str = "/api/v1/appointments", window_s: float = 1.0
) -> list[dict[str, Any]]:
    """The booking POST load second by second, from the server's JSON access lines.

    The load books each offered time once and is refused (409) when it comes round again,
    so its mix drifts from bookings to cheap refusals as it runs. For each whole window: the
    201s, the 409s, the other answers, req/s and, with `clients` closed-loop clients and no
    think time, the mean latency that rate implies (clients ÷ req/s, Little's law). The
    load's p99 is set by its slowest windows, the ones that still book.
    """
    stamps: list[tuple[float, int]] = []
    for line in log.splitlines():
        if '"gunicorn.access"' not in line or '"POST"' not in line:
            continue
        try:
            entry = json.loads(line)
            if entry.get("method") != "POST" or entry.get("path") != path:
                continue
            stamps.append((datetime.fromisoformat(entry["time"]).timestamp(), entry["status"]))
        except (ValueError, KeyError, TypeError):
            continue
    if not stamps:
        return []
    stamps.sort()
    first, last = stamps[0][0], stamps[-1][0]
    whole = int((last - first) // window_s)  # the last, partial window is left out
    counts = [{"201": 0, "409": 0, "other": 0} for _ in range(whole)]
    for at, status in stamps:
        index = int((at - first) // window_s)
        if index < whole:
            key = str(status) if str(status) in ("201", "409") else "other"
            counts[index][key] += 1
    phases = []
    for index, seen in enumerate(counts):
        rps = sum(seen.values()) / window_s
        phases.append(
            {
                "from_s": round(index * window_s, 2),
                **seen,
                "rps": round(rps, 1),
                "implied_mean_ms": round(1000 * clients / rps, 1) if rps else None,
            }
        )
    return phases


def print_phases(phases: list[dict[str, Any]], clients: int) -> None:
    if not phases:
        return
    say(f"booking_post second by second (mean latency implied by {clients} clients ÷ req/s):")
    say(f"{'from s':>8}{'201':>6}{'409':>6}{'other':>7}{'req/s':>8}{'mean ms':>9}")
    for p in phases:
        mean = "-" if p["implied_mean_ms"] is None else f"{p['implied_mean_ms']:.0f}"
        say(
            f"{p['from_s']:>8.1f}{p['201']:>6}{p['409']:>6}{p['other']:>7}{p['rps']:>8.0f}{mean:>9}"
        )


# --- main --------------------------------------------------------------------------------


def measure_hello(args: argparse.Namespace, port: int, folder: Path) -> tuple[Result, int]:
    say("    hello…")
    load = Workload("hello", "GET", ["/"])
    first = check_status(port, load)
    return run_wrk(port, load, args.connections, args.duration, folder), first


def run_engine(args: argparse.Namespace, engine: str, rng: random.Random) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    folder = Path(tempfile.mkdtemp(prefix=f"bench_pages_{engine}_"))
    try:
        with run_database(args, engine, folder) as (url, seeded):
            prepared = prepare(url, folder, seeded, rng)
            env = server_env(url, folder, secrets.token_hex(32))
            staff: dict[str, str] = {}
            for number, workers in enumerate(args.worker_counts):
                say(f"  {engine}, {workers} workers:")
                measured: list[Measured] = []
                hellos: list[tuple[Result, int]] = []
                with gunicorn("hello", HELLO_TARGET, env, workers, folder, ROOT) as hello_server:
                    hellos.append(measure_hello(args, hello_server.port, folder))
                    with gunicorn(
                        f"meridian{workers}", "wsgi:app", env, workers, folder, ROOT
                    ) as server:
                        if not staff:  # sessions live in the database: one sign-in for all
                            for role, home in (
                                ("practitioner", "/practitioner/week"),
                                ("receptionist", "/reception/"),
                            ):
                                email = seeded.first(role)
                                password, key = seeded.passwords[email], seeded.totp.get(email)
                                browser = sign_in(server.port, email, password, key, home)
                                staff[role] = browser.cookie_header()
                        measured += measure_server(
                            args,
                            server.port,
                            folder,
                            prepared,
                            staff,
                            rng,
                            number,
                            server.worker_pids,
                        )
                        rss = [rss_mb(pid) for pid in server.worker_pids()]
                        log = server.log()
                    # Again after Meridian's loads: a burst of other work on the machine during
                    # one hello load would otherwise flatter every ratio. The faster one counts.
                    hellos.append(measure_hello(args, hello_server.port, folder))
                best, first = max(hellos, key=lambda pair: pair[0].rps)
                measured.insert(0, Measured("hello", "hello", args.connections, best, first))
                hello_rps = [round(r.rps, 1) for r, _ in hellos]
                rows = [
                    {
                        "name": m.name,
                        "kind": m.kind,
                        "connections": m.connections,
                        "requests": m.result.requests,
                        "rps": round(m.result.rps, 1),
                        "p50_ms": round(m.result.p50_ms, 2),
                        "p99_ms": round(m.result.p99_ms, 2),
                        "statuses": m.result.statuses,
                        "first_status": m.first_status,
                        **cpu_per_request(m),
                    }
                    for m in measured
                ]
                rows, failed, memory_ok = evaluate(rows, rss)
                print_block(engine, workers, rows, rss)
                phases = post_phases(log, args.post_connections)
                print_phases(phases, args.post_connections)
                say(f"hello req/s before and after Meridian's loads: {hello_rps} (faster = 1.00)")
                tracebacks = log.count("Traceback")
                if tracebacks:
                    first_at = log.index("Traceback")
                    excerpt = log[first_at : first_at + 4000]
                    say(f"  server traceback (first of {tracebacks}):\n{excerpt}")
                blocks.append(
                    {
                        "engine": engine,
                        "workers": workers,
                        "data": seeded.data,
                        "endpoints": {r.pop("name"): r for r in rows},
                        "hello_rps_before_after": hello_rps,
                        "worker_rss_mb": rss,
                        "memory_ok": memory_ok,
                        "server_tracebacks": tracebacks,
                        "failed": failed,
                        "booking_post_phases": phases,
                    }
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return blocks


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        say("wrk is not installed: `make wrk` (Debian's wrk) or apt-get install wrk")
        return 2
    args.data_kind = args.data if args.data != "auto" else ("scale" if has_seed_scale() else "demo")
    began = clock.perf_counter()
    rng = random.Random(args.seed)
    size = (
        ", ".join(f"{k} {v:,}" for k, v in args.size.items())
        if args.data_kind == "scale"
        else "demo clinic"
    )
    say(
        f"Pages benchmark: {'+'.join(args.engines)}, data: {args.data_kind} ({size}), workers "
        f"{args.workers}, {args.connections} connections for GETs, {args.post_connections} for "
        f"POSTs, {args.duration:g} s per load, {os.cpu_count()} cores"
    )
    blocks: list[dict[str, Any]] = []
    for engine in args.engines:
        blocks += run_engine(args, engine, rng)
    failed = [f"{b['engine']}/{b['workers']}w {f}" for b in blocks for f in b["failed"]]
    say("")
    if failed:
        say(f"Thresholds failed ({len(failed)}):")
        for block in blocks:
            if block["failed"]:
                words = failed_words(block["failed"])
                say(f"  {block['engine']}, {block['workers']} workers: {words}")
    else:
        say("Every threshold met.")
    summary = {
        "benchmark": "pages",
        "data": args.data_kind,
        "size": args.size if args.data_kind == "scale" else None,
        "duration_s": args.duration,
        "connections": args.connections,
        "post_connections": args.post_connections,
        "only": sorted(args.only) if args.only else None,
        "thresholds": {
            "get_p99_ms": GET_P99_MS,
            "post_p99_ms": POST_P99_MS,
            "share_of_hello": HELLO_SHARE,
            "worker_mb": WORKER_MB,
        },
        "runs": blocks,
        "failed": failed,
        "all_passed": not failed,
        "cores": os.cpu_count(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "total_seconds": round(clock.perf_counter() - began, 1),
        "python": platform.python_version(),
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
