"""Signed, expiring, single-purpose tokens for links in e-mails (confirm, unsubscribe, preferences).

A token is `base64url(json payload) . base64url(HMAC-SHA256)`; the MAC covers the purpose and the
issue time, so a token made for one purpose is refused for another and its age cannot be forged.
Nothing is stored: the link itself carries what the page needs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any


class TokenError(Exception):
    """A link that cannot be trusted: tampered, of another purpose, or too old (`expired`)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, body: str) -> bytes:
    # hmac.digest: the one-shot C path (a campaign signs two links per recipient).
    return hmac.digest(secret.encode(), f"crm-token:{purpose}:{body}".encode(), hashlib.sha256)


def make_token(secret: str, purpose: str, payload: dict[str, Any], *, issued_at: float | None = None) -> str:
    """`payload` must be JSON-serialisable (stringify UUIDs). `issued_at` (epoch seconds) is for tests."""
    envelope = {"p": payload, "t": int(time.time() if issued_at is None else issued_at)}
    body = _b64encode(json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_b64encode(_mac(secret, purpose, body))}"


def read_token(secret: str, purpose: str, token: str, max_age_seconds: int) -> dict[str, Any]:
    body, dot, signature = token.partition(".")
    if not dot or not body or not signature:
        raise TokenError("malformed token")
    try:
        given = _b64decode(signature)
    except ValueError as exc:
        raise TokenError("malformed token") from exc
    if not hmac.compare_digest(given, _mac(secret, purpose, body)):
        raise TokenError("bad signature")
    try:
        envelope = json.loads(_b64decode(body))
        issued_at = int(envelope["t"])
        payload = envelope["p"]
    except (ValueError, KeyError, TypeError) as exc:  # only reachable with the secret key: still refuse
        raise TokenError("malformed token") from exc
    if not isinstance(payload, dict):
        raise TokenError("malformed token")
    if time.time() - issued_at > max_age_seconds:
        raise TokenError("expired token", expired=True)
    return payload
