"""send-outbox against a real SMTP server: once each, retries with back-off, no double send."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import OutboxMessage, OutboxStatus
from booking.services.platform.outbox import (
    MAX_ATTEMPTS,
    SmtpSettings,
    backoff,
    claim_due,
    deliver,
    enqueue,
)
from tests.smtp import Inbox, smtp_server

NOW = datetime(2027, 4, 13, 9, 0, tzinfo=UTC)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


def _queue(app: Flask, count: int = 1, now: datetime = NOW) -> None:
    with app.app_context():
        for index in range(count):
            enqueue(
                kind="test",
                recipient=f"p{index}@example.com",
                subject=f"Hello {index}",
                body_text="Body",
                dedupe_key=f"test:{index}",
                now=now,
            )
        db.session.commit()


def _send(app: Flask, port: int, now: datetime = NOW) -> tuple[int, int]:
    settings = SmtpSettings(host="127.0.0.1", port=port, sender="clinic@meridian.example")
    sent = failed = 0
    with app.app_context():
        ids = claim_due(now=now)
        db.session.commit()
        for message_id in ids:
            if deliver(message_id, settings=settings, now=now):
                sent += 1
            else:
                failed += 1
            db.session.commit()
    return sent, failed


def test_messages_are_sent_once(app: Flask, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    _queue(app, 3)
    assert _send(app, port) == (3, 0)
    assert _send(app, port) == (0, 0)
    assert sorted(m["To"] for m in inbox.messages) == [
        "p0@example.com",
        "p1@example.com",
        "p2@example.com",
    ]


def test_dedupe_key_refuses_a_second_copy(app: Flask) -> None:
    _queue(app, 1)
    with app.app_context():
        enqueue(
            kind="test",
            recipient="x@example.com",
            subject="again",
            body_text="b",
            dedupe_key="test:0",
            now=NOW,
        )
        from sqlalchemy.exc import IntegrityError

        with pytest.raises(IntegrityError):
            db.session.commit()


@pytest.mark.matrix("D4")
def test_smtp_failing_twice_then_delivering_once(app: Flask, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    inbox.fail_next = 2
    _queue(app, 1)
    assert _send(app, port, NOW) == (0, 1)
    # Not due again until its back-off has passed.
    assert _send(app, port, NOW + timedelta(seconds=30)) == (0, 0)
    assert _send(app, port, NOW + backoff(1)) == (0, 1)
    assert _send(app, port, NOW + backoff(1) + backoff(2)) == (1, 0)
    assert len(inbox.messages) == 1
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage))
        assert message.status == OutboxStatus.sent
        assert message.attempts == 3


def test_dead_after_max_attempts(app: Flask) -> None:
    _queue(app, 1)
    closed_port = 9  # discard port: nothing listens, so every attempt fails at once
    when = NOW
    for _ in range(MAX_ATTEMPTS):
        _send(app, closed_port, when)
        when += timedelta(hours=2)
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage))
        assert message.status == OutboxStatus.dead
        assert message.attempts == MAX_ATTEMPTS


@pytest.mark.matrix("D4")
def test_two_senders_at_once_deliver_each_message_once(app: Flask, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    _queue(app, 20)
    barrier = threading.Barrier(2)
    results: list[tuple[int, int]] = []

    def run() -> None:
        barrier.wait()
        results.append(_send(app, port))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(sent for sent, _ in results) == 20
    assert len(inbox.messages) == 20
    assert len({m["To"] for m in inbox.messages}) == 20


def test_header_injection_is_refused(app: Flask) -> None:
    with app.app_context(), pytest.raises(ValueError, match="line breaks"):
        enqueue(
            kind="t",
            recipient="a@example.com\r\nBcc: x@example.com",
            subject="s",
            body_text="b",
            dedupe_key="inj",
            now=NOW,
        )


def test_send_outbox_command(app: Flask, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    _queue(app, 2, now=datetime(2026, 1, 1, tzinfo=UTC))  # due: the command uses the real clock
    app.config.update(SMTP_PORT=port)
    result = app.test_cli_runner().invoke(args=["send-outbox"])
    assert result.exit_code == 0, result.output
    assert "sent 2 message(s)" in result.output
    assert len(inbox.messages) == 2
