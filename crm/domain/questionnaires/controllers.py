"""The staff API of questionnaires (surveys and the label's applications): build, publish, send,
follow, results and export; the label year's jury, scores and decisions."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy import func, select

from crm.db.audit_listener import record
from crm.db.models.organisation import Organisation
from crm.db.models.publication import Publication, PublicationKind
from crm.db.models.questionnaire import Questionnaire, QuestionnaireFile, QuestionnaireResponse
from crm.domain.auth.guards import requires_admin, requires_editor, requires_viewer
from crm.domain.events.services import EventService
from crm.domain.providers import provide_questionnaire_service
from crm.domain.public.layout import public_content_changed
from crm.domain.questionnaires import label
from crm.domain.questionnaires.results import results, results_csv
from crm.domain.questionnaires.schemas import (
    Decision,
    JuryMemberCreate,
    OpenLabelYear,
    QuestionnaireCreate,
    QuestionnaireRead,
    QuestionnaireUpdate,
    ResponseRead,
    ScoreWrite,
    SendRequest,
)
from crm.domain.questionnaires.services import QuestionnaireService, answers_of
from crm.domain.system import mail as system_mail
from crm.lib.csv_safety import CSV_MEDIA_TYPE
from crm.lib.listing import ListQuery, list_query, page
from crm.lib.problems import ProblemError
from crm.lib.schemas import Page, Schema
from crm.lib.services import after_commit

SORTABLE = frozenset({"title", "created_at", "label_year"})


def _wake_mail(request: Request[Any, Any, Any], service: QuestionnaireService) -> None:
    redis = request.app.state.redis
    after_commit(service.session, lambda: system_mail.wake(redis))


def _staff_id(request: Request[Any, Any, Any]) -> UUID:
    return request.scope["auth"].staff_uuid


class CeremonyInvitation(Schema):
    event_id: UUID


class QuestionnaireController(Controller):
    path = "/api/v1/questionnaires"
    tags = ["Questionnaires"]
    guards = [requires_viewer]
    dependencies = {"questionnaire_service": provide_questionnaire_service, "listing": list_query(SORTABLE)}

    @get(
        "/",
        operation_id="listQuestionnaires",
        summary="List questionnaires",
        description="Surveys and label applications, newest first.",
    )
    async def list_questionnaires(
        self, questionnaire_service: NamedDependency[QuestionnaireService], listing: NamedDependency[ListQuery]
    ) -> Page[QuestionnaireRead]:
        conditions = []
        if listing.q:
            conditions.append(Questionnaire.title.ilike(f"%{listing.q}%"))
        items, total = await questionnaire_service.get_many_and_count(
            *listing.filters(SORTABLE, "-created_at"), *conditions
        )
        return Page[QuestionnaireRead](**page([QuestionnaireRead.model_validate(i) for i in items], total, listing))

    @post(
        "/",
        operation_id="createQuestionnaire",
        summary="Create a questionnaire",
        description="A draft: title, kind (survey or label_application with its label_year), answered_by (person "
        "or organisation: one answer per member, shared by colleagues), anonymous, content (sections of "
        "questions: short_text, long_text, single_choice, multiple_choice, scale, number, date, yes_no, file; "
        "required, help, show_if {question, equals}), closes_at, reminder_dates.",
        guards=[requires_editor],
    )
    async def create_questionnaire(
        self, data: JSONBody[QuestionnaireCreate], questionnaire_service: NamedDependency[QuestionnaireService]
    ) -> QuestionnaireRead:
        return QuestionnaireRead.model_validate(await questionnaire_service.build(data))

    @get(
        "/{questionnaire_id:uuid}",
        operation_id="getQuestionnaire",
        summary="One questionnaire",
        description="A questionnaire with the content being edited.",
    )
    async def get_questionnaire(
        self, questionnaire_id: FromPath[UUID], questionnaire_service: NamedDependency[QuestionnaireService]
    ) -> QuestionnaireRead:
        return QuestionnaireRead.model_validate(await questionnaire_service.get(questionnaire_id))

    @patch(
        "/{questionnaire_id:uuid}",
        operation_id="updateQuestionnaire",
        summary="Change a questionnaire",
        description="Changes the fields sent. Content changes take effect when published again (a new version); "
        "answers begun keep their version.",
        guards=[requires_editor],
    )
    async def update_questionnaire(
        self,
        questionnaire_id: FromPath[UUID],
        data: JSONBody[QuestionnaireUpdate],
        questionnaire_service: NamedDependency[QuestionnaireService],
    ) -> QuestionnaireRead:
        return QuestionnaireRead.model_validate(await questionnaire_service.change(questionnaire_id, data))

    @delete(
        "/{questionnaire_id:uuid}",
        operation_id="deleteQuestionnaire",
        summary="Delete a questionnaire",
        description="Deletes it with its answers.",
        guards=[requires_admin],
    )
    async def delete_questionnaire(
        self, questionnaire_id: FromPath[UUID], questionnaire_service: NamedDependency[QuestionnaireService]
    ) -> None:
        await questionnaire_service.delete(questionnaire_id)

    @post(
        "/{questionnaire_id:uuid}/publish",
        operation_id="publishQuestionnaire",
        summary="Publish a questionnaire",
        description="Freezes the content as the next version and opens the questionnaire to answers.",
        guards=[requires_editor],
        status_code=200,
    )
    async def publish(
        self, questionnaire_id: FromPath[UUID], questionnaire_service: NamedDependency[QuestionnaireService]
    ) -> QuestionnaireRead:
        return QuestionnaireRead.model_validate(await questionnaire_service.publish(questionnaire_id))

    @post(
        "/{questionnaire_id:uuid}/close",
        operation_id="closeQuestionnaire",
        summary="Close a questionnaire",
        description="Answers are refused from now on.",
        guards=[requires_editor],
        status_code=200,
    )
    async def close(
        self, questionnaire_id: FromPath[UUID], questionnaire_service: NamedDependency[QuestionnaireService]
    ) -> QuestionnaireRead:
        return QuestionnaireRead.model_validate(await questionnaire_service.close(questionnaire_id))

    @post(
        "/{questionnaire_id:uuid}/send",
        operation_id="sendQuestionnaire",
        summary="Send a questionnaire",
        description="Invites a segment, a list's subscribers and chosen people, each once, through the sending "
        "engine; each gets a signed link to the answer page.",
        guards=[requires_editor],
        status_code=202,
    )
    async def send(
        self,
        request: Request[Any, Any, Any],
        questionnaire_id: FromPath[UUID],
        data: JSONBody[SendRequest],
        questionnaire_service: NamedDependency[QuestionnaireService],
    ) -> dict[str, Any]:
        outcome = await questionnaire_service.send(questionnaire_id, data)
        _wake_mail(request, questionnaire_service)
        return outcome

    @get(
        "/{questionnaire_id:uuid}/figures",
        operation_id="questionnaireFigures",
        summary="Who answered",
        description="Asked, answered, and answers by status.",
    )
    async def figures(
        self, questionnaire_id: FromPath[UUID], questionnaire_service: NamedDependency[QuestionnaireService]
    ) -> dict[str, int]:
        await questionnaire_service.get(questionnaire_id)
        return await questionnaire_service.figures(questionnaire_id)

    @get(
        "/{questionnaire_id:uuid}/responses",
        operation_id="listQuestionnaireResponses",
        summary="The answers",
        description="Answers with their status; for an anonymous questionnaire, never who gave them.",
    )
    async def responses(
        self,
        questionnaire_id: FromPath[UUID],
        questionnaire_service: NamedDependency[QuestionnaireService],
        listing: NamedDependency[ListQuery],
    ) -> Page[ResponseRead]:
        await questionnaire_service.get(questionnaire_id)
        session = questionnaire_service.session
        base = (
            select(QuestionnaireResponse, Organisation.name)
            .outerjoin(Organisation, Organisation.id == QuestionnaireResponse.organisation_id)
            .where(QuestionnaireResponse.questionnaire_id == questionnaire_id)
        )
        rows = (
            await session.execute(
                base.order_by(QuestionnaireResponse.created_at).limit(listing.limit).offset(listing.offset)
            )
        ).all()
        total = await session.scalar(
            select(func.count()).where(QuestionnaireResponse.questionnaire_id == questionnaire_id)
        )
        items = [
            ResponseRead.model_validate(response).model_copy(
                update={"organisation_name": name, "answers": await answers_of(session, response.id)}
            )
            for response, name in rows
        ]
        return Page[ResponseRead](**page(items, total or 0, listing))

    @get(
        "/{questionnaire_id:uuid}/files/{file_id:uuid}",
        operation_id="downloadQuestionnaireFile",
        summary="A file attached to an answer",
        description="The file as sent (an answer's value names its `file_id`), as an attachment.",
        media_type="application/octet-stream",
    )
    async def download_file(
        self,
        questionnaire_id: FromPath[UUID],
        file_id: FromPath[UUID],
        questionnaire_service: NamedDependency[QuestionnaireService],
    ) -> Response[bytes]:
        stored = await questionnaire_service.session.scalar(
            select(QuestionnaireFile)
            .join(QuestionnaireResponse, QuestionnaireResponse.id == QuestionnaireFile.response_id)
            .where(QuestionnaireFile.id == file_id, QuestionnaireResponse.questionnaire_id == questionnaire_id)
        )
        if stored is None:
            raise ProblemError(404, "No such file in this questionnaire's answers")
        # Sent as a download, never rendered here: its type is what the sender's browser said.
        safe_name = "".join(c for c in stored.filename if c.isalnum() or c in "._- ")[:100] or "fichier"
        return Response(
            stored.data,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{safe_name}"'},
        )

    @get(
        "/{questionnaire_id:uuid}/results",
        operation_id="questionnaireResults",
        summary="Live results",
        description="Per question: counts and percentages, distributions by région and population band, free "
        "texts listed; from submitted answers.",
    )
    async def get_results(
        self, questionnaire_id: FromPath[UUID], questionnaire_service: NamedDependency[QuestionnaireService]
    ) -> dict[str, Any]:
        return await results(questionnaire_service.session, await questionnaire_service.get(questionnaire_id))

    @get(
        "/{questionnaire_id:uuid}/results.csv",
        operation_id="exportQuestionnaireResults",
        summary="Answers as CSV",
        description="One row per submitted answer, one column per question (UTF-8 with BOM, semicolons).",
        media_type=CSV_MEDIA_TYPE,
    )
    async def export(
        self, questionnaire_id: FromPath[UUID], questionnaire_service: NamedDependency[QuestionnaireService]
    ) -> Response[bytes]:
        questionnaire = await questionnaire_service.get(questionnaire_id)
        data = await results_csv(questionnaire_service.session, questionnaire)
        record(questionnaire_service.session, "export", "questionnaire", questionnaire.id)
        return Response(
            data,
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="questionnaire-{questionnaire.id}.csv"'},
        )

    @post(
        "/{questionnaire_id:uuid}/results/publish",
        operation_id="publishQuestionnaireResults",
        summary="Publish the results in the archive",
        description="Makes the results page public (/resultats/<id>) and lists it in the archive as a "
        "publication of kind survey_results.",
        guards=[requires_editor],
        status_code=201,
    )
    async def publish_results(
        self,
        request: Request[Any, Any, Any],
        questionnaire_id: FromPath[UUID],
        questionnaire_service: NamedDependency[QuestionnaireService],
    ) -> dict[str, Any]:
        questionnaire = await questionnaire_service.get(questionnaire_id)
        questionnaire.results_public = True
        url = f"{request.app.state.settings.public_url}/resultats/{questionnaire.id}"
        publication = Publication(
            title=f"Résultats : {questionnaire.title}",
            kind=PublicationKind.SURVEY_RESULTS,
            published_on=date.today(),
            url=url,
            is_public=True,
        )
        questionnaire_service.session.add(publication)
        await questionnaire_service.session.flush()
        redis = request.app.state.redis
        after_commit(questionnaire_service.session, lambda: public_content_changed(redis))
        return {"publication_id": publication.id, "url": url}

    # ---- the label's year ----------------------------------------------------------------------

    @post(
        "/label-years",
        operation_id="openLabelYear",
        summary="Open a label year",
        description="Creates the year's application from the previous year's (questions and criteria), publishes "
        "it and invites the contacts of active member communes and EPCI and the candidates named.",
        guards=[requires_editor],
        status_code=201,
    )
    async def open_label_year(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[OpenLabelYear],
        questionnaire_service: NamedDependency[QuestionnaireService],
    ) -> dict[str, Any]:
        questionnaire, invited = await label.open_year(questionnaire_service, data)
        _wake_mail(request, questionnaire_service)
        return {"questionnaire": QuestionnaireRead.model_validate(questionnaire), "invited": invited}

    @post(
        "/{questionnaire_id:uuid}/jury",
        operation_id="addJuror",
        summary="Add a juror",
        description="A staff account (staff_id) or an outsider (name, email: they get a signed link to their "
        "applications only), with the applications assigned.",
        guards=[requires_editor],
        status_code=201,
    )
    async def add_juror(
        self,
        request: Request[Any, Any, Any],
        questionnaire_id: FromPath[UUID],
        data: JSONBody[JuryMemberCreate],
        questionnaire_service: NamedDependency[QuestionnaireService],
    ) -> dict[str, Any]:
        juror = await label.add_juror(questionnaire_service.session, questionnaire_id, data)
        _wake_mail(request, questionnaire_service)
        return {"id": juror.id, "name": juror.name, "staff_id": juror.staff_id}

    @get(
        "/{questionnaire_id:uuid}/scores",
        operation_id="labelScoreboard",
        summary="Scores side by side",
        description="Every application with each juror's marks, totals, the average and the decision.",
    )
    async def scores(
        self, questionnaire_id: FromPath[UUID], questionnaire_service: NamedDependency[QuestionnaireService]
    ) -> dict[str, Any]:
        return await label.scoreboard(questionnaire_service.session, questionnaire_id)

    @post(
        "/{questionnaire_id:uuid}/responses/{response_id:uuid}/scores",
        operation_id="scoreApplication",
        summary="Score an application (staff juror)",
        description="The signed-in staff member's marks on the year's criteria and comment; they must be on the "
        "year's jury.",
        status_code=200,
    )
    async def score(
        self,
        request: Request[Any, Any, Any],
        questionnaire_id: FromPath[UUID],
        response_id: FromPath[UUID],
        data: JSONBody[ScoreWrite],
        questionnaire_service: NamedDependency[QuestionnaireService],
    ) -> dict[str, Any]:
        session = questionnaire_service.session
        juror_id = await label.staff_juror(session, questionnaire_id, _staff_id(request))
        assignment = await label.score(session, juror_id, response_id, data, assigned_only=False)
        return {"scores": assignment.scores, "comment": assignment.comment}

    @post(
        "/{questionnaire_id:uuid}/responses/{response_id:uuid}/decision",
        operation_id="decideApplication",
        summary="Decide an application",
        description='The level (1 to 5 "@") and the green "@": becomes the member\'s label for the year (the '
        "palmarès) and the result is e-mailed.",
        guards=[requires_editor],
        status_code=200,
    )
    async def decide(
        self,
        request: Request[Any, Any, Any],
        questionnaire_id: FromPath[UUID],
        response_id: FromPath[UUID],
        data: JSONBody[Decision],
        questionnaire_service: NamedDependency[QuestionnaireService],
    ) -> ResponseRead:
        response = await label.decide(
            questionnaire_service.session, questionnaire_id, response_id, data.level, data.green
        )
        _wake_mail(request, questionnaire_service)
        redis = request.app.state.redis
        after_commit(questionnaire_service.session, lambda: public_content_changed(redis))
        return ResponseRead.model_validate(response)

    @post(
        "/{questionnaire_id:uuid}/ceremony",
        operation_id="inviteLabelledToCeremony",
        summary="Invite the labelled cities to the ceremony",
        description="Invites the contacts of every city decided this year to the event named.",
        guards=[requires_editor],
        status_code=200,
    )
    async def ceremony(
        self,
        request: Request[Any, Any, Any],
        questionnaire_id: FromPath[UUID],
        data: JSONBody[CeremonyInvitation],
        questionnaire_service: NamedDependency[QuestionnaireService],
    ) -> dict[str, Any]:
        from crm.domain.events.queue import enqueue_notifications

        session = questionnaire_service.session
        people = await label.labelled_people(session, questionnaire_id)
        outcome = await EventService(session=session).invite_many(
            data.event_id, segment_id=None, person_ids=people, emails=[]
        )
        redis = request.app.state.redis
        after_commit(session, lambda: enqueue_notifications(redis))
        return outcome
