"""Waiting for a server started as a child process (gunicorn, HAProxy) to answer."""

from __future__ import annotations

import http.client
import subprocess
import time
from collections.abc import Callable, Sequence

# Only a hung server reaches this: one that exits fails at once. On a loaded 2-core machine the
# four gunicorn workers importing the app took over 30 s, the old fixed limit.
START_LIMIT = 180.0
# One request waits this long for its answer: a worker still importing the app answers it
# when it is ready, instead of the client giving up and queueing yet another request.
PROBE_TIMEOUT = 15.0


def wait_until_answering(
    port: int,
    path: str,
    *,
    processes: Sequence[subprocess.Popen[bytes]],
    log: Callable[[], str],
    what: str,
    headers: dict[str, str] | None = None,
    seconds: float = START_LIMIT,
) -> None:
    """Return once GET `path` on 127.0.0.1:`port` answers 200.

    The socket is polled every 50 ms until it accepts; a request then waits for its answer.
    Fails as soon as one of `processes` has exited, or after `seconds`.
    """
    deadline = time.monotonic() + seconds
    while True:
        exited = [p.args for p in processes if p.poll() is not None]
        if exited:
            raise AssertionError(f"{what} exited while starting ({exited}):\n{log()}")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{what} did not answer {path} in {seconds:.0f} s:\n{log()}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=min(remaining, PROBE_TIMEOUT))
        try:
            conn.request("GET", path, headers=headers or {})
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass  # not listening yet, or no answer within the probe's timeout
        finally:
            conn.close()
        time.sleep(0.05)
