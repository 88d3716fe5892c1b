"""The label's year (candidatures): opening a year creates its application questionnaire from the
previous year's and invites members and candidate non-members; applications go draft → submitted →
under review → decided; jurors (staff, or outsiders with a signed link) score the applications
assigned to them on the year's criteria; staff decide the level, which becomes the member's label
for the year (crm.domain.labels: the palmarès), and the result is e-mailed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import CursorResult, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.label import LabelAward
from crm.db.models.membership import Membership, MembershipStatus
from crm.db.models.organisation import Organisation
from crm.db.models.person import Position
from crm.db.models.questionnaire import (
    AnsweredBy,
    JuryAssignment,
    JuryMember,
    Questionnaire,
    QuestionnaireKind,
    QuestionnaireResponse,
    QuestionnaireStatus,
    ResponseStatus,
)
from crm.db.models.staff import Staff
from crm.db.models.system import SystemMessage, SystemMessageKind
from crm.domain.labels.results import GREEN_SINCE, LABELLED_KINDS
from crm.domain.questionnaires.schemas import JuryMemberCreate, OpenLabelYear, ScoreWrite
from crm.domain.questionnaires.services import QuestionnaireService, answers_of, invite
from crm.lib.problems import ProblemError, field_error, invalid

# The first year's application, when no previous year exists to copy.
FIRST_CONTENT: dict[str, Any] = {
    "sections": [
        {
            "title": "Votre collectivité",
            "questions": [
                {"key": "contact_name", "label": "Personne à contacter", "type": "short_text", "required": True},
                {"key": "strategy", "label": "Votre stratégie numérique en quelques lignes", "type": "long_text"},
            ],
        },
        {
            "title": "Vos actions",
            "questions": [
                {
                    "key": "actions",
                    "label": "Vos principales actions de l'année",
                    "type": "long_text",
                    "required": True,
                },
                {"key": "green", "label": "Menez-vous des actions de numérique responsable ?", "type": "yes_no"},
                {
                    "key": "green_actions",
                    "label": "Lesquelles ?",
                    "type": "long_text",
                    "show_if": {"question": "green", "equals": "oui"},
                },
            ],
        },
    ]
}
FIRST_CRITERIA = [
    {"key": "strategy", "label": "Stratégie", "max": 10},
    {"key": "services", "label": "Services aux habitants", "max": 10},
    {"key": "inclusion", "label": "Inclusion numérique", "max": 10},
    {"key": "sobriety", "label": "Sobriété numérique", "max": 10},
]


async def open_year(service: QuestionnaireService, data: OpenLabelYear) -> tuple[Questionnaire, int]:
    """The year's application, copied from last year's (questions and criteria), published and
    sent to the contacts of active members (communes and EPCI) and to the candidates named."""
    session = service.session
    if await session.scalar(select(Questionnaire.id).where(Questionnaire.label_year == data.year)):
        raise ProblemError(409, f"The {data.year} label is open already", errors=[field_error("year", "is open")])
    previous = await session.scalar(
        select(Questionnaire)
        .where(Questionnaire.label_year < data.year, Questionnaire.kind == QuestionnaireKind.LABEL_APPLICATION)
        .order_by(Questionnaire.label_year.desc())
        .limit(1)
    )
    questionnaire = Questionnaire(
        title=f"Label – candidature {data.year}",
        kind=QuestionnaireKind.LABEL_APPLICATION,
        answered_by=AnsweredBy.ORGANISATION,
        anonymous=False,
        content=previous.content if previous else FIRST_CONTENT,
        criteria=previous.criteria if previous else FIRST_CRITERIA,
        label_year=data.year,
        closes_at=data.closes_at,
        description=previous.description if previous else None,
        reminder_dates=[],
    )
    session.add(questionnaire)
    await session.flush()
    await service.publish(questionnaire.id)
    members = set(
        await session.scalars(
            select(Position.person_id)
            .join(Organisation, Organisation.id == Position.organisation_id)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(
                Position.ended_on.is_(None),
                Membership.status == MembershipStatus.ACTIVE,
                Organisation.kind.in_(LABELLED_KINDS),
            )
        )
    )
    invited = await invite(session, questionnaire, members | set(data.candidate_person_ids))
    return questionnaire, len(invited)


async def label_questionnaire(session: AsyncSession, questionnaire_id: UUID) -> Questionnaire:
    questionnaire = await session.get(Questionnaire, questionnaire_id)
    if questionnaire is None:
        raise ProblemError(404, "No such questionnaire")
    if questionnaire.kind != QuestionnaireKind.LABEL_APPLICATION:
        raise ProblemError(404, "No such label application: this questionnaire is a survey")
    return questionnaire


async def _application(session: AsyncSession, questionnaire_id: UUID, response_id: UUID) -> QuestionnaireResponse:
    response = await session.scalar(
        select(QuestionnaireResponse)
        .where(QuestionnaireResponse.id == response_id, QuestionnaireResponse.questionnaire_id == questionnaire_id)
        .with_for_update()
    )
    if response is None:
        raise ProblemError(404, "No such application")
    return response


async def add_juror(session: AsyncSession, questionnaire_id: UUID, data: JuryMemberCreate) -> JuryMember:
    """A juror and the applications assigned to them; an outsider gets their link by e-mail."""
    questionnaire = await label_questionnaire(session, questionnaire_id)
    if data.staff_id is not None:
        staff = await session.get(Staff, data.staff_id)
        if staff is None:
            raise invalid("staff_id", "no such staff account")
        juror = JuryMember(questionnaire_id=questionnaire.id, staff_id=staff.id, name=staff.name or staff.email)
    else:
        if not data.name or not data.email:
            raise ProblemError(
                422,
                "An outside juror needs a name and an e-mail",
                errors=[field_error(f, "is required") for f in ("name", "email") if not getattr(data, f)],
            )
        juror = JuryMember(questionnaire_id=questionnaire.id, name=data.name, email=data.email)
    session.add(juror)
    await session.flush()
    await assign(session, questionnaire.id, juror.id, data.response_ids)
    if juror.staff_id is None:
        session.add(
            SystemMessage(
                kind=SystemMessageKind.JURY_INVITATION,
                subject_id=juror.id,
                payload={
                    "email": juror.email,
                    "name": juror.name,
                    "title": f"Jury du label {questionnaire.label_year}",
                },
                next_attempt_at=datetime.now(UTC),
            )
        )
        await session.flush()
    return juror


async def assign(session: AsyncSession, questionnaire_id: UUID, juror_id: UUID, response_ids: list[UUID]) -> int:
    if not response_ids:
        return 0
    found = set(
        await session.scalars(
            select(QuestionnaireResponse.id).where(
                QuestionnaireResponse.questionnaire_id == questionnaire_id, QuestionnaireResponse.id.in_(response_ids)
            )
        )
    )
    unknown = [str(i) for i in response_ids if i not in found]
    if unknown:
        raise ProblemError(
            422,
            "Some applications are not of this label year",
            errors=[field_error(f"response_ids.{response_ids.index(UUID(u))}", "unknown application") for u in unknown],
        )
    now = datetime.now(UTC)
    result = await session.execute(
        pg_insert(JuryAssignment)
        .values(
            [
                {"jury_member_id": juror_id, "response_id": r, "scores": {}, "created_at": now, "updated_at": now}
                for r in found
            ]
        )
        .on_conflict_do_nothing(constraint="uq_jury_assignment")
    )
    return cast(CursorResult[Any], result).rowcount or 0


def _check_scores(questionnaire: Questionnaire, data: ScoreWrite) -> dict[str, int]:
    criteria = {c["key"]: c for c in questionnaire.criteria}
    marks: dict[str, int] = {}
    for i, mark in enumerate(data.scores):
        if mark.criterion not in criteria:
            raise invalid(f"scores.{i}.criterion", "is not one of this year's criteria")
        if mark.criterion in marks:
            raise invalid(f"scores.{i}.criterion", "is marked twice")
        if mark.points > criteria[mark.criterion]["max"]:
            raise invalid(f"scores.{i}.points", f"must be between 0 and {criteria[mark.criterion]['max']}")
        marks[mark.criterion] = mark.points
    return marks


async def assigned_applications(session: AsyncSession, juror_id: UUID) -> list[dict[str, Any]]:
    """What a juror's link shows: their applications only."""
    rows = await session.execute(
        select(QuestionnaireResponse, Organisation.name, JuryAssignment)
        .join(JuryAssignment, JuryAssignment.response_id == QuestionnaireResponse.id)
        .outerjoin(Organisation, Organisation.id == QuestionnaireResponse.organisation_id)
        .where(JuryAssignment.jury_member_id == juror_id)
        .order_by(Organisation.name)
    )
    return [
        {"id": r.id, "organisation": name, "status": r.status.value, "scores": a.scores, "comment": a.comment}
        for r, name, a in rows
    ]


