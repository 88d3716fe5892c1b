"""API clients (staff side) and the partner's contacts: push, full listing, changes.

A partner only ever sees the people shared with it: the person consented to be shared with
partners (`PartnerSharingConsent`, not withdrawn) and a convention with that partner is in force
today (`Convention.in_force_on`). Anything else answers as if it did not exist (404)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import exists, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from crm.db.lookups import organisation_names
from crm.db.models.convention import Convention
from crm.db.models.lists import LegalBasis
from crm.db.models.organisation import Organisation
from crm.db.models.partner import ApiClient, ApiKey, PartnerContact
from crm.db.models.person import Person
from crm.domain.outbox.suppression import erased_addresses, suppression_hash
from crm.domain.partners import feed
from crm.domain.partners.auth import PartnerClient
from crm.domain.partners.keys import new_key
from crm.domain.partners.schemas import (
    ApiClientCreate,
    ApiClientRead,
    ApiClientRotate,
    ApiClientWithKey,
    ApiKeyRead,
    ChangePage,
    ContactChange,
    ContactPage,
    PartnerContactIn,
    PushAnswer,
    PushResult,
    PushStatus,
    SharedContact,
)
from crm.lib.listing import ListQuery
from crm.lib.problems import ProblemError, field_error, invalid, schema_error_code
from crm.lib.services import Service
from crm.lib.tokens import TokenError, make_token, read_token

# ---------------------------------------------------------------- API clients (admins)


class ApiClientService(Service[ApiClient]):
    async def list_clients(self, query: ListQuery, sortable: frozenset[str]) -> tuple[list[ApiClientRead], int]:
        clients, total = await self.get_many_and_count(*query.filters(sortable, "-created_at"))
        return await self._reads(clients), total

    async def read(self, client_id: UUID) -> ApiClientRead:
        return (await self._reads([await self.get(client_id)]))[0]

    async def create_client(self, data: ApiClientCreate) -> ApiClientWithKey:
        organisation = await self.session.get(Organisation, data.organisation_id)
        if organisation is None:
            raise invalid("organisation_id", "no such organisation", code="not_found")
        if not organisation.is_partner:
            raise invalid(
                "organisation_id", "is not a partner: record a convention with it first", code="not_a_partner"
            )
        client = await self.create(
            ApiClient(organisation_id=organisation.id, name=data.name, scopes=sorted(set(data.scopes)))
        )
        key = await self._add_key(client.id)
        return ApiClientWithKey(**(await self.read(client.id)).model_dump(), key=key)

    async def rotate(self, client_id: UUID, data: ApiClientRotate) -> ApiClientWithKey:
        """A new key; the keys in use keep working `overlap_hours` more, so that the partner can
        deploy the new one without a gap."""
        client = await self.get(client_id)
        if client.revoked_at is not None:
            raise ProblemError(409, "This client was revoked; create a new one", code="client_revoked")
        until = datetime.now(UTC) + timedelta(hours=data.overlap_hours)
        await self.session.execute(
            update(ApiKey)
            .where(ApiKey.client_id == client_id, (ApiKey.expires_at.is_(None)) | (ApiKey.expires_at > until))
            .values(expires_at=until)
            .execution_options(synchronize_session=False)
        )
        key = await self._add_key(client_id)
        return ApiClientWithKey(**(await self.read(client_id)).model_dump(), key=key)

    async def revoke(self, client_id: UUID) -> ApiClientRead:
        client = await self.get(client_id)
        if client.revoked_at is None:
            client.revoked_at = datetime.now(UTC)
            await self.update(client)
        return await self.read(client_id)

    async def _add_key(self, client_id: UUID) -> str:
        made = new_key()
        self.session.add(ApiKey(client_id=client_id, lookup_id=made.lookup_id, key_hash=made.key_hash, hint=made.hint))
        await self.session.flush()
        return made.key

    async def _reads(self, clients: Sequence[ApiClient]) -> list[ApiClientRead]:
        ids = [c.id for c in clients]
        keys: dict[UUID, list[ApiKeyRead]] = {i: [] for i in ids}
        if ids:
            rows = await self.session.scalars(
                select(ApiKey).where(ApiKey.client_id.in_(ids)).order_by(ApiKey.created_at.desc())
            )
            for key in rows:
                keys[key.client_id].append(ApiKeyRead.model_validate(key))
        names = await organisation_names(self.session, [c.organisation_id for c in clients])
        return [
            ApiClientRead(
                id=c.id,
                organisation_id=c.organisation_id,
                organisation_name=names.get(c.organisation_id, ""),
                name=c.name,
                scopes=list(c.scopes),
                revoked_at=c.revoked_at,
                last_used_at=c.last_used_at,
                last_used_from=c.last_used_from,
                created_at=c.created_at,
                keys=keys[c.id],
            )
            for c in clients
        ]


# ---------------------------------------------------------------- the partner's contacts

ITEM = TypeAdapter(PartnerContactIn)
# The person's fields a partner may set; everything else of a person is the association's.
PERSON_FIELDS = ("email", "first_name", "last_name", "phone", "language")
PROOF_FIELDS = ("legal_basis", "source", "consent_text", "consent_version", "consented_at", "proof_url")
LIST_PURPOSE = "partner-list"
SYNC_PURPOSE = "partner-sync"
MAX_PAGE = 500

# The people shared with partners, as a partner sees them (its own external id beside ours).
SHARED_CONTACTS = """
    SELECT p.id, pc.external_id, p.first_name, p.last_name, p.email, p.phone, p.language, p.updated_at
    FROM person p
    JOIN partner_sharing_consent c ON c.person_id = p.id AND c.withdrawn_at IS NULL
    LEFT JOIN partner_contact pc ON pc.person_id = p.id AND pc.organisation_id = :org
