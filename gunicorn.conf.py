"""gunicorn settings for Meridian (`gunicorn wsgi:app` reads this file from the checkout).

Environment: PORT or GUNICORN_BIND (default 127.0.0.1:8000: a TLS proxy in front, see
docs/operations.md), WEB_CONCURRENCY (workers, default 4), FORWARDED_ALLOW_IPS (the proxy's
address, default 127.0.0.1). Command-line options override these (the tests pass --bind
and --workers).
"""

import gc
import os

bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
timeout = 30
graceful_timeout = 20
# Trust X-Forwarded-Proto/For only from the TLS proxy.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# JSON lines on stdout/stderr for the service manager's journal; access lines carry no
# query string and no token (booking/gunicorn_log.py).
logger_class = "booking.gunicorn_log.JsonLogger"
accesslog = "-"
errorlog = "-"
# Each worker opens its own database connections (no --preload: no shared engine).
preload_app = False


def post_worker_init(worker: object) -> None:
    """Move what loading the app made (modules, compiled templates, mappers: ~175,000 objects)
    out of the cyclic collector's way, for as long as the worker lives.

    Without this, every full collection walks them all: ~80-90 ms in a worker holding the
    1,000,000-appointment benchmark's pages, once every few dozen requests, which was most of
    the staff pages' p99 (issue 22). Frozen, a full collection walks only what requests left
    behind (~4-5 ms). The objects are never freed, which they would not have been anyway.
    """
    gc.freeze()