async def juror_application(session: AsyncSession, juror_id: UUID, response_id: UUID) -> tuple[Any, ...]:
    """An application as its juror reads it; someone else's is unknown to them (404)."""
    row = (
        await session.execute(
            select(QuestionnaireResponse, JuryAssignment, JuryMember)
            .join(JuryAssignment, JuryAssignment.response_id == QuestionnaireResponse.id)
            .join(JuryMember, JuryMember.id == JuryAssignment.jury_member_id)
            .where(JuryAssignment.jury_member_id == juror_id, QuestionnaireResponse.id == response_id)
        )
    ).one_or_none()
    if row is None:
        raise ProblemError(404, "No such application among yours")
    response, assignment, juror = row
    return response, assignment, juror, await answers_of(session, response.id)


async def score(
    session: AsyncSession, juror_id: UUID, response_id: UUID, data: ScoreWrite, *, assigned_only: bool = True
) -> JuryAssignment:
    """A juror's marks and comment on an application (again: the last marks count). An outside
    juror scores only what was assigned; a staff juror may score any application of the year."""
    juror = await session.get(JuryMember, juror_id)
    if juror is None:
        raise ProblemError(404, "No such juror")
    questionnaire = await label_questionnaire(session, juror.questionnaire_id)
    assignment = await session.scalar(
        select(JuryAssignment).where(
            JuryAssignment.jury_member_id == juror_id, JuryAssignment.response_id == response_id
        )
    )
    if assignment is None:
        if assigned_only:
            raise ProblemError(404, "No such application among yours")
        await assign(session, questionnaire.id, juror_id, [response_id])
        assignment = await session.scalar(
            select(JuryAssignment).where(
                JuryAssignment.jury_member_id == juror_id, JuryAssignment.response_id == response_id
            )
        )
        assert assignment is not None
    response = await session.get(QuestionnaireResponse, response_id)
    if response is None or response.status in (ResponseStatus.DRAFT, ResponseStatus.DECIDED):
        raise ProblemError(
            409, "Only a submitted application not yet decided is scored", errors=[field_error("status", "not open")]
        )
    assignment.scores = _check_scores(questionnaire, data)
    assignment.comment = data.comment
    assignment.scored_at = datetime.now(UTC)
    if response.status == ResponseStatus.SUBMITTED:
        response.status = ResponseStatus.UNDER_REVIEW
    await session.flush()
    return assignment


