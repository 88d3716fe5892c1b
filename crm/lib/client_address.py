"""Who is asking: the one place that says which address a request comes from.

The TCP peer is the client, unless the peer is a proxy the operator listed in
`CRM_TRUSTED_PROXIES`; then `X-Forwarded-For` is read from the right, skipping trusted proxies,
and the first address no trusted proxy vouches for is the client. Entries further left were
written by the client itself and are never believed, so a made-up header cannot move a request
into a fresh rate-limit counter."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

UNKNOWN = "unknown"


def parse_networks(values: Sequence[str]) -> list[Network]:
    """Addresses or CIDRs; a bare address is a network of one. Raises ValueError naming the bad one."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"not an IP address or network: {value!r}") from exc
    return networks


def _parse(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("["):  # [IPv6]:port
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # IPv4:port
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # a dual-stack socket's view of an IPv4 client
    return address


def _trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def client_address(scope: Any, trusted: Sequence[Network]) -> str:
    """The client address of an ASGI scope (or of a Litestar request, which is one)."""
    client = scope.get("client")
    peer_text = client[0] if client else None
    if not peer_text:
        return UNKNOWN
    peer = _parse(peer_text)
    if peer is None:
        return peer_text  # a unix socket or a test client: nothing to look behind
    if not trusted or not _trusted(peer, trusted):
        return str(peer)
    hops: list[str] = []
    for key, value in scope.get("headers") or ():
        if key == b"x-forwarded-for":
            hops.extend(value.decode("latin-1").split(","))
    candidate = peer
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            break  # garbage where a proxy should have written an address: trust no further
        candidate = address
        if not _trusted(address, trusted):
            break
    return str(candidate)


def request_address(request: Any) -> str:
    """`client_address` with the app's configured proxies."""
    return client_address(request.scope, request.app.state.settings.trusted_proxies)


def rate_limit_bucket(address: str) -> str:
    """What a per-address counter is keyed on: the address, or for IPv6 its /64, which one
    customer usually holds entirely (each of its addresses must not earn fresh counters)."""
    parsed = _parse(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address
