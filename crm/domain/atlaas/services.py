"""Actions of the Atlaas: written by staff (or by accepting a contact's proposal, or by an
import), read by anyone once published. One rule: nothing but a published action ever leaves
through the public side (`public=True` everywhere below asks for published actions only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.atlaas import (
    Action,
    ActionOrganisation,
    ActionPerson,
    ActionPlace,
    ActionStatus,
    ActionTheme,
    Proposal,
    ProposalStatus,
    Theme,
)
from crm.db.models.organisation import Organisation
from crm.db.models.person import Person
from crm.db.models.reference import Commune
from crm.domain.atlaas import facets, search
from crm.domain.atlaas.schemas import CONTENT_FIELDS
from crm.domain.geo.codes import clean_insee_code
from crm.domain.geo.services import reference_names
from crm.lib.problems import ProblemError, field_error, invalid
from crm.lib.services import Service

ACTION_PATH = "/atlaas/actions"


def action_url(public_url: str, action_id: UUID) -> str:
    return f"{public_url}{ACTION_PATH}/{action_id}"


@dataclass(frozen=True, slots=True)
class ThemeNode:
    id: UUID
    parent_id: UUID | None
    level: int
    name: str


class ThemeTree:
    """The whole tree (a few hundred themes), read once per request that shows themes."""

    def __init__(self, nodes: Sequence[ThemeNode]) -> None:
        self.nodes = {n.id: n for n in nodes}

    def path(self, theme_id: UUID) -> list[str]:
        names: list[str] = []
        node = self.nodes.get(theme_id)
        while node is not None:
            names.insert(0, node.name)
            node = self.nodes.get(node.parent_id) if node.parent_id else None
        return names

    def ref(self, theme_id: UUID) -> dict[str, Any] | None:
        node = self.nodes.get(theme_id)
        if node is None:
            return None
        return {"id": node.id, "level": node.level, "name": node.name, "path": self.path(theme_id)}

    def deepest(self, theme_ids: Sequence[UUID]) -> list[dict[str, Any]]:
        """The themes of a list (chosen ones with their ancestors) that no other one refines."""
        parents = {self.nodes[t].parent_id for t in theme_ids if t in self.nodes}
        refs = [self.ref(t) for t in theme_ids if t not in parents]
        return sorted((r for r in refs if r), key=lambda r: r["path"])


async def theme_tree(session: AsyncSession) -> ThemeTree:
    rows = (await session.execute(select(Theme.id, Theme.parent_id, Theme.level, Theme.name))).all()
    return ThemeTree([ThemeNode(*row) for row in rows])


async def _check_all_exist(
    session: AsyncSession, column: Any, wanted: Sequence[Any], field: str, what: str
) -> list[dict[str, Any]]:
    found = set((await session.execute(select(column).where(column.in_(list(set(wanted)))))).scalars().all())
    return [
        field_error(f"{field}.{i}", f"no {what} has the id {value}", f"unknown_{what}", value=str(value))
        for i, value in enumerate(wanted)
        if value not in found
    ]


async def check_relations(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any]:
    """The places, organisations, people and themes of an action's values, checked against what
    is stored: every unknown one is named (places by INSEE code), all at once. Returns the values
    with the INSEE codes cleaned."""
    errors: list[dict[str, Any]] = []
    if values.get("places") is not None:
        places = []
        for i, place in enumerate(values["places"]):
            try:
                code = clean_insee_code(place["insee_code"], f"places.{i}.insee_code")
            except ProblemError as exc:
                errors.extend(exc.errors)
                continue
            places.append(place | {"insee_code": code})
        known = set(
            (
                await session.execute(
                    select(Commune.insee_code).where(Commune.insee_code.in_([p["insee_code"] for p in places]))
                )
            )
            .scalars()
            .all()
        )
        for i, place in enumerate(places):
            if place["insee_code"] not in known:
                errors.append(
                    field_error(
                        f"places.{i}.insee_code",
                        f"no commune has the INSEE code {place['insee_code']} (a postal code?)",
                        "unknown_insee_code",
                        value=place["insee_code"],
                    )
                )
        values = values | {"places": list({p["insee_code"]: p for p in places}.values())}
    if values.get("organisation_ids") is not None:
        ids = [UUID(str(i)) for i in values["organisation_ids"]]
        errors += await _check_all_exist(session, Organisation.id, ids, "organisation_ids", "organisation")
    if values.get("people") is not None:
        ids = [UUID(str(p["person_id"])) for p in values["people"]]
        errors += await _check_all_exist(session, Person.id, ids, "people", "person")
    if values.get("theme_ids") is not None:
        ids = [UUID(str(i)) for i in values["theme_ids"]]
        errors += await _check_all_exist(session, Theme.id, ids, "theme_ids", "theme")
    if errors:
        raise ProblemError(422, errors[0]["detail"], errors=errors, code="invalid_input")
    return values


class ActionService(Service[Action]):
    async def add(self, values: dict[str, Any]) -> Action:
        values = await check_relations(self.session, values)
        status = ActionStatus(values.get("status", ActionStatus.DRAFT))
        action = Action(
            **{k: values.get(k) for k in CONTENT_FIELDS if k in values},
            status=status,
            published_at=datetime.now(UTC) if status is ActionStatus.PUBLISHED else None,
        )
        for key in ("links", "tools", "providers", "videos", "photos"):
            setattr(action, key, list(values.get(key) or []))
        action = await self.create(action)
        await self._set_relations(action.id, values)
        return action

    async def change(self, action_id: UUID, values: dict[str, Any]) -> Action:
        action = await self.get(action_id)
        values = await check_relations(self.session, values)
        self.apply(action, {k: v for k, v in values.items() if k in CONTENT_FIELDS}, required=("title", "year"))
        for key in ("links", "tools", "providers", "videos", "photos"):
            if key in values and values[key] is None:
                setattr(action, key, [])
        action = await self.update(action)
        await self._set_relations(action.id, values)
        return action

    async def set_status(self, action_id: UUID, status: ActionStatus) -> Action:
        action = await self.get(action_id)
        action.status = status
        action.published_at = datetime.now(UTC) if status is ActionStatus.PUBLISHED else None
        return await self.update(action)

    async def _set_relations(self, action_id: UUID, values: dict[str, Any]) -> None:
        session = self.session
        if values.get("places") is not None:
            await session.execute(delete(ActionPlace).where(ActionPlace.action_id == action_id))
            session.add_all(
                ActionPlace(
                    action_id=action_id,
                    insee_code=p["insee_code"],
                    latitude=p.get("latitude"),
                    longitude=p.get("longitude"),
                )
                for p in values["places"]
            )
        if values.get("organisation_ids") is not None:
            await session.execute(delete(ActionOrganisation).where(ActionOrganisation.action_id == action_id))
            session.add_all(
                ActionOrganisation(action_id=action_id, organisation_id=UUID(str(o)))
                for o in dict.fromkeys(values["organisation_ids"])
            )
        if values.get("people") is not None:
            await session.execute(delete(ActionPerson).where(ActionPerson.action_id == action_id))
            people = {str(p["person_id"]): p for p in values["people"]}
            session.add_all(
                ActionPerson(action_id=action_id, person_id=UUID(pid), role=p.get("role")) for pid, p in people.items()
            )
        if values.get("theme_ids") is not None:
            await session.execute(delete(ActionTheme).where(ActionTheme.action_id == action_id))
            session.add_all(
                ActionTheme(action_id=action_id, theme_id=UUID(str(t))) for t in dict.fromkeys(values["theme_ids"])
            )
        await session.flush()
        # The facet columns from the links as stored now (those not sent are unchanged).
        codes = list(
            (await session.execute(select(ActionPlace.insee_code).where(ActionPlace.action_id == action_id))).scalars()
        )
        orgs = list(
            (
                await session.execute(
                    select(ActionOrganisation.organisation_id).where(ActionOrganisation.action_id == action_id)
                )
            ).scalars()
        )
        themes = list(
            (await session.execute(select(ActionTheme.theme_id).where(ActionTheme.action_id == action_id))).scalars()
        )
        action = await session.get(Action, action_id)
        if action is None:
            return
        found = await facets.lookups(session, codes, orgs)
        for key, value in facets.columns(codes, orgs, themes, action.tools, action.providers, found).items():
            setattr(action, key, value)
        await session.flush()
        # The stored search document is computed by the database.
        await session.refresh(action)

    async def visible(self, action_id: UUID, *, public: bool) -> Action:
        """The action, or a 404 when it does not exist or (for the public) is not published."""
        action = await self.get_one_or_none(Action.id == action_id)
        if action is None or (public and action.status is not ActionStatus.PUBLISHED):
            raise ProblemError(404, f"No action has the id {action_id}", code="not_found")
        return action

    async def read(self, action_id: UUID, public_url: str, *, public: bool) -> dict[str, Any]:
        action = await self.visible(action_id, public=public)
        return await describe(self.session, action, public_url, public=public)

    async def search_page(self, filters: search.Filters, limit: int, offset: int, public_url: str) -> dict[str, Any]:
        found = await search.search(self.session, filters, limit, offset)
        tree = await theme_tree(self.session)
        return {
            "items": [summary(item, tree, public_url) for item in found.items],
            "total": found.total,
            "limit": limit,
            "offset": offset,
            "facets": await facet_labels(self.session, found.facets, tree),
        }


def summary(item: dict[str, Any], tree: ThemeTree, public_url: str) -> dict[str, Any]:
    return {
        "id": item["id"],
        "title": item["title"],
        "subtitle": item["subtitle"],
        "year": item["year"],
        "status": item["status"],
        "city": item["place_text"],
        "themes": tree.deepest(item["theme_ids"] or []),
        "url": action_url(public_url, item["id"]),
    }


async def facet_labels(
    session: AsyncSession, counts: dict[str, list[tuple[str, int]]], tree: ThemeTree
) -> dict[str, list[dict[str, Any]]]:
    names = await reference_names(session)

    def label(facet: str, value: str) -> tuple[str, int | None]:
        if facet == "theme":
            node = tree.nodes.get(UUID(value))
            return (node.name, node.level) if node else (value, None)
        if facet == "region":
            return names.regions.get(value, value), None
        if facet == "departement":
            return f"{names.departements.get(value, value)} ({value})", None
        if facet == "population_band":
            return facets.BAND_LABELS.get(int(value), value), None
        if facet == "label_level":
            return facets.LABEL_LEVELS.get(int(value), value), None
        if facet == "organisation_kind":
            return facets.ORGANISATION_KINDS.get(value, value), None
        return value, None

    shaped: dict[str, list[dict[str, Any]]] = {}
    for facet, values in counts.items():
        entries = []
        for value, n in values:
            text, level = label(facet, value)
            entries.append({"value": value, "label": text, "count": n, "level": level})
        if facet == "year":
            entries.sort(key=lambda e: str(e["value"]), reverse=True)  # four-digit years
        shaped[facet] = entries
    return shaped


async def describe(session: AsyncSession, action: Action, public_url: str, *, public: bool) -> dict[str, Any]:
    """The action with its places, themes, organisations and people, named. The public side
    shows people by name and role only (no contact details are ever read here)."""
    names = await reference_names(session)
    places = (
        await session.execute(
            select(ActionPlace, Commune)
            .join(Commune, Commune.insee_code == ActionPlace.insee_code)
            .where(ActionPlace.action_id == action.id)
            .order_by(Commune.name)
        )
    ).all()
    organisations = (
        await session.execute(
            select(Organisation.id, Organisation.name, Organisation.kind)
            .join(ActionOrganisation, ActionOrganisation.organisation_id == Organisation.id)
            .where(ActionOrganisation.action_id == action.id)
            .order_by(Organisation.name)
        )
    ).all()
    people = (
        await session.execute(
            select(Person.id, Person.first_name, Person.last_name, ActionPerson.role)
            .join(ActionPerson, ActionPerson.person_id == Person.id)
            .where(ActionPerson.action_id == action.id)
            .order_by(Person.last_name)
        )
    ).all()
    chosen = list(
        (await session.execute(select(ActionTheme.theme_id).where(ActionTheme.action_id == action.id))).scalars()
    )
    tree = await theme_tree(session)
    return {
        **{k: getattr(action, k) for k in CONTENT_FIELDS},
        "id": action.id,
        "status": action.status,
        "published_at": action.published_at,
        "created_at": action.created_at,
        "updated_at": action.updated_at,
        "places": [
            {
                "insee_code": c.insee_code,
                "name": c.name,
                "population": c.population,
                "departement_code": c.departement_code,
                "departement": names.departements.get(c.departement_code),
                "region_code": c.region_code,
                "region": names.regions.get(c.region_code),
                "latitude": p.latitude,
                "longitude": p.longitude,
            }
            for p, c in places
        ],
        "themes": sorted((r for r in (tree.ref(t) for t in chosen) if r), key=lambda r: r["path"]),
        "organisations": [{"id": i, "name": n, "kind": k.value} for i, n, k in organisations],
        "people": [{"id": i, "name": f"{f} {last}".strip(), "role": r} for i, f, last, r in people],
        "organisation_ids": [i for i, _, _ in organisations],
        "theme_ids": chosen,
        "url": action_url(public_url, action.id),
    }


class ThemeService(Service[Theme]):
    async def add(self, name: str, parent_id: UUID | None) -> Theme:
        level = 1
        if parent_id is not None:
            parent = await self.get_one_or_none(Theme.id == parent_id)
            if parent is None:
                raise invalid("parent_id", f"no theme has the id {parent_id}", "unknown_theme")
            if parent.level >= 4:
                raise invalid("parent_id", "a service (level 4) has no sub-themes", "theme_too_deep")
            level = parent.level + 1
        return await self.create(Theme(name=name, parent_id=parent_id, level=level))


# ---- moderation ------------------------------------------------------------------------------


def _comparable(values: dict[str, Any]) -> dict[str, Any]:
    """An action's values as a proposal holds them (JSON), for the diff."""
    shaped = {k: values.get(k) for k in CONTENT_FIELDS}
    shaped["places"] = sorted(p["insee_code"] for p in values.get("places") or [])
    shaped["theme_ids"] = sorted(str(t) for t in values.get("theme_ids") or [])
    for key in ("links", "tools", "providers", "videos", "photos"):
        shaped[key] = list(shaped[key] or [])
    return shaped


