"""Login throttling after OWASP's Authentication Cheat Sheet: failures slow attempts down per
account and source, they never lock an account, and a stranger's failures never refuse the owner
coming from a place where they logged in before.

- A source is a browser that logged in to this account before (a signed known-device cookie), or
  else the client address. Failures per (account, source) impose a delay that doubles each time.
- Failures per address, whatever the account, do the same for addresses that try many accounts.
- Failures per account from everywhere are capped (high); past the cap only known sources may try.
- A source is known for the account when it carries the account's known-device cookie, or when its
  address saw a successful login of the account recently. Known sources only ever wait for their
  own failures.
Accounts are keyed by a hash of the e-mail typed, so unknown accounts are throttled alike and
Redis holds no address book."""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.asyncio import Redis

from crm.config import SecuritySettings
from crm.lib import ratelimit
from crm.lib.client_address import rate_limit_bucket
from crm.lib.security import new_token, token_hash
from crm.lib.tokens import TokenError, make_token, read_token

DEVICE_PURPOSE = "known-device"
# Longest a password check may hold its source's turn (argon2 plus a database read take far less).
TURN_SECONDS = 10


def account_key(email: str) -> str:
    return token_hash(email.strip().lower())


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    account: str
    address: str
    device: str | None  # the id in a valid known-device cookie of this account


class LoginThrottle:
    def __init__(self, redis: Redis, settings: SecuritySettings, secret_key: str) -> None:
        self.redis = redis
        self.settings = settings
        self.secret_key = secret_key
        self._taken: list[str] = []  # turns held by this attempt (one throttle per request)

    # ---- who is trying -----------------------------------------------------------------------

    def attempt(self, email: str, address: str, device_cookie: str | None) -> LoginAttempt:
        account = account_key(email)
        device = None
        if device_cookie:
            try:
                payload = read_token(self.secret_key, DEVICE_PURPOSE, device_cookie, self._known_seconds)
            except TokenError:
                payload = {}
            if payload.get("a") == account and isinstance(payload.get("d"), str):
                device = payload["d"]
        return LoginAttempt(account=account, address=rate_limit_bucket(address), device=device)

    def device_cookie_value(self, attempt: LoginAttempt) -> str:
        """A fresh known-device token for the account (same device id when it had one)."""
        return make_token(
            self.secret_key, DEVICE_PURPOSE, {"a": attempt.account, "d": attempt.device or new_token()[:22]}
        )

    @property
    def _known_seconds(self) -> int:
        return self.settings.login_known_days * 86400

    def _known_key(self, attempt: LoginAttempt) -> str:
        return f"crm:login:known:{attempt.account}"

    async def is_known(self, attempt: LoginAttempt) -> bool:
        if attempt.device is not None:
            return True
        seen = await self.redis.zscore(self._known_key(attempt), attempt.address)
        return seen is not None and float(seen) >= time.time() - self._known_seconds

    # ---- counters ----------------------------------------------------------------------------

    def _backoff(self, key: str, free: int) -> ratelimit.Backoff:
        s = self.settings
        return ratelimit.Backoff(
            key,
            free,
            max(s.login_window_seconds, s.login_max_delay_seconds),
            s.login_first_delay_seconds,
            s.login_max_delay_seconds,
        )

    def _source(self, attempt: LoginAttempt) -> ratelimit.Backoff:
        source = f"device:{attempt.device}" if attempt.device else f"address:{attempt.address}"
        return self._backoff(f"crm:login:{attempt.account}:{source}", self.settings.login_failures_before_delay)

    def _address(self, attempt: LoginAttempt) -> ratelimit.Backoff:
        return self._backoff(
            f"crm:login:address:{attempt.address}", self.settings.login_failures_before_delay_per_address
        )

    def _account_cap(self, attempt: LoginAttempt) -> ratelimit.Window:
        s = self.settings
        return ratelimit.Window(
            f"crm:login:account:{attempt.account}", s.login_max_failures_per_account, s.login_window_seconds
        )

    def _turns(self, attempt: LoginAttempt, known: bool) -> list[str]:
        keys = [f"{self._source(attempt).key}:turn"]
        if not known:
            keys.append(f"{self._address(attempt).key}:turn")
        return keys

    async def begin(self, attempt: LoginAttempt) -> int:
        """0 when this attempt may check its password now, else seconds to wait. One password is
        checked at a time per source (and per address for unknown sources): simultaneous attempts
        would otherwise all pass before the first failure counts. Call `end` afterwards."""
        known = await self.is_known(attempt)
        for key in self._turns(attempt, known):
            # Expires on its own should the process die between begin and end.
            if not await self.redis.set(key, 1, nx=True, ex=TURN_SECONDS):
                await self.end(attempt)
                return 1
            self._taken.append(key)
        wait = await self.wait(attempt)
        if wait:
            await self.end(attempt)
        return wait

    async def end(self, attempt: LoginAttempt) -> None:
        """Gives back the turns this throttle took (and only those)."""
        if self._taken:
            await self.redis.delete(*self._taken)
            self._taken.clear()

    async def wait(self, attempt: LoginAttempt) -> int:
        """Seconds this attempt must wait before its password is even checked; 0 to go ahead."""
        if await self.is_known(attempt):
            return await ratelimit.backoff_wait(self.redis, [self._source(attempt)])
        return max(
            await ratelimit.backoff_wait(self.redis, [self._source(attempt), self._address(attempt)]),
            await ratelimit.blocked_for(self.redis, [self._account_cap(attempt)]),
        )

    async def failed(self, attempt: LoginAttempt) -> int:
        """Counts a wrong password; returns how long the next attempt from here must wait."""
        await ratelimit.backoff_fail(self.redis, [self._source(attempt), self._address(attempt)])
        await ratelimit.hit(self.redis, [self._account_cap(attempt)])
        return await self.wait(attempt)

    async def succeeded(self, attempt: LoginAttempt) -> None:
        """The source's own failures are forgotten and its address is known for the account."""
        await ratelimit.backoff_forget(self.redis, [self._source(attempt)])
        key, now = self._known_key(attempt), time.time()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {attempt.address: now})
            pipe.zremrangebyscore(key, "-inf", now - self._known_seconds)
            pipe.expire(key, self._known_seconds)
            await pipe.execute()
