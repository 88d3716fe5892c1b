"""Questionnaires: building and publishing (frozen versions), sending to a segment, a list or
chosen people, answering from a signed link (drafts saved question by question, submission,
closing), reminders. Messages go through the outbox as system mail (crm.domain.system.mail)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import any_, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm.config import Settings
from crm.db.audit_listener import record
from crm.db.models.lists import Subscription, SubscriptionStatus
from crm.db.models.organisation import Organisation
from crm.db.models.person import Person, Position
from crm.db.models.questionnaire import (
    AnsweredBy,
    Questionnaire,
    QuestionnaireAnswer,
    QuestionnaireKind,
    QuestionnaireRecipient,
    QuestionnaireResponse,
    QuestionnaireStatus,
    QuestionnaireVersion,
    ResponseStatus,
)
from crm.db.models.system import SystemMessage, SystemMessageKind
from crm.domain.questionnaires.content import Content, Question, check_answer, missing_required, shown_text
from crm.domain.questionnaires.schemas import QuestionnaireCreate, QuestionnaireUpdate, SendRequest
from crm.lib.links import respondent_key
from crm.lib.problems import ProblemError, field_error, invalid
from crm.lib.services import Service

# Population bands of the results (the usual French thresholds for communes).
BANDS = ((3_500, "< 3 500"), (20_000, "3 500 – 20 000"), (100_000, "20 000 – 100 000"))
LAST_BAND = "≥ 100 000"


def population_band(population: int | None) -> str | None:
    if population is None:
        return None
    for ceiling, name in BANDS:
        if population < ceiling:
            return name
    return LAST_BAND


def parse_content(raw: Any, field: str = "content") -> Content:
    try:
        return Content.model_validate(raw or {})
    except ValidationError as exc:
        errors = [
            field_error(".".join([field, *(str(p) for p in e["loc"])]), e["msg"].removeprefix("Value error, "))
            for e in exc.errors()
        ]
        raise ProblemError(422, "The questionnaire's content is not valid", errors=errors) from exc


def refuse_unless_open(questionnaire: Questionnaire) -> None:
    if questionnaire.status != QuestionnaireStatus.OPEN:
        closed = questionnaire.status == QuestionnaireStatus.CLOSED
        raise ProblemError(
            409,
            "This questionnaire is closed: answers are no longer taken"
            if closed
            else "This questionnaire is not published yet",
            errors=[field_error("status", questionnaire.status.value)],
            code="questionnaire_closed" if closed else "questionnaire_not_open",
        )
    if questionnaire.closes_at is not None and questionnaire.closes_at <= datetime.now(UTC):
        raise ProblemError(
            409,
            "This questionnaire is closed: answers are no longer taken",
            errors=[field_error("closes_at", "is past")],
            code="questionnaire_closed",
        )


class QuestionnaireService(Service[Questionnaire]):
    async def build(self, data: QuestionnaireCreate) -> Questionnaire:
        values = data.model_dump()
        values["content"] = parse_content(values.get("content")).model_dump(exclude_none=True)
        if data.kind == QuestionnaireKind.LABEL_APPLICATION and data.label_year is None:
            raise invalid("label_year", "a label application needs its year")
        return await self.create(Questionnaire(**values))

    async def change(self, questionnaire_id: UUID, data: QuestionnaireUpdate) -> Questionnaire:
        questionnaire = await self.get(questionnaire_id)
        changes = data.model_dump(exclude_unset=True)
        if "content" in changes:
            changes["content"] = parse_content(changes["content"]).model_dump(exclude_none=True)
        fixed = questionnaire.current_version is not None
        if fixed and "anonymous" in changes and changes["anonymous"] != questionnaire.anonymous:
            raise ProblemError(
                409, "Anonymity cannot change once published", errors=[field_error("anonymous", "is fixed")]
            )
        self.apply(questionnaire, changes, required=("title", "content"))
        return await self.update(questionnaire)

    async def publish(self, questionnaire_id: UUID) -> Questionnaire:
        """Freezes the content as the next version and opens the questionnaire; answers already
        begun keep the version they answered."""
        questionnaire = await self._locked(questionnaire_id)
        content = parse_content(questionnaire.content)
        if not content.questions():
            raise invalid("content", "a questionnaire needs at least one question to be published")
        number = (questionnaire.current_version or 0) + 1
        self.session.add(
            QuestionnaireVersion(
                questionnaire_id=questionnaire.id, number=number, content=content.model_dump(exclude_none=True)
            )
        )
        questionnaire.current_version = number
        questionnaire.status = QuestionnaireStatus.OPEN
        await self.session.flush()
        return questionnaire

    async def close(self, questionnaire_id: UUID) -> Questionnaire:
        questionnaire = await self._locked(questionnaire_id)
        questionnaire.status = QuestionnaireStatus.CLOSED
        await self.session.flush()
        return questionnaire

    async def _locked(self, questionnaire_id: UUID) -> Questionnaire:
        questionnaire = await self.session.scalar(
            select(Questionnaire).where(Questionnaire.id == questionnaire_id).with_for_update()
        )
        if questionnaire is None:
            raise ProblemError(404, "No such questionnaire")
        return questionnaire

    async def send(self, questionnaire_id: UUID, data: SendRequest) -> dict[str, Any]:
        """Asks a segment, a list's subscribers and chosen people; each gets an invitation e-mail
        with their own link, once (people already asked are left alone). The caller commits, then
        wakes the system mail."""
        from crm.domain.lists.services import resolve_people

        questionnaire = await self._locked(questionnaire_id)
        refuse_unless_open(questionnaire)
        found = await resolve_people(self.session, data.segment_id, list(data.person_ids), [])
        wanted = set(found.ids)
        if data.list_id is not None:
            wanted.update(
                await self.session.scalars(
                    select(Subscription.person_id).where(
                        Subscription.list_id == data.list_id, Subscription.status == SubscriptionStatus.SUBSCRIBED
                    )
                )
            )
        invited = await invite(self.session, questionnaire, wanted)
        record(
            self.session,
            "send",
            "questionnaire",
            questionnaire.id,
            segment_id=data.segment_id,
            list_id=data.list_id,
            people_given=len(data.person_ids),
            invited=len(invited),
        )
        return {"invited": len(invited), "already": len(wanted) - len(invited), "unknown_person_ids": found.unknown_ids}

    async def figures(self, questionnaire_id: UUID) -> dict[str, int]:
        asked = await self.session.scalar(
            select(func.count()).where(QuestionnaireRecipient.questionnaire_id == questionnaire_id)
        )
        answered = await self.session.scalar(
            select(func.count()).where(
                QuestionnaireRecipient.questionnaire_id == questionnaire_id,
                QuestionnaireRecipient.answered_on.is_not(None),
            )
        )
        by_status = dict(
            (
                await self.session.execute(
                    select(QuestionnaireResponse.status, func.count())
                    .where(QuestionnaireResponse.questionnaire_id == questionnaire_id)
                    .group_by(QuestionnaireResponse.status)
                )
            ).all()
        )
        return {"asked": asked or 0, "answered": answered or 0} | {s.value: by_status.get(s, 0) for s in ResponseStatus}


async def invite(session: AsyncSession, questionnaire: Questionnaire, person_ids: set[UUID]) -> list[UUID]:
    """Recipient rows and their invitation messages, in one statement each; returns the new recipients."""
    if not person_ids:
        return []
    now = datetime.now(UTC)
    # The member a person answers for: their current position's organisation (the earliest started).
    organisation = (
        select(Position.organisation_id)
        .where(Position.person_id == Person.id, Position.ended_on.is_(None))
        .order_by(Position.started_on.asc().nulls_last(), Position.id)
        .limit(1)
        .scalar_subquery()
    )
    rows = select(
        func.gen_random_uuid(),
        literal(questionnaire.id),
        Person.id,
        organisation,
        literal(now),
        literal(now),
    ).where(Person.id.in_(person_ids), Person.email.is_not(None))
    result = await session.execute(
        pg_insert(QuestionnaireRecipient)
        .from_select(["id", "questionnaire_id", "person_id", "organisation_id", "created_at", "updated_at"], rows)
        .on_conflict_do_nothing(constraint="uq_questionnaire_recipient_person")
        .returning(QuestionnaireRecipient.id, QuestionnaireRecipient.person_id)
    )
    created = result.all()
    if created:
        await session.execute(
            pg_insert(SystemMessage),
            [
                {
                    "kind": SystemMessageKind.QUESTIONNAIRE_INVITATION,
                    "subject_id": row.id,
                    "payload": {"person_id": str(row.person_id)},
                    "next_attempt_at": now,
                }
                for row in created
            ],
        )
    return [row.id for row in created]


# ---- answering (public pages) -----------------------------------------------------------------


async def version_content(session: AsyncSession, questionnaire_id: UUID, number: int) -> Content:
    raw = await session.scalar(
        select(QuestionnaireVersion.content).where(
            QuestionnaireVersion.questionnaire_id == questionnaire_id, QuestionnaireVersion.number == number
        )
    )
    return Content.model_validate(raw or {})


async def respondent(
    session: AsyncSession,
    settings: Settings,
    questionnaire: Questionnaire,
    person_id: UUID,
    organisation_id: UUID | None,
) -> QuestionnaireResponse:
    """The answer this link continues, begun on first use (a person's own, or their member's
    shared with colleagues). Two first uses at once make one answer (the unique key)."""
    per_member = questionnaire.answered_by == AnsweredBy.ORGANISATION
    if per_member and organisation_id is None:
        raise ProblemError(409, "This link does not name a member", errors=[field_error("organisation_id", "missing")])
    key = respondent_key(
        settings,
        questionnaire.id,
        organisation_id if per_member else person_id,  # type: ignore[arg-type]
        anonymous=questionnaire.anonymous,
        per_member=per_member,
    )
    found = await session.scalar(
        select(QuestionnaireResponse).where(
            QuestionnaireResponse.questionnaire_id == questionnaire.id, QuestionnaireResponse.respondent_key == key
        )
    )
    if found is not None:
        return found
    refuse_unless_open(questionnaire)
    org = await session.get(Organisation, organisation_id) if organisation_id else None
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "questionnaire_id": questionnaire.id,
        "version": questionnaire.current_version,
        "respondent_key": key,
        "region_code": org.region_code if org else None,
        "population_band": population_band(org.population) if org else None,
        "status": ResponseStatus.DRAFT,
        "created_at": now,
        "updated_at": now,
    }
    if not questionnaire.anonymous:
        values |= {"person_id": person_id, "organisation_id": organisation_id}
    await session.execute(
        pg_insert(QuestionnaireResponse)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_questionnaire_response_respondent")
    )
    response = await session.scalar(
        select(QuestionnaireResponse)
        .where(QuestionnaireResponse.questionnaire_id == questionnaire.id, QuestionnaireResponse.respondent_key == key)
        .execution_options(populate_existing=True)
    )
    assert response is not None
    return response


def refuse_unless_draft(response: QuestionnaireResponse) -> None:
    if response.status != ResponseStatus.DRAFT:
        raise ProblemError(
            409, "This answer has been submitted already", errors=[field_error("status", response.status.value)]
        )


async def answers_of(session: AsyncSession, response_id: UUID) -> dict[str, Any]:
    rows = await session.execute(
        select(QuestionnaireAnswer.question_key, QuestionnaireAnswer.value).where(
            QuestionnaireAnswer.response_id == response_id
        )
    )
    return {key: value for key, value in rows}


async def save_answer(session: AsyncSession, response: QuestionnaireResponse, question: Question, value: Any) -> Any:
    """One question's answer, on its own: the last write to a question wins, and the others are
    untouched (two colleagues typing in different questions both keep what they typed)."""
    stored = check_answer(question, value, f"answers.{question.key}")
    await upsert_answer(session, response.id, question.key, stored)
    return stored


async def upsert_answer(session: AsyncSession, response_id: UUID, key: str, stored: Any) -> None:
    if stored is None:
        await session.execute(
            delete(QuestionnaireAnswer).where(
                QuestionnaireAnswer.response_id == response_id, QuestionnaireAnswer.question_key == key
            )
        )
        return
    now = datetime.now(UTC)
    statement = pg_insert(QuestionnaireAnswer).values(
        response_id=response_id, question_key=key, value=stored, created_at=now, updated_at=now
    )
    await session.execute(
        statement.on_conflict_do_update(
            constraint="uq_questionnaire_answer_question",
            set_={"value": statement.excluded.value, "updated_at": now},
        )
    )


async def submit(
    session: AsyncSession, questionnaire: Questionnaire, response_id: UUID, person_id: UUID
) -> QuestionnaireResponse:
    """Submits the answer once (a colleague's second submit is refused), marks everyone it counts
    for as having answered, and queues the copy of the answers for the person who submitted."""
    refuse_unless_open(questionnaire)
    response = await session.scalar(
        select(QuestionnaireResponse)
        .where(QuestionnaireResponse.id == response_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert response is not None
    refuse_unless_draft(response)
    content = await version_content(session, questionnaire.id, response.version)
    answers = await answers_of(session, response.id)
    missing = missing_required(content, answers)
    if missing:
        raise ProblemError(422, "Some required questions have no answer", errors=missing, code="answers_missing")
    now = datetime.now(UTC)
    response.status = ResponseStatus.SUBMITTED
    response.submitted_at = now
    await mark_answered(session, questionnaire, person_id, now.date())
    copy = [[q.label, shown_text(q, answers.get(q.key))] for q in content.questions() if content.shown(q, answers)]
    session.add(
        SystemMessage(
            kind=SystemMessageKind.QUESTIONNAIRE_RECEIPT,
            # Anonymous: the copy names no answer id, only the questionnaire.
            subject_id=questionnaire.id if questionnaire.anonymous else response.id,
            payload={"person_id": str(person_id), "title": questionnaire.title, "answers": copy},
            next_attempt_at=now,
        )
    )
    await session.flush()
    return response


async def mark_answered(session: AsyncSession, questionnaire: Questionnaire, person_id: UUID, day: date) -> None:
    recipient = await session.scalar(
        select(QuestionnaireRecipient).where(
            QuestionnaireRecipient.questionnaire_id == questionnaire.id, QuestionnaireRecipient.person_id == person_id
        )
    )
    condition = QuestionnaireRecipient.person_id == person_id
    if questionnaire.answered_by == AnsweredBy.ORGANISATION and recipient and recipient.organisation_id:
        condition = QuestionnaireRecipient.organisation_id == recipient.organisation_id
    await session.execute(
        update(QuestionnaireRecipient)
        .where(QuestionnaireRecipient.questionnaire_id == questionnaire.id, condition)
        .values(answered_on=day)
    )


async def queue_reminders(session: AsyncSession, today: date) -> int:
    """Once on each chosen day, a reminder to each person asked who has not answered an open
    questionnaire. Safe to run many times a day (the day is recorded on the recipient)."""
    now = datetime.now(UTC)
    due = (
        select(QuestionnaireRecipient.id, QuestionnaireRecipient.person_id)
        .join(Questionnaire, Questionnaire.id == QuestionnaireRecipient.questionnaire_id)
        .where(
            Questionnaire.status == QuestionnaireStatus.OPEN,
            literal(today) == any_(Questionnaire.reminder_dates),
            (Questionnaire.closes_at.is_(None)) | (Questionnaire.closes_at > now),
            QuestionnaireRecipient.answered_on.is_(None),
            ~(literal(today) == any_(QuestionnaireRecipient.reminded_on)),
        )
        .with_for_update(of=QuestionnaireRecipient, skip_locked=True)
    )
    rows = (await session.execute(due)).all()
    if not rows:
        return 0
    await session.execute(
        update(QuestionnaireRecipient)
        .where(QuestionnaireRecipient.id.in_([r.id for r in rows]))
        .values(reminded_on=func.array_append(QuestionnaireRecipient.reminded_on, today))
    )
    await session.execute(
        pg_insert(SystemMessage),
        [
            {
                "kind": SystemMessageKind.QUESTIONNAIRE_REMINDER,
                "subject_id": r.id,
                "payload": {"person_id": str(r.person_id)},
                "next_attempt_at": now,
            }
            for r in rows
        ],
    )
    return len(rows)
