"""Personal-data rights (RGPD, with the CNIL's guidance for associations): what is held about a
person (access, art. 15), erasing them (art. 17), and the retention rule that lists inactive
prospects for purging. Each is audited; the audit entries hold ids, never the data."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, String, Text, delete, or_, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from crm.config import Settings
from crm.db.audit_listener import record
from crm.db.base import metadata
from crm.db.models.audit import AuditEntry
from crm.db.models.board import Mandate
from crm.db.models.campaign import Campaign, Delivery
from crm.db.models.deliverability import Bounce
from crm.db.models.event import Event, Invitation
from crm.db.models.lists import MailingList, Subscription
from crm.db.models.organisation import Organisation
from crm.db.models.person import Person, Position
from crm.db.models.privacy import Erasure
from crm.db.models.questionnaire import (
    Questionnaire,
    QuestionnaireAnswer,
    QuestionnaireRecipient,
    QuestionnaireResponse,
)
from crm.db.models.suppression import Suppression
from crm.db.models.tag import Tag, Tagging
from crm.domain.outbox.suppression import suppress_erased, suppression_hash
from crm.lib.problems import ProblemError

ERASED_TEXT = "[effacé]"
# Values shorter than this are not searched for in free text: too many false matches.
MIN_SCRUB_LENGTH = 5
# Tables that never hold a person's data as text: reference geography, hashes, keys.
NOT_SCANNED = frozenset({"suppression", "dkim_key", "alembic_version", "staff_invitation"})


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, str | int | float | bool):
        return value.value
    return value


def _row(obj: Any, *names: str) -> dict[str, Any]:
    return {n: _plain(getattr(obj, n)) for n in names}


# ---- access (art. 15) -----------------------------------------------------------------------

Section = Callable[[AsyncSession, Person], Awaitable[Any]]


async def _profile(session: AsyncSession, person: Person) -> Any:
    return _row(person, "id", "first_name", "last_name", "email", "phone", "language", "notes", "created_at")


async def _positions(session: AsyncSession, person: Person) -> Any:
    rows = await session.execute(
        select(Position, Organisation.name)
        .join(Organisation, Organisation.id == Position.organisation_id)
        .where(Position.person_id == person.id)
        .order_by(Position.started_on.nulls_first())
    )
    return [{**_row(p, "title", "kind", "started_on", "ended_on"), "organisation": name} for p, name in rows]


async def _mandates(session: AsyncSession, person: Person) -> Any:
    rows = await session.execute(
        select(Mandate, Organisation.name)
        .join(Organisation, Organisation.id == Mandate.organisation_id)
        .where(Mandate.person_id == person.id)
        .order_by(Mandate.term_start)
    )
    return [{**_row(m, "role", "term_start", "term_end"), "organisation": name} for m, name in rows]


async def _subscriptions(session: AsyncSession, person: Person) -> Any:
    rows = await session.execute(
        select(Subscription, MailingList.name)
        .join(MailingList, MailingList.id == Subscription.list_id)
        .where(Subscription.person_id == person.id)
        .order_by(MailingList.name)
    )
    return [
        {
            "list": name,
            **_row(
                s,
                "status",
                "legal_basis",
                "source",
                "consent_text",
                "consent_version",
                "consented_at",
                "confirmed_at",
                "unsubscribed_at",
                "unsubscribe_reason",
            ),
        }
        for s, name in rows
    ]


async def _deliveries(session: AsyncSession, person: Person) -> Any:
    rows = await session.execute(
        select(Delivery, Campaign.name, Campaign.subject)
        .join(Campaign, Campaign.id == Delivery.campaign_id)
        .where(Delivery.person_id == person.id)
        .order_by(Delivery.created_at)
    )
    return [
        {"campaign": name, "subject": subject, **_row(d, "email", "status", "sent_at", "smtp_response")}
        for d, name, subject in rows
    ]


async def _bounces(session: AsyncSession, person: Person) -> Any:
    rows = await session.scalars(select(Bounce).where(Bounce.person_id == person.id).order_by(Bounce.received_at))
    return [_row(b, "kind", "status", "diagnostic", "received_at", "suppressed") for b in rows]


async def _event_answers(session: AsyncSession, person: Person) -> Any:
    rows = await session.execute(
        select(Invitation, Event.title, Event.starts_at)
        .join(Event, Event.id == Invitation.event_id)
        .where(Invitation.person_id == person.id)
        .order_by(Event.starts_at)
    )
    return [
        {"event": title, "starts_at": _plain(starts), **_row(i, "status", "with_guest", "answered_at", "checked_in_at")}
        for i, title, starts in rows
    ]


async def _tags(session: AsyncSession, person: Person) -> Any:
    names = await session.scalars(
        select(Tag.name)
        .join(Tagging, Tagging.tag_id == Tag.id)
        .where(Tagging.entity_type == "person", Tagging.entity_id == person.id)
        .order_by(Tag.name)
    )
    return list(names)


async def _suppression(session: AsyncSession, person: Person) -> Any:
    if not person.email:
        return None
    found = await session.scalar(select(Suppression).where(Suppression.email_hash == suppression_hash(person.email)))
    return _row(found, "reason", "created_at") if found else None


async def _own_record_ids(session: AsyncSession, person_id: UUID) -> list[UUID]:
    ids: list[UUID] = [person_id]
    for model in (Position, Mandate, Subscription, Invitation):
        ids += list(await session.scalars(select(model.id).where(model.person_id == person_id)))  # type: ignore[attr-defined]
    return ids


async def _audit_entries(session: AsyncSession, person: Person) -> Any:
    ids = await _own_record_ids(session, person.id)
    rows = await session.scalars(
        select(AuditEntry)
        .where(or_(AuditEntry.entity_id.in_(ids), AuditEntry.actor_id == person.id))
        .order_by(AuditEntry.occurred_at)
    )
    return [_row(a, "occurred_at", "actor_type", "action", "entity_type", "entity_id", "changes") for a in rows]


async def _questionnaire_answers(session: AsyncSession, person: Person) -> Any:
    """The questionnaires the person was asked to answer and the answers that name them. An
    anonymous answer names nobody (only a keyed hash of the link): it cannot be found, so it is not
    here, which is the anonymous mode's promise."""
    asked = await session.execute(
        select(QuestionnaireRecipient, Questionnaire.title)
        .join(Questionnaire, Questionnaire.id == QuestionnaireRecipient.questionnaire_id)
        .where(QuestionnaireRecipient.person_id == person.id)
        .order_by(Questionnaire.title)
    )
    responses = (
        await session.execute(
            select(QuestionnaireResponse, Questionnaire.title)
            .join(Questionnaire, Questionnaire.id == QuestionnaireResponse.questionnaire_id)
            .where(QuestionnaireResponse.person_id == person.id)
        )
    ).all()
    answers: dict[UUID, dict[str, Any]] = {r.id: {} for r, _ in responses}
    if answers:
        for a in await session.scalars(
            select(QuestionnaireAnswer).where(QuestionnaireAnswer.response_id.in_(list(answers)))
        ):
            answers[a.response_id][a.question_key] = a.value
    return [
        {"questionnaire": title, "asked_to_answer": True, "answered_on": _plain(r.answered_on)} for r, title in asked
    ] + [
        {"questionnaire": title, **_row(r, "status", "submitted_at"), "answers": answers[r.id]}
        for r, title in responses
    ]


