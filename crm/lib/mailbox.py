"""Which mailbox an address reaches, for limits only (the address stored is the one typed).

Many spellings reach one mailbox: case, `+tags` (folded for every domain: where a provider does not
support them the limit is merely shared by two mailboxes), and dots in Gmail local parts, with
googlemail.com an alias of gmail.com."""

from __future__ import annotations

from crm.lib.security import token_hash

DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}
DOTS_IGNORED = frozenset({"gmail.com"})


def mailbox_key(email: str) -> str:
    """A hash of the canonical mailbox: a Redis key that holds no address."""
    local, _, domain = email.strip().lower().rpartition("@")
    domain = DOMAIN_ALIASES.get(domain, domain)
    local = local.split("+", 1)[0] or local
    if domain in DOTS_IGNORED:
        local = local.replace(".", "")
    return token_hash(f"{local}@{domain}")
