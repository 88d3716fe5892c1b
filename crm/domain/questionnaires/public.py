"""The public pages of questionnaires, reached by signed links (no account): the answer page,
whose every question is saved as it is typed (one question per write: the last write to a question
wins, colleagues of a member continue the same answer); the jury's page, limited to the applications
assigned to its juror; and the published results of a survey."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.organisation import Organisation
from crm.db.models.questionnaire import (
    AnsweredBy,
    JuryMember,
    Questionnaire,
    QuestionnaireFile,
    QuestionnaireResponse,
    QuestionnaireStatus,
    ResponseStatus,
)
from crm.domain.public.layout import PublicPages, SignedLink, as_contact, message, page, signed_link
from crm.domain.questionnaires import label
from crm.domain.questionnaires.content import Content
from crm.domain.questionnaires.results import results
from crm.domain.questionnaires.schemas import ScoreWrite
from crm.domain.questionnaires.services import (
    answers_of,
    refuse_unless_draft,
    refuse_unless_open,
    respondent,
    save_answer,
    submit,
    upsert_answer,
    version_content,
)
from crm.domain.system import mail as system_mail
from crm.lib import frenchdates
from crm.lib.links import JURY, JURY_MAX_AGE, QUESTIONNAIRE, QUESTIONNAIRE_MAX_AGE, respondent_key
from crm.lib.problems import ProblemError, field_error

AFTER = "Utilisez le lien du message d’invitation le plus récent."
ANSWER_LINK = {"link": signed_link(QUESTIONNAIRE, QUESTIONNAIRE_MAX_AGE, after=AFTER)}
JURY_LINK = {"link": signed_link(JURY, JURY_MAX_AGE)}


async def _linked(session: AsyncSession, link: SignedLink) -> tuple[Questionnaire, UUID, UUID | None]:
    questionnaire = await session.get(Questionnaire, link.uuid("questionnaire_id"))
    if questionnaire is None:
        raise link.gone()
    return questionnaire, link.uuid("person_id"), link.optional_uuid("organisation_id")


async def _existing(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    questionnaire: Questionnaire,
    person_id: UUID,
    org: UUID | None,
) -> QuestionnaireResponse | None:
    """The answer this link continues, if begun (a GET begins nothing)."""
    per_member = questionnaire.answered_by == AnsweredBy.ORGANISATION
    subject = org if per_member else person_id
    if subject is None:
        return None
    key = respondent_key(
        request.app.state.settings, questionnaire.id, subject, anonymous=questionnaire.anonymous, per_member=per_member
    )
    return await session.scalar(
        select(QuestionnaireResponse).where(
            QuestionnaireResponse.questionnaire_id == questionnaire.id, QuestionnaireResponse.respondent_key == key
        )
    )


def _is_open(questionnaire: Questionnaire) -> bool:
    try:
        refuse_unless_open(questionnaire)
    except ProblemError:
        return False
    return True


async def _answer_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    link: SignedLink,
    *,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response[str]:
    questionnaire, person_id, org = await _linked(session, link)
    if questionnaire.current_version is None:
        return message(request, questionnaire.title, "Ce questionnaire n’est pas encore ouvert.", status_code=409)
    response = await _existing(request, session, questionnaire, person_id, org)
    version = response.version if response else questionnaire.current_version
    content = await version_content(session, questionnaire.id, version)
    answers = await answers_of(session, response.id) if response else {}
    submitted = response is not None and response.status != ResponseStatus.DRAFT
    is_open = _is_open(questionnaire)
    organisation = await session.get(Organisation, org) if org else None
    if submitted and response and response.submitted_at:
        notice = notice or f"Votre réponse a été envoyée le {frenchdates.moment(response.submitted_at)}. Merci !"
    elif not is_open:
        notice = "Ce questionnaire est clos : les réponses ne sont plus acceptées."
    return page(
        request,
        "questionnaire.html",
        status_code,
        title=questionnaire.title,
        wide=True,
        description=questionnaire.description,
        organisation=organisation.name if organisation else None,
        shared=questionnaire.answered_by.value == "organisation",
        anonymous=questionnaire.anonymous,
        sections=content.sections,
        answers=answers,
        editable=is_open and not submitted,
        action=f"/q/{link.token}",
        closes_at=frenchdates.moment(questionnaire.closes_at) if questionnaire.closes_at else None,
        errors=errors or {},
        notice=notice,
        notice_kind="error" if (errors or (not is_open and not submitted)) else "notice",
    )


class QuestionnairePages(PublicPages):
    path = "/"

    @get("/q/{token:str}", operation_id="showQuestionnaire", summary="Answer page", dependencies=ANSWER_LINK)
    async def show(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        link: NamedDependency[SignedLink],
    ) -> Response[str]:
        return await _answer_page(request, db_session, link)

    @post(
        "/q/{token:str}/answers",
        operation_id="saveQuestionnaireAnswer",
        summary="Save one answer",
        description="JSON {key, value}: saves one question's answer of the draft (the page calls it as you type).",
        dependencies=ANSWER_LINK,
        status_code=200,
    )
    async def save(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        link: NamedDependency[SignedLink],
    ) -> dict[str, Any]:
        questionnaire, person_id, org = await _linked(db_session, link)
        try:
            body = await request.json()
        except Exception as exc:  # a body that is not JSON is bad input, not a fault
            raise ProblemError(400, "The body must be JSON {key, value}") from exc
        if not isinstance(body, dict) or not isinstance(body.get("key"), str):
            raise ProblemError(422, "Name the question", errors=[field_error("key", "is required")])
        refuse_unless_open(questionnaire)
        with as_contact(request, None if questionnaire.anonymous else person_id):
            response = await respondent(db_session, request.app.state.settings, questionnaire, person_id, org)
            refuse_unless_draft(response)
            content = await version_content(db_session, questionnaire.id, response.version)
            stored = await save_answer(db_session, response, content.question(body["key"]), body.get("value"))
            await db_session.commit()
        return {"key": body["key"], "value": stored, "saved": True}

    @post(
        "/q/{token:str}/files/{key:str}",
        operation_id="attachQuestionnaireFile",
        summary="Attach a file to an answer",
        description="Multipart `file`, within the question's size limit.",
        dependencies=ANSWER_LINK,
        status_code=200,
    )
    async def attach(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        link: NamedDependency[SignedLink],
        key: FromPath[str],
    ) -> dict[str, Any]:
        questionnaire, person_id, org = await _linked(db_session, link)
        refuse_unless_open(questionnaire)
        response = await respondent(db_session, request.app.state.settings, questionnaire, person_id, org)
        refuse_unless_draft(response)
        content = await version_content(db_session, questionnaire.id, response.version)
        question = content.question(key)
        if question.type != "file":
            raise ProblemError(422, "This question takes no file", errors=[field_error("file", "not a file question")])
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ProblemError(422, "Send the file as `file`", errors=[field_error("file", "is required")])
        data = await upload.read(question.max_bytes + 1)
        if len(data) > question.max_bytes:
            raise ProblemError(
                413,
                f"The file is larger than {question.max_bytes} bytes",
                errors=[field_error("file", f"at most {question.max_bytes} bytes")],
                code="file_too_large",
            )
        stored = QuestionnaireFile(
            response_id=response.id,
            question_key=key,
            filename=(upload.filename or "fichier")[:200],
            content_type=(upload.content_type or "application/octet-stream")[:100],
            size=len(data),
            data=data,
        )
        db_session.add(stored)
        await db_session.flush()
        value = {"file_id": str(stored.id), "filename": stored.filename, "size": stored.size}
        await upsert_answer(db_session, response.id, key, value)
        await db_session.commit()
        return {"key": key, "value": value, "saved": True}

    @post(
        "/q/{token:str}",
        operation_id="submitQuestionnaire",
        summary="Submit the answer",
        description="Saves the answers the form carries (those left empty are kept as they are), then submits.",
        dependencies=ANSWER_LINK,
        status_code=200,
    )
    async def send(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        link: NamedDependency[SignedLink],
    ) -> Response[str]:
        questionnaire, person_id, org = await _linked(db_session, link)
        if not _is_open(questionnaire):
            return await _answer_page(request, db_session, link, status_code=409)
        form = await request.form()
        errors: dict[str, str] = {}
        with as_contact(request, None if questionnaire.anonymous else person_id):
            response = await respondent(db_session, request.app.state.settings, questionnaire, person_id, org)
            if response.status != ResponseStatus.DRAFT:
                return await _answer_page(request, db_session, link, status_code=409)
            content: Content = await version_content(db_session, questionnaire.id, response.version)
            for question in content.questions():
                raw = (
                    (form.getall(question.key) if question.key in form else [])
                    if question.type == "multiple_choice"
                    else form.get(question.key)
                )
                if question.type == "file" or raw in (None, "", []):
                    continue  # nothing typed here: a colleague's answer stays
                try:
                    await save_answer(db_session, response, question, raw)
                except ProblemError as exc:
                    detail = exc.errors[0]["detail"] if exc.errors else exc.detail
                    errors[question.key] = f"Cette réponse n’est pas valable ({detail})."
            if not errors:
                try:
                    await submit(db_session, questionnaire, response.id, person_id)
                except ProblemError as exc:
                    for error in exc.errors:
                        errors[error["field"].removeprefix("answers.")] = "Cette question attend une réponse."
            await db_session.commit()
        if errors:
            return await _answer_page(
                request,
                db_session,
                link,
                errors=errors,
                notice="Votre réponse n’est pas encore envoyée : vérifiez les questions signalées.",
                status_code=422,
            )
        await system_mail.wake(request.app.state.redis)
        return await _answer_page(
            request,
            db_session,
            link,
            notice="Merci, votre réponse est envoyée. Une copie vous est adressée par e-mail.",
        )

    # ---- the jury --------------------------------------------------------------------------------

    @get("/jury/{token:str}", operation_id="showJury", summary="A juror's applications", dependencies=JURY_LINK)
    async def jury(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        link: NamedDependency[SignedLink],
    ) -> Response[str]:
        juror = await db_session.get(JuryMember, link.uuid("jury_member_id"))
        if juror is None:
            raise link.gone()
        items = await label.assigned_applications(db_session, juror.id)
        return page(request, "jury.html", title=f"Jury – {juror.name}", items=items, base=f"/jury/{link.token}")

    @get(
        "/jury/{token:str}/applications/{response_id:uuid}",
        operation_id="showJuryApplication",
        summary="An application for its juror",
        dependencies=JURY_LINK,
    )
    async def jury_application(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        link: NamedDependency[SignedLink],
        response_id: FromPath[UUID],
    ) -> Response[str]:
        return await _jury_page(request, db_session, link, response_id)

    @post(
        "/jury/{token:str}/applications/{response_id:uuid}",
        operation_id="scoreJuryApplication",
        summary="Score an application",
        description="Form fields: one per criterion (its key), and `comment`.",
        dependencies=JURY_LINK,
        status_code=200,
    )
    async def jury_score(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        link: NamedDependency[SignedLink],
        response_id: FromPath[UUID],
    ) -> Response[str]:
        juror_id = link.uuid("jury_member_id")
        try:  # someone else's application: nothing is read or written
            await label.juror_application(db_session, juror_id, response_id)
        except ProblemError:
            return message(
                request, "Candidature introuvable", "Cette candidature ne vous est pas confiée.", status_code=404
            )
        form = await request.form()
        juror = await db_session.get(JuryMember, juror_id)
        assert juror is not None
        questionnaire = await db_session.get(Questionnaire, juror.questionnaire_id)
        assert questionnaire is not None
        try:
            marks = [
                {"criterion": c["key"], "points": int(str(form.get(c["key"])))}
                for c in questionnaire.criteria
                if form.get(c["key"])
            ]
            await label.score(
                db_session,
                juror_id,
                response_id,
                ScoreWrite.model_validate({"scores": marks, "comment": form.get("comment")}),
            )
        except (ValueError, ProblemError) as exc:
            await db_session.rollback()
            return await _jury_page(
                request, db_session, link, response_id, notice=f"Notes refusées : {exc}", status_code=422
            )
        await db_session.commit()
        return await _jury_page(request, db_session, link, response_id, notice="Vos notes sont enregistrées.")

    # ---- published results ----------------------------------------------------------------------

    @get("/resultats/{questionnaire_id:uuid}", operation_id="showPublishedResults", summary="Published survey results")
    async def published_results(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        questionnaire_id: FromPath[UUID],
    ) -> Response[str]:
        questionnaire = await db_session.get(Questionnaire, questionnaire_id)
        if (
            questionnaire is None
            or not questionnaire.results_public
            or questionnaire.status == QuestionnaireStatus.DRAFT
        ):
            return message(request, "Résultats introuvables", "Ces résultats ne sont pas publiés.", status_code=404)
        data = await results(db_session, questionnaire)
        return page(request, "survey_results.html", title=f"Résultats : {questionnaire.title}", wide=True, data=data)


async def _jury_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    link: SignedLink,
    response_id: UUID,
    *,
    notice: str | None = None,
    status_code: int = 200,
) -> Response[str]:
    juror_id = link.uuid("jury_member_id")
    try:
        response, assignment, juror, answers = await label.juror_application(session, juror_id, response_id)
    except ProblemError:
        return message(
            request, "Candidature introuvable", "Cette candidature ne vous est pas confiée.", status_code=404
        )
    questionnaire = await session.get(Questionnaire, juror.questionnaire_id)
    assert questionnaire is not None
    content = await version_content(session, questionnaire.id, response.version)
    organisation = await session.get(Organisation, response.organisation_id) if response.organisation_id else None
    return page(
        request,
        "jury_application.html",
        status_code,
        title=f"Candidature : {organisation.name if organisation else 'collectivité'}",
        wide=True,
        questions=[(q.label, answers.get(q.key)) for q in content.questions() if content.shown(q, answers)],
        criteria=questionnaire.criteria,
        scores=assignment.scores,
        comment=assignment.comment or "",
        action=f"/jury/{link.token}/applications/{response_id}",
        back=f"/jury/{link.token}",
        notice=notice,
        scorable=response.status in (ResponseStatus.SUBMITTED, ResponseStatus.UNDER_REVIEW),
    )
