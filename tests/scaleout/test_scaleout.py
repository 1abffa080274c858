"""Issue 22, scale-out proven on one machine: two app hosts behind HAProxy (round-robin), one
PostgreSQL through PgBouncer in transaction pooling mode, one Redis for rate limits.

One set-up (conftest.cluster) serves every check, in this order; the last one kills a host.
Requests are spread over both hosts directly and through the proxy.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select, text

from booking import clock
from booking.extensions import db
from booking.models import OutboxMessage, Practitioner, SessionType
from tests.concurrency.conftest import overlapping_live_pairs
from tests.conftest import DEMO_EMAILS, DEMO_PASSWORD
from tests.scaleout.conftest import AUTH_LIMIT, DEPLOY, Browser, Cluster, api, need

pytestmark = [pytest.mark.scaleout, pytest.mark.xdist_group("gunicorn")]
RACERS = 50
MIXED = 200
UNDER_LOAD = 60
_START = re.compile(r'<input[^>]*name="start"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="start"')


def _ids(cluster: Cluster) -> tuple[int, int]:
    with cluster.app.app_context():
        found = (
            db.session.scalar(
                select(Practitioner.id).where(Practitioner.display_name == "Mei Lin Chen")
            ),
            db.session.scalar(
                select(SessionType.id).where(SessionType.slug == "follow-up-acupuncture")
            ),
        )
        db.session.remove()
    return found  # type: ignore[return-value]


def _free(cluster: Cluster, session_type: int, practitioner: int | None = None) -> list[Any]:
    today = clock.utcnow().date()
    who = f"&practitioner_id={practitioner}" if practitioner else ""
    status, body = api(
        cluster.proxy_port,
        "GET",
        f"/api/v1/availability?session_type_id={session_type}{who}&limit=100"
        f"&from={today + timedelta(days=2)}&to={today + timedelta(days=20)}",
        cluster.token,
    )
    assert status == 200, body
    return list(body["items"])


def _booking(session_type: int, item: dict[str, Any], who: str) -> dict[str, Any]:
    return {
        "session_type_id": session_type,
        "practitioner_id": item["practitioner_id"],
        "location_id": item["location_id"],
        "start": item["start"],
        "patient": {
            "email": f"{who}@example.com",
            "given_name": "Scale",
            "family_name": who,
            "date_of_birth": "1980-04-03",
        },
    }


def _served(
    cluster: Cluster, path: str, since: list[int] | None = None, total: int = 0
) -> list[int]:
    """Requests per host for `path` (access log), after `since`; waits until `total` are
    logged (gunicorn writes the line just after the response goes out)."""
    base = since or [0] * len(cluster.hosts)
    deadline = time.monotonic() + 10
    while True:
        counts = [host.served(path) - b for host, b in zip(cluster.hosts, base, strict=True)]
        if sum(counts) >= total or time.monotonic() > deadline:
            return counts
        time.sleep(0.1)


def test_fifty_clients_on_two_hosts_book_one_slot_once(cluster: Cluster) -> None:
    mei, follow_up = _ids(cluster)
    target = _free(cluster, follow_up, mei)[0]
    before = _served(cluster, "/api/v1/appointments")
    barrier = threading.Barrier(RACERS)

    def attempt(index: int) -> tuple[int, Any]:
        body = _booking(follow_up, target, f"race{index}")
        barrier.wait()
        return api(cluster.ports[index % 3], "POST", "/api/v1/appointments", cluster.token, body)

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        outcomes = list(pool.map(attempt, range(RACERS)))
    statuses = Counter(status for status, _ in outcomes)
    assert statuses == {201: 1, 409: RACERS - 1}, (statuses, cluster.logs())
    served = _served(cluster, "/api/v1/appointments", before, RACERS)
    # Both hosts answered part of the race (directly and through the proxy).
    assert sum(served) == RACERS
    assert min(served) >= RACERS // 3, served
    assert overlapping_live_pairs(cluster.app) == 0


def _reception(cluster: Cluster) -> dict[str, str]:
    """A receptionist signed in on host 1: the browser session's cookies."""
    browser = Browser(cluster.hosts[0].port)
    status, headers, _ = browser.post_form(
        "/auth/sign-in", {"email": DEMO_EMAILS["receptionist"], "password": DEMO_PASSWORD}
    )
    assert status == 302, browser.last_body[:500]
    return browser.cookies


