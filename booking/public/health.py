"""`/healthz` for load balancers and monitors: 200 when the service can serve, else 503."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, jsonify
from werkzeug.wrappers import Response

from booking.public.views import bp
from booking.services.platform import health


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    directory = Path(current_app.root_path).parent / "migrations"
    report = health.check(health.migration_heads(str(directory)))
    body = jsonify(
        status="ok" if report.ok else "unavailable",
        checks={"database": report.database, "migrations": report.migrations},
    )
    body.headers["Cache-Control"] = "no-store"
    return body, 200 if report.ok else 503
