"""API keys: made, recognised and checked here only.

A key reads `crmp_<lookup id>_<secret><checksum>`, as GitHub's tokens do: the prefix says whose
key it is to a secret scanner, the CRC32 checksum (6 base62 characters) lets the scanner and our
guard throw away a random string without asking the database, and the lookup id finds the row.
The secret holds 178 bits of entropy, so a plain SHA-256 is a safe hash for it (a slow password
hash such as argon2 protects low-entropy secrets and would cost every request tens of ms)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zlib
from dataclasses import dataclass

PREFIX = "crmp_"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
LOOKUP_LENGTH = 12
SECRET_LENGTH = 30
CHECKSUM_LENGTH = 6
KEY_LENGTH = len(PREFIX) + LOOKUP_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


@dataclass(frozen=True, slots=True)
class NewKey:
    key: str  # shown once, never stored
    lookup_id: str
    key_hash: str
    hint: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> NewKey:
    lookup_id = _random(LOOKUP_LENGTH)
    body = f"{PREFIX}{lookup_id}_{_random(SECRET_LENGTH)}"
    key = body + checksum(body)
    return NewKey(key=key, lookup_id=lookup_id, key_hash=hash_key(key), hint=key[-4:])


def lookup_id_of(key: str) -> str | None:
    """The lookup id of a well-formed key whose checksum holds, else None (no database asked)."""
    if len(key) != KEY_LENGTH or not key.startswith(PREFIX) or key[len(PREFIX) + LOOKUP_LENGTH] != "_":
        return None
    if any(c not in ALPHABET for c in key[len(PREFIX) :].replace("_", "", 1)):
        return None
    body, given = key[:-CHECKSUM_LENGTH], key[-CHECKSUM_LENGTH:]
    if not hmac.compare_digest(checksum(body), given):
        return None
    return key[len(PREFIX) : len(PREFIX) + LOOKUP_LENGTH]


def matches(key: str, stored_hash: str) -> bool:
    """Constant-time: how much of a guess matched says nothing."""
    return hmac.compare_digest(hash_key(key), stored_hash)
