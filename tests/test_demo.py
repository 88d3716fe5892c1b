"""The demo data a newcomer gets from `crm seed --demo` (and from `crm up` on an empty database)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from crm.cli import main
from crm.config import to_asyncpg_url
from crm.db.models import AuditEntry, BoardRole, Mandate, Membership, MembershipStatus, Organisation, Person
from crm.demo import DEFAULT_SEED, build_plan, load_places

COUNTED = ("organisation", "membership", "person", "position", "mandate", "dues", "label_award", "fee_band", "tagging")


async def _snapshot(database_url: str) -> dict[str, Any]:
    engine = create_async_engine(to_asyncpg_url(database_url))
    try:
        async with AsyncSession(engine) as session:
            counts = {t: await session.scalar(text(f'SELECT count(*) FROM "{t}"')) for t in COUNTED}
            communes = (
                await session.execute(
                    select(Organisation.population, Organisation.region_code).where(Organisation.kind == "commune")
                )
            ).all()
            roles = (await session.execute(select(Mandate.role))).scalars().all()
            statuses = dict(
                (await session.execute(select(Membership.status, func.count()).group_by(Membership.status))).all()
            )
            emails = set((await session.execute(select(Person.email))).scalars().all())
            audit = (await session.execute(select(AuditEntry.action, AuditEntry.entity_type))).all()
            regions = set((await session.execute(text("SELECT code FROM ref_region"))).scalars().all())
            communes_ref, epcis_ref = await load_places(session)
        return {
            "counts": counts,
            "communes": communes,
            "roles": roles,
            "statuses": statuses,
            "emails": emails,
            "audit": audit,
            "regions": regions,
            "places": (communes_ref, epcis_ref),
        }
    finally:
        await engine.dispose()


def test_crm_seed_demo_fills_a_network_once_and_the_same_seed_gives_the_same_people(database_url: str) -> None:
    runner = CliRunner()
    env = {"CRM_DATABASE_URL": database_url}
    first = runner.invoke(main, ["seed", "--demo"], env=env)
    assert first.exit_code == 0, first.output
    assert "450 member organisations" in first.output

    seeded = asyncio.run(_snapshot(database_url))
    counts = seeded["counts"]
    assert counts["membership"] == 450
    assert 9_500 <= counts["person"] <= 10_500
    assert counts["position"] >= counts["person"]  # everyone holds a position, some held an earlier one
    assert counts["fee_band"] > 0
    assert counts["dues"] > 400
    assert counts["label_award"] > 100
    # Mostly active members, and some of each other status.
    assert seeded["statuses"][MembershipStatus.ACTIVE] > 0.75 * 450
    assert all(seeded["statuses"].get(s, 0) > 0 for s in MembershipStatus)
    # About twenty board mandates with one president.
    assert 18 <= len(seeded["roles"]) <= 22
    assert seeded["roles"].count(BoardRole.PRESIDENT) == 1
    # Real places from every région, overseas included; mostly towns of 10,000 to 100,000.
    communes = seeded["communes"]
    assert {region for _, region in communes} == seeded["regions"]
    mid_sized = [pop for pop, _ in communes if pop is not None and 10_000 <= pop <= 100_000]
    assert len(mid_sized) > 0.75 * len(communes)
    # One audit entry says what was seeded, instead of one per row.
    assert seeded["audit"] == [("seed", "demo")]

    again = runner.invoke(main, ["seed", "--demo"], env=env)
    assert again.exit_code == 0, again.output
    assert "nothing added" in again.output
    assert asyncio.run(_snapshot(database_url))["counts"] == counts

    # The same seed over the same reference data gives the same people; another seed does not.
    communes_ref, epcis_ref = seeded["places"]
    same = build_plan(communes_ref, epcis_ref, seed=DEFAULT_SEED, today=date.today())
    assert {row["email"] for row in same.rows["person"]} == seeded["emails"]
    other = build_plan(communes_ref, epcis_ref, seed=DEFAULT_SEED + 1, today=date.today())
    assert {row["email"] for row in other.rows["person"]} != seeded["emails"]
