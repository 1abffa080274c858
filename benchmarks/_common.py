"""What the HTTP benchmarks share: gunicorn on 127.0.0.1, the bare Flask app, wrk and its output.

`api_load.py` and `pages.py` import this module (benchmarks/ is on their `sys.path`), so both
measure with the same server settings, the same wrk script and the same parsing;
`post_profile.py` takes its booking bodies from here too.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import resource
import socket
import subprocess
import sys
import time as clock
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode


def hello() -> Any:
    """The bare Flask app measured beside Meridian (gunicorn `benchmarks._common:hello()`)."""
    from flask import Flask

    app = Flask("hello")

    @app.get("/")
    def index() -> str:
        return "Hello, World!"

    return app


# Served from the checkout like Meridian, so both read its gunicorn.conf.py (the deployed
# settings: JSON access log, timeouts) and differ only in the app.
HELLO_TARGET = "benchmarks._common:hello()"
HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """The gunicorn master's children (its workers), from /proc."""
        return worker_pids(self.process.pid)


@contextmanager
def gunicorn(
    name: str, target: str, env: dict[str, str], workers: int, folder: Path, cwd: Path
) -> Iterator[Server]:
    """`gunicorn --workers N target` on a free 127.0.0.1 port, up once it answers `GET /`."""
    port = free_port()
    log_path = folder / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "60",
                "--log-level",
                "warning",
                target,
            ],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(name, port, process, log_path)
    try:
        deadline = clock.monotonic() + 90
        while True:
            try:
                status, _ = request(port, "GET", "/")
                if status:
                    break
            except OSError:
                if process.poll() is not None or clock.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start:\n{server.log()}") from None
                clock.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def worker_pids(master: int) -> list[int]:
    children: list[int] = []
    task = Path(f"/proc/{master}/task")
    for thread in task.glob("*") if task.exists() else []:
        try:
            children += [int(p) for p in (thread / "children").read_text().split()]
        except OSError:
            continue
    return sorted(set(children))


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MiB (VmRSS of /proc/<pid>/status), None if gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+)\s+kB", text, re.MULTILINE)
    return round(int(match.group(1)) / 1024, 1) if match else None


def _cpu_ticks(pid: int) -> int:
    """utime + stime of a process, in clock ticks (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return int(fields[11]) + int(fields[12])


def _database_pids() -> list[int]:
    """The PostgreSQL server's processes (its backends serve the app's queries)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@contextmanager
def cpu_split(app_pids: list[int]) -> Iterator[dict[str, float]]:
    """Where the machine's CPU went while the block ran: CPU seconds of the app's workers,
    of PostgreSQL's processes and of the load generator (a child waited for, as wrk is), the
    rest of the machine, and the idle share of all cores. Filled in when the block ends.

    Per request (divide by the requests served) it says which side a load's cost is on.
    """
    tick = os.sysconf("SC_CLK_TCK")
    database = _database_pids()
    app_before = {pid: _cpu_ticks(pid) for pid in app_pids}
    database_before = {pid: _cpu_ticks(pid) for pid in database}
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    stat_before = _machine_ticks()
    found: dict[str, float] = {}
    yield found
    stat_after = _machine_ticks()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Backends started during the block are counted from zero.
    database_after = {pid: _cpu_ticks(pid) for pid in set(database) | set(_database_pids())}
    app = sum(_cpu_ticks(pid) - before for pid, before in app_before.items()) / tick
    db = sum(t - database_before.get(pid, 0) for pid, t in database_after.items()) / tick
    load = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    total = (stat_after[0] - stat_before[0]) / tick
    idle = (stat_after[1] - stat_before[1]) / tick
    found.update(
        app_s=round(app, 2),
        database_s=round(db, 2),
        load_s=round(load, 2),
        other_s=round(max(0.0, total - idle - app - db - load), 2),
        idle_share=round(idle / total, 3) if total else 0.0,
    )


