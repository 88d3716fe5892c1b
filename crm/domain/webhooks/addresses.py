"""Where a webhook may go: never to this machine, its network or the cloud's metadata service
(SSRF). A partner chooses the URL, so a name is resolved once and every address it gives must be
global; the connection is then made to the address checked, never to a second resolution of the
name (DNS rebinding), with TLS still verified against the name (SNI). Redirects are not followed.

`CRM_WEBHOOKS_ALLOW_LOOPBACK` lets loopback through (and plain http to it) for local development
and tests; nothing else non-global ever passes."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The URL leads somewhere a webhook may not go. At delivery time: a permanent refusal."""

    permanent = True


def _unwrapped(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (::ffff:10.0.0.1, 6to4, Teredo): it is where the
    packets really go, so it is the one checked."""
    if isinstance(address, ipaddress.IPv6Address):
        for inner in (address.ipv4_mapped, address.sixtofour, address.teredo[1] if address.teredo else None):
            if inner is not None:
                return inner
    return address


def refusal(text: str, *, allow_loopback: bool) -> str | None:
    """Why a webhook may not go to this address, or None when it may."""
    try:
        address = _unwrapped(ipaddress.ip_address(text.split("%", 1)[0]))
    except ValueError:
        return f"{text} is not an IP address"
    if address.is_loopback:
        return None if allow_loopback else f"{address} (loopback)"
    # `is_global` leaves out private, shared (CGNAT 100.64/10), link-local (169.254.169.254, the
    # cloud's metadata), unspecified and reserved ranges; multicast is checked on its own, as
    # Python counts some of it global.
    if not address.is_global or address.is_multicast or address.is_reserved or address.is_link_local:
        return f"{address} (not a public address)"
    return None


async def resolve(host: str, port: int, *, allow_loopback: bool) -> list[str]:
    """The addresses of `host`, all of them allowed, or AddressRefused."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:  # ValueError: a name no resolver takes (a NUL, bad IDNA)
        raise AddressRefused(f"{host} does not resolve") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        reason = refusal(address, allow_loopback=allow_loopback)
        if reason is not None:
            # One address off-limits is enough: the name is not a partner's public server.
            raise AddressRefused(f"{host} leads to {reason}")
    if not addresses:
        raise AddressRefused(f"{host} does not resolve")
    return addresses


async def check_url(url: str, *, allow_loopback: bool) -> str | None:
    """Why this URL cannot be an endpoint (as the partner should read it), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a valid URL"
    host = parts.hostname
    if parts.scheme not in ("https", "http") or not host:
        return "must be an https:// URL"
    if parts.username or parts.password:
        return "must not carry a user name or password"
    try:
        addresses = await resolve(host, port or (443 if parts.scheme == "https" else 80), allow_loopback=allow_loopback)
    except AddressRefused as exc:
        return f"is refused: {exc}"
    if parts.scheme == "http" and not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        # Plain http only to this machine, in development.
        return "must be an https:// URL"
    return None


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to an address just resolved and checked."""

    def __init__(self, *, allow_loopback: bool) -> None:
        self.allow_loopback = allow_loopback
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve(host, port, allow_loopback=self.allow_loopback)
        # httpcore starts TLS afterwards with the request's own host name: SNI and the certificate
        # check are the name's, while the packets go to an address checked here (each in turn,
        # as a browser would: a name may have an IPv6 address its server does not listen on).
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # resolve() never returns an empty list
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("webhooks go over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def client(*, allow_loopback: bool, timeout: float) -> httpx.AsyncClient:
    """The HTTP client of webhook deliveries: checked addresses, no redirects, no proxy from the
    environment (a proxy would connect where we did not check)."""
    transport = httpx.AsyncHTTPTransport(trust_env=False, retries=0)
    # httpx has no parameter for httpcore's network backend: its pool is replaced by one that has
    # ours, with the same TLS context httpx built (certificates verified).
    ssl_context = transport._pool._ssl_context
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=CheckedBackend(allow_loopback=allow_loopback),
    )
    return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False, timeout=timeout)
