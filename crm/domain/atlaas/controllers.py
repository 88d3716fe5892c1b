"""The Atlaas over HTTP: staff write and moderate under `/api/v1/actions`, anyone searches the
published actions under `/api/v1/atlaas` (JSON) and `/atlaas` (pages, in public_pages.py)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.audit_listener import record
from crm.db.models.atlaas import ActionStatus, ProposalStatus
from crm.domain.atlaas import imports as atlaas_imports
from crm.domain.atlaas.schemas import (
    ActionRead,
    ActionUpdate,
    ActionWrite,
    Change,
    ProposalLink,
    ProposalLinkCreate,
    ProposalRead,
    Review,
    SearchPage,
    ThemeCreate,
    ThemeRead,
)
from crm.domain.atlaas.search import Filters
from crm.domain.atlaas.services import ActionService, ProposalService, ThemeService
from crm.domain.auth.guards import open_to_anyone, requires_admin, requires_editor, requires_viewer
from crm.lib import links
from crm.lib.listing import MAX_LIMIT, MAX_OFFSET, MAX_SEARCH
from crm.lib.schemas import Page
from crm.lib.sessions import StaffSession

# Deep pages of a full-text search cost more than they serve: past this, narrow the search.
MAX_PUBLIC_OFFSET = 10_000


def provide_action_service(db_session: NamedDependency[AsyncSession]) -> ActionService:
    return ActionService(session=db_session)


def provide_theme_service(db_session: NamedDependency[AsyncSession]) -> ThemeService:
    return ThemeService(session=db_session)


def provide_proposal_service(db_session: NamedDependency[AsyncSession]) -> ProposalService:
    return ProposalService(session=db_session)


def provide_filters(
    q: Annotated[
        str | None, Parameter(max_length=MAX_SEARCH, description="Words to find (French, accents forgiven)")
    ] = None,
    theme: Annotated[UUID | None, Parameter(description="A theme at any level (axe, enjeu, usage, service)")] = None,
    region: Annotated[
        str | None, Parameter(max_length=2, pattern=r"^\d{2}$", description="Région INSEE code, e.g. 53")
    ] = None,
    departement: Annotated[
        str | None, Parameter(max_length=3, pattern=r"^(\d{2}|2[AB]|97\d)$", description="Département code, e.g. 29")
    ] = None,
    population_band: Annotated[int | None, Parameter(ge=1, le=5, description="Population band, 1 to 5")] = None,
    year: Annotated[int | None, Parameter(ge=1990, le=2100, description="Year of the action")] = None,
    label_level: Annotated[int | None, Parameter(ge=0, le=5, description="The city's label level, 0 for none")] = None,
    organisation_kind: Annotated[
        str | None, Parameter(max_length=20, pattern=r"^[a-z_]+$", description="e.g. commune, epci")
    ] = None,
) -> Filters:
    values = {
        "theme": theme,
        "region": region,
        "departement": departement,
        "population_band": population_band,
        "year": year,
        "label_level": label_level,
        "organisation_kind": organisation_kind,
    }
    return Filters(q=(q or "").strip() or None, facets={k: v for k, v in values.items() if v is not None})


FILTERS = Provide(provide_filters, sync_to_thread=False)


def _public_url(request: Request[Any, Any, Any]) -> str:
    return request.app.state.settings.public_url


class ActionController(Controller):
    """Staff's side: every action whatever its status, the theme tree, import and export."""

    path = "/api/v1/actions"
    tags = ["Atlaas"]
    guards = [requires_viewer]
    dependencies = {"action_service": Provide(provide_action_service, sync_to_thread=False)}

    @get(
        "/",
        operation_id="listActions",
        dependencies={"filters": FILTERS},
        summary="Search the Atlaas's actions (staff)",
        description="Like the public search, over every status (`status` narrows), with facet counts.",
    )
    async def list_actions(
        self,
        request: Request[Any, Any, Any],
        action_service: NamedDependency[ActionService],
        filters: NamedDependency[Filters],
        status: Annotated[ActionStatus | None, Parameter(description="draft or published")] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = 25,
        offset: Annotated[int, Parameter(ge=0, le=MAX_OFFSET)] = 0,
    ) -> SearchPage:
        filters = Filters(q=filters.q, facets=filters.facets, status=status)
        return SearchPage(**await action_service.search_page(filters, limit, offset, _public_url(request)))

    @get("/{action_id:uuid}", operation_id="getAction", summary="One action", description="Any status.")
    async def get_action(
        self, request: Request[Any, Any, Any], action_service: NamedDependency[ActionService], action_id: FromPath[UUID]
    ) -> ActionRead:
        return ActionRead(**await action_service.read(action_id, _public_url(request), public=False))

    @post(
        "/",
        guards=[requires_editor],
        operation_id="createAction",
        summary="Create an action",
        description="Places by INSEE code, one or more organisations, the people involved, themes. "
        "`status: published` makes it public at once.",
    )
    async def create_action(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ActionWrite],
        action_service: NamedDependency[ActionService],
    ) -> ActionRead:
        action = await action_service.add(data.model_dump(mode="json"))
        return ActionRead(**await action_service.read(action.id, _public_url(request), public=False))

    @patch(
        "/{action_id:uuid}",
        guards=[requires_editor],
        operation_id="updateAction",
        summary="Change an action",
        description="Changes the fields sent; a list sent (places, themes...) replaces the stored one.",
    )
    async def update_action(
        self,
        request: Request[Any, Any, Any],
        action_id: FromPath[UUID],
        data: JSONBody[ActionUpdate],
        action_service: NamedDependency[ActionService],
    ) -> ActionRead:
        await action_service.change(action_id, data.values())
        return ActionRead(**await action_service.read(action_id, _public_url(request), public=False))

    @post(
        "/{action_id:uuid}/publish",
        guards=[requires_editor],
        operation_id="publishAction",
        summary="Publish an action",
        description="Anyone can then find it.",
        status_code=200,
    )
    async def publish_action(
        self, request: Request[Any, Any, Any], action_id: FromPath[UUID], action_service: NamedDependency[ActionService]
    ) -> ActionRead:
        await action_service.set_status(action_id, ActionStatus.PUBLISHED)
        return ActionRead(**await action_service.read(action_id, _public_url(request), public=False))

    @post(
        "/{action_id:uuid}/unpublish",
        guards=[requires_editor],
        operation_id="unpublishAction",
        summary="Take an action off the public catalogue",
        description="Back to draft.",
        status_code=200,
    )
    async def unpublish_action(
        self, request: Request[Any, Any, Any], action_id: FromPath[UUID], action_service: NamedDependency[ActionService]
    ) -> ActionRead:
        await action_service.set_status(action_id, ActionStatus.DRAFT)
        return ActionRead(**await action_service.read(action_id, _public_url(request), public=False))

    @delete(
        "/{action_id:uuid}",
        guards=[requires_admin],
        operation_id="deleteAction",
        summary="Delete an action",
        description="With its places, links and proposals.",
    )
    async def delete_action(self, action_id: FromPath[UUID], action_service: NamedDependency[ActionService]) -> None:
        await action_service.delete(action_id)

    @post(
        "/import",
        guards=[requires_editor],
        operation_id="importActions",
        summary="Import actions from CSV or JSON",
        description="A CSV file (columns as the export writes them) or a JSON array of objects. "
        "`dry_run=true` (the default) only reports: each bad row with its line and column. "
        "Applied, it is all or nothing: one bad row and nothing is stored (422 with the same report).",
        status_code=200,
    )
    async def import_actions(
        self,
        request: Request[Any, Any, Any],
        action_service: NamedDependency[ActionService],
        dry_run: Annotated[bool, Parameter(description="Only check and report")] = True,
        publish: Annotated[bool, Parameter(description="Publish the imported actions at once")] = False,
    ) -> dict[str, Any]:
        # The body as sent: a CSV file (text/csv) or a JSON array (application/json).
        content_type = request.headers.get("content-type", "")
        return await atlaas_imports.run(
            action_service.session,
            await request.body(),
            is_json="json" in content_type,
            dry_run=dry_run,
            publish=publish,
        )

    @get(
        "/export.csv",
        operation_id="exportActions",
        dependencies={"filters": FILTERS},
        summary="Export a search's actions as CSV",
        description="The actions the search selects (any status), in the import's columns.",
        media_type=atlaas_imports.CSV_MEDIA_TYPE,
    )
    async def export_actions(
        self,
        request: Request[Any, Any, Any],
        action_service: NamedDependency[ActionService],
        filters: NamedDependency[Filters],
        status: Annotated[ActionStatus | None, Parameter(description="draft or published")] = None,
    ) -> Stream:
        # Every export is in the audit log (who, what, when), committed with the request.
        facets = {k: str(v) for k, v in filters.facets.items()}
        record(action_service.session, "export", "atlaas_action", None, q=filters.q, status=status, **facets)
        return atlaas_imports.export_stream(request, Filters(q=filters.q, facets=filters.facets, status=status))


