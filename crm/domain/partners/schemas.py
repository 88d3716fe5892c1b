"""What the partner API and the API client screens read and accept."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, WithJsonSchema

from crm.db.models.partner import SCOPES
from crm.domain.people.schemas import LANGUAGE_PATTERN
from crm.lib.schemas import Email, HttpLink, Schema, SingleLine

Scope = Literal["contacts:read", "contacts:write", "events:read"]
assert set(SCOPES) == set(Scope.__args__)  # type: ignore[attr-defined]
MAX_BATCH = 500

# ---- API clients (staff, admins) ----


class ApiClientCreate(Schema):
    organisation_id: UUID = Field(description="The partner organisation (marked as partner)")
    name: SingleLine = Field(min_length=1, max_length=200, description="Shown in the audit log")
    scopes: list[Scope] = Field(min_length=1, max_length=3)


class ApiClientRotate(Schema):
    overlap_hours: int = Field(
        default=168, ge=0, le=24 * 90, description="How long the previous key keeps working (0: stops now)"
    )


class ApiKeyRead(Schema):
    id: UUID
    hint: str = Field(description="The key's last four characters")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    last_used_from: str | None


class ApiClientRead(Schema):
    id: UUID
    organisation_id: UUID
    organisation_name: str
    name: str
    scopes: list[str]
    revoked_at: datetime | None
    last_used_at: datetime | None
    last_used_from: str | None
    created_at: datetime
    keys: list[ApiKeyRead]


class ApiClientWithKey(ApiClientRead):
    key: str = Field(
        description="The new key, shown this once: only its hash is kept",
        examples=["crmp_AbCdEf012345_ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543kQ2xY"],
    )


# ---- the partner API ----


class PartnerContactIn(Schema):
    """One contact a partner pushes: only these fields (never consent to our lists, suppression,
    owner or internal notes), with the legal basis and proof for holding it."""

    external_id: SingleLine = Field(min_length=1, max_length=200, description="The partner's own id for the contact")
    email: Email | None = None
    first_name: SingleLine | None = Field(default=None, min_length=1, max_length=100)
    last_name: SingleLine | None = Field(default=None, min_length=1, max_length=100)
    phone: SingleLine | None = Field(default=None, max_length=40)
    language: str | None = Field(default=None, max_length=5, pattern=LANGUAGE_PATTERN)
    legal_basis: Literal["consent", "legitimate_interest"] = Field(description="GDPR art. 6.1.a or 6.1.f")
    source: SingleLine = Field(min_length=1, max_length=100, description="Where the partner got it")
    consent_text: str | None = Field(default=None, max_length=5000, description="What the person agreed to")
    consent_version: SingleLine | None = Field(default=None, max_length=50)
    consented_at: AwareDatetime | None = None
    proof_url: HttpLink | None = Field(default=None, description="Where the partner keeps the proof")


PUSH_ITEM_EXAMPLE = {
    "external_id": "villes-moyennes-4812",
    "email": "c.martin@mairie-exemple.fr",
    "first_name": "Claire",
    "last_name": "Martin",
    "phone": "+33 5 61 00 00 00",
    "language": "fr",
    "legal_basis": "legitimate_interest",
    "source": "annuaire des élus 2026",
}

# Items are checked one by one (a bad one never sinks the batch), so the body's schema says what an
# item must be without the framework refusing the whole body for one of them.
PushItem = Annotated[dict[str, Any], WithJsonSchema(PartnerContactIn.model_json_schema())]


class PushBatch(Schema):
    contacts: list[PushItem] = Field(min_length=1, max_length=MAX_BATCH, examples=[[PUSH_ITEM_EXAMPLE]])


PushStatus = Literal["created", "updated", "unchanged", "error"]


class PushResult(Schema):
    index: int = Field(description="The item's position in the batch")
    external_id: str | None
    status: PushStatus = Field(examples=["error"])
    id: UUID | None = Field(description="The contact's id in the CRM (none on error)")
    errors: list[dict[str, Any]] = Field(
        default_factory=list,
        description="On error: each field at fault with `field`, `detail`, `code`",
        examples=[
            [
                {
                    "field": "email",
                    "detail": "this address asked not to be contacted",
                    "pointer": "/email",
                    "code": "suppressed",
                }
            ]
        ],
    )


class PushAnswer(Schema):
    results: list[PushResult]
    counts: dict[str, int] = Field(examples=[{"created": 2, "updated": 1, "unchanged": 0, "error": 1}])


class SharedContact(Schema):
    id: UUID = Field(examples=["01a23602-c81d-7184-a59a-1c9a64d71b9e"])
    external_id: str | None = Field(
        description="Your id for the contact, when you pushed it", examples=["villes-moyennes-4812"]
    )
    first_name: str = Field(examples=["Claire"])
    last_name: str = Field(examples=["Martin"])
    email: str | None = Field(examples=["c.martin@mairie-exemple.fr"])
    phone: str | None = Field(examples=["+33 5 61 00 00 00"])
    language: str = Field(examples=["fr"])
    updated_at: datetime = Field(examples=["2026-11-30T09:12:00Z"])


class ContactPage(Schema):
    items: list[SharedContact]
    next_cursor: str | None = Field(description="Opaque: send it as `cursor` for the next page; none on the last")
    sync_token: str | None = Field(description="On the last page: send it to /contacts/changes from now on")


class ContactChange(Schema):
    id: UUID
    deleted: bool = Field(
        examples=[False], description="A tombstone: deleted, or no longer shared with you; forget the contact"
    )
    contact: SharedContact | None = Field(description="The contact as it is now (none for a tombstone)")


class ChangePage(Schema):
    items: list[ContactChange]
    sync_token: str = Field(description="Send it next time; each change comes exactly once")
    has_more: bool = Field(description="More changes wait: call again at once with the new token")
