"""Two app hosts behind HAProxy, over PgBouncer (transaction pooling) and Redis, on 127.0.0.1.

Every part is the real program started from the files in deploy/: HAProxy runs
deploy/haproxy.cfg unchanged (its addresses come from the environment), PgBouncer runs
deploy/pgbouncer.ini with the loopback values swapped in, and each host's gunicorn and
`flask worker` are started from the ExecStart lines of the systemd units with the variables
of deploy/meridian.env.example (the overrides are `HOST_OVERRIDES` below and the addresses).

PgBouncer refuses to run as root: as root (CI) it is started with `-u nobody`, which drops
privileges after reading its configuration, and logs to stderr instead of a file.
"""

from __future__ import annotations

import configparser
import contextlib
import ctypes
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import CHEAP_COST, IN_CI, base_config, migrate, require_postgres, seed_demo
from tests.http_client import Client
from tests.serving import wait_until_answering
from tests.smtp import Inbox, free_port, smtp_server

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PGBOUNCER = "/usr/sbin/pgbouncer"
REDIS_URL = os.environ.get("SCALEOUT_REDIS_URL", "redis://127.0.0.1:6379/5")
WORKERS_PER_HOST = 2
SECRET = "scaleout-secret-key-shared-by-both-hosts-0123456789abcdef"
# Password POSTs per client address: low, so the shared-limit check reaches it quickly.
AUTH_LIMIT = 10
# Settings of the example env file that only fit production (HTTPS, a real host name), or
# that the checks need changed; everything else of the file is used as written.
HOST_OVERRIDES = {
    "BOOKING_DEVELOPMENT": "true",  # plain HTTP on loopback: no production start-up checks
    "BOOKING_SECRET_KEY": SECRET,
    "BOOKING_TRUSTED_HOSTS": "127.0.0.1",
    "BOOKING_SESSION_COOKIE_SECURE": "false",
    "BOOKING_AUTH_RATELIMIT_PER_IP": f"{AUTH_LIMIT}/hour",
    # The API checks send a few hundred requests from one address within a minute.
    "BOOKING_API_RATELIMIT_PER_TOKEN": "100000/minute",
    "BOOKING_API_RATELIMIT_PER_IP": "100000/minute",
    "WEB_CONCURRENCY": str(WORKERS_PER_HOST),
    "FORWARDED_ALLOW_IPS": "127.0.0.1",
    **{f"BOOKING_{key}": str(value) for key, value in CHEAP_COST.items()},
}


def need(what: str, found: bool) -> None:
    """A missing part skips locally and fails in CI (`make test` installs the tools)."""
    if found:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {what} is missing: the scale-out test must run")
    pytest.skip(f"{what} is missing: scale-out test skipped locally (make scaleout-tools)")


def env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile reads them (comments and blanks skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"')
    return values


def exec_start(unit: Path, env: dict[str, str]) -> list[str]:
    """The unit's ExecStart with ${VARS} expanded and /opt/meridian moved to this checkout."""
    line = next(
        line for line in unit.read_text().splitlines() if line.startswith("ExecStart=")
    ).removeprefix("ExecStart=")
    line = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], line)
    argv = shlex.split(line)
    program = argv[0].removeprefix("/opt/meridian/.venv/bin/")
    assert program in {"gunicorn", "flask"}, argv
    rest = [arg.replace("/opt/meridian", str(ROOT)) for arg in argv[1:]]
    return [sys.executable, "-m", program, *rest]