class ThemeController(Controller):
    path = "/api/v1/actions/themes"
    tags = ["Atlaas"]
    guards = [requires_viewer]
    dependencies = {"theme_service": Provide(provide_theme_service, sync_to_thread=False)}

    @get("/", operation_id="listThemes", summary="The theme tree", description="Every theme, by level then name.")
    async def list_themes(self, theme_service: NamedDependency[ThemeService]) -> list[ThemeRead]:
        from advanced_alchemy.filters import OrderBy

        themes = await theme_service.list(OrderBy("level", "asc"), OrderBy("name", "asc"))
        return [ThemeRead.model_validate(t) for t in themes]

    @post(
        "/",
        guards=[requires_editor],
        operation_id="createTheme",
        summary="Add a theme",
        description="Without a parent, an axe; under an axe an enjeu, then usage, then service.",
    )
    async def create_theme(
        self, data: JSONBody[ThemeCreate], theme_service: NamedDependency[ThemeService]
    ) -> ThemeRead:
        return ThemeRead.model_validate(await theme_service.add(data.name, data.parent_id))


class ProposalController(Controller):
    """The moderation queue: what contacts proposed, with the changes it would make."""

    path = "/api/v1/actions/proposals"
    tags = ["Atlaas"]
    guards = [requires_viewer]
    dependencies = {"proposal_service": Provide(provide_proposal_service, sync_to_thread=False)}

    async def _read(self, proposal_service: ProposalService, proposal: Any) -> ProposalRead:
        return ProposalRead(
            id=proposal.id,
            action_id=proposal.action_id,
            person_id=proposal.person_id,
            organisation_id=proposal.organisation_id,
            status=proposal.status,
            values=proposal.values,
            changes=[Change(**c) for c in await proposal_service.changes(proposal)],
            created_at=proposal.created_at,
            reviewed_at=proposal.reviewed_at,
            review_note=proposal.review_note,
        )

    @get(
        "/",
        operation_id="listProposals",
        summary="The moderation queue",
        description="Proposals, oldest first; `status=pending` (the default) for those to review.",
    )
    async def list_proposals(
        self,
        proposal_service: NamedDependency[ProposalService],
        status: Annotated[ProposalStatus | None, Parameter(description="pending, accepted or rejected")] = (
            ProposalStatus.PENDING
        ),
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = 25,
        offset: Annotated[int, Parameter(ge=0, le=MAX_OFFSET)] = 0,
    ) -> Page[ProposalRead]:
        items, total = await proposal_service.pending(status, limit, offset)
        return Page[ProposalRead](
            items=[await self._read(proposal_service, p) for p in items], total=total, limit=limit, offset=offset
        )

    async def _review(
        self,
        request: Request[Any, Any, Any],
        proposal_service: ProposalService,
        proposal_id: UUID,
        data: Review,
        accept: bool,
    ) -> ProposalRead:
        session: StaffSession = request.scope["auth"]
        proposal = await proposal_service.review(
            proposal_id, UUID(str(session.staff_id)), accept=accept, publish=data.publish, note=data.note
        )
        return await self._read(proposal_service, proposal)

    @post(
        "/{proposal_id:uuid}/accept",
        guards=[requires_editor],
        operation_id="acceptProposal",
        summary="Accept a proposal",
        description="Applies it to the action (a new one for a new action), published unless `publish: false`.",
        status_code=200,
    )
    async def accept(
        self,
        request: Request[Any, Any, Any],
        proposal_id: FromPath[UUID],
        data: JSONBody[Review],
        proposal_service: NamedDependency[ProposalService],
    ) -> ProposalRead:
        return await self._review(request, proposal_service, proposal_id, data, True)

    @post(
        "/{proposal_id:uuid}/reject",
        guards=[requires_editor],
        operation_id="rejectProposal",
        summary="Reject a proposal",
        description="Nothing of it is applied; the note says why.",
        status_code=200,
    )
    async def reject(
        self,
        request: Request[Any, Any, Any],
        proposal_id: FromPath[UUID],
        data: JSONBody[Review],
        proposal_service: NamedDependency[ProposalService],
    ) -> ProposalRead:
        return await self._review(request, proposal_service, proposal_id, data, False)

    @post(
        "/links",
        guards=[requires_editor],
        operation_id="createProposalLink",
        summary="A signed link for a contact to propose an action",
        description="To send to a member's contact: the page proposes a new action of the organisation, "
        "or changes to `action_id`. Valid 60 days.",
        status_code=200,
    )
    async def proposal_link(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ProposalLinkCreate],
        proposal_service: NamedDependency[ProposalService],
    ) -> ProposalLink:
        await proposal_service.check_link(data.person_id, data.organisation_id, data.action_id)
        settings = request.app.state.settings
        return ProposalLink(
            url=links.atlaas_proposal_url(settings, data.person_id, data.organisation_id, data.action_id)
        )


