"""DKIM (RFC 6376) for operators who send straight to the internet rather than through a relay
that signs: a key pair made on request (RSA 2048, by the `openssl` command), the DNS TXT record
to publish, and the signature of one message (dkimpy)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from dataclasses import dataclass

import dkim

# The headers a receiver sees and a forger would change; signed as they are sent.
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"list-id",
)


class DkimError(Exception):
    """The key pair could not be made (no `openssl` command)."""


def generate_key_pair() -> tuple[str, str]:
    """(private key PEM, public key as base64 DER for the DNS record)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise DkimError("openssl is needed to make a DKIM key pair")
    try:
        private = subprocess.run(  # noqa: S603 - fixed arguments
            [openssl, "genrsa", "2048"], capture_output=True, check=True, timeout=60
        ).stdout
        public = subprocess.run(  # noqa: S603 - fixed arguments
            [openssl, "rsa", "-pubout", "-outform", "DER"], input=private, capture_output=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise DkimError("openssl is needed to make a DKIM key pair") from exc
    return private.decode(), base64.b64encode(public).decode()


def dns_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}"


def dns_record(public_key: str) -> str:
    """The TXT record's value (publish it under `dns_name`)."""
    return f"v=DKIM1; k=rsa; p={public_key}"


@dataclass(frozen=True)
class Signer:
    selector: str
    domain: str
    private_key: str

    def sign(self, message: bytes) -> bytes:
        """The message with its DKIM-Signature header in front."""
        signature = dkim.sign(
            message,
            self.selector.encode(),
            self.domain.encode(),
            self.private_key.encode(),
            include_headers=[h for h in SIGNED_HEADERS],
        )
        return signature + message
