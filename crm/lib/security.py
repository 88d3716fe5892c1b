"""Secrets: argon2id password hashes, random tokens stored only as hashes, signed links."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

# Verified against when the account does not exist, so that the answer takes the same time: the
# hash of a random password nobody kept, made with the hasher's parameters (a test checks they
# still match). A constant rather than a hash computed at import: hashing costs 64 MB of memory
# and a fifth of a second, which every process importing this module (the worker too) paid.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$83sxhj/xGXMqmgjVSAm9hQ$sd2OHnBcoeF/f0Z3oK/f80tbvB0fk/O6i83NyyeDUWs"

MIN_PASSWORD_LENGTH = 10


@cache
def password_hasher() -> PasswordHasher:
    """argon2-cffi's defaults: RFC 9106's low-memory profile of argon2id. Imported on first use:
    processes that never see a password (the worker) do not load it."""
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return password_hasher().verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
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