async def staff_juror(session: AsyncSession, questionnaire_id: UUID, staff_id: UUID) -> UUID:
    juror = await session.scalar(
        select(JuryMember.id).where(JuryMember.questionnaire_id == questionnaire_id, JuryMember.staff_id == staff_id)
    )
    if juror is None:
        raise ProblemError(403, "You are not on this year's jury", code="not_a_juror")
    return juror


async def scoreboard(session: AsyncSession, questionnaire_id: UUID) -> dict[str, Any]:
    """Every application with each juror's marks side by side, their total and the average."""
    questionnaire = await label_questionnaire(session, questionnaire_id)
    jurors = (
        await session.scalars(
            select(JuryMember).where(JuryMember.questionnaire_id == questionnaire_id).order_by(JuryMember.name)
        )
    ).all()
    rows = await session.execute(
        select(QuestionnaireResponse, Organisation.name, Organisation.insee_code)
        .outerjoin(Organisation, Organisation.id == QuestionnaireResponse.organisation_id)
        .where(QuestionnaireResponse.questionnaire_id == questionnaire_id)
        .order_by(Organisation.name)
    )
    marks: dict[UUID, dict[UUID, JuryAssignment]] = {}
    for assignment in await session.scalars(
        select(JuryAssignment).join(JuryMember).where(JuryMember.questionnaire_id == questionnaire_id)
    ):
        marks.setdefault(assignment.response_id, {})[assignment.jury_member_id] = assignment
    items = []
    for response, name, insee in rows:
        scores = []
        for juror in jurors:
            a = marks.get(response.id, {}).get(juror.id)
            if a is not None:
                scores.append(
                    {
                        "juror_id": juror.id,
                        "juror": juror.name,
                        "scores": a.scores,
                        "total": sum(a.scores.values()),
                        "comment": a.comment,
                    }
                )
        totals: list[float] = [float(cast(float, s["total"])) for s in scores if s["scores"]]
        items.append(
            {
                "response_id": response.id,
                "organisation_id": response.organisation_id,
                "organisation": name,
                "insee_code": insee,
                "status": response.status.value,
                "scores": scores,
                "average": round(sum(totals) / len(totals), 2) if totals else None,
                "decided_level": response.decided_level,
                "decided_green": response.decided_green,
            }
        )
    return {"year": questionnaire.label_year, "criteria": questionnaire.criteria, "items": items}