class ProposalService(Service[Proposal]):
    async def propose(
        self, person_id: UUID, organisation_id: UUID, action_id: UUID | None, values: dict[str, Any]
    ) -> Proposal:
        values = await check_relations(self.session, values)
        return await self.create(
            Proposal(
                person_id=person_id,
                organisation_id=organisation_id,
                action_id=action_id,
                values=values,
                status=ProposalStatus.PENDING,
            )
        )

    async def check_link(self, person_id: UUID, organisation_id: UUID, action_id: UUID | None) -> None:
        """A link is made for a stored person, organisation and (when given) action."""
        errors = await _check_all_exist(self.session, Person.id, [person_id], "person_id", "person")
        errors += await _check_all_exist(
            self.session, Organisation.id, [organisation_id], "organisation_id", "organisation"
        )
        if action_id is not None:
            errors += await _check_all_exist(self.session, Action.id, [action_id], "action_id", "action")
        for error in errors:  # one id per field: no index in the name
            error["field"] = error["field"].rsplit(".", 1)[0]
            error["pointer"] = "/" + error["field"]
        if errors:
            raise ProblemError(422, errors[0]["detail"], errors=errors, code="invalid_input")

    async def changes(self, proposal: Proposal) -> list[dict[str, Any]]:
        """Field by field, what accepting the proposal would change (all of it for a new action)."""
        after = _comparable(proposal.values)
        # A new action starts from nothing: empty lists are no change worth showing.
        before: dict[str, Any] = {k: [] if isinstance(v, list) else None for k, v in after.items()}
        if proposal.action_id is not None:
            action = await self.session.get(Action, proposal.action_id)
            if action is not None:
                places = (
                    await self.session.execute(select(ActionPlace.insee_code).where(ActionPlace.action_id == action.id))
                ).scalars()
                themes = (
                    await self.session.execute(select(ActionTheme.theme_id).where(ActionTheme.action_id == action.id))
                ).scalars()
                before = _comparable(
                    {k: getattr(action, k) for k in CONTENT_FIELDS}
                    | {"places": [{"insee_code": p} for p in places], "theme_ids": list(themes)}
                )
        return [
            {"field": key, "before": before.get(key), "after": value}
            for key, value in after.items()
            if before.get(key) != value
        ]

    async def pending(self, status: ProposalStatus | None, limit: int, offset: int) -> tuple[Sequence[Proposal], int]:
        from advanced_alchemy.filters import LimitOffset, OrderBy

        conditions = [Proposal.status == status] if status is not None else []
        return await self.get_many_and_count(
            OrderBy("created_at", "asc"), LimitOffset(limit=limit, offset=offset), *conditions
        )

    async def review(
        self, proposal_id: UUID, staff_id: UUID | None, *, accept: bool, publish: bool, note: str | None
    ) -> Proposal:
        proposal = await self.get(proposal_id)
        if proposal.status is not ProposalStatus.PENDING:
            raise ProblemError(409, f"This proposal was already {proposal.status.value}", code="already_reviewed")
        if accept:
            actions = ActionService(session=self.session)
            values = dict(proposal.values)
            if proposal.action_id is None:
                action = await actions.add(
                    values
                    | {
                        "organisation_ids": [proposal.organisation_id],
                        "people": [{"person_id": proposal.person_id, "role": None}],
                        "status": ActionStatus.PUBLISHED if publish else ActionStatus.DRAFT,
                    }
                )
                proposal.action_id = action.id
            else:
                await actions.change(proposal.action_id, values)
                if publish:
                    await actions.set_status(proposal.action_id, ActionStatus.PUBLISHED)
        proposal.status = ProposalStatus.ACCEPTED if accept else ProposalStatus.REJECTED
        proposal.reviewed_at = datetime.now(UTC)
        proposal.reviewed_by = staff_id
        proposal.review_note = note
        return await self.update(proposal)