# Each part of the export, in order: (key, French title of the summary, how it is read).
SECTIONS: list[tuple[str, str, Section]] = [
    ("profile", "Identité et coordonnées", _profile),
    ("positions", "Fonctions", _positions),
    ("mandates", "Mandats au conseil d’administration", _mandates),
    ("subscriptions", "Abonnements et preuves du consentement", _subscriptions),
    ("deliveries", "Messages envoyés", _deliveries),
    ("bounces", "Retours en erreur et plaintes", _bounces),
    ("event_answers", "Réponses aux invitations", _event_answers),
    ("questionnaire_answers", "Questionnaires et réponses", _questionnaire_answers),
    ("tags", "Étiquettes", _tags),
    ("suppression", "Liste d’exclusion", _suppression),
    ("audit_entries", "Journal d’audit", _audit_entries),
]


async def access_export(session: AsyncSession, person_id: UUID) -> dict[str, Any]:
    """Everything held about the person, as one document; the export itself is audited."""
    person = await _person(session, person_id)
    document: dict[str, Any] = {"exported_at": datetime.now(UTC).isoformat(), "person_id": str(person.id)}
    for key, _title, read in SECTIONS:
        document[key] = await read(session, person)
    record(session, "export", "person", person.id, what="access")
    return document


def summary_text(document: dict[str, Any]) -> str:
    """The same export, readable by the person (French): one heading per part, one line per item."""
    titles = {key: title for key, title, _ in SECTIONS}
    lines = ["Données personnelles détenues par l’association", f"Extraites le {document['exported_at']}", ""]
    for key, title in titles.items():
        value = document.get(key)
        lines += [title, "-" * len(title)]
        items = value if isinstance(value, list) else [value] if value else []
        if not items:
            lines.append("(rien)")
        for item in items:
            if isinstance(item, dict):
                lines.append(
                    " ; ".join(
                        f"{k} : {json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v}"
                        for k, v in item.items()
                        if v not in (None, "", [], {})
                    )
                )
            else:
                lines.append(str(item))
        lines.append("")
    return "\n".join(lines)