async def decide(
    session: AsyncSession, questionnaire_id: UUID, response_id: UUID, level: int, green: bool
) -> QuestionnaireResponse:
    """The level decided becomes the member's label for the year (a second decision changes it),
    and the result is e-mailed to the person who began the application."""
    questionnaire = await label_questionnaire(session, questionnaire_id)
    year = questionnaire.label_year
    assert year is not None
    response = await _application(session, questionnaire_id, response_id)
    if response.status == ResponseStatus.DRAFT:
        raise ProblemError(409, "This application was never submitted", errors=[field_error("status", "draft")])
    if response.organisation_id is None:
        raise ProblemError(409, "This application names no member", errors=[field_error("organisation_id", "none")])
    if green and year < GREEN_SINCE:
        raise invalid("green", f'the green "@" exists only since {GREEN_SINCE}')
    response.status = ResponseStatus.DECIDED
    response.decided_level = level
    response.decided_green = green
    award = await session.scalar(
        select(LabelAward).where(LabelAward.organisation_id == response.organisation_id, LabelAward.year == year)
    )
    if award is None:
        session.add(LabelAward(organisation_id=response.organisation_id, year=year, level=level, green=green))
    else:
        award.level, award.green = level, green
    if response.person_id is not None:
        arobases = f"{level} @" + (" et l'@ verte" if green else "")
        session.add(
            SystemMessage(
                kind=SystemMessageKind.LABEL_RESULT,
                subject_id=response.id,
                payload={
                    "person_id": str(response.person_id),
                    "title": f"Résultat du label {year}",
                    "text": f"Le jury a rendu sa décision : votre collectivité obtient le label {year} "
                    f"avec {arobases}. Félicitations ! Le palmarès sera annoncé lors de la cérémonie.",
                },
                next_attempt_at=datetime.now(UTC),
            )
        )
    await session.flush()
    return response


async def labelled_people(session: AsyncSession, questionnaire_id: UUID) -> list[UUID]:
    """The contacts of the cities decided this year: whom to invite to the ceremony."""
    questionnaire = await label_questionnaire(session, questionnaire_id)
    if questionnaire.status == QuestionnaireStatus.DRAFT:
        return []
    return list(
        await session.scalars(
            select(Position.person_id)
            .join(QuestionnaireResponse, QuestionnaireResponse.organisation_id == Position.organisation_id)
            .where(
                QuestionnaireResponse.questionnaire_id == questionnaire_id,
                QuestionnaireResponse.status == ResponseStatus.DECIDED,
                Position.ended_on.is_(None),
            )
            .distinct()
        )
    )
