"""The association as every e-mail and public page shows it (name, address, sender, logo, colour).

The stored settings (one row, edited by admins) win over the `CRM_ORGANISATION_*` environment
values, which stand in until the first save. Each process keeps the branding in memory and, before
each page or message, compares one number in Redis with the version it holds: a save raises the
row's version and writes it to Redis, so the next page and the next message of every API and
worker process show the change, without a restart and without a database query per message.
If Redis forgets the number (a flush, a restart), the next reader reads the row and writes it back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.config import OrganisationSettings, Settings
from crm.db.models.association import AssociationSettings

VERSION_KEY = "crm:association-settings:version"
LOGO_PATH = "/brand/logo"


class Branding(OrganisationSettings):
    """`OrganisationSettings` as stored, plus what only the stored settings have: so that a
    renderer given `settings.organisation` needs no second shape."""

    logo_url: str = ""
    version: int = 0


# What the admin screen edits; `unsubscribe_mailbox` stays an operator's setting.
EDITABLE = ("name", "postal_address", "website", "sender_name", "sender_email", "reply_to", "brand_colour")


def logo_url(public_url: str, version: int) -> str:
    """Absolute, so that it works in a message; the version in the address makes caches forget an
    old logo."""
    return f"{public_url}{LOGO_PATH}/{version}"


def compose(settings: Settings, row: Any) -> Branding:
    values = settings.organisation.model_dump()
    if row is None:
        return Branding.model_construct(**values, logo_url="", version=0)
    values |= {name: getattr(row, name) for name in EDITABLE}
    logo = logo_url(settings.public_url, row.version) if row.has_logo else ""
    return Branding.model_construct(**values, logo_url=logo, version=row.version)


# The row without the image bytes: the logo is served by its own route.
_ROW = select(
    *(getattr(AssociationSettings, name) for name in EDITABLE),
    AssociationSettings.version,
    AssociationSettings.logo_type.is_not(None).label("has_logo"),
)


@dataclass
class _Cached:
    source: Settings
    branding: Branding
    settings: Settings


# One per process (the API or a worker has one `Settings`).
_cache: _Cached | None = None


async def _load(settings: Settings, engine: AsyncEngine) -> Branding:
    async with engine.connect() as conn:
        row = (await conn.execute(_ROW)).one_or_none()
    return compose(settings, row)


async def current(settings: Settings, redis: Any, engine: AsyncEngine) -> Branding:
    """The branding now: one Redis GET when nothing changed."""
    return (await _current(settings, redis, engine)).branding


async def _current(settings: Settings, redis: Any, engine: AsyncEngine) -> _Cached:
    global _cache
    try:
        raw = await redis.get(VERSION_KEY)
    except (RedisError, OSError):
        raw = None  # Redis is down: the database alone says what is current, on every call
    cached = _cache
    if cached is not None and cached.source is settings and raw is not None and int(raw) == cached.branding.version:
        return cached
    branding = await _load(settings, engine)
    if raw is None or int(raw) < branding.version:
        with contextlib.suppress(RedisError, OSError):
            await redis.set(VERSION_KEY, branding.version)
    _cache = _Cached(settings, branding, settings.model_copy(update={"organisation": branding}))
    return _cache


async def branded(settings: Settings, redis: Any, engine: AsyncEngine) -> Settings:
    """`settings` whose `organisation` is the current branding: what every renderer is given."""
    return (await _current(settings, redis, engine)).settings


async def announce(redis: Any, version: int) -> None:
    """After a save is committed: every process reloads on its next page or message."""
    await redis.set(VERSION_KEY, version)


async def job_settings(ctx: Mapping[str, Any]) -> Settings:
    """What a worker job renders with: its `settings`, branded as they are now."""
    return await branded(ctx["settings"], ctx["redis"], ctx["db_config"].get_engine())


async def app_settings(state: Any) -> Settings:
    """What an API handler renders with (a preview, the archive copy): the app's `settings`, branded."""
    return await branded(state.settings, state.redis, state.db_config.get_engine())
