"""Mailing lists, subscriptions with their consent proof, and the suppression list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import String, Text, Uuid, any_, bindparam, exists, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.audit_listener import record
from crm.db.models.lists import LegalBasis, ListKind, MailingList, Subscription, SubscriptionStatus
from crm.db.models.person import Person
from crm.db.models.suppression import Suppression, SuppressionReason
from crm.domain.outbox.suppression import email_hash_sql, is_suppressed, suppress, suppression_hash
from crm.lib.listing import ListQuery
from crm.lib.problems import ProblemError, field_error, invalid
from crm.lib.schemas import normalise_email
from crm.lib.services import Service

# The hash of a stored address, as the sending engine computes it (the address is stored normalised).
SQL_EMAIL_HASH = email_hash_sql(Person.email)


def one_of(column: Any, values: Any, item_type: Any = Uuid) -> Any:
    """`column = ANY(:values)` with one array parameter: a list of 50,000 ids would overflow the
    32,767 parameters of a statement as an IN list."""
    return column == any_(bindparam(None, list(values), type_=ARRAY(item_type)))


@dataclass
class People:
    """Who a bulk call names: the ids found, and what it named that is not there or not valid."""

    ids: set[UUID]
    unknown_ids: list[UUID]
    unknown_emails: list[str]
    invalid_emails: list[str]


async def resolve_people(
    session: AsyncSession, segment_id: UUID | None, person_ids: list[UUID], emails: list[str]
) -> People:
    """Everyone a segment selects today, the ids given and the people whose address is given."""
    from crm.db.models.segment import Segment
    from crm.domain.segments.services import segment_condition

    wanted: set[UUID] = set()
    if segment_id is not None:
        segment = await session.get(Segment, segment_id)
        if segment is None:
            raise invalid("segment_id", "no such segment")
        wanted.update(await session.scalars(select(Person.id).where(segment_condition(segment.definition))))
    unknown_ids: list[UUID] = []
    if person_ids:
        found = set(await session.scalars(select(Person.id).where(one_of(Person.id, set(person_ids), Uuid))))
        unknown_ids = [pid for pid in dict.fromkeys(person_ids) if pid not in found]
        wanted |= found
    invalid_emails: list[str] = []
    normalised: dict[str, str] = {}
    for given in emails:
        try:
            normalised.setdefault(normalise_email(given), given)
        except ValueError:
            invalid_emails.append(given)
    unknown_emails: list[str] = []
    if normalised:
        by_email = dict(
            (
                await session.execute(select(Person.email, Person.id).where(one_of(Person.email, normalised, String)))
            ).all()
        )
        unknown_emails = [address for address in normalised if address not in by_email]
        wanted.update(by_email.values())
    return People(wanted, unknown_ids, unknown_emails, invalid_emails)


def people_of_csv(data: bytes) -> tuple[list[str], list[UUID]]:
    """The addresses and ids a people CSV names, read as the people import reads it (encodings,
    delimiters, French headers). A row with an id is taken by its id, else by its address."""
    from crm.domain.imports.csvfiles import PEOPLE, parse_id, read_csv

    parsed = read_csv(data, PEOPLE)
    if "email" not in parsed.columns and "id" not in parsed.columns:
        raise invalid("file", "has neither an e-mail nor an id column")
    emails: list[str] = []
    ids: list[UUID] = []
    for row in parsed.rows:
        if row.values.get("id"):
            try:
                ids.append(parse_id(row.values["id"]))
            except ValueError as exc:
                raise invalid("file", f"line {row.line}: the id is not an identifier") from exc
        elif row.values.get("email"):
            emails.append(row.values["email"][:320])
    return emails, ids


class MailingListService(Service[MailingList]):
    async def _check_slug(self, slug: str, list_id: UUID | None = None) -> None:
        clash = await self.get_one_or_none(MailingList.slug == slug)
        if clash is not None and clash.id != list_id:
            raise ProblemError(
                409, f"A list already uses the slug {slug!r}", errors=[field_error("slug", "already used")]
            )

    async def add(self, values: dict[str, Any]) -> MailingList:
        await self._check_slug(values["slug"])
        return await self.create(MailingList(**values))

    async def change(self, list_id: UUID, values: dict[str, Any]) -> MailingList:
        mailing_list = await self.get(list_id)
        if "slug" in values:
            await self._check_slug(values["slug"], list_id)
        self.apply(mailing_list, values)
        return await self.update(mailing_list)

    async def search(
        self, query: ListQuery, sortable: frozenset[str], *, kind: ListKind | None, is_public: bool | None
    ) -> tuple[Sequence[MailingList], int]:
        conditions: list[Any] = []
        if query.q:
            pattern = f"%{query.q.lower()}%"
            conditions.append(or_(func.lower(MailingList.name).like(pattern), MailingList.slug.like(pattern)))
        if kind is not None:
            conditions.append(MailingList.kind == kind)
        if is_public is not None:
            conditions.append(MailingList.is_public.is_(is_public))
        return await self.get_many_and_count(*query.filters(sortable, "name"), *conditions)


class SubscriptionService(Service[Subscription]):
    """Who receives which list, and the proof behind it. Staff, the public form and the signed
    pages all go through here, so the rules (suppression, proof, statuses) are written once."""

    async def search(
        self,
        query: ListQuery,
        sortable: frozenset[str],
        *,
        list_id: UUID | None,
        person_id: UUID | None,
        status: SubscriptionStatus | None,
    ) -> tuple[Sequence[Subscription], int]:
        conditions: list[Any] = []
        if list_id is not None:
            conditions.append(Subscription.list_id == list_id)
        if person_id is not None:
            conditions.append(Subscription.person_id == person_id)
        if status is not None:
            conditions.append(Subscription.status == status)
        return await self.get_many_and_count(*query.filters(sortable, "created_at"), *conditions)

    async def add_by_staff(
        self,
        *,
        person_id: UUID | None,
        list_id: UUID,
        email: str | None = None,
        legal_basis: LegalBasis,
        source: str,
        consent_text: str | None,
        consent_version: str | None,
        consented_at: datetime | None,
    ) -> Subscription:
        """Staff record a subscription with its proof. Legitimate interest (a professional address)
        subscribes at once; consent on a double opt-in list waits for the person's confirmation."""
        session = self.session
        if person_id is None:
            person = await session.scalar(select(Person).where(Person.email == email)) if email else None
            if person is None:
                raise invalid("email", "no person has this address")
            person_id = person.id
        else:
            person = await session.get(Person, person_id)
        if person is None:
            raise invalid("person_id", "no such person")
        mailing_list = await session.get(MailingList, list_id)
        if mailing_list is None:
            raise invalid("list_id", "no such list")
        if not person.email:
            raise invalid("person_id", "this person has no e-mail address")
        if await is_suppressed(session, person.email):
            raise ProblemError(
                422,
                "This address is on the suppression list: it cannot be subscribed",
                errors=[
                    field_error("person_id", "the person's e-mail address is suppressed"),
                    field_error("email", "suppressed address"),
                ],
            )
        if legal_basis == LegalBasis.CONSENT and not consent_text:
            raise invalid("consent_text", "consent needs the text the person agreed to, as proof")
        now = datetime.now(UTC)
        pending = legal_basis == LegalBasis.CONSENT and mailing_list.double_opt_in
        existing = await self.get_one_or_none(Subscription.person_id == person_id, Subscription.list_id == list_id)
        if existing is not None and existing.status != SubscriptionStatus.UNSUBSCRIBED:
            raise ProblemError(
                409,
                f"This person is already on this list ({existing.status.value})",
                errors=[field_error("list_id", "already subscribed")],
                subscription_id=str(existing.id),
            )
        subscription = existing or Subscription(person_id=person_id, list_id=list_id)
        subscription.status = SubscriptionStatus.PENDING if pending else SubscriptionStatus.SUBSCRIBED
        subscription.legal_basis = legal_basis
        subscription.source = source
        subscription.consent_text = consent_text
        subscription.consent_version = consent_version
        subscription.consented_at = (consented_at or now) if legal_basis == LegalBasis.CONSENT else None
        subscription.confirmed_at = None if pending else now
        subscription.unsubscribed_at = None
        subscription.unsubscribe_reason = None
        subscription.unsubscribed_via_campaign_id = None
        if existing is None:
            return await self.create(subscription)
        return await self.update(subscription)

    async def subscribe_many(
        self,
        list_id: UUID,
        *,
        segment_id: UUID | None,
        person_ids: list[UUID],
        emails: list[str],
        legal_basis: LegalBasis,
        source: str,
        consent_text: str | None,
        consent_version: str | None,
        consented_at: datetime | None,
    ) -> tuple[dict[str, Any], list[UUID]]:
        """Subscribes a segment, people and addresses to a list in one statement, with one proof
        and one audit entry. Suppressed addresses are left out and named; people who left this list
        before are not put back in bulk (that takes a new proof, one by one). Returns the counts
        and the pending subscriptions whose confirmation e-mail is due."""
        session = self.session
        mailing_list = await session.get(MailingList, list_id)
        if mailing_list is None:
            raise ProblemError(404, "No such list")
        if legal_basis == LegalBasis.CONSENT and not consent_text:
            raise invalid("consent_text", "consent needs the text the people agreed to, as proof")
        found = await resolve_people(session, segment_id, person_ids, emails)
        wanted = found.ids
        rows = (
            await session.execute(
                select(
                    Person.id,
                    Person.email,
                    exists().where(Suppression.email_hash == SQL_EMAIL_HASH).label("suppressed"),
                    Subscription.status,
                )
                .outerjoin(Subscription, (Subscription.person_id == Person.id) & (Subscription.list_id == list_id))
                .where(one_of(Person.id, wanted, Uuid))
            )
        ).all()
        no_email = already = left = 0
        suppressed: list[str] = []
        to_add: list[UUID] = []
        for pid, address, is_suppressed_, status in rows:
            if not address:
                no_email += 1
            elif is_suppressed_:
                suppressed.append(address)
            elif status == SubscriptionStatus.UNSUBSCRIBED:
                left += 1
            elif status is not None:
                already += 1
            else:
                to_add.append(pid)
        now = datetime.now(UTC)
        pending = legal_basis == LegalBasis.CONSENT and mailing_list.double_opt_in
        status = SubscriptionStatus.PENDING if pending else SubscriptionStatus.SUBSCRIBED
        added: list[UUID] = []
        if to_add:
            values = select(
                func.gen_random_uuid(),
                Person.id,
                literal(list_id),
                literal(status.value).cast(Subscription.__table__.c.status.type),
                literal(legal_basis.value).cast(Subscription.__table__.c.legal_basis.type),
                literal(source),
                literal(consent_text, Text),
                literal(consent_version, String),
                literal(
                    (consented_at or now) if legal_basis == LegalBasis.CONSENT else None, DateTimeUTC(timezone=True)
                ),
                literal(None if pending else now, DateTimeUTC(timezone=True)),
                literal(now),
                literal(now),
            ).where(one_of(Person.id, to_add, Uuid))
            columns = [
                "id",
                "person_id",
                "list_id",
                "status",
                "legal_basis",
                "source",
                "consent_text",
                "consent_version",
                "consented_at",
                "confirmed_at",
                "created_at",
                "updated_at",
            ]
            inserted = await session.execute(
                pg_insert(Subscription)
                .from_select(columns, values)
                .on_conflict_do_nothing(constraint="uq_subscription_person_list")
                .returning(Subscription.id)
            )
            added = list(inserted.scalars())
        # A subscriber who arrived between the read and the insert counts as already there.
        already += len(to_add) - len(added)
        counts: dict[str, Any] = {
            "subscribed": 0 if pending else len(added),
            "pending": len(added) if pending else 0,
            "already": already,
            "left_before": left,
            "suppressed": sorted(suppressed),
            "no_email": no_email,
            "unknown_person_ids": found.unknown_ids,
            "unknown_emails": found.unknown_emails,
            "invalid_emails": found.invalid_emails,
        }
        record(
            session,
            "subscribe_many",
            "mailing_list",
            list_id,
            legal_basis=legal_basis.value,
            source=source,
            consent_text=consent_text,
            consent_version=consent_version,
            consented_at=consented_at,
            segment_id=segment_id,
            people_given=len(person_ids),
            emails_given=len(emails),
            **{k: (len(v) if isinstance(v, list) else v) for k, v in counts.items()},
        )
        await session.flush()
        return counts, added if pending else []

    async def pending_for_confirmation(self, subscription_id: UUID) -> Subscription:
        """A subscription whose confirmation e-mail may be sent (again): only a pending one."""
        subscription = await self.get(subscription_id)
        if subscription.status != SubscriptionStatus.PENDING:
            raise ProblemError(
                409,
                f"Only a pending subscription waits for a confirmation (this one is {subscription.status.value})",
                errors=[field_error("status", "not pending")],
            )
        return subscription

    async def unsubscribe(
        self, subscription: Subscription, reason: str | None, campaign_id: UUID | None = None
    ) -> Subscription:
        """`campaign_id`: the campaign whose link the person used, counted in its progress. A person
        already unsubscribed stays on record as they left the first time."""
        if subscription.status != SubscriptionStatus.UNSUBSCRIBED:
            subscription.status = SubscriptionStatus.UNSUBSCRIBED
            subscription.unsubscribed_at = datetime.now(UTC)
            subscription.unsubscribe_reason = reason
            subscription.unsubscribed_via_campaign_id = campaign_id
            await self.update(subscription)
        return subscription

    async def change_status(
        self, subscription_id: UUID, status: SubscriptionStatus, reason: str | None
    ) -> Subscription:
        """Staff can take a person off a list; putting them back needs a new proof (a POST)."""
        subscription = await self.get(subscription_id)
        if status != SubscriptionStatus.UNSUBSCRIBED:
            raise invalid("status", "only 'unsubscribed' can be set; to subscribe again, POST with the proof")
        return await self.unsubscribe(subscription, reason or "staff")

    async def unsubscribe_from(
        self, person_id: UUID, list_id: UUID, reason: str, campaign_id: UUID | None = None
    ) -> Subscription | None:
        """Takes a person off a list. Without a subscription row (the message went to a segment),
        one is written as unsubscribed, so that the refusal is on record."""
        subscription = await self.get_one_or_none(Subscription.person_id == person_id, Subscription.list_id == list_id)
        if subscription is None:
            session = self.session
            if await session.get(Person, person_id) is None or await session.get(MailingList, list_id) is None:
                return None
            return await self.create(
                Subscription(
                    person_id=person_id,
                    list_id=list_id,
                    status=SubscriptionStatus.UNSUBSCRIBED,
                    legal_basis=LegalBasis.LEGITIMATE_INTEREST,
                    source="unsubscribe link",
                    unsubscribed_at=datetime.now(UTC),
                    unsubscribe_reason=reason,
                    unsubscribed_via_campaign_id=campaign_id,
                )
            )
        return await self.unsubscribe(subscription, reason, campaign_id)

    async def unsubscribe_everywhere(self, person_id: UUID, reason: str, campaign_id: UUID | None = None) -> int:
        active = await self.get_many(
            Subscription.person_id == person_id, Subscription.status != SubscriptionStatus.UNSUBSCRIBED
        )
        for subscription in active:
            await self.unsubscribe(subscription, reason, campaign_id)
        return len(active)

    async def confirm(self, person_id: UUID, subscription_ids: list[UUID]) -> list[Subscription]:
        """Double opt-in: the pending subscriptions of this person among `subscription_ids` become
        active. Those already confirmed stay as they are; those left since are not revived."""
        rows = await self.get_many(Subscription.id.in_(subscription_ids), Subscription.person_id == person_id)
        now = datetime.now(UTC)
        for subscription in rows:
            if subscription.status == SubscriptionStatus.PENDING:
                subscription.status = SubscriptionStatus.SUBSCRIBED
                subscription.confirmed_at = now
                await self.update(subscription)
        return list(rows)