# ---- erasure (art. 17) ----------------------------------------------------------------------


async def _person(session: AsyncSession, person_id: UUID) -> Person:
    person = await session.get(Person, person_id)
    if person is None:
        raise ProblemError(404, "No person with this id")
    return person


@dataclass
class ErasureOutcome:
    person_id: UUID
    kept_mandates: int
    deleted_positions: int
    deleted_subscriptions: int
    anonymised_deliveries: int
    scrubbed_rows: int


def _scrub_values(person: Person) -> list[str]:
    values = [person.email, person.phone, person.notes, f"{person.first_name} {person.last_name}"]
    if person.phone:
        values.append(re.sub(r"\D", "", person.phone))
    return sorted({v for v in values if v and len(v.strip()) >= MIN_SCRUB_LENGTH}, key=len, reverse=True)


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _redacted(value: Any) -> Any:
    """Every text in a JSON value replaced, keys kept (what changed stays readable)."""
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return ERASED_TEXT if isinstance(value, str) else value


def _mentions(value: Any, values: Sequence[str]) -> bool:
    if isinstance(value, dict):
        return any(_mentions(v, values) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, values) for v in value)
    return isinstance(value, str) and any(v.lower() in value.lower() for v in values)


def _scrub_json(value: Any, values: Sequence[str]) -> Any:
    """A record (an import row, an audit entry's fields) that mentions an erased value is about
    the person: all its texts go, first name and the like included, not only the value found."""
    if isinstance(value, list):
        return [_scrub_json(v, values) for v in value]
    if isinstance(value, dict):
        return _redacted(value) if _mentions(value, values) else value
    return _replace_all(value, values) if isinstance(value, str) else value


def _replace_all(text_value: str, values: Sequence[str]) -> str:
    for value in values:
        text_value = re.sub(re.escape(value), ERASED_TEXT, text_value, flags=re.IGNORECASE)
    return text_value