def render_pgbouncer(
    folder: Path, *, port: int, server_host: str, server_port: int, dbname: str, user: str, pw: str
) -> Path:
    """deploy/pgbouncer.ini with loopback addresses, this test's database and temp paths."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(DEPLOY / "pgbouncer.ini")
    parser["databases"]["meridian"] = f"host={server_host} port={server_port} dbname={dbname}"
    section = parser["pgbouncer"]
    section["listen_addr"] = "127.0.0.1"
    section["listen_port"] = str(port)
    section["unix_socket_dir"] = ""
    userlist = folder / "userlist.txt"
    userlist.write_text(f'"{user}" "{pw}"\n')
    section["auth_file"] = str(userlist)
    section["admin_users"] = user
    section["stats_users"] = user
    for key in ("logfile", "pidfile"):  # stderr instead, and no pid file: a foreground child
        section.pop(key, None)
    assert section["pool_mode"] == "transaction"
    path = folder / "pgbouncer.ini"
    with path.open("w") as out:
        parser.write(out)
    path.chmod(0o644)
    return path


def wait_for_http(
    port: int, path: str, what: str, log: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    wait_until_answering(
        port,
        path,
        processes=processes,
        log=lambda: log.read_text(errors="replace"),
        what=what,
        headers={"Host": "127.0.0.1"},
    )


def _die_with_parent() -> None:
    """Linux: the child gets SIGKILL if the test process dies without its clean-up."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def start(argv: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A child in its own process group, so a host is killed with everything it runs."""
    with log.open("wb") as out:
        return subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads run yet in the fixture
        )


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    stop_all([process], sig)


def stop_all(processes: list[subprocess.Popen[bytes]], sig: int = signal.SIGTERM) -> None:
    """Signal every process group at once, then wait; SIGKILL what is left after 10 s."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@dataclass
class Host:
    name: str
    port: int
    app: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]
    app_log: Path
    worker_log: Path

    def served(self, path: str) -> int:
        """Requests for paths starting with `path` this host's gunicorn answered (access log)."""
        count = 0
        for line in self.app_log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and str(entry.get("path", "")).startswith(path):
                count += entry.get("logger") == "gunicorn.access"
        return count

    def kill(self) -> None:
        """The host dies at once: SIGKILL to gunicorn's and the worker's whole process groups."""
        stop_all([self.app, self.worker], signal.SIGKILL)


@dataclass
class Cluster:
    hosts: list[Host]
    proxy_port: int
    proxy_log: Path
    pgbouncer_log: Path
    app: Flask  # the test's own app on the database directly (set-up and whole-table checks)
    inbox: Inbox
    token: str
    redis_prefix: str

    @property
    def ports(self) -> list[int]:
        """Both hosts directly, then the proxy: requests spread over these."""
        return [host.port for host in self.hosts] + [self.proxy_port]

    def logs(self) -> str:
        parts = [
            f"== {h.name}\n{h.app_log.read_text(errors='replace')[-3000:]}" for h in self.hosts
        ]
        parts.append(f"== haproxy\n{self.proxy_log.read_text(errors='replace')[-2000:]}")
        parts.append(f"== pgbouncer\n{self.pgbouncer_log.read_text(errors='replace')[-2000:]}")
        return "\n".join(parts)


@dataclass
class Browser(Client):
    """A client that names the site as the proxy does (Host: 127.0.0.1), whichever port."""

    host: str | None = "127.0.0.1"


