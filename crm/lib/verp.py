"""Per-delivery return paths (VERP) and mailto unsubscribe addresses: `bounce+<tag>@<domain>`,
where the tag is the delivery's id and a MAC of it. A bounce then names its delivery even when the
report itself says nothing useful, and nobody can make up a tag that suppresses someone else.

The tag stays short and of one case (base32, lower case): local parts are limited to 64 octets
and some servers fold their case."""

from __future__ import annotations

import base64
import hashlib
import hmac
from uuid import UUID

BOUNCE_PREFIX = "bounce"
UNSUBSCRIBE_PREFIX = "unsubscribe"
_MAC_BYTES = 8


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def _unb32(text: str) -> bytes:
    return base64.b32decode(text.upper() + "=" * (-len(text) % 8))


def _mac(secret: str, purpose: str, delivery_id: UUID) -> bytes:
    return hmac.new(secret.encode(), f"crm-verp:{purpose}:{delivery_id}".encode(), hashlib.sha256).digest()[:_MAC_BYTES]


def make_tag(secret: str, purpose: str, delivery_id: UUID) -> str:
    """`purpose` keeps a bounce tag from working as an unsubscribe one, and the other way round."""
    return f"{_b32(delivery_id.bytes)}-{_b32(_mac(secret, purpose, delivery_id))}"


def read_tag(secret: str, purpose: str, tag: str) -> UUID | None:
    """The delivery a tag names, or None when it is not one of ours."""
    body, dash, mac = tag.strip().lower().partition("-")
    if not dash or len(body) != 26 or len(mac) != 13:
        return None
    try:
        delivery_id = UUID(bytes=_unb32(body))
        given = _unb32(mac)
    except (ValueError, TypeError):
        return None
    return delivery_id if hmac.compare_digest(given, _mac(secret, purpose, delivery_id)) else None


def tagged_address(mailbox: str, tag: str) -> str:
    """`local+tag@domain` from `local@domain` (sub-addressing)."""
    local, _, domain = mailbox.rpartition("@")
    return f"{local}+{tag}@{domain}"


def tag_of(address: str) -> str | None:
    """The tag of `local+tag@domain`, if any."""
    local = address.strip().strip("<>").rpartition("@")[0]
    _, plus, tag = local.partition("+")
    return tag if plus else None


def return_path(secret: str, domain: str, delivery_id: UUID) -> str:
    """The envelope sender of one campaign message."""
    return f"{BOUNCE_PREFIX}+{make_tag(secret, BOUNCE_PREFIX, delivery_id)}@{domain}"
