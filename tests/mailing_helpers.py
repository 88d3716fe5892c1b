"""Helpers shared by the mailing tests (lists, public pages, segments): rows written straight to
the database, as another part of the CRM would have left them."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm.db.models.lists import LegalBasis, ListKind, MailingList, Subscription, SubscriptionStatus
from crm.db.models.person import Person


async def add(engine: AsyncEngine, *rows: Any) -> list[UUID]:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        session.add_all(rows)
        await session.commit()
        return [row.id for row in rows]


async def make_person(engine: AsyncEngine, email: str | None, first: str = "Aurélie", last: str = "N’Diaye") -> UUID:
    (person_id,) = await add(engine, Person(email=email, first_name=first, last_name=last))
    return person_id


async def make_list(
    engine: AsyncEngine, slug: str, name: str | None = None, *, is_public: bool = True, double_opt_in: bool = True
) -> UUID:
    (list_id,) = await add(
        engine,
        MailingList(
            slug=slug,
            name=name or slug.title(),
            kind=ListKind.NEWSLETTER,
            is_public=is_public,
            double_opt_in=double_opt_in,
        ),
    )
    return list_id


async def subscribe(
    engine: AsyncEngine, person_id: UUID, list_id: UUID, status: SubscriptionStatus = SubscriptionStatus.SUBSCRIBED
) -> UUID:
    (subscription_id,) = await add(
        engine,
        Subscription(
            person_id=person_id,
            list_id=list_id,
            status=status,
            legal_basis=LegalBasis.LEGITIMATE_INTEREST,
            source="test",
        ),
    )
    return subscription_id


async def subscriptions_of(engine: AsyncEngine, person_id: UUID) -> dict[UUID, Subscription]:
    async with AsyncSession(engine) as session:
        rows = (await session.scalars(select(Subscription).where(Subscription.person_id == person_id))).all()
        return {row.list_id: row for row in rows}


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>\]\)]+", text)
