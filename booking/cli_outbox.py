"""`send-outbox` and `worker`: plan the reminders now due, then send what the outbox holds.

Both may run on several machines at once: planning inserts each reminder once (a unique key
per session x kind x start) and sending claims messages with a lease (outbox.claim_due).
`worker` repeats the pass every minute until SIGTERM or Ctrl-C, which lets the message in
hand finish, records it, and exits.
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass
from typing import Any

import click
from flask import Flask

from booking.db_hooks import WRITE_TX
from booking.extensions import db


@dataclass
class PassReport:
    planned: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0


def smtp_settings(config: dict[str, Any]) -> Any:
    """The SMTP settings from config (`BOOKING_SMTP_*`)."""
    from booking.services.platform.outbox import SmtpSettings

    return SmtpSettings(
        host=config["SMTP_HOST"],
        port=int(config["SMTP_PORT"]),
        sender=config["MAIL_FROM"],
        timeout=float(config["SMTP_TIMEOUT"]),
        security=str(config["SMTP_SECURITY"]).lower(),
        username=config.get("SMTP_USERNAME") or None,
        password=config.get("SMTP_PASSWORD") or None,
        ca_file=config.get("SMTP_CA_FILE") or None,
    )


def run_pass(app: Flask, *, limit: int = 50, stop: threading.Event | None = None) -> PassReport:
    """One pass: plan due reminders and post-treatment check-ins (committed), then claim and
    send until nothing is due.

    Stops early after a failure (the rest wait for their back-off rather than hammer a
    broken server) or when `stop` is set, always after recording the message in hand.
    """
    from booking import clock
    from booking.links import base_url
    from booking.services.aftercare.planning import plan_checkins
    from booking.services.platform.outbox import SmtpConnection
    from booking.services.reminders.planning import MailSettings, plan_reminders

    WRITE_TX.set(True)
    report = PassReport()
    report.planned = plan_reminders(
        now=clock.utcnow(),
        settings=MailSettings(
            base_url=base_url(),
            secret=app.config["SECRET_KEY"],
            clinic_name=app.config["CLINIC_NAME"],
        ),
    )
    report.planned += plan_checkins(
        now=clock.utcnow(), base_url=base_url(), clinic_name=app.config["CLINIC_NAME"]
    )
    db.session.commit()
    settings = smtp_settings(app.config)
    with SmtpConnection(settings) as connection:
        _send_due(report, settings, connection, limit=limit, stop=stop)
    return report


def _send_due(
    report: PassReport,
    settings: Any,
    connection: Any,
    *,
    limit: int,
    stop: threading.Event | None,
) -> None:
    from booking import clock
    from booking.models import OutboxMessage, OutboxStatus
    from booking.services.platform.outbox import claim_due, deliver

    while stop is None or not stop.is_set():
        ids = claim_due(now=clock.utcnow(), limit=limit)
        db.session.commit()
        if not ids:
            break
        for index, message_id in enumerate(ids):
            if stop is not None and stop.is_set():
                _release(ids[index:])
                break
            if deliver(message_id, settings=settings, now=clock.utcnow(), connection=connection):
                report.sent += 1
            elif db.session.get(OutboxMessage, message_id).status == OutboxStatus.cancelled:  # type: ignore[union-attr]
                report.skipped += 1
            else:
                report.failed += 1
            db.session.commit()
        if report.failed:
            break


def _release(ids: list[int]) -> None:
    """Hand back claimed messages this sender will not send, so another may at once."""
    from sqlalchemy import update

    from booking.models import OutboxMessage, OutboxStatus

    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.sending)
        .values(status=OutboxStatus.pending, lease_until=None)
    )
    db.session.commit()


def _summary(report: PassReport) -> str:
    return (
        f"Planned {report.planned} reminder(s); sent {report.sent} message(s); "
        f"{report.skipped} no longer applied; {report.failed} failed and will be retried."
    )


def register(app: Flask) -> None:
    @app.cli.command("send-outbox")
    @click.option("--limit", default=50, show_default=True, help="Messages to claim per batch.")
    def send_outbox(limit: int) -> None:
        """Plan the reminders now due, then send due email, retrying failures with back-off."""
        _check_security(app)
        click.echo(_summary(run_pass(app, limit=limit)))

    @app.cli.command("worker")
    @click.option("--interval", default=60, show_default=True, help="Seconds between passes.")
    @click.option("--limit", default=50, show_default=True, help="Messages to claim per batch.")
    def worker(interval: int, limit: int) -> None:
        """Run send-outbox every minute until stopped (SIGTERM finishes the current message)."""
        _check_security(app)
        if interval < 1:
            raise click.ClickException("--interval must be at least 1 second.")
        stop = threading.Event()

        def _stop(_signum: int, _frame: Any) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        click.echo(f"Outbox worker started: a pass every {interval} s; SIGTERM stops it.")
        while not stop.is_set():
            try:
                click.echo(_summary(run_pass(app, limit=limit, stop=stop)))
            except Exception as error:  # noqa: BLE001 - a bad pass must not end the worker
                db.session.rollback()
                click.echo(f"Outbox pass failed: {type(error).__name__}", err=True)
            finally:
                db.session.remove()
            stop.wait(interval)
        click.echo("Outbox worker stopped.")


def _check_security(app: Flask) -> None:
    from booking.services.platform.outbox import SECURITY_MODES

    mode = str(app.config["SMTP_SECURITY"]).lower()
    if mode not in SECURITY_MODES:
        raise click.ClickException(
            f"BOOKING_SMTP_SECURITY must be one of {', '.join(SECURITY_MODES)}, not {mode!r}."
        )
