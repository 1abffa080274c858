"""SMTP security from config: STARTTLS with a login, implicit TLS, and a refused bad mode.

A real aiosmtpd on 127.0.0.1 with a throwaway certificate (made here with `cryptography`);
the sender trusts it through BOOKING_SMTP_CA_FILE.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import OutboxMessage
from booking.services.platform.outbox import enqueue
from tests.smtp import Inbox, free_port

USER, PASSWORD = "meridian", "relay-password-2026"


def _certificate(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    import ipaddress

    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "relay.pem", folder / "relay.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _authenticate(_server: Any, _session: Any, _envelope: Any, _mechanism: str, auth: Any) -> Any:
    ok = isinstance(auth, LoginPassword) and (auth.login, auth.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    # handled=False: a refusal is answered 535, as a relay does (the default, handled=True,
    # answers nothing, and the client failed only when its 10 s timeout ran out).
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _certificate(tmp_path_factory.mktemp("relay"))


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@contextmanager
def _relay(**options: Any) -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticate,
        auth_required=True,
        **options,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def starttls_relay(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    with _relay(tls_context=_server_context(certificate), require_starttls=True) as relay:
        yield relay


@pytest.fixture
def tls_relay(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    # aiosmtpd cannot tell that an implicit-TLS connection is encrypted, so it would hide
    # AUTH; the whole connection is TLS here.
    with _relay(ssl_context=_server_context(certificate), auth_require_tls=False) as relay:
        yield relay


def _queue_and_send(app: Flask) -> str:
    with app.app_context():
        enqueue(
            kind="test",
            recipient="jo@example.com",
            subject="Over TLS",
            body_text="Body",
            dedupe_key="tls:1",
            now=datetime.now(UTC) - timedelta(minutes=1),
        )
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["send-outbox"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_mail_goes_over_tls_with_a_login(
    sqlite_app: Flask,
    certificate: tuple[Path, Path],
    request: pytest.FixtureRequest,
    mode: str,
) -> None:
    inbox, port = request.getfixturevalue(f"{mode}_relay")
    sqlite_app.config.update(
        SMTP_PORT=port,
        SMTP_SECURITY=mode,
        SMTP_USERNAME=USER,
        SMTP_PASSWORD=PASSWORD,
        SMTP_CA_FILE=str(certificate[0]),
    )
    assert "sent 1 message(s)" in _queue_and_send(sqlite_app)
    assert [message["Subject"] for message in inbox.messages] == ["Over TLS"]


def test_a_wrong_password_is_a_failed_attempt_retried_later(
    sqlite_app: Flask, certificate: tuple[Path, Path], starttls_relay: tuple[Inbox, int]
) -> None:
    inbox, port = starttls_relay
    sqlite_app.config.update(
        SMTP_PORT=port,
        SMTP_SECURITY="starttls",
        SMTP_USERNAME=USER,
        SMTP_PASSWORD="wrong",
        SMTP_CA_FILE=str(certificate[0]),
    )
    assert "1 failed and will be retried" in _queue_and_send(sqlite_app)
    assert inbox.messages == []
    with sqlite_app.app_context():
        error = db.session.scalars(select(OutboxMessage.last_error)).one()
    assert "535" in error, error  # refused by the relay, not timed out


def test_plain_smtp_to_a_relay_that_demands_starttls_fails(
    sqlite_app: Flask, starttls_relay: tuple[Inbox, int]
) -> None:
    inbox, port = starttls_relay
    sqlite_app.config.update(SMTP_PORT=port, SMTP_SECURITY="none")
    assert "1 failed" in _queue_and_send(sqlite_app)
    assert inbox.messages == []


def test_an_unknown_security_mode_is_one_line_and_exit_1(sqlite_app: Flask) -> None:
    sqlite_app.config["SMTP_SECURITY"] = "ssl3"
    result = sqlite_app.test_cli_runner().invoke(args=["send-outbox"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: BOOKING_SMTP_SECURITY must be one of none, starttls, tls, not 'ssl3'."
    ]
