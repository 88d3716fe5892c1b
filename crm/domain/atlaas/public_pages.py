"""The Atlaas's public pages, in French: the search with its facets (`/atlaas`), one page per
published action that can be shared (`/atlaas/actions/<id>`), the CSV of a search's results, and
the page where a member's contact proposes an action through a signed link (no account). Only
published actions are ever read here; a proposal waits for staff."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, Parameter
from litestar.response import Stream
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.atlaas import Action, ActionPlace, ActionTheme
from crm.db.models.organisation import Organisation
from crm.db.models.person import Person
from crm.domain.atlaas import imports as atlaas_imports
from crm.domain.atlaas.controllers import FILTERS, provide_action_service
from crm.domain.atlaas.facets import THEME_LEVELS
from crm.domain.atlaas.schemas import CONTENT_FIELDS, ActionContent
from crm.domain.atlaas.search import FACETS, Filters
from crm.domain.atlaas.services import ActionService, ProposalService, theme_tree
from crm.domain.public.layout import (
    PUBLIC_PAGE_HEADERS,
    PublicPages,
    SignedLink,
    as_contact,
    message,
    page,
    signed_link,
)
from crm.lib import links
from crm.lib.problems import ProblemError

PAGE_SIZE = 20
MAX_PAGE_OFFSET = 10_000
# Anyone may export a search: its first rows only, so that one request cannot make the server
# read the whole catalogue (staff export everything from the API).
PUBLIC_EXPORT_LIMIT = 5_000
FACET_TITLES = {
    "theme": "Thèmes",
    "region": "Région",
    "departement": "Département",
    "population_band": "Population",
    "year": "Année",
    "label_level": "Label de la ville",
    "organisation_kind": "Type d’organisation",
}
FACETS_SHOWN = 12  # values per facet on the page; the JSON API gives them all
FIELD_LABELS = {
    "title": "Titre",
    "subtitle": "Sous-titre",
    "year": "Année",
    "synthesis": "Synthèse",
    "actions_carried_out": "Actions menées",
    "results": "Résultats",
    "recommendations": "Recommandations",
    "links": "Liens",
    "tools": "Outils",
    "providers": "Prestataires",
    "videos": "Vidéos",
    "photos": "Photos",
    "places": "Communes (codes INSEE)",
    "theme_ids": "Thèmes",
}
_LIST_SPLIT = re.compile(r"[\n,;]+")


def _query(filters: Filters, **changes: Any) -> str:
    params: dict[str, Any] = {"q": filters.q} if filters.q else {}
    params |= {k: v for k, v in filters.facets.items()}
    params |= changes
    return "?" + urlencode({k: v for k, v in params.items() if v is not None and v != ""})


def _facet_groups(filters: Filters, found: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    groups = []
    for name in FACETS:
        chosen = filters.facets.get(name)
        values = found.get(name, [])
        if name == "theme":
            # The next level down from what is chosen (axes first), so the tree unfolds as one narrows.
            level = 1 + max((v["level"] or 0 for v in values if v["value"] == str(chosen)), default=0)
            values = [v for v in values if v["level"] == min(level, 4)]
        groups.append(
            {
                "title": FACET_TITLES[name] + (f" ({THEME_LEVELS[min(level, 4)]})" if name == "theme" else ""),
                "remove": _query(filters, **{name: None, "offset": None}) if chosen is not None else None,
                "values": [
                    {
                        "label": v["label"],
                        "count": v["count"],
                        "href": _query(filters, **{name: v["value"]}),
                        "chosen": str(chosen) == v["value"],
                    }
                    for v in values[:FACETS_SHOWN]
                ],
            }
        )
    return groups


class AtlaasPages(PublicPages):
    dependencies = {"action_service": Provide(provide_action_service, sync_to_thread=False)}

    @get(
        "/atlaas",
        operation_id="showAtlaas",
        dependencies={"filters": FILTERS},
        summary="Search the Atlaas",
        description="Public search page.",
    )
    async def search_page(
        self,
        request: Request[Any, Any, Any],
        action_service: NamedDependency[ActionService],
        filters: NamedDependency[Filters],
        offset: Annotated[int, Parameter(ge=0, le=MAX_PAGE_OFFSET, description="Results to skip")] = 0,
    ) -> Response[str]:
        offset = max(0, min(offset, MAX_PAGE_OFFSET))
        public_url = request.app.state.settings.public_url
        found = await action_service.search_page(filters, PAGE_SIZE, offset, public_url)
        pages = {
            "previous": _query(filters, offset=max(0, offset - PAGE_SIZE)) if offset else None,
            "next": _query(filters, offset=offset + PAGE_SIZE) if offset + PAGE_SIZE < found["total"] else None,
        }
        return page(
            request,
            "atlaas_search.html",
            headers=PUBLIC_PAGE_HEADERS,
            title="Atlaas : les actions numériques des territoires",
            wide=True,
            q=filters.q or "",
            found=found,
            facets=_facet_groups(filters, found["facets"]),
            pages=pages,
            first=offset + 1,
            hidden={k: v for k, v in filters.facets.items()},
            export_url="/atlaas/export.csv" + _query(filters),
        )

    @get(
        "/atlaas/actions/{action_id:uuid}",
        operation_id="showAtlaasAction",
        summary="A published action",
        description="The page to share.",
    )
    async def action_page(
        self, request: Request[Any, Any, Any], action_service: NamedDependency[ActionService], action_id: FromPath[UUID]
    ) -> Response[str]:
        try:
            action = await action_service.read(action_id, request.app.state.settings.public_url, public=True)
        except ProblemError:
            return message(
                request, "Action introuvable", "Cette action n’existe pas ou n’est pas publiée.", status_code=404
            )
        return page(
            request, "atlaas_action.html", headers=PUBLIC_PAGE_HEADERS, title=action["title"], wide=True, action=action
        )

    @get(
        "/atlaas/export.csv",
        operation_id="exportAtlaas",
        dependencies={"filters": FILTERS},
        summary="A search's published actions as CSV",
        description="The columns of the import; the search's first 5,000 actions.",
        media_type=atlaas_imports.CSV_MEDIA_TYPE,
    )
    async def export(self, request: Request[Any, Any, Any], filters: NamedDependency[Filters]) -> Stream:
        return atlaas_imports.export_stream(request, Filters(q=filters.q, facets=filters.facets), PUBLIC_EXPORT_LIMIT)

    # ---- proposals through a signed link ----------------------------------------------------

    async def _form(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        link: SignedLink,
        values: dict[str, Any],
        errors: list[str],
        status_code: int = 200,
    ) -> Response[str]:
        organisation = await session.get(Organisation, link.uuid("organisation_id"))
        person = await session.get(Person, link.uuid("person_id"))
        if organisation is None or person is None:
            raise link.gone()
        tree = await theme_tree(session)
        services = sorted(
            ({"id": str(t), "path": " › ".join(tree.path(t))} for t, n in tree.nodes.items() if n.level == 4),
            key=lambda s: s["path"],
        )
        return page(
            request,
            "atlaas_propose.html",
            status_code,
            title="Proposer une action pour l’Atlaas",
            wide=True,
            organisation=organisation.name,
            editing=link.optional_uuid("action_id") is not None,
            values=values,
            errors=errors,
            services=services,
            action=f"/atlaas/proposer/{link.token}",
        )

    @get(
        "/atlaas/proposer/{token:str}",
        operation_id="showAtlaasProposal",
        summary="Propose an action (signed link)",
        description="The form; prefilled with the action's current text when the link is for one.",
        dependencies={"link": signed_link(links.ATLAAS_PROPOSAL, links.ATLAAS_PROPOSAL_MAX_AGE)},
    )
    async def show_proposal(
        self,
        request: Request[Any, Any, Any],
        link: NamedDependency[SignedLink],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[str]:
        values: dict[str, Any] = {}
        action_id = link.optional_uuid("action_id")
        if action_id is not None:
            action = await db_session.get(Action, action_id)
            if action is None:
                raise link.gone()
            values = {k: getattr(action, k) for k in CONTENT_FIELDS}
            for key in ("links", "videos", "photos"):
                values[key] = "\n".join(values[key] or [])
            for key in ("tools", "providers"):
                values[key] = ", ".join(values[key] or [])
            codes = await db_session.execute(select(ActionPlace.insee_code).where(ActionPlace.action_id == action_id))
            values["insee_codes"] = ", ".join(codes.scalars())
            themes = await db_session.execute(select(ActionTheme.theme_id).where(ActionTheme.action_id == action_id))
            values["theme_ids"] = [str(t) for t in themes.scalars()]
        return await self._form(request, db_session, link, values, [])

    @post(
        "/atlaas/proposer/{token:str}",
        operation_id="submitAtlaasProposal",
        summary="Propose an action (signed link)",
        description="Stores the proposal for staff to review; nothing is published.",
        dependencies={"link": signed_link(links.ATLAAS_PROPOSAL, links.ATLAAS_PROPOSAL_MAX_AGE)},
        status_code=200,
    )
    async def submit_proposal(
        self,
        request: Request[Any, Any, Any],
        link: NamedDependency[SignedLink],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[str]:
        form = await request.form()
        values: dict[str, Any] = {k: str(form.get(k) or "").strip() for k in form if k != "theme_ids"}
        values["theme_ids"] = [str(t) for t in form.getall("theme_ids")] if "theme_ids" in form else []

        def items(key: str) -> list[str]:
            return [v.strip() for v in _LIST_SPLIT.split(values.get(key, "")) if v.strip()]

        content = {k: values.get(k) or None for k in CONTENT_FIELDS}
        content |= {key: items(key) for key in ("links", "tools", "providers", "videos", "photos")}
        content["places"] = [{"insee_code": c.upper()} for c in items("insee_codes")]
        content["theme_ids"] = values["theme_ids"]
        errors: list[str] = []
        try:
            checked = ActionContent.model_validate(content)
        except ValidationError as exc:
            errors = [f"{FIELD_LABELS.get(str(e['loc'][0]), e['loc'][0])} : {e['msg']}" for e in exc.errors()]
            return await self._form(request, db_session, link, values, errors, 422)
        person_id, organisation_id = link.uuid("person_id"), link.uuid("organisation_id")
        if (
            await db_session.get(Person, person_id) is None
            or await db_session.get(Organisation, organisation_id) is None
        ):
            raise link.gone()
        proposals = ProposalService(session=db_session)
        with as_contact(request, person_id):
            try:
                await proposals.propose(person_id, organisation_id, link.optional_uuid("action_id"), checked.values())
            except ProblemError as exc:
                errors = [e["detail"] for e in exc.errors] or [exc.detail]
                return await self._form(request, db_session, link, values, errors, 422)
        return message(
            request,
            "Merci pour votre proposition",
            "L’équipe la relira avant de la publier dans l’Atlaas. Vous pouvez fermer cette page.",
            kind="notice",
        )
