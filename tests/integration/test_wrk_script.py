"""The benchmarks' wrk script sends each item once per pass, whatever its thread count.

The booking POST load (benchmarks/pages.py) relies on it: each body is a free time that should
answer 201 the first time and 409 when it comes round again. Each wrk thread runs its own Lua
state and draws the same `math.random` numbers, so random starts put the two threads in step
and every body was sent twice at once, a race for the slot each time.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.slow

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
ITEMS = 200


@pytest.fixture(scope="module")
def common() -> ModuleType:
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    return importlib.import_module("_common")


@pytest.fixture
def recorder() -> Iterator[tuple[int, list[str]]]:
    """A local HTTP server that keeps each POST body in the order received."""
    received: list[str] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            with lock:
                received.append(body)
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()


def test_two_threads_never_send_an_item_twice_in_one_pass(
    common: ModuleType, recorder: tuple[int, list[str]], tmp_path: Path
) -> None:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed (make wrk)")
    port, received = recorder
    bodies = [f'{{"n": {n}}}' for n in range(ITEMS)]
    load = common.Workload("bodies", "POST", ["/book"], bodies, {"Content-Type": "text/plain"})
    command = common.wrk_command(port, load, 4, 1, tmp_path)
    assert "--threads=2" in command
    result = common.parse_wrk(
        subprocess.run(command, capture_output=True, text=True, check=True, timeout=60).stdout
    )

    assert result.requests > 2 * ITEMS  # the load went round the items more than once
    assert set(received) == set(bodies)
    last_seen: dict[str, int] = {}
    gaps = []
    for position, body in enumerate(received):
        if body in last_seen:
            gaps.append(position - last_seen[body])
        last_seen[body] = position
    # A repeat comes about a pass later (the threads drift apart a little), never alongside:
    # in step, the two threads' copies arrived 1 to 5 requests apart.
    assert min(gaps) > ITEMS // 4
    assert sorted(gaps)[len(gaps) // 2] >= 0.9 * ITEMS