async def scrub_free_text(session: AsyncSession, values: Sequence[str]) -> int:
    """Replaces the erased values wherever they were copied as text: an SMTP answer, a bounce's
    diagnostic, an import file's rows, the old values in the audit log. One scan per table."""
    if not values:
        return 0
    json_values = [json.dumps(v, ensure_ascii=False)[1:-1] for v in values]
    patterns = [_like(v) for v in {*values, *json_values}]
    changed = 0
    for table in metadata.sorted_tables:
        if table.name in NOT_SCANNED or table.name.startswith("ref_") or "id" not in table.c:
            continue
        columns = [
            c
            for c in table.columns
            if isinstance(c.type, String | Text | JSON | JSONB) and c.computed is None and not c.primary_key
        ]
        if not columns:
            continue
        where = " OR ".join(f'CAST("{c.name}" AS text) ILIKE ANY(:patterns)' for c in columns)
        names = ", ".join(f'"{c.name}"' for c in columns)
        rows = (
            await session.execute(text(f'SELECT id, {names} FROM "{table.name}" WHERE {where}'), {"patterns": patterns})
        ).all()
        for row in rows:
            values_now: dict[str, Any] = {}
            for column in columns:
                current = getattr(row, column.name)
                if current is None:
                    continue
                if isinstance(column.type, JSON | JSONB):
                    cleaned_json = _scrub_json(current, values)
                    if cleaned_json != current:
                        values_now[column.name] = cleaned_json
                elif isinstance(current, str):
                    cleaned = _replace_all(current, values)
                    if cleaned != current:
                        length = getattr(column.type, "length", None)
                        values_now[column.name] = cleaned[:length] if length else cleaned
            if values_now:
                await session.execute(update(table).where(table.c.id == row.id).values(**values_now))
                changed += 1
    return changed


async def erase(session: AsyncSession, person_id: UUID, reason: str, staff_id: UUID | None) -> ErasureOutcome:
    """Removes the person's data and keeps, anonymised, what the association must keep: a board
    seat stays as "a member of the board for <organisation>", a campaign's figures keep their
    deliveries (without the address), dues belong to organisations and are untouched. The address
    stays on the suppression list as a hash, marked "erased", so that no import brings it back."""
    person = await _person(session, person_id)
    if await session.scalar(select(Erasure.id).where(Erasure.person_id == person_id)):
        raise ProblemError(409, "This person was already erased")
    values = _scrub_values(person)
    if person.email:
        await suppress_erased(session, person.email)

    seats = (
        (
            await session.execute(
                select(Organisation.name)
                .join(Mandate, Mandate.organisation_id == Organisation.id)
                .where(Mandate.person_id == person_id)
                .order_by(Mandate.term_start.desc())
            )
        )
        .scalars()
        .all()
    )
    positions = list(await session.scalars(select(Position).where(Position.person_id == person_id)))
    for position in positions:
        await session.delete(position)
    subscriptions = list(await session.scalars(select(Subscription).where(Subscription.person_id == person_id)))
    for subscription in subscriptions:
        await session.delete(subscription)
    taggings = list(
        await session.scalars(select(Tagging).where(Tagging.entity_type == "person", Tagging.entity_id == person_id))
    )
    for tagging in taggings:
        await session.delete(tagging)
    # The person row stays (mandates, deliveries and answers point to it), with nothing personal.
    if seats:
        person.first_name, person.last_name = "Membre du conseil", f"pour {seats[0]}"[:100]
    else:
        person.first_name, person.last_name = "Personne", "effacée"
    person.email = person.phone = person.notes = None
    person.language = "fr"
    await session.flush()
    delivered = await session.execute(
        update(Delivery).where(Delivery.person_id == person_id).values(email="", smtp_response=None)
    )
    await session.execute(update(Bounce).where(Bounce.person_id == person_id).values(diagnostic=None))
    session.add(Erasure(person_id=person_id, erased_at=datetime.now(UTC), reason=reason, staff_id=staff_id))
    await session.flush()
    # Last, once every change above has its audit entry: those entries hold the old values too.
    # The entries about the person's own records are about them through and through.
    own = await _own_record_ids(session, person_id)
    own += [p.id for p in positions] + [s.id for s in subscriptions] + [t.id for t in taggings]
    for entry in await session.scalars(select(AuditEntry).where(AuditEntry.entity_id.in_(own))):
        if entry.changes:
            await session.execute(
                update(AuditEntry).where(AuditEntry.id == entry.id).values(changes=_redacted(entry.changes))
            )
    scrubbed = await scrub_free_text(session, values)
    record(session, "erase", "person", person_id, reason=reason)
    return ErasureOutcome(
        person_id=person_id,
        kept_mandates=len(seats),
        deleted_positions=len(positions),
        deleted_subscriptions=len(subscriptions),
        anonymised_deliveries=delivered.rowcount or 0,  # type: ignore[attr-defined]
        scrubbed_rows=scrubbed,
    )