class SuppressionService(Service[Suppression]):
    async def suppress(
        self, email: str, reason: SuppressionReason, note: str | None = None, *, exists_ok: bool = False
    ) -> Suppression:
        added = await suppress(self.repository.session, email, reason, note)  # type: ignore[arg-type]
        if not added and not exists_ok:
            raise ProblemError(
                409,
                "This address is already on the suppression list",
                errors=[field_error("email", "already suppressed")],
            )
        return await self.get_one(Suppression.email_hash == suppression_hash(email))

    async def lift(self, email: str, reasons: frozenset[SuppressionReason]) -> bool:
        """Removes the address's suppression when its reason is one of `reasons`."""
        existing = await self.get_one_or_none(Suppression.email_hash == suppression_hash(email))
        if existing is None or existing.reason not in reasons:
            return False
        await self.delete(existing.id)
        return True

    async def search(
        self, query: ListQuery, sortable: frozenset[str], *, reason: SuppressionReason | None, email: str | None
    ) -> tuple[Sequence[Suppression], int]:
        conditions: list[Any] = []
        if reason is not None:
            conditions.append(Suppression.reason == reason)
        if email:
            # Staff may ask whether an address is suppressed: they give it, the list answers by hash.
            conditions.append(Suppression.email_hash == suppression_hash(email))
        return await self.get_many_and_count(*query.filters(sortable, "-created_at"), *conditions)
