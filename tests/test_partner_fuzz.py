"""Schemathesis over the partner API alone, with a valid key holding every scope, against a real
server: no server error, statuses and bodies as documented. Small (a few examples per operation);
the whole API's run as staff is tests/test_api_fuzz.py."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.config import Settings
from tests.partner_helpers import make_partner, make_shared_people
from tests.test_api_fuzz import (
    SEED,
    Tally,
    _config,
    live_server,  # noqa: F401  (the fixture)
)

pytestmark = pytest.mark.slow

PARTNER_PATHS = r"^/api/v1/partner/"


@pytest.fixture
def settings(base_settings: Settings) -> Settings:
    settings = base_settings.model_copy(deep=True)
    settings.partner.rate_limit = 100_000  # the run is many calls of one key
    return settings


async def test_the_partner_api_answers_as_documented(
    live_server: str,  # noqa: F811  (the fixture imported above)
    settings: Settings,
    engine: AsyncEngine,
) -> None:
    from crm.app import create_app

    document: dict[str, Any] = create_app(settings).openapi_schema.to_schema()
    partner = await make_partner(engine, "Partenaire fuzz")
    await make_shared_people(engine, 3)
    tally = Tally()
    config = _config(live_server, partner.headers, [{"exclude-path-regex": PARTNER_PATHS, "enabled": False}])
    await asyncio.to_thread(tally.run, document, config)
    print(f"\nschemathesis (partner API): {sum(tally.cases.values())} cases, seed {SEED}")
    partner_operations = {
        f"{m.upper()} {p}" for p, item in document["paths"].items() if p.startswith("/api/v1/partner/") for m in item
    }
    assert partner_operations <= set(tally.cases), sorted(partner_operations - set(tally.cases))
    assert set(tally.cases) <= partner_operations
    assert not tally.errors, "\n".join(tally.errors)
    assert not tally.failures, "\n\n".join(
        f"{op} [{check}] {text}" for (op, check), text in sorted(tally.failures.items())
    )