# ---- retention ------------------------------------------------------------------------------


@dataclass
class Candidate:
    person_id: UUID
    first_name: str
    last_name: str
    last_contact: datetime


RETENTION_CANDIDATES = text(
    """
    SELECT p.id, p.first_name, p.last_name, c.last_contact FROM person p
    CROSS JOIN LATERAL (SELECT GREATEST(p.updated_at,
        (SELECT max(d.sent_at) FROM delivery d WHERE d.person_id = p.id),
        (SELECT max(i.answered_at) FROM invitation i WHERE i.person_id = p.id),
        (SELECT max(s.updated_at) FROM subscription s WHERE s.person_id = p.id)) AS last_contact) c
    WHERE c.last_contact < :before
      AND NOT EXISTS (SELECT 1 FROM erasure e WHERE e.person_id = p.id)
      -- a prospect: no current position, no mandate running, nothing subscribed to
      AND NOT EXISTS (SELECT 1 FROM position x WHERE x.person_id = p.id
                      AND (x.ended_on IS NULL OR x.ended_on > current_date))
      AND NOT EXISTS (SELECT 1 FROM mandate m WHERE m.person_id = p.id
                      AND (m.term_end IS NULL OR m.term_end >= current_date))
      AND NOT EXISTS (SELECT 1 FROM subscription s WHERE s.person_id = p.id AND s.status <> 'unsubscribed')
    ORDER BY c.last_contact, p.id
    LIMIT :limit OFFSET :offset
    """
)


async def retention_candidates(
    session: AsyncSession, settings: Settings, limit: int = 100, offset: int = 0
) -> list[Candidate]:
    """Who the retention rule would purge today (CNIL: prospects without contact for 3 years)."""
    before = datetime.now(UTC) - timedelta(days=settings.privacy.prospect_retention_days)
    rows = await session.execute(RETENTION_CANDIDATES, {"before": before, "limit": limit, "offset": offset})
    return [Candidate(r.id, r.first_name, r.last_name, r.last_contact) for r in rows]


@dataclass
class PurgeOutcome:
    erased: list[UUID]
    skipped: list[UUID]  # confirmed by staff but no longer due (contacted since, say)
    audit_entries_deleted: int


async def purge(
    session: AsyncSession, settings: Settings, confirmed: Iterable[UUID], staff_id: UUID | None
) -> PurgeOutcome:
    """Erases the people staff confirmed from the list, if they are still due; deletes the audit
    entries older than the audit log's own retention."""
    confirmed = list(dict.fromkeys(confirmed))
    due: set[UUID] = set()
    offset = 0
    while True:
        page = await retention_candidates(session, settings, 1000, offset)
        due.update(c.person_id for c in page)
        if len(page) < 1000:
            break
        offset += 1000
    erased, skipped = [], []
    for person_id in confirmed:
        if person_id in due:
            await erase(session, person_id, "retention", staff_id)
            erased.append(person_id)
        else:
            skipped.append(person_id)
    cutoff = datetime.now(UTC) - timedelta(days=settings.privacy.audit_retention_days)
    deleted = await session.execute(delete(AuditEntry).where(AuditEntry.occurred_at < cutoff))
    record(session, "purge", "person", None, erased=len(erased), audit_entries_deleted=deleted.rowcount)  # type: ignore[attr-defined]
    return PurgeOutcome(erased, skipped, deleted.rowcount or 0)  # type: ignore[attr-defined]