class AtlaasApiController(Controller):
    """The public JSON API: published actions only, searched in French, with facet counts."""

    path = "/api/v1/atlaas"
    tags = ["Atlaas (public)"]
    guards = [open_to_anyone]
    dependencies = {"action_service": Provide(provide_action_service, sync_to_thread=False)}

    @get(
        "/actions",
        operation_id="searchAtlaas",
        dependencies={"filters": FILTERS},
        summary="Search the Atlaas",
        description="Published actions matching `q` (French words: accents, case and word forms forgiven) and the "
        "facets given (one value each), best first, with each facet's counts over the results.",
    )
    async def search_actions(
        self,
        request: Request[Any, Any, Any],
        action_service: NamedDependency[ActionService],
        filters: NamedDependency[Filters],
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
        offset: Annotated[int, Parameter(ge=0, le=MAX_PUBLIC_OFFSET)] = 0,
    ) -> SearchPage:
        return SearchPage(**await action_service.search_page(filters, limit, offset, _public_url(request)))

    @get(
        "/actions/{action_id:uuid}",
        operation_id="getAtlaasAction",
        summary="One published action",
        description="404 for an action that is not published.",
    )
    async def get_action(
        self, request: Request[Any, Any, Any], action_service: NamedDependency[ActionService], action_id: FromPath[UUID]
    ) -> ActionRead:
        return ActionRead(**await action_service.read(action_id, _public_url(request), public=True))
