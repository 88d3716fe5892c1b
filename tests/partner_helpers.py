"""Partners as the tests need them: an organisation with a convention in force, an API client with
a real key (made by the service the admin screens use), people who agreed to be shared."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm.db.models.convention import Convention, ConventionStatus, Renewal
from crm.db.models.lists import LegalBasis
from crm.db.models.organisation import Organisation, OrganisationKind
from crm.db.models.partner import PartnerSharingConsent
from crm.db.models.person import Person
from crm.domain.partners.schemas import ApiClientCreate
from crm.domain.partners.services import ApiClientService

ALL_SCOPES = ["contacts:read", "contacts:write", "events:read"]


@dataclass
class Partner:
    organisation_id: UUID
    client_id: UUID
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


async def make_partner(
    engine: AsyncEngine, name: str, scopes: list[str] | None = None, *, in_force: bool = True
) -> Partner:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        organisation = Organisation(kind=OrganisationKind.ASSOCIATION, name=name, is_partner=True)
        session.add(organisation)
        await session.flush()
        today = date.today()
        session.add(
            Convention(
                organisation_id=organisation.id,
                title=f"Convention {name}",
                status=ConventionStatus.ACTIVE if in_force else ConventionStatus.EXPIRED,
                starts_on=today - timedelta(days=365),
                ends_on=today + timedelta(days=365),
                renewal=Renewal.EXPLICIT,
                notice_period_days=0,
            )
        )
        made = await ApiClientService(session=session).create_client(
            ApiClientCreate(organisation_id=organisation.id, name=f"{name} sync", scopes=scopes or ALL_SCOPES)
        )
        await session.commit()
        return Partner(organisation.id, made.id, made.key)


async def make_shared_people(engine: AsyncEngine, count: int, prefix: str = "p") -> list[UUID]:
    """People who agreed to be shared with partners (with the proof of it)."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        people = [
            Person(first_name=f"Prénom{i}", last_name=f"Nom{i}", email=f"{prefix}{i}@example.org") for i in range(count)
        ]
        session.add_all(people)
        await session.flush()
        session.add_all(
            PartnerSharingConsent(
                person_id=p.id,
                legal_basis=LegalBasis.CONSENT,
                source="formulaire congrès",
                consent_text="J'accepte que mes coordonnées soient partagées avec les partenaires du réseau.",
                consent_version="2026-01",
                consented_at=datetime.now(UTC),
            )
            for p in people
        )
        await session.commit()
        return [p.id for p in people]


def contact(external_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "first_name": "Claire",
        "last_name": "Martin",
        "legal_basis": "legitimate_interest",
        "source": "annuaire",
        **fields,
    }
