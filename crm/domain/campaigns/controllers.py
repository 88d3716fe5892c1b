"""Campaigns (envois) and their deliveries: compose, preview, test, schedule or send now, pause,
resume, cancel, and follow each recipient's delivery with the SMTP server's answer."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from arq.connections import ArqRedis
from litestar import Controller, MediaType, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from crm.config import Settings
from crm.db.models.campaign import Campaign, CampaignKind, CampaignStatus, DeliveryStatus
from crm.db.models.lists import MailingList
from crm.domain.association.branding import app_settings
from crm.domain.auth.guards import requires_editor, requires_viewer
from crm.domain.campaigns.queue import enqueue_send
from crm.domain.campaigns.rendering import recipient_rows, render_for
from crm.domain.campaigns.schemas import (
    AudienceCount,
    CampaignCreate,
    CampaignRead,
    CampaignUpdate,
    DeliveryRead,
    Progress,
    ReceivedCampaignRead,
    Schedule,
    TestSend,
)
from crm.domain.campaigns.services import CampaignService, DeliveryService, render_or_422
from crm.domain.providers import provide_campaign_service, provide_delivery_service
from crm.lib.listing import ListQuery, list_query, page, provide_list_query
from crm.lib.problems import ProblemError, field_error
from crm.lib.schemas import Page
from crm.lib.services import after_commit
from crm.lib.sessions import StaffSession

CAMPAIGN_SORTABLE = frozenset({"created_at", "name", "status", "started_at", "scheduled_at"})
DELIVERY_SORTABLE = frozenset({"email", "status", "sent_at", "updated_at", "attempts"})


def _read(campaign: Campaign) -> CampaignRead:
    return CampaignRead.model_validate(campaign)


class CampaignController(Controller):
    path = "/api/v1/campaigns"
    tags = ["Campaigns"]
    guards = [requires_viewer]
    dependencies = {
        "campaign_service": provide_campaign_service,
        "listing": list_query(CAMPAIGN_SORTABLE),
    }

    @get(
        "/",
        operation_id="listCampaigns",
        summary="List campaigns",
        description="Newest first by default; filter by status and kind; `q` searches the name.",
    )
    async def list_campaigns(
        self,
        campaign_service: NamedDependency[CampaignService],
        listing: NamedDependency[ListQuery],
        status: Annotated[CampaignStatus | None, Parameter(description="draft, scheduled, running...")] = None,
        kind: Annotated[CampaignKind | None, Parameter(description="newsletter, announcement, invitation")] = None,
    ) -> Page[CampaignRead]:
        items, total = await campaign_service.search(listing, CAMPAIGN_SORTABLE, status=status, kind=kind)
        return Page[CampaignRead](**page([_read(c) for c in items], total, listing))

    @post(
        "/",
        operation_id="createCampaign",
        summary="Compose a campaign",
        guards=[requires_editor],
        description="Creates a draft: subject, sender, audience (a list, narrowed by a segment if wanted), "
        "template and content blocks. Placeholders allowed in texts: first_name, last_name, full_name, "
        "organisation.",
    )
    async def create_campaign(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[CampaignCreate],
        campaign_service: NamedDependency[CampaignService],
    ) -> CampaignRead:
        settings = await app_settings(request.app.state)
        values = data.model_dump(exclude={"content"})
        values["from_name"] = values["from_name"] or settings.organisation.sender_name
        values["from_email"] = values["from_email"] or settings.organisation.sender_email
        values["reply_to"] = values.get("reply_to") or settings.organisation.reply_to or None
        values["content"] = data.content.model_dump(mode="json")
        return _read(await campaign_service.create_campaign(values))

    @get(
        "/{campaign_id:uuid}",
        operation_id="getCampaign",
        summary="One campaign",
        description="A campaign with its status and, once sent, its audience figures.",
    )
    async def get_campaign(
        self, campaign_id: FromPath[UUID], campaign_service: NamedDependency[CampaignService]
    ) -> CampaignRead:
        return _read(await campaign_service.get(campaign_id))

    @patch(
        "/{campaign_id:uuid}",
        operation_id="updateCampaign",
        summary="Change a campaign",
        guards=[requires_editor],
        description="Changes the fields sent, while the campaign is a draft or scheduled (409 after).",
    )
    async def update_campaign(
        self,
        campaign_id: FromPath[UUID],
        data: JSONBody[CampaignUpdate],
        campaign_service: NamedDependency[CampaignService],
    ) -> CampaignRead:
        changes = data.model_dump(exclude_unset=True)
        if data.content is not None:
            changes["content"] = data.content.model_dump(mode="json")
        return _read(await campaign_service.update_campaign(campaign_id, changes))

    @delete(
        "/{campaign_id:uuid}",
        operation_id="deleteCampaign",
        summary="Delete a draft",
        guards=[requires_editor],
        status_code=HTTP_204_NO_CONTENT,
        description="Deletes a campaign that was never sent; a sent one can only be cancelled.",
    )
    async def delete_campaign(
        self, campaign_id: FromPath[UUID], campaign_service: NamedDependency[CampaignService]
    ) -> None:
        await campaign_service.delete_campaign(campaign_id)

    @get(
        "/{campaign_id:uuid}/audience",
        operation_id="countCampaignAudience",
        summary="Count the audience",
        description="How many people the campaign would reach now, and how many of them are suppressed.",
    )
    async def audience(
        self, campaign_id: FromPath[UUID], campaign_service: NamedDependency[CampaignService]
    ) -> AudienceCount:
        recipients, suppressed = await campaign_service.count_audience(await campaign_service.get(campaign_id))
        return AudienceCount(recipients=recipients, suppressed=suppressed, to_send=recipients - suppressed)

    @get(
        "/{campaign_id:uuid}/preview",
        operation_id="previewCampaign",
        summary="Preview for a recipient",
        media_type=MediaType.HTML,
        description="The HTML message as the given person (or, without one, the first recipient) would get it.",
    )
    async def preview(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        campaign_service: NamedDependency[CampaignService],
        person_id: Annotated[UUID | None, Parameter(description="Whose fields fill the message")] = None,
    ) -> Response[str]:
        campaign = await campaign_service.get(campaign_id)
        session: AsyncSession = campaign_service.repository.session  # type: ignore[assignment]
        if person_id is None:
            person_id = await campaign_service.first_recipient(campaign)
            if person_id is None:
                raise ProblemError(
                    422,
                    "Nobody is on this campaign's list yet: give a person_id",
                    errors=[field_error("person_id", "required while the audience is empty")],
                )
        html = await _render_for(await app_settings(request.app.state), campaign_service, session, campaign, person_id)
        return Response(html, media_type=MediaType.HTML)

    @post(
        "/{campaign_id:uuid}/test",
        operation_id="sendCampaignTest",
        summary="Send a test to myself",
        guards=[requires_editor],
        status_code=HTTP_202_ACCEPTED,
        description="Sends the message, marked [TEST], to your own address, filled with a recipient's fields.",
    )
    async def send_test(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        data: JSONBody[TestSend],
        campaign_service: NamedDependency[CampaignService],
    ) -> dict[str, str]:
        staff_session: StaffSession = request.scope["auth"]
        campaign = await campaign_service.get(campaign_id)
        person_id = data.person_id or await campaign_service.first_recipient(campaign)
        if person_id is None:
            raise ProblemError(
                422,
                "Nobody is on this campaign's list yet: give a person_id",
                errors=[field_error("person_id", "required while the audience is empty")],
            )
        queue: ArqRedis = request.app.state.redis
        await queue.enqueue_job("send_campaign_test", str(campaign_id), staff_session.staff_id, str(person_id))
        return {"status": "queued"}

    @post(
        "/{campaign_id:uuid}/send",
        operation_id="sendCampaign",
        summary="Send now",
        guards=[requires_editor],
        status_code=HTTP_202_ACCEPTED,
        description="Writes one delivery per recipient (each person once; suppressed addresses left out and "
        "counted) and starts the workers. 409 unless the campaign is a draft or scheduled.",
    )
    async def send_now(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        campaign_service: NamedDependency[CampaignService],
    ) -> CampaignRead:
        campaign = await campaign_service.start(campaign_id, await app_settings(request.app.state))
        # Queued once the request is committed, so that the jobs find what it decided.
        redis, jobs = request.app.state.redis, request.app.state.settings.sending.jobs_per_campaign
        after_commit(campaign_service.session, lambda: enqueue_send(redis, campaign.id, jobs))
        return _read(campaign)

    @post(
        "/{campaign_id:uuid}/schedule",
        operation_id="scheduleCampaign",
        status_code=HTTP_200_OK,
        summary="Schedule",
        guards=[requires_editor],
        description="Sends at the given time (the sweeper starts it). Change or cancel it until then.",
    )
    async def schedule(
        self, campaign_id: FromPath[UUID], data: JSONBody[Schedule], campaign_service: NamedDependency[CampaignService]
    ) -> CampaignRead:
        return _read(await campaign_service.schedule(campaign_id, data.scheduled_at))

    @post(
        "/{campaign_id:uuid}/pause",
        operation_id="pauseCampaign",
        status_code=HTTP_200_OK,
        summary="Pause",
        guards=[requires_editor],
        description="Stops handing out new messages; those being sent finish. Resume picks up where it stopped.",
    )
    async def pause(
        self, campaign_id: FromPath[UUID], campaign_service: NamedDependency[CampaignService]
    ) -> CampaignRead:
        return _read(await campaign_service.pause(campaign_id, "paused by staff"))

    @post(
        "/{campaign_id:uuid}/resume",
        operation_id="resumeCampaign",
        status_code=HTTP_200_OK,
        summary="Resume",
        guards=[requires_editor],
        description="Sends the rest of a paused campaign; nobody already served gets it again.",
    )
    async def resume(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        campaign_service: NamedDependency[CampaignService],
    ) -> CampaignRead:
        campaign = await campaign_service.resume(campaign_id)
        # Queued once the request is committed, so that the jobs find what it decided.
        redis, jobs = request.app.state.redis, request.app.state.settings.sending.jobs_per_campaign
        after_commit(campaign_service.session, lambda: enqueue_send(redis, campaign.id, jobs))
        return _read(campaign)

    @post(
        "/{campaign_id:uuid}/cancel",
        operation_id="cancelCampaign",
        status_code=HTTP_200_OK,
        summary="Cancel",
        guards=[requires_editor],
        description="Stops the campaign for good: what was not sent yet never will be.",
    )
    async def cancel(
        self, campaign_id: FromPath[UUID], campaign_service: NamedDependency[CampaignService]
    ) -> CampaignRead:
        return _read(await campaign_service.cancel(campaign_id))

    @get(
        "/{campaign_id:uuid}/progress",
        operation_id="campaignProgress",
        summary="Progress",
        description="How many deliveries are queued, being sent, sent, failed, bounced, unsubscribed or "
        "cancelled, beside the audience and the suppressed addresses left out.",
    )
    async def progress(
        self, campaign_id: FromPath[UUID], campaign_service: NamedDependency[CampaignService]
    ) -> Progress:
        campaign = await campaign_service.get(campaign_id)
        counts = await campaign_service.progress(campaign_id)
        return Progress(
            status=campaign.status,
            paused_reason=campaign.paused_reason,
            audience=campaign.audience_count,
            suppressed=campaign.suppressed_count,
            **counts,
        )


async def _render_for(
    settings: Settings, service: CampaignService, session: AsyncSession, campaign: Campaign, person_id: UUID
) -> str:
    """The message with the person's fields but inert links: whoever previews (a viewer too) must
    not get links that act for that person."""
    mailing_list = await session.get(MailingList, campaign.list_id)
    connection = await session.connection()
    people = await recipient_rows(connection, campaign.list_id, [person_id])  # type: ignore[arg-type]
    if person_id not in people:
        raise ProblemError(422, "person_id: no such person", errors=[field_error("person_id", "no such person")])
    template = await service.compile(campaign)
    list_name = mailing_list.name if mailing_list else ""

    def render() -> str:
        return render_for(settings, campaign, template, list_name, people[person_id], preview=True).html

    return await render_or_422(render)


class DeliveryController(Controller):
    path = "/api/v1/deliveries"
    tags = ["Campaigns"]
    guards = [requires_viewer]
    dependencies = {
        "delivery_service": provide_delivery_service,
        "listing": list_query(DELIVERY_SORTABLE),
    }

    @get(
        "/",
        operation_id="listDeliveries",
        summary="List deliveries",
        description="Each recipient's delivery with its status, attempts and the SMTP server's answer. Filter by "
        "campaign_id, status, person_id; `q` searches the address.",
    )
    async def list_deliveries(
        self,
        delivery_service: NamedDependency[DeliveryService],
        listing: NamedDependency[ListQuery],
        campaign_id: Annotated[UUID | None, Parameter(description="One campaign's deliveries")] = None,
        status: Annotated[DeliveryStatus | None, Parameter(description="queued, sent, failed...")] = None,
        person_id: Annotated[UUID | None, Parameter(description="One person's deliveries")] = None,
    ) -> Page[DeliveryRead]:
        items, total = await delivery_service.search(
            listing, DELIVERY_SORTABLE, campaign_id=campaign_id, status=status, person_id=person_id
        )
        return Page[DeliveryRead](**page([DeliveryRead.model_validate(d) for d in items], total, listing))


class OrganisationCampaignsController(Controller):
    path = "/api/v1/organisations/{organisation_id:uuid}/campaigns"
    tags = ["Campaigns"]
    guards = [requires_viewer]
    dependencies = {
        "delivery_service": provide_delivery_service,
        "listing": Provide(provide_list_query, sync_to_thread=False),
    }

    @get(
        "/",
        operation_id="listOrganisationCampaigns",
        summary="The campaigns a member received",
        description="Each delivery to a person who held a position at the organisation on the day it went "
        "out (or was queued), newest first, with the campaign, the person, the address and whether it "
        "arrived. `q` and `sort` are not used.",
    )
    async def list_organisation_campaigns(
        self,
        organisation_id: FromPath[UUID],
        delivery_service: NamedDependency[DeliveryService],
        listing: NamedDependency[ListQuery],
    ) -> Page[ReceivedCampaignRead]:
        items, total = await delivery_service.received_by_organisation(organisation_id, listing)
        return Page[ReceivedCampaignRead](**page([ReceivedCampaignRead(**i) for i in items], total, listing))