"""
REMEMBER_SHARED = text(
    "INSERT INTO partner_share (organisation_id, person_id) SELECT :org, unnest(CAST(:ids AS uuid[])) "
    "ON CONFLICT DO NOTHING"
)


async def convention_in_force(session: AsyncSession, org: UUID) -> bool:
    """Sharing with a partner needs a convention with it in force today."""
    return bool(
        await session.scalar(
            exists().where(Convention.organisation_id == org, Convention.in_force_on(func.current_date())).select()
        )
    )


async def shared_contacts(session: AsyncSession, org: UUID, where: str, params: dict[str, Any]) -> list[SharedContact]:
    rows = await session.execute(text(SHARED_CONTACTS + where), {"org": org, **params})
    return [SharedContact.model_validate(dict(r._mapping)) for r in rows]


async def remember_shared(session: AsyncSession, org: UUID, ids: list[UUID]) -> None:
    """The partner has now been told of these people (through a pull or a webhook)."""
    if ids:
        await session.execute(REMEMBER_SHARED, {"org": org, "ids": ids})


async def what_changed(session: AsyncSession, org: UUID, ids: list[UUID]) -> list[tuple[ContactChange, bool]]:
    """What partner `org` should hear of these changed people, in their order, each with whether the
    partner had been told of the person before: the contact as it is now while shared with it, a
    tombstone once it was told of a person no longer shared (consent withdrawn, convention ended,
    person erased), nothing for a person it never heard of. One rule for the pull's sync and the
    webhooks; what it tells is remembered."""
    if not ids:
        return []
    current = (
        {c.id: c for c in await shared_contacts(session, org, "WHERE p.id = ANY(:ids)", {"ids": ids})}
        if await convention_in_force(session, org)
        else {}
    )
    known = set(
        await session.scalars(
            text("SELECT person_id FROM partner_share WHERE organisation_id = :org AND person_id = ANY(:ids)"),
            {"org": org, "ids": ids},
        )
    )
    changes: list[tuple[ContactChange, bool]] = []
    for person_id in ids:
        if person_id in current:
            changes.append((ContactChange(id=person_id, deleted=False, contact=current[person_id]), person_id in known))
        elif person_id in known:
            changes.append((ContactChange(id=person_id, deleted=True, contact=None), True))
    await remember_shared(session, org, list(current))
    return changes


def _item_errors(error: ValidationError) -> list[dict[str, Any]]:
    errors = []
    for e in error.errors():
        field = ".".join(str(p) for p in e["loc"]) or "contact"
        code, params = schema_error_code(e)
        if e["type"] == "extra_forbidden":
            errors.append(field_error(field, "a partner may not set this field", "field_forbidden"))
        else:
            errors.append(field_error(field, e["msg"], code, **params))
    return errors


class PartnerContactService:
    """What one partner may do with contacts; every method is scoped to `client.organisation_id`."""

    def __init__(self, session: AsyncSession, client: PartnerClient, secret: str, token_days: int) -> None:
        self.session = session
        self.client = client
        self.org = client.organisation_id
        self.secret = secret
        self.token_seconds = token_days * 86400
        self._new_links: list[PartnerContact] = []

    # ---- push

    async def push(self, items: list[dict[str, Any]]) -> PushAnswer:
        """Upserts each item on its own: matched on the partner's external id, then on e-mail. A
        bad, conflicting or suppressed item gets its error; the others are written."""
        results: list[PushResult | None] = [None] * len(items)
        valid: list[tuple[int, PartnerContactIn]] = []
        seen_ids: set[str] = set()
        for index, raw in enumerate(items):
            external_id = raw.get("external_id") if isinstance(raw, dict) else None
            try:
                item = ITEM.validate_python(raw)
            except ValidationError as exc:
                results[index] = self._error(index, external_id, _item_errors(exc))
                continue
            if item.external_id in seen_ids:
                results[index] = self._error(
                    index,
                    item.external_id,
                    [field_error("external_id", "sent twice in this batch", "duplicate_in_batch")],
                )
                continue
            seen_ids.add(item.external_id)
            valid.append((index, item))

        emails = {i.email for _, i in valid if i.email}
        suppressed = await self._suppressed(emails)
        erased = await erased_addresses(self.session, emails)
        links = {
            link.external_id: link
            for link in await self.session.scalars(
                select(PartnerContact).where(
                    PartnerContact.organisation_id == self.org,
                    PartnerContact.external_id.in_([i.external_id for _, i in valid]),
                )
            )
        }
        linked_people = [link.person_id for link in links.values()]
        people: dict[UUID, Person] = {
            p.id: p for p in await self.session.scalars(select(Person).where(Person.id.in_(linked_people)))
        }
        by_email: dict[str, Person] = {
            p.email: p for p in await self.session.scalars(select(Person).where(Person.email.in_(emails))) if p.email
        }
        by_email.update({p.email: p for p in people.values() if p.email})
        # The people this partner has already linked (a person links to one external id per partner).
        linked_to: dict[UUID, str] = {
            r.person_id: r.external_id
            for r in await self.session.execute(
                select(PartnerContact.person_id, PartnerContact.external_id).where(
                    PartnerContact.organisation_id == self.org,
                    PartnerContact.person_id.in_([p.id for p in by_email.values()]),
                )
            )
        }
        for index, item in valid:
            if item.email and item.email in erased:
                results[index] = self._error(
                    index,
                    item.external_id,
                    [field_error("email", "this person's data was erased at their request: not taken again", "erased")],
                )
                continue
            if item.email and item.email in suppressed:
                results[index] = self._error(
                    index,
                    item.external_id,
                    [field_error("email", "this address asked not to be contacted (suppression list)", "suppressed")],
                )
                continue
            link = links.get(item.external_id)
            person = people.get(link.person_id) if link else None
            if person is None and item.email:
                person = by_email.get(item.email)
                if person is not None and linked_to.get(person.id, item.external_id) != item.external_id:
                    results[index] = self._error(
                        index,
                        item.external_id,
                        [
                            field_error(
                                "email",
                                "already belongs to another of your contacts (another external_id)",
                                "email_taken",
                            )
                        ],
                    )
                    continue
            elif person is not None and item.email and item.email != person.email:
                other = by_email.get(item.email)
                if other is not None and other.id != person.id:
                    results[index] = self._error(
                        index,
                        item.external_id,
                        [field_error("email", "belongs to another contact", "email_taken")],
                    )
                    continue
            results[index] = await self._upsert(index, item, person, link, by_email, linked_to)
        await self.session.flush()
        self.session.add_all(self._new_links)
        self._new_links = []
        await self.session.flush()
        final = [r for r in results if r is not None]
        counts = {status: 0 for status in ("created", "updated", "unchanged", "error")}
        for r in final:
            counts[r.status] += 1
        return PushAnswer(results=final, counts=counts)

    async def _upsert(
        self,
        index: int,
        item: PartnerContactIn,
        person: Person | None,
        link: PartnerContact | None,
        by_email: dict[str, Person],
        linked_to: dict[UUID, str],
    ) -> PushResult:
        sent = item.model_dump(exclude_unset=True)
        values = {f: sent[f] for f in PERSON_FIELDS if f in sent}
        if person is None:
            missing = [f for f in ("first_name", "last_name") if not values.get(f)]
            if missing:
                return self._error(
                    index,
                    item.external_id,
                    [field_error(f, "required for a new contact", "missing") for f in missing],
                )
            # The id given now: the partner link needs it, and one flush at the end of the batch
            # writes everything (a flush per item would re-audit every pending row each time).
            person = Person(id=uuid7(), **{k: v for k, v in values.items() if v is not None})
            self.session.add(person)
            status: PushStatus = "created"
        else:
            required = {"first_name", "last_name", "language"}
            changed = {k: v for k, v in values.items() if getattr(person, k) != v and not (k in required and v is None)}
            for key, value in changed.items():
                setattr(person, key, value)
            status = "updated" if changed else "unchanged"
        if person.email:
            by_email[person.email] = person
        proof = item.model_dump(include=set(PROOF_FIELDS))
        proof["proof_url"] = str(item.proof_url) if item.proof_url else None
        proof["legal_basis"] = LegalBasis(item.legal_basis)
        if link is None:
            # Added after the people are written (no ORM relationship orders the two inserts).
            self._new_links.append(
                PartnerContact(organisation_id=self.org, person_id=person.id, external_id=item.external_id, **proof)
            )
            linked_to[person.id] = item.external_id
            if status == "unchanged":
                status = "updated"
        else:
            proof_changed = {k: v for k, v in proof.items() if getattr(link, k) != v}
            for key, value in proof_changed.items():
                setattr(link, key, value)
            if proof_changed and status == "unchanged":
                status = "updated"
        return PushResult(index=index, external_id=item.external_id, status=status, id=person.id)

    @staticmethod
    def _error(index: int, external_id: Any, errors: list[dict[str, Any]]) -> PushResult:
        return PushResult(
            index=index,
            external_id=external_id if isinstance(external_id, str) else None,
            status="error",
            id=None,
            errors=errors,
        )

    async def _suppressed(self, emails: set[str]) -> set[str]:
        if not emails:
            return set()
        hashes = {suppression_hash(e): e for e in emails}
        rows = await self.session.scalars(
            text("SELECT email_hash FROM suppression WHERE email_hash = ANY(:hashes)"), {"hashes": list(hashes)}
        )
        return {hashes[h] for h in rows}

    # ---- pull

    async def _convention_in_force(self) -> bool:
        return await convention_in_force(self.session, self.org)

    async def _shared(self, where: str, params: dict[str, Any]) -> list[SharedContact]:
        return await shared_contacts(self.session, self.org, where, params)

    async def _remember(self, ids: list[UUID]) -> None:
        await remember_shared(self.session, self.org, ids)

    async def one(self, person_id: UUID) -> SharedContact:
        found = await self._shared("WHERE p.id = :id", {"id": person_id}) if await self._convention_in_force() else []
        if not found:
            raise ProblemError(404, "No contact with this id is shared with you", code="not_found")
        await self._remember([person_id])
        return found[0]

    def _token(self, purpose: str, payload: dict[str, Any]) -> str:
        return make_token(self.secret, purpose, {"o": str(self.org), **payload})

    def _read(self, purpose: str, field: str, token: str) -> dict[str, Any]:
        try:
            payload = read_token(self.secret, purpose, token, self.token_seconds)
        except TokenError as exc:
            if exc.expired:
                raise ProblemError(
                    410, f"This {field} has expired: start over with a full listing", code="sync_token_expired"
                ) from exc
            raise invalid(field, "is not one this API gave you", code="token_invalid") from exc
        if payload.get("o") != str(self.org):
            raise invalid(field, "is not one this API gave you", code="token_invalid")
        return payload

    async def listing(self, cursor: str | None, limit: int) -> ContactPage:
        """Every shared contact by id; the last page carries the sync token of the changes made
        since the listing began (the horizon of its first page), so nothing falls between."""
        if cursor:
            state = self._read(LIST_PURPOSE, "cursor", cursor)
            after, start = UUID(state["a"]), int(state["h"])
        else:
            after, start = UUID(int=0), await feed.horizon(self.session)
        items = (
            await self._shared("WHERE p.id > :after ORDER BY p.id LIMIT :limit", {"after": after, "limit": limit})
            if await self._convention_in_force()
            else []
        )
        await self._remember([i.id for i in items])
        if len(items) == limit:
            return ContactPage(
                items=items,
                next_cursor=self._token(LIST_PURPOSE, {"a": str(items[-1].id), "h": start}),
                sync_token=None,
            )
        return ContactPage(
            items=items, next_cursor=None, sync_token=self._token(SYNC_PURPOSE, {"lo": start, "hi": None, "s": 0})
        )

    async def changes(self, sync_token: str, limit: int) -> ChangePage:
        state = self._read(SYNC_PURPOSE, "sync_token", sync_token)
        lo, hi, after = int(state["lo"]), state["hi"], int(state["s"])
        if hi is None:
            hi = await feed.horizon(self.session)
        page = await feed.changes_page(self.session, lo, int(hi), after, limit)
        items = [change for change, _ in await what_changed(self.session, self.org, [p for _, p in page])]
        if len(page) == limit:
            token = self._token(SYNC_PURPOSE, {"lo": lo, "hi": int(hi), "s": page[-1][0]})
            return ChangePage(items=items, sync_token=token, has_more=True)
        return ChangePage(
            items=items, sync_token=self._token(SYNC_PURPOSE, {"lo": int(hi), "hi": None, "s": 0}), has_more=False
        )
