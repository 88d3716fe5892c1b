"""Delivery through a relay that wants STARTTLS and a login, as providers do: a real aiosmtpd
server with a certificate made for the test, trusted through SSL_CERT_FILE like a real CA."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from crm.config import SmtpSettings
from crm.embedded import free_port
from crm.lib.mail import Mailer, SmtpError


class Relay:
    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.content)
        return "250 queued"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"crm" and auth_data.password == b"s3cr3t"
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def relay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Relay, int]]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    # The client trusts this certificate as it would trust a CA's.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    handler, port = Relay(), free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticator,
        auth_require_tls=True,
    )
    controller.start()
    yield handler, port
    controller.stop()


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "lettre@example.org"
    msg["To"] = "maire@ville-exemple.fr"
    msg["Subject"] = "Essai"
    msg.set_content("Bonjour")
    return msg


async def test_starttls_and_login_from_the_smtp_url(relay: tuple[Relay, int]) -> None:
    handler, port = relay
    endpoint = SmtpSettings(url=f"smtp://crm:s3cr3t@127.0.0.1:{port}?starttls=true").endpoint()
    mailer = Mailer(endpoint, timeout=10)
    assert (await mailer.send(_message())).startswith("250")
    assert (await mailer.send(_message())).startswith("250")  # the same connection, reused
    await mailer.close()
    assert len(handler.received) == 2


async def test_a_wrong_password_is_a_clear_refusal(relay: tuple[Relay, int]) -> None:
    _, port = relay
    mailer = Mailer(SmtpSettings(url=f"smtp://crm:wrong@127.0.0.1:{port}?starttls=true").endpoint(), timeout=10)
    with pytest.raises(SmtpError) as refused:
        await mailer.send(_message())
    assert refused.value.code == 535
    assert refused.value.permanent
    await mailer.close()


def test_the_smtp_password_never_shows() -> None:
    settings = SmtpSettings(url="smtp://crm:s3cr3t@relay.example.org:587")
    assert "s3cr3t" not in repr(settings)
    assert "s3cr3t" not in repr(settings.endpoint())