def test_two_hundred_mixed_attempts_leave_no_overlap(cluster: Cluster) -> None:
    mei, follow_up = _ids(cluster)
    free = _free(cluster, follow_up, mei)
    day = datetime.fromisoformat(free[-1]["start"]).date()
    slots = [item for item in free if datetime.fromisoformat(item["start"]).date() == day][:4]
    assert len(slots) >= 3, free
    cookies = _reception(cluster)  # signed in on host 1, used on both hosts and the proxy
    booked: list[tuple[int, int]] = []
    lock = threading.Lock()
    randoms = random.Random(22)
    plan = [randoms.choice(("book", "book", "cancel", "move", "move")) for _ in range(MIXED)]
    picks = [randoms.random() for _ in range(MIXED)]

    def book(index: int, port: int) -> tuple[str, int]:
        item = slots[int(picks[index] * len(slots))]
        status, body = api(
            port,
            "POST",
            "/api/v1/appointments",
            cluster.token,
            _booking(follow_up, item, f"mixed{index}"),
        )
        if status == 201:
            with lock:
                booked.append((body["id"], body["patient_id"]))
        return "book", status

    def cancel(index: int, port: int) -> tuple[str, int]:
        with lock:
            chosen = booked.pop(int(picks[index] * len(booked))) if booked else None
        if chosen is None:
            return book(index, port)
        appointment, _ = chosen
        status, _ = api(
            port, "POST", f"/api/v1/appointments/{appointment}/cancel", cluster.token, {}
        )
        return "cancel", status

    def move(index: int, port: int) -> tuple[str, int]:
        with lock:
            chosen = booked[int(picks[index] * len(booked))] if booked else None
        if chosen is None:
            return book(index, port)
        appointment, patient = chosen
        browser = Browser(port, cookies)
        page = f"/reception/patients/{patient}/sessions/{appointment}/change"
        status, _, html = browser.request("GET", f"{page}?day={day:%d/%m/%Y}")
        if status != 200:
            return "move", status
        starts = [a or b for a, b in _START.findall(html)]
        if not starts:
            return "move", 204  # no other free time that moment: nothing to try
        data = {"csrf_token": browser.csrf(), "start": starts[int(picks[index] * len(starts))]}
        status, _, _ = browser.request("POST", f"{page}?day={day:%d/%m/%Y}", data)
        return "move", status

    actions = {"book": book, "cancel": cancel, "move": move}

    def attempt(index: int) -> tuple[str, int]:
        return actions[plan[index]](index, cluster.ports[index % 3])

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = Counter(pool.map(attempt, range(MIXED)))
    assert not [o for o in outcomes if o[1] == 0 or o[1] >= 500], (outcomes, cluster.logs())
    assert outcomes[("book", 201)], outcomes
    assert outcomes[("cancel", 200)], outcomes
    assert outcomes[("move", 303)], outcomes
    assert overlapping_live_pairs(cluster.app) == 0


def test_a_session_started_on_one_host_works_on_the_other(cluster: Cluster) -> None:
    one, two = (host.port for host in cluster.hosts)
    browser = Browser(one)
    status, headers, _ = browser.post_form(
        "/auth/sign-in", {"email": DEMO_EMAILS["patient"], "password": DEMO_PASSWORD}
    )
    assert status == 302, browser.last_body[:500]
    home = headers["Location"]
    other = Browser(two, browser.cookies)
    status, _, page = other.request("GET", home)
    assert status == 200, page[:500]
    assert "Alex" in page
    before = _served(cluster, home, total=1)  # the GET on host 2 above
    via_proxy = Browser(cluster.proxy_port, browser.cookies)
    for _ in range(4):
        status, _, page = via_proxy.request("GET", home)
        assert status == 200
        assert "Alex" in page
    assert _served(cluster, home, before, 4) == [2, 2]  # round-robin
    # Signing out on host 2 ends the session on host 1 too (it is a row in PostgreSQL).
    status, _, _ = other.request("POST", "/auth/sign-out", {"csrf_token": other.csrf()})
    assert status in (302, 303)
    status, headers, _ = Browser(one, dict(browser.cookies)).request("GET", home)
    assert status == 302
    assert "/auth/sign-in" in headers["Location"]


def test_the_rate_limit_is_shared_by_both_hosts_in_redis(cluster: Cluster) -> None:
    import redis

    from tests.scaleout.conftest import REDIS_URL

    # A client of its own address (127.0.0.2): its budget is counted apart from the other
    # checks', through the proxy too, which passes the address on (PROXY protocol).
    cookies: dict[str, str] = {}
    wrong = {"email": DEMO_EMAILS["patient"], "password": "not-the-password"}
    for index in range(AUTH_LIMIT):
        browser = Browser(cluster.ports[index % 3], cookies, source="127.0.0.2")
        status, _, _ = browser.post_form("/auth/sign-in", wrong)
        assert status == 200, (index, status)
    for port in cluster.ports:
        browser = Browser(port, cookies, source="127.0.0.2")
        status, headers, _ = browser.post_form("/auth/sign-in", wrong)
        assert status == 429, port
        retry = {k.lower(): v for k, v in headers.items()}.get("retry-after")
        assert retry, headers
        assert int(retry) > 0
    # 127.0.0.1 still has its own budget, whichever way it comes in.
    for port in cluster.ports:
        status, _, _ = Browser(port).post_form("/auth/sign-in", wrong)
        assert status == 200
    store = redis.Redis.from_url(REDIS_URL)
    # `limits` puts its own LIMITS: before the app's RATELIMIT_KEY_PREFIX.
    keys = [key.decode() for key in store.scan_iter(match=f"*{cluster.redis_prefix}*")]
    store.close()
    assert any("127.0.0.2" in key for key in keys), keys


