"""The demo data a newcomer gets from `crm seed --demo` (and from `crm up` on an empty database)."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import date
from typing import Any

from alembic import command
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from crm.cli import _alembic_config, main
from crm.config import Settings, to_asyncpg_url
from crm.db.models import AuditEntry, BoardRole, Mandate, Membership, MembershipStatus, Organisation, Person
from crm.demo import DEFAULT_SEED, build_plan, load_places, seed_demo_database
from crm.domain.public.services import CONSENT_TEXTS
from tests import services
from tests.conftest import TEST_DATABASE, recreate_database
from tests.smtp import SmtpSink

COUNTED = (
    "questionnaire_response",
    "jury_assignment",
    "organisation",
    "membership",
    "person",
    "position",
    "mandate",
    "dues",
    "label_award",
    "fee_band",
    "tagging",
    "mailing_list",
    "subscription",
    "publication",
    "campaign",
    "delivery",
    "event",
    "invitation",
    "suppression",
)

# What the mailing and events side of the demo holds, in a form two databases can be compared by
# (ids are drawn fresh each time; everything else must be the same).
FINGERPRINT = {
    "subscriptions": """
        SELECT p.email, l.slug, s.status::text, s.legal_basis::text, s.source, s.consent_version,
               s.consented_at, s.confirmed_at, s.unsubscribed_at
        FROM subscription s JOIN person p ON p.id = s.person_id JOIN mailing_list l ON l.id = s.list_id
        ORDER BY 1, 2""",
    "campaigns": """
        SELECT c.name, c.kind::text, c.status::text, c.is_public, c.started_at, c.finished_at, c.audience_count,
               c.suppressed_count, (SELECT md5(string_agg(d.email || d.status::text || coalesce(d.sent_at::text, ''),
                                                      ',' ORDER BY d.email))
                                    FROM delivery d WHERE d.campaign_id = c.id)
        FROM campaign c ORDER BY 1""",
    "invitations": """
        SELECT e.title, p.email, i.status::text, i.with_guest, i.answered_at, i.checked_in_at
        FROM invitation i JOIN event e ON e.id = i.event_id JOIN person p ON p.id = i.person_id
        ORDER BY 1, 2""",
    "publications": "SELECT title, kind::text, published_on, is_public FROM publication ORDER BY 1",
    "events": "SELECT title, kind::text, starts_at, ends_at, capacity FROM event ORDER BY 1",
}


async def _fingerprint(database_url: str) -> dict[str, list[Any]]:
    engine = create_async_engine(to_asyncpg_url(database_url))
    try:
        async with engine.connect() as conn:
            return {name: [tuple(r) for r in await conn.execute(text(sql))] for name, sql in FINGERPRINT.items()}
    finally:
        await engine.dispose()


async def _snapshot(database_url: str) -> dict[str, Any]:
    engine = create_async_engine(to_asyncpg_url(database_url))
    try:
        async with AsyncSession(engine) as session:
            counts = {t: await session.scalar(text(f'SELECT count(*) FROM "{t}"')) for t in COUNTED}
            # Member communes: the Atlaas's demo adds other communes as the authors of actions.
            communes = (
                await session.execute(
                    select(Organisation.population, Organisation.region_code)
                    .join(Membership, Membership.organisation_id == Organisation.id)
                    .where(Organisation.kind == "commune")
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


def test_crm_seed_demo_fills_a_network_once_and_the_same_seed_gives_the_same_data(
    database_url: str, database_server: str
) -> None:
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
    # One audit entry says what was bulk-inserted, instead of one per row; the few records made
    # through the services (lists, publications, events, campaigns) have their own, as anywhere.
    assert seeded["audit"].count(("seed", "demo")) == 1
    assert {entity for _, entity in seeded["audit"]} == {
        "demo",
        "mailing_list",
        "publication",
        "event",
        "campaign",
        "api_client",  # the demo partner's API client and its key (never printed)
        "api_key",
    }
    assert "crmp_" not in first.output

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

    # Seeding another database with the same seed on the same day gives the same mailing and
    # events: the same subscribers with the same proof, the same figures, the same answers.
    other_db = f"{TEST_DATABASE}_demo_again"
    asyncio.run(recreate_database(database_server, other_db))
    other_url = services.database_url(database_server, other_db)
    command.upgrade(_alembic_config(other_url), "head")
    assert runner.invoke(main, ["seed", "--demo"], env={"CRM_DATABASE_URL": other_url}).exit_code == 0
    first_print, second_print = asyncio.run(_fingerprint(database_url)), asyncio.run(_fingerprint(other_url))
    for name in FINGERPRINT:
        assert first_print[name] == second_print[name], name
    assert counts["subscription"] > 4_000
    assert counts["delivery"] > 15_000
    # Last year's label (its applications decided, scored twice each) and the crisis survey.
    assert counts["questionnaire_response"] > 320 + 100
    assert counts["jury_assignment"] > 200


async def test_the_demo_shows_lists_archive_and_events_and_mails_nobody(
    client: Any, settings: Settings, engine: AsyncEngine, smtp: SmtpSink, run_worker: Any
) -> None:
    result = await seed_demo_database(settings)
    assert result.added

    # Every subscription carries its proof: the legal basis, where it came from, when, the text.
    async with engine.connect() as conn:
        proofs = (
            await conn.execute(
                text(
                    "SELECT legal_basis::text, source, consent_text, consent_version, consented_at, confirmed_at, "
                    "status::text FROM subscription"
                )
            )
        ).all()
    assert proofs
    for basis, source, consent_text, version, consented_at, confirmed_at, status in proofs:
        assert source
        assert consent_text
        assert consented_at or confirmed_at
        if basis == "consent":
            assert consent_text == CONSENT_TEXTS[version]
            assert consented_at is not None
        if status == "subscribed":
            assert confirmed_at is not None

    # The public form has lists to offer; the staff-only invitations list is not among them.
    form = await client.get("/subscribe")
    assert form.status_code == 200
    assert "Aucune liste" not in form.text
    assert 'value="lettre-d-information"' in form.text
    assert 'value="publications"' in form.text
    assert 'value="invitations"' not in form.text

    # The archive shows the public publications and the past newsletters, not the internal note.
    archive = await client.get("/archive")
    assert archive.status_code == 200
    page = html.unescape(archive.text)
    assert "Gestion de crise dans les collectivités" in page
    assert "Palmarès du label" in page
    assert "Note au bureau" not in page
    assert "La lettre des villes numériques n°" in page
    assert "Vous êtes invité·e" not in page  # invitations are not public
    campaign_paths = re.findall(r'href="(/archive/campaigns/[^"]+)"', archive.text)
    assert len(campaign_paths) >= 4
    shown = await client.get(campaign_paths[0])
    assert shown.status_code == 200
    assert "{{" not in shown.text

    async with engine.connect() as conn:
        answers: dict[str, int] = dict(
            (
                await conn.execute(
                    text(
                        "SELECT e.kind::text || ':' || i.status::text, count(*) FROM invitation i "
                        "JOIN event e ON e.id = i.event_id GROUP BY 1"
                    )
                )
            ).all()
        )
        events = (
            await conn.execute(
                text(
                    "SELECT e.kind::text, e.starts_at > now(), e.capacity, "
                    "(SELECT count(*) + count(*) FILTER (WHERE with_guest) FROM invitation i "
                    " WHERE i.event_id = e.id AND i.status = 'yes'), "
                    "(SELECT count(*) FROM invitation i WHERE i.event_id = e.id AND i.checked_in_at IS NOT NULL) "
                    "FROM event e ORDER BY e.starts_at"
                )
            )
        ).all()
        unfinished = await conn.scalar(
            text(
                "SELECT (SELECT count(*) FROM campaign WHERE status <> 'finished') "
                "+ (SELECT count(*) FROM delivery WHERE status IN ('queued', 'leased'))"
            )
        )
    # Last winter's ceremony, with people who came; next autumn's congress, answers coming in.
    assert [(kind, upcoming) for kind, upcoming, *_ in events] == [("ceremony", False), ("congress", True)]
    for kind in ("ceremony", "congress"):
        assert answers[f"{kind}:yes"] > 0
        assert answers[f"{kind}:no"] > 0
        assert answers[f"{kind}:invited"] > 0
    (_, _, ceremony_seats, ceremony_taken, came), (_, _, congress_seats, congress_taken, checked_in) = events
    assert 0 < came <= ceremony_taken <= ceremony_seats
    assert congress_taken <= congress_seats
    assert checked_in == 0
    assert unfinished == 0  # every past campaign closed, nothing left for a worker to send

    # A worker started on the seeded database finds nothing to send.
    await run_worker()
    assert smtp.messages == []
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM event_notification")) == 0