def api(port: int, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    """One API call; (status, parsed JSON). A host that died answers (0, error text)."""
    try:
        status, _, text_body = Browser(port).request(
            method, path, json_body=body, headers={"Authorization": f"Bearer {token}"}
        )
    except OSError as error:
        return 0, str(error)
    try:
        return status, json.loads(text_body or "null")
    except ValueError:
        return status, text_body


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    need("haproxy", shutil.which("haproxy") is not None)
    need(PGBOUNCER, os.access(PGBOUNCER, os.X_OK))
    import redis

    store = redis.Redis.from_url(REDIS_URL)
    try:
        store.ping()
        reachable = True
    except redis.RedisError:
        reachable = False
    need(f"Redis at {REDIS_URL}", reachable)
    url = make_url(require_postgres())
    folder = tmp_path_factory.mktemp("scaleout")

    from booking import clock, create_app
    from booking.extensions import db
    from booking.services.api.tokens import create_token
    from tests.conftest import DEMO_EMAILS

    name = f"scaleout_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    direct = url.set(database=name).render_as_string(hide_password=False)
    prefix = f"meridian-scaleout-{uuid.uuid4().hex[:8]}"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        app = create_app(base_config(direct), instance_path=folder / "instance")
        migrate(app)
        seed_demo(app)
        with app.app_context():
            _, token = create_token(
                email=DEMO_EMAILS["receptionist"], name="scaleout", now=clock.utcnow()
            )
            db.session.commit()
            db.session.remove()

        # PgBouncer in transaction pooling mode in front of the new database.
        user = url.username or "postgres"
        password = url.password or secrets.token_hex(12)
        bouncer_port = free_port()
        ini = render_pgbouncer(
            folder,
            port=bouncer_port,
            server_host=url.host or "127.0.0.1",
            server_port=url.port or 5432,
            dbname=name,
            user=user,
            pw=str(password),
        )
        (folder / "userlist.txt").chmod(0o644)
        as_user = ["-u", "nobody"] if os.geteuid() == 0 else []
        bouncer_log = folder / "pgbouncer.log"
        processes.append(
            start([PGBOUNCER, *as_user, str(ini)], env=dict(os.environ), log=bouncer_log)
        )
        pooled = url.set(
            host="127.0.0.1", port=bouncer_port, database="meridian", password=str(password)
        ).render_as_string(hide_password=False)
        _wait_for_pgbouncer(pooled, bouncer_log)

        with smtp_server() as (inbox, smtp_port):
            proxy_port = free_port()
            base_env = {
                **os.environ,
                **env_file(DEPLOY / "meridian.env.example"),
                **HOST_OVERRIDES,
                "BOOKING_BASE_URL": f"http://127.0.0.1:{proxy_port}",
                "BOOKING_SQLALCHEMY_DATABASE_URI": pooled,
                "BOOKING_RATELIMIT_STORAGE_URI": REDIS_URL,
                "BOOKING_RATELIMIT_KEY_PREFIX": prefix,
                "BOOKING_SMTP_HOST": "127.0.0.1",
                "BOOKING_SMTP_PORT": str(smtp_port),
            }
            assert base_env["BOOKING_PGBOUNCER"] == "true"
            hosts = []
            for index in (1, 2):
                port = free_port()
                env = {**base_env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
                app_log = folder / f"app{index}.log"
                worker_log = folder / f"worker{index}.log"
                gunicorn = start(
                    exec_start(DEPLOY / "meridian-app.service", env), env=env, log=app_log
                )
                processes.append(gunicorn)
                worker = start(
                    [*exec_start(DEPLOY / "meridian-worker.service", env), "--interval", "1"],
                    env=env,
                    log=worker_log,
                )
                processes.append(worker)
                hosts.append(Host(f"app{index}", port, gunicorn, worker, app_log, worker_log))
            for host in hosts:
                wait_for_http(host.port, "/healthz", host.name, host.app_log, processes)

            proxy_log = folder / "haproxy.log"
            proxy_env = {
                **os.environ,
                "MERIDIAN_PROXY_BIND": f"127.0.0.1:{proxy_port}",
                "MERIDIAN_HOST": "127.0.0.1",
                "MERIDIAN_APP1": f"127.0.0.1:{hosts[0].port}",
                "MERIDIAN_APP2": f"127.0.0.1:{hosts[1].port}",
            }
            proxy_env.pop("MERIDIAN_TLS_CERT", None)
            # -db: foreground, no daemon; the test stops it.
            processes.append(
                start(
                    ["haproxy", "-db", "-f", str(DEPLOY / "haproxy.cfg")],
                    env=proxy_env,
                    log=proxy_log,
                )
            )
            wait_for_http(proxy_port, "/healthz", "haproxy", proxy_log, processes)
            yield Cluster(hosts, proxy_port, proxy_log, bouncer_log, app, inbox, token, prefix)
            stop_all(processes)  # the workers finish before the SMTP server stops
    finally:
        stop_all(processes)
        for key in store.scan_iter(match=f"*{prefix}*"):
            store.delete(key)
        store.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _wait_for_pgbouncer(pooled: str, log: Path) -> None:
    import psycopg

    dsn = make_url(pooled).set(drivername="postgresql").render_as_string(hide_password=False)
    deadline = time.monotonic() + 20
    while True:
        try:
            with psycopg.connect(dsn, prepare_threshold=None, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise AssertionError(f"PgBouncer did not start:\n{log.read_text()}") from None
            time.sleep(0.2)
