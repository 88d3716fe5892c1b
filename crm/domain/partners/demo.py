"""The partner side of the demo data: an API client for the partner association with a convention
in force, and a share of the contacts who agreed to be shared with partners (with the proof).

The client's key is made at random and shown to nobody: an admin rotates it in the admin to get
one (a key printed in a log would be a leaked key)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.partner import ApiClient, ApiKey
from crm.domain.partners.keys import new_key

CONSENT_TEXT = (
    "J'accepte que mes coordonnées professionnelles soient transmises aux associations partenaires "
    "du réseau avec lesquelles une convention est en vigueur."
)
# One contact in four agreed: enough for a partner's listing to page, few enough to be believable.
SHARE_ONE_IN = 4


async def seed_partner_demo(session: AsyncSession, organisation_id: object, client_name: str) -> int:
    """Returns how many people agreed to be shared."""
    made = new_key()
    client = ApiClient(organisation_id=organisation_id, name=client_name, scopes=["contacts:read", "contacts:write"])
    session.add(client)
    await session.flush()
    session.add(ApiKey(client_id=client.id, lookup_id=made.lookup_id, key_hash=made.key_hash, hint=made.hint))
    result = await session.execute(
        text(
            """
            INSERT INTO partner_sharing_consent
                (id, person_id, legal_basis, source, consent_text, consent_version, consented_at, created_at, updated_at)
            SELECT gen_random_uuid(), id, 'consent', 'formulaire d''inscription au congrès', :consent_text, '2025-09',
                   :now, :now, :now
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM person WHERE email IS NOT NULL) p
            WHERE p.n % :one_in = 0
            """
        ),
        {"consent_text": CONSENT_TEXT, "now": datetime.now(UTC), "one_in": SHARE_ONE_IN},
    )
    await session.flush()
    return result.rowcount or 0  # type: ignore[attr-defined]
