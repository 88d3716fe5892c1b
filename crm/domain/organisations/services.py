"""Organisations: created from official codes where they have one, listed with the filters staff
use to find members, and deleted only when nothing hangs on them or when staff say so."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from advanced_alchemy.exceptions import NotFoundError
from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from crm.db.models.board import Mandate
from crm.db.models.convention import Convention
from crm.db.models.label import LabelAward
from crm.db.models.membership import Dues, Membership, MembershipStatus
from crm.db.models.organisation import Organisation, OrganisationKind
from crm.db.models.person import Position
from crm.db.models.reference import Departement, Region
from crm.db.models.tag import Tag, Tagging
from crm.domain.geo import services as geo
from crm.domain.geo.codes import (
    clean_departement_code,
    clean_insee_code,
    clean_region_code,
    clean_siren,
    invalid_code,
)
from crm.domain.geo.services import ReferenceNames, reference_names
from crm.domain.organisations.schemas import (
    OrganisationCreate,
    OrganisationRead,
    OrganisationUpdate,
    TimelineEntry,
)
from crm.domain.organisations.timeline import organisation_timeline
from crm.domain.tags.services import tag_filter
from crm.lib.listing import ListQuery, kept, page_params, page_statement
from crm.lib.problems import ProblemError, field_error, invalid
from crm.lib.search import Search, best_first, matches
from crm.lib.services import Service, read_rows, reading_only

ENTITY_TYPE = "organisation"

# What may hang on an organisation, in the order the refusal lists it: name -> (model, its column).
ATTACHED: dict[str, tuple[Any, Any]] = {
    "positions": (Position, Position.organisation_id),
    "mandates": (Mandate, Mandate.organisation_id),
    "conventions": (Convention, Convention.organisation_id),
    "dues": (Dues, Dues.organisation_id),
    "labels": (LabelAward, LabelAward.organisation_id),
    "membership": (Membership, Membership.organisation_id),
}


def _lenient(clean: Any, code: str) -> str:
    try:
        return str(clean(code))
    except ProblemError:
        return code


def board_mandate_running(on: date) -> ColumnElement[bool]:
    """An organisation holding a board seat on that day (mandate started, not yet ended)."""
    return exists().where(
        Mandate.organisation_id == Organisation.id,
        Mandate.running_on(on),
    )


# What the read shape shows of the organisation row itself.
_READ_COLUMNS: tuple[Any, ...] = (
    Organisation.id,
    Organisation.kind,
    Organisation.name,
    Organisation.insee_code,
    Organisation.siren,
    Organisation.population,
    Organisation.departement_code,
    Organisation.region_code,
    Organisation.epci_siren,
    Organisation.is_partner,
    Organisation.email,
    Organisation.phone,
    Organisation.website,
    Organisation.address,
    Organisation.notes,
    Organisation.created_at,
    Organisation.updated_at,
)


def _details(organisation_id: Any) -> tuple[Any, ...]:
    """Columns for a select of organisations (`organisation_id`, the id of each) outer-joined to
    their membership: its status and start, the latest label as JSON, the tags by name."""
    latest_label = (
        select(func.json_build_object("year", LabelAward.year, "level", LabelAward.level, "green", LabelAward.green))
        .where(LabelAward.organisation_id == organisation_id)
        .order_by(LabelAward.year.desc())
        .limit(1)
        .scalar_subquery()
    )
    tag_names = (
        select(func.array_agg(aggregate_order_by(Tag.name, func.lower(Tag.name))))
        .join(Tagging, Tagging.tag_id == Tag.id)
        .where(Tagging.entity_type == ENTITY_TYPE, Tagging.entity_id == organisation_id)
        .scalar_subquery()
    )
    return (
        Membership.status.label("membership_status"),
        Membership.member_since,
        latest_label.label("latest_label"),
        tag_names.label("tags"),
    )


def _page_statement(conditions: Sequence[Any], order: Sequence[tuple[Any, bool]]) -> Select[Any]:
    """A page of organisations in one statement (see `page_statement`), with their details."""
    return page_statement(
        _READ_COLUMNS,
        conditions,
        order,
        lambda found: select(found, *_details(found.c.id)).outerjoin(
            Membership, Membership.organisation_id == found.c.id
        ),
    )


def _one_statement() -> Select[Any]:
    statement: Select[Any] = (
        select(*_READ_COLUMNS, *_details(Organisation.id))
        .outerjoin(Membership, Membership.organisation_id == Organisation.id)
        .where(Organisation.id == bindparam("id"))
    )
    return statement


def _shape(row: Any, names: ReferenceNames) -> dict[str, Any]:
    """The read shape of an organisation (`OrganisationRead`, field for field and in its order)
    from a row that starts with `_READ_COLUMNS` and ends with `_details`, as plain values that
    msgspec encodes. Read by position: by name it cost a page of 25 a tenth of its time."""
    (
        id_,
        kind,
        name,
        insee_code,
        siren,
        population,
        departement_code,
        region_code,
        epci_siren,
        is_partner,
        email,
        phone,
        website,
        address,
        notes,
        created_at,
        updated_at,
    ) = row[: len(_READ_COLUMNS)]
    membership_status, member_since, latest_label, tags = row[-4:]
    return {
        "id": id_,
        "kind": kind,
        "name": name,
        "insee_code": insee_code,
        "siren": siren,
        "population": population,
        "departement_code": departement_code,
        "departement_name": names.departements.get(departement_code or ""),
        "region_code": region_code,
        "region_name": names.regions.get(region_code or ""),
        "epci_siren": epci_siren,
        "epci_name": names.epcis.get(epci_siren or ""),
        "is_partner": is_partner,
        "email": email,
        "phone": phone,
        "website": website,
        "address": address,
        "notes": notes,
        "membership_status": membership_status,
        "member_since": member_since,
        "latest_label": latest_label,
        "tags": tags or [],
        "created_at": created_at,
        "updated_at": updated_at,
    }


class OrganisationService(Service[Organisation]):
    async def find_by_code(self, insee_code: str | None = None, siren: str | None = None) -> Organisation | None:
        """The organisation with this INSEE code or this SIREN. Codes are read as staff type them
        (`1053` for 01053, `2a004`, spaces in a SIREN); a malformed code simply finds nothing."""
        conditions = []
        if insee_code:
            conditions.append(Organisation.insee_code == _lenient(clean_insee_code, insee_code))
        if siren:
            conditions.append(Organisation.siren == _lenient(clean_siren, siren))
        if not conditions:
            return None
        return await self.get_one_or_none(or_(*conditions))

    async def _refuse_duplicate(self, insee_code: str | None, siren: str | None) -> None:
        for field, code in (("insee_code", insee_code), ("siren", siren)):
            if code and await self.find_by_code(**{field: code}) is not None:
                raise ProblemError(
                    409,
                    f"An organisation with the {field} {code} already exists",
                    errors=[field_error(field, "already used by another organisation", "already_used")],
                    code="conflict",
                )

    async def _departement(self, raw: str, field: str = "departement_code") -> Departement:
        code = clean_departement_code(raw, field)
        row = await self.session.get(Departement, code)
        if row is None:
            raise invalid_code(field, f"no département has the code {code}", "unknown_departement", value=code)
        return row

    async def _region(self, raw: str, field: str = "region_code") -> Region:
        code = clean_region_code(raw, field)
        row = await self.session.get(Region, code)
        if row is None:
            raise invalid_code(field, f"no région has the code {code}", "unknown_region", value=code)
        return row

    async def _place_fields(self, departement_code: str | None, region_code: str | None) -> dict[str, Any]:
        """Checked département and région codes; a département also gives its région."""
        fields: dict[str, Any] = {}
        if departement_code:
            dep = await self._departement(departement_code)
            fields["departement_code"] = dep.code
            fields["region_code"] = dep.region_code
        if region_code:
            region = await self._region(region_code)
            if "region_code" in fields and fields["region_code"] != region.code:
                raise invalid("region_code", f"département {fields['departement_code']} is not in région {region.code}")
            fields["region_code"] = region.code
        return fields

    async def create_organisation(self, data: OrganisationCreate) -> Organisation:
        session = self.session
        values = data.model_dump(exclude={"insee_code", "siren", "departement_code", "region_code"})
        insee_code: str | None = None
        siren: str | None = None
        if data.kind == OrganisationKind.COMMUNE:
            if not data.insee_code:
                raise invalid("insee_code", "a commune is created from its INSEE code", "commune_needs_insee_code")
            insee_code, place = await geo.commune(session, data.insee_code)
            if data.siren:
                siren = clean_siren(data.siren)
            values.update(
                name=place.name,
                population=place.population,
                departement_code=place.departement_code,
                region_code=place.region_code,
                epci_siren=place.epci_siren,
            )
        elif data.kind == OrganisationKind.EPCI:
            if not data.siren:
                raise invalid("siren", "an intercommunality (EPCI) is created from its SIREN", "epci_needs_siren")
            siren, place = await geo.epci(session, data.siren)
            values.update(
                name=place.name,
                population=place.population,
                departement_code=place.departement_code,
                region_code=place.region_code,
            )
        else:
            if data.insee_code:
                raise invalid("insee_code", f"only a commune has an INSEE code, not a {data.kind.value}")
            if data.siren:
                siren = clean_siren(data.siren)
            values.update(await self._place_fields(data.departement_code, data.region_code))
            if not values.get("name"):
                if data.kind == OrganisationKind.DEPARTEMENT and data.departement_code:
                    values["name"] = (await self._departement(data.departement_code)).name
                elif data.kind == OrganisationKind.REGION and data.region_code:
                    values["name"] = (await self._region(data.region_code)).name
                else:
                    raise invalid("name", f"a {data.kind.value} needs a name", "required")
        await self._refuse_duplicate(insee_code, siren)
        return await self.create(Organisation(**values, insee_code=insee_code, siren=siren))

    async def update_organisation(self, org_id: UUID, data: OrganisationUpdate) -> Organisation:
        organisation = await self.get(org_id)
        changes = data.model_dump(exclude_unset=True)
        for required in ("name", "is_partner"):
            if required in changes and changes[required] is None:
                raise invalid(required, "cannot be empty", "required")
        dep_sent, region_sent = "departement_code" in changes, "region_code" in changes
        if dep_sent or region_sent:
            place = await self._place_fields(changes.pop("departement_code", None), changes.pop("region_code", None))
            if dep_sent:
                organisation.departement_code = place.get("departement_code")
            if region_sent or place.get("region_code"):
                organisation.region_code = place.get("region_code")
        self.apply(organisation, changes)
        return await self.update(organisation)

    async def search(
        self,
        query: ListQuery,
        sortable: frozenset[str],
        *,
        kind: OrganisationKind | None = None,
        region_code: str | None = None,
        departement_code: str | None = None,
        population_min: int | None = None,
        population_max: int | None = None,
        membership_status: MembershipStatus | None = None,
        label_year: int | None = None,
        label_level: int | None = None,
        label_green: bool | None = None,
        board_member: bool | None = None,
        tag: str | None = None,
        is_partner: bool | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of organisations in their read shape (plain values, see `_shape`), and the total."""
        await reading_only(self.session)
        conditions: list[Any] = []
        if kind:
            conditions.append(Organisation.kind == kind)
        if region_code:
            conditions.append(Organisation.region_code == clean_region_code(region_code))
        if departement_code:
            conditions.append(Organisation.departement_code == clean_departement_code(departement_code))
        if population_min is not None:
            conditions.append(Organisation.population >= population_min)
        if population_max is not None:
            conditions.append(Organisation.population <= population_max)
        if membership_status:
            conditions.append(
                exists().where(Membership.organisation_id == Organisation.id, Membership.status == membership_status)
            )
        if label_year is not None or label_level is not None or label_green is not None:
            label_conditions: list[Any] = [LabelAward.organisation_id == Organisation.id]
            if label_year is not None:
                label_conditions.append(LabelAward.year == label_year)
            if label_level is not None:
                label_conditions.append(LabelAward.level >= label_level)
            if label_green is not None:
                label_conditions.append(LabelAward.green.is_(label_green))
            conditions.append(exists().where(*label_conditions))
        if board_member is not None:
            running = board_mandate_running(date.today())
            conditions.append(running if board_member else ~running)
        if tag:
            conditions.append(tag_filter(ENTITY_TYPE, Organisation.id, tag))
        if is_partner is not None:
            conditions.append(Organisation.is_partner.is_(is_partner))
        if query.q and not query.sort:
            # Best match first; the name settles ties so that pages do not shift.
            search = Search.of(query.q)

            async def page(fuzzy: bool) -> tuple[list[dict[str, Any]], int]:
                def build() -> Select[Any]:
                    where = [search.matches(Organisation.search_text, fuzzy), *conditions]
                    order = [(search.rank(Organisation.search_text, fuzzy), True), (Organisation.name, False)]
                    return _page_statement(where, order)

                key = None if conditions else ("organisations searched", search.shape, fuzzy)
                return await self._page(kept(key, build), query, search.params)

            async def count(fuzzy: bool) -> int:
                return await self.count(search.matches(Organisation.search_text, fuzzy), *conditions)

            items, total = await best_first(search, query.offset, page, count)
            return list(items), total
        if query.q:
            conditions.append(matches(Organisation.search_text, query.q))
        field, descending = query.order(sortable, "name")

        def build() -> Select[Any]:
            if field == "name":
                order: list[tuple[Any, bool]] = [(Organisation.sort_name, descending), (Organisation.name, descending)]
            else:
                # The id settles ties (many records share a creation time): pages do not shift.
                order = [(getattr(Organisation, field), descending), (Organisation.id, descending)]
            return _page_statement(conditions, order)

        items, total = await self._page(
            kept(None if conditions else ("organisations", field, descending), build), query
        )
        if not items and query.offset:
            total = await self.count(*conditions)
        return items, total

    async def _page(
        self, statement: Select[Any], query: ListQuery, params: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        rows = await read_rows(self.session, statement, {**page_params(query), **(params or {})})
        names = await reference_names(self.session)
        return [_shape(row, names) for row in rows], rows[0].total if rows else 0

    async def read(self, organisation_id: UUID) -> dict[str, Any]:
        """One organisation in its read shape (plain values); 404 when there is none."""
        await reading_only(self.session)
        rows = await read_rows(self.session, kept("organisation", _one_statement), {"id": organisation_id})
        row = rows[0] if rows else None
        if row is None:
            raise NotFoundError(f"No organisation has the id {organisation_id}")
        return _shape(row, await reference_names(self.session))

    async def timeline(self, org_id: UUID, limit: int, offset: int) -> tuple[list[TimelineEntry], int]:
        """The member's whole story, newest first (see `timeline.py`)."""
        return await organisation_timeline(self.session, org_id, limit, offset)

    async def read_one(self, organisation: Organisation) -> OrganisationRead:
        """The read shape of an organisation just written (in the request's transaction)."""
        await self.session.flush()
        return OrganisationRead(**await self.read(organisation.id))

    async def attached(self, org_id: UUID) -> dict[str, int]:
        """How many records of each kind hang on the organisation, in one query."""
        counts = select(
            *(
                select(func.count()).select_from(model).where(column == org_id).scalar_subquery().label(name)
                for name, (model, column) in ATTACHED.items()
            )
        )
        row = (await self.session.execute(counts)).one()
        return dict(row._mapping)

    async def remove(self, org_id: UUID, *, detach: bool) -> None:
        """Deletes the organisation. With records attached, refuses (409, counting them) unless
        `detach` is the explicit choice: then those records go first (people stay), each one
        through the ORM so that the audit log has every deletion."""
        organisation = await self.get(org_id)
        attached = {name: n for name, n in (await self.attached(org_id)).items() if n}
        session = self.session
        if attached and not detach:
            summary = ", ".join(f"{n} {name}" for name, n in attached.items())
            raise ProblemError(
                409,
                f"{organisation.name} still has {summary}; delete with confirm=detach to delete those records too",
                attached=attached,
            )
        if attached:
            for name in attached:
                model, column = ATTACHED[name]
                for record in (await session.scalars(select(model).where(column == org_id))).all():
                    await session.delete(record)
            await session.flush()
        # Tags describe the organisation itself: they go with it.
        for tagging in (
            await session.scalars(
                select(Tagging).where(and_(Tagging.entity_type == ENTITY_TYPE, Tagging.entity_id == org_id))
            )
        ).all():
            await session.delete(tagging)
        await self.delete(org_id)


async def existing_organisation(session: Any, organisation_id: UUID, field: str = "organisation_id") -> Organisation:
    """The organisation a new record points to; a 422 naming the field when there is none."""
    organisation = await session.get(Organisation, organisation_id)
    if organisation is None:
        raise invalid(field, f"no organisation has the id {organisation_id}", "unknown_id")
    return organisation
