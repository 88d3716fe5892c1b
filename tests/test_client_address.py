"""The client address behind every rate limit: the TCP peer, unless that peer is a proxy the
operator configured (CRM_TRUSTED_PROXIES); then the right-most untrusted X-Forwarded-For entry.
A made-up header from a client never changes which counter it lands in."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from crm.config import Settings
from crm.db.models.staff import StaffRole
from crm.lib.client_address import client_address, parse_networks, rate_limit_bucket
from tests.peers import connect_from


def scope(peer: str | None, *forwarded: str) -> dict[str, Any]:
    return {
        "type": "http",
        "client": (peer, 1234) if peer else None,
        "headers": [(b"x-forwarded-for", value.encode()) for value in forwarded],
    }


def proxies(*values: str) -> Any:
    return parse_networks(values)


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert client_address(scope("203.0.113.7", "198.51.100.1"), ()) == "203.0.113.7"


def test_a_trusted_proxy_gives_the_right_most_untrusted_address() -> None:
    trusted = proxies("10.0.0.0/8", "192.168.1.1")
    # The client wrote "1.1.1.1" itself; the proxies appended what they saw.
    forwarded = scope("10.0.0.2", "1.1.1.1, 203.0.113.7", "192.168.1.1")
    assert client_address(forwarded, trusted) == "203.0.113.7"
    assert client_address(scope("10.0.0.2", "203.0.113.7:5555"), trusted) == "203.0.113.7"
    assert client_address(scope("10.0.0.2", "[2001:db8::1]:443"), trusted) == "2001:db8::1"
    # A peer that is not a configured proxy cannot speak for anyone else.
    assert client_address(scope("203.0.113.9", "1.1.1.1"), trusted) == "203.0.113.9"
    # Garbage at the right-most untrusted place: the last proxy that spoke is the client we know.
    assert client_address(scope("10.0.0.2", "1.1.1.1, not-an-ip"), trusted) == "10.0.0.2"
    # Only proxies all the way: the left-most of them.
    assert client_address(scope("10.0.0.2", "10.0.0.9"), trusted) == "10.0.0.9"
    assert client_address(scope("10.0.0.2"), trusted) == "10.0.0.2"


def test_odd_peers() -> None:
    assert client_address(scope("::ffff:203.0.113.7"), ()) == "203.0.113.7"
    assert client_address(scope(None), ()) == "unknown"
    assert client_address(scope("testclient", "1.1.1.1"), proxies("0.0.0.0/0")) == "testclient"


def test_one_ipv6_customer_is_one_bucket() -> None:
    # An IPv6 customer gets a whole /64: rotating inside it must not earn fresh counters.
    assert rate_limit_bucket("2001:db8:1:2::1") == rate_limit_bucket("2001:db8:1:2:ffff::9")
    assert rate_limit_bucket("2001:db8:1:3::1") != rate_limit_bucket("2001:db8:1:2::1")
    assert rate_limit_bucket("203.0.113.7") == "203.0.113.7"


def test_trusted_proxies_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16 2001:db8::/32")
    assert [str(n) for n in Settings().trusted_proxies] == ["10.0.0.1/32", "192.168.0.0/16", "2001:db8::/32"]
    monkeypatch.setenv("CRM_TRUSTED_PROXIES", '["10.0.0.1"]')
    assert [str(n) for n in Settings().trusted_proxies] == ["10.0.0.1/32"]
    monkeypatch.setenv("CRM_TRUSTED_PROXIES", "")
    assert Settings().trusted_proxies == []
    monkeypatch.setenv("CRM_TRUSTED_PROXIES", "proxy.local")
    with pytest.raises(ValueError, match="CRM_TRUSTED_PROXIES"):
        Settings()


async def test_a_made_up_header_does_not_dodge_the_login_limit(
    client: AsyncTestClient[Any], make_staff: Any, settings: Settings
) -> None:
    await make_staff(StaffRole.ADMIN)
    settings.security.login_failures_before_delay_per_address = 6  # few argon2 checks: a fast test
    connect_from(client, "203.0.113.7")
    statuses = []
    for i in range(settings.security.login_failures_before_delay_per_address + 1):
        response = await client.post(
            "/api/v1/auth/login",
            json={"email": f"guess{i}@example.org", "password": "x" * 12},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
        )
        statuses.append(response.status_code)
    assert statuses[-1] == 429


async def test_behind_a_trusted_proxy_each_client_has_its_own_counter(settings: Settings, make_staff: Any) -> None:
    from crm.app import create_app

    settings.trusted_proxies = proxies("10.0.0.0/8")
    settings.security.login_failures_before_delay_per_address = 6  # few argon2 checks: a fast test
    await make_staff(StaffRole.ADMIN)
    async with AsyncTestClient(app=create_app(settings)) as client:
        connect_from(client, "10.0.0.2")
        for i in range(settings.security.login_failures_before_delay_per_address):
            await client.post(
                "/api/v1/auth/login",
                json={"email": f"guess{i}@example.org", "password": "x" * 12},
                headers={"X-Forwarded-For": "203.0.113.7"},
            )
        refused = await client.post(
            "/api/v1/auth/login",
            json={"email": "other@example.org", "password": "x" * 12},
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
        assert refused.status_code == 429
        # Another visitor behind the same proxy is not held back by the first one.
        other = await client.post(
            "/api/v1/auth/login",
            json={"email": "admin@example.org", "password": "correct horse battery"},
            headers={"X-Forwarded-For": "1.2.3.4, 198.51.100.20"},
        )
        assert other.status_code == 201