def _machine_ticks() -> tuple[int, int]:
    """All cores' ticks so far, and their idle (and I/O wait) ticks, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values[:8]), values[3] + values[4]


# --- wrk ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    name: str
    method: str
    paths: list[str]
    bodies: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]


WRK_SCRIPT = """
local items = {}
local method = "%(method)s"
local headers = %(headers)s
for line in io.lines("%(data)s") do items[#items + 1] = line end
-- Each thread takes every stride-th item from its own first one, so no item is sent by two
-- threads in one pass (each thread's Lua state draws the same math.random numbers: random
-- starts put the threads in step, sending each booking body twice at once).
local stride = %(threads)d
local counter = 0
statuses = {}  -- global: done() reads it from each thread with thread:get
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  counter = id - 1 - stride
end

function request()
  counter = counter + stride
  local index = counter %% #items + 1
  if method == "GET" then
    return wrk.format("GET", items[index], headers)
  end
  return wrk.format("POST", "%(post_path)s", headers, items[index])
end

function response(status, hdrs, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses") or {}
    for key, value in pairs(counts) do total[key] = (total[key] or 0) + value end
  end
  local parts = {}
  for key, value in pairs(total) do parts[#parts + 1] = string.format('"%%s": %%d', key, value) end
  io.write("STATUSES {" .. table.concat(parts, ", ") .. "}\\n")
  local p50, p99 = latency:percentile(50), latency:percentile(99)
  io.write(string.format("P50US %%d\\nP99US %%d\\n", p50, p99))
end
"""


def lua_string(text: str) -> str:
    """A Lua string literal (JSON's escapes are valid Lua for what headers hold)."""
    return json.dumps(text)


def wrk_command(
    port: int, load: Workload, connections: int, seconds: float, folder: Path
) -> list[str]:
    """Write the load's items and Lua script into `folder`; the wrk command line to run it."""
    data = folder / f"{load.name}.txt"
    data.write_text("\n".join(load.bodies if load.method == "POST" else load.paths) + "\n")
    headers = (
        "{"
        + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in load.headers.items())
        + "}"
    )
    threads = max(1, min(2, connections))
    script = folder / f"{load.name}.lua"
    script.write_text(
        WRK_SCRIPT
        % {
            "method": load.method,
            "headers": headers,
            "data": data,
            "post_path": load.paths[0] if load.paths else "/",
            "threads": threads,
        }
    )
    return [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=30s",
        f"--script={script}",
        f"http://127.0.0.1:{port}",
    ]


def parse_wrk(output: str) -> Result:
    """wrk's summary plus the script's STATUSES/P50US/P99US lines, as a Result."""
    match = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)\b", output)
    if match is None:
        raise ValueError(f"not wrk output: {output[:200]!r}")
    total = int(match.group(1))
    elapsed = float(match.group(2)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[match.group(3)]
    found = re.search(r"STATUSES (\{.*\})", output)
    statuses = json.loads(found.group(1)) if found else {}
    p50 = re.search(r"P50US (\d+)", output)
    p99 = re.search(r"P99US (\d+)", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    return Result(
        total,
        elapsed,
        float(rps.group(1)) if rps else (total / elapsed if elapsed else 0.0),
        int(p50.group(1)) / 1000 if p50 else 0.0,
        int(p99.group(1)) / 1000 if p99 else 0.0,
        dict(sorted(statuses.items())),
    )


def run_wrk(port: int, load: Workload, connections: int, seconds: float, folder: Path) -> Result:
    command = wrk_command(port, load, connections, seconds, folder)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def offered_bookings(
    fetch: Callable[[str], Any],
    triples: list[tuple[int, int, int]],
    patients: list[int],
    rng: random.Random,
    wanted: int,
    *,
    seen: set[tuple[int, str]] | None = None,
    calls: int | None = 120,
) -> list[str]:
    """`POST /api/v1/appointments` bodies for free times the availability API offers now (2 to
    60 days ahead), each (practitioner, start) once: `seen` carries them across calls.

    `fetch` GETs an availability path and returns its JSON; `triples` are (session type,
    practitioner, location). Every time of a fetched week is taken, so there may be more than
    `wanted`; at most `calls` availability calls (None: as many as it takes).
    """
    seen = set() if seen is None else seen
    bodies: list[str] = []
    made = 0
    while len(bodies) < wanted and (calls is None or made < calls):
        made += 1
        type_id, practitioner, location = rng.choice(triples)
        first = date.today() + timedelta(days=rng.randrange(2, 55))  # noqa: DTZ011 - the server's "now"
        query = urlencode(
            {
                "session_type_id": type_id,
                "practitioner_id": practitioner,
                "location_id": location,
                "from": first.isoformat(),
                "to": (first + timedelta(days=6)).isoformat(),
                "limit": 500,
            }
        )
        for slot in fetch(f"/api/v1/availability?{query}")["items"]:
            key = (slot["practitioner_id"], slot["start"])
            if key in seen:
                continue
            seen.add(key)
            bodies.append(
                json.dumps(
                    {
                        "session_type_id": type_id,
                        "practitioner_id": slot["practitioner_id"],
                        "location_id": slot["location_id"],
                        "start": slot["start"],
                        "patient": {"id": rng.choice(patients)},
                    }
                )
            )
    return bodies
