"""Secrets: argon2id password hashes, random tokens stored only as hashes, signed links."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2-cffi's defaults are RFC 9106's low-memory profile of argon2id.
_hasher = PasswordHasher()
# Verified against when the account does not exist, so that the answer takes the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens are random with 256 bits: a plain SHA-256 is enough to store them, no salt needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def derived_token(secret_key: str, purpose: str, record_id: object) -> str:
    """A token that only the holder of the secret key can make for this record and purpose:
    jobs recompute it from an id instead of carrying a secret through Redis."""
    digest = hmac.new(secret_key.encode(), f"{purpose}:{record_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