def _sent_counts(text_log: str) -> int:
    return sum(int(found) for found in re.findall(r"sent (\d+) message", text_log))


def _body(message: Message) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""  # type: ignore[attr-defined]


def test_two_workers_deliver_each_message_once(cluster: Cluster) -> None:
    deadline = time.monotonic() + 30
    while True:
        with cluster.app.app_context():
            rows = db.session.execute(
                select(OutboxMessage.recipient, OutboxMessage.subject, OutboxMessage.status)
            ).all()
            db.session.remove()
        waiting = [row for row in rows if str(row.status) in ("pending", "sending")]
        if not waiting and len(cluster.inbox.messages) >= len(rows) - 1:
            break
        assert time.monotonic() < deadline, (len(waiting), len(rows), cluster.logs())
        time.sleep(0.5)
    time.sleep(2)  # two more passes of each worker: nothing more may arrive
    sent = Counter((r.recipient, r.subject) for r in rows if str(r.status) == "sent")
    delivered = Counter(
        (str(m["To"]).strip(), str(m["Subject"]).strip()) for m in cluster.inbox.messages
    )
    assert sum(sent.values()) > RACERS // 10
    assert delivered == sent
    by_worker = [_sent_counts(host.worker_log.read_text()) for host in cluster.hosts]
    assert sum(by_worker) == sum(sent.values()), by_worker


def test_a_host_killed_mid_load_loses_no_committed_booking(cluster: Cluster) -> None:
    _, follow_up = _ids(cluster)
    free = _free(cluster, follow_up)[:UNDER_LOAD]
    assert len(free) == UNDER_LOAD
    victim = cluster.hosts[1]
    done = threading.Semaphore(0)
    killed = threading.Event()

    def killer() -> None:
        for _ in range(UNDER_LOAD // 4):
            done.acquire()
        victim.kill()
        killed.set()

    def attempt(index: int) -> tuple[int, Any, bool]:
        after_kill = killed.is_set()
        port = cluster.ports[index % 3]
        status, body = api(
            port,
            "POST",
            "/api/v1/appointments",
            cluster.token,
            _booking(follow_up, free[index], f"load{index}"),
        )
        done.release()
        return status, body, after_kill

    thread = threading.Thread(target=killer)
    thread.start()
    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(attempt, range(UNDER_LOAD)))
    thread.join(timeout=30)
    assert killed.is_set()
    assert victim.app.poll() is not None
    statuses = Counter(status for status, _, _ in outcomes)
    assert statuses[0] > 0, statuses  # requests to the dead host failed to connect
    assert set(statuses) <= {201, 409, 0, 502, 503}, (statuses, cluster.logs())
    committed = {body["id"] for status, body, _ in outcomes if status == 201}
    assert any(status == 201 and late for status, _, late in outcomes), statuses
    with cluster.app.app_context():
        stored = set(
            db.session.scalars(
                text("SELECT id FROM appointment WHERE status = 'booked' AND id = ANY(:ids)"),
                {"ids": list(committed)},
            )
        )
        db.session.remove()
    assert stored == committed
    assert overlapping_live_pairs(cluster.app) == 0
    # The proxy sends everything to the surviving host now.
    status, _, _ = Browser(cluster.proxy_port).request("GET", "/healthz")
    assert status == 200


def test_the_proxy_config_with_tls_is_valid(tmp_path: Path) -> None:
    """The production branch of deploy/haproxy.cfg (TLS on the bind line), checked by
    `haproxy -c` with a throwaway self-signed certificate; the cluster runs the plain one."""
    import shutil

    need("haproxy", shutil.which("haproxy") is not None)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "book.example-clinic.com")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = tmp_path / "site.pem"
    pem.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    env = {
        **os.environ,
        "MERIDIAN_PROXY_BIND": ":443",  # checked, not bound
        "MERIDIAN_TLS_CERT": str(pem),
        "MERIDIAN_HOST": "book.example-clinic.com",
        "MERIDIAN_APP1": "10.0.0.11:8000",
        "MERIDIAN_APP2": "10.0.0.12:8000",
    }
    checked = subprocess.run(
        ["haproxy", "-c", "-f", str(DEPLOY / "haproxy.cfg")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Configuration file is valid" in checked.stdout + checked.stderr
