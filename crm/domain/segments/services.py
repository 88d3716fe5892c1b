"""Segments: saved filters over the CRM, combined with and / or / not, evaluated live in SQL.

A definition is a tree: `{"all": [...]}`, `{"any": [...]}`, `{"not": {...}}`, or a rule
`{"field": ..., "op": ..., "value": ...}`. It becomes one SQL condition on `Person.id`; a person
matches an organisation rule through the organisations of their current positions."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, false, func, not_, or_, select, true
from sqlalchemy.sql import Select

from crm.db.models.board import Mandate
from crm.db.models.label import LabelAward
from crm.db.models.lists import Subscription, SubscriptionStatus
from crm.db.models.membership import Membership, MembershipStatus
from crm.db.models.organisation import Organisation, OrganisationKind
from crm.db.models.person import Person, Position, PositionKind
from crm.db.models.segment import Segment
from crm.db.models.tag import Tag, Tagging
from crm.lib.listing import ListQuery
from crm.lib.problems import ProblemError, field_error, invalid
from crm.lib.services import Service

MAX_DEPTH = 10
MAX_RULES = 200
# Each value of an `in` list is one parameter of the statement, and PostgreSQL's protocol carries
# at most 32 767 of them: far more values than that answered 500. These limits keep every
# statement that embeds a segment (with its list, its campaign...) well under it.
MAX_VALUES_PER_RULE = 1000
MAX_VALUES = 5000
MAX_TEXT = 200
# Populations and years are `integer` columns.
MAX_NUMBER = 2**31 - 1

# field -> the operators it accepts
FIELDS: dict[str, frozenset[str]] = {
    "organisation_kind": frozenset({"eq", "in"}),
    "region_code": frozenset({"eq", "in"}),
    "departement_code": frozenset({"eq", "in"}),
    "population": frozenset({"gte", "lte", "between"}),
    "membership_status": frozenset({"eq", "in"}),
    "label": frozenset({"has"}),
    "position_title": frozenset({"contains"}),
    "elected": frozenset({"eq"}),
    "board_member": frozenset({"eq"}),
    "list": frozenset({"eq", "in"}),
    "tag": frozenset({"eq", "in"}),
    # Chosen people, by id: an invitation to a hand-picked few.
    "person": frozenset({"eq", "in"}),
}


def _people_in_organisations(condition: ColumnElement[bool]) -> Select[Any]:
    """The people holding a current position in an organisation that meets `condition`."""
    return (
        select(Position.person_id)
        .join(Organisation, Organisation.id == Position.organisation_id)
        .where(Position.held_on(), condition)
    )


def _values(value: Any, op: str, path: str, kind: type | tuple[type, ...]) -> list[Any]:
    items = value if op == "in" else [value]
    if op == "in" and (not isinstance(value, list) or not value):
        raise invalid(f"{path}.value", "must be a non-empty list")
    for index, item in enumerate(items):
        where = f"{path}.value[{index}]" if op == "in" else f"{path}.value"
        if isinstance(item, bool) or not isinstance(item, kind):
            raise invalid(where, "has the wrong type")
        if isinstance(item, str) and len(item) > MAX_TEXT:
            raise invalid(where, f"is longer than {MAX_TEXT} characters")
    return items


def _uuid_values(value: Any, op: str, path: str) -> list[UUID]:
    result = []
    for index, item in enumerate(_values(value, op, path, str)):
        try:
            result.append(UUID(item))
        except ValueError as exc:
            where = f"{path}.value[{index}]" if op == "in" else f"{path}.value"
            raise invalid(where, "must be an id (UUID)") from exc
    return result


def _enum_values(value: Any, op: str, path: str, enum_cls: type[enum.Enum]) -> list[Any]:
    allowed = {m.value for m in enum_cls}
    items = _values(value, op, path, str)
    for index, item in enumerate(items):
        if item not in allowed:
            where = f"{path}.value[{index}]" if op == "in" else f"{path}.value"
            raise invalid(where, f"must be one of {', '.join(sorted(allowed))}")
    return [enum_cls(i) for i in items]


def _int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_NUMBER:
        raise invalid(path, f"must be a whole number from 0 to {MAX_NUMBER}")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise invalid(path, "must be true or false")
    return value


def _rule(rule: dict[str, Any], path: str) -> ColumnElement[bool]:
    unknown = set(rule) - {"field", "op", "value"}
    if unknown:
        raise invalid(f"{path}.{sorted(unknown)[0]}", "unknown key; a rule has field, op and value")
    field = rule.get("field")
    if field not in FIELDS:
        raise invalid(f"{path}.field", f"must be one of {', '.join(sorted(FIELDS))}")
    op = rule.get("op")
    if op not in FIELDS[field]:
        raise invalid(f"{path}.op", f"must be one of {', '.join(sorted(FIELDS[field]))} for {field}")
    if "value" not in rule:
        raise invalid(f"{path}.value", "is required")
    value = rule["value"]

    if field == "organisation_kind":
        kinds = _enum_values(value, op, path, OrganisationKind)
        return Person.id.in_(_people_in_organisations(Organisation.kind.in_(kinds)))
    if field in ("region_code", "departement_code"):
        codes = [c.strip().upper() for c in _values(value, op, path, str)]
        column = Organisation.region_code if field == "region_code" else Organisation.departement_code
        return Person.id.in_(_people_in_organisations(column.in_(codes)))
    if field == "population":
        if op == "between":
            if not isinstance(value, dict) or not value or set(value) - {"min", "max"}:
                raise invalid(f"{path}.value", 'must be {"min": n, "max": n} (either may be left out)')
            bounds = []
            if value.get("min") is not None:
                bounds.append(Organisation.population >= _int(value["min"], f"{path}.value.min"))
            if value.get("max") is not None:
                bounds.append(Organisation.population <= _int(value["max"], f"{path}.value.max"))
            condition = and_(*bounds) if bounds else Organisation.population.is_not(None)
        else:
            number = _int(value, f"{path}.value")
            condition = Organisation.population >= number if op == "gte" else Organisation.population <= number
        return Person.id.in_(_people_in_organisations(condition))
    if field == "membership_status":
        statuses = _enum_values(value, op, path, MembershipStatus)
        members = select(Membership.organisation_id).where(Membership.status.in_(statuses))
        return Person.id.in_(_people_in_organisations(Organisation.id.in_(members)))
    if field == "label":
        if not isinstance(value, dict) or set(value) - {"year", "min_level", "green"}:
            raise invalid(f"{path}.value", 'must be {"year": 2025, "min_level": 1-5, "green": true} (each optional)')
        conditions: list[ColumnElement[bool]] = []
        if value.get("year") is not None:
            conditions.append(LabelAward.year == _int(value["year"], f"{path}.value.year"))
        if value.get("min_level") is not None:
            level = _int(value["min_level"], f"{path}.value.min_level")
            if not 1 <= level <= 5:
                raise invalid(f"{path}.value.min_level", "must be between 1 and 5")
            conditions.append(LabelAward.level >= level)
        if value.get("green") is not None:
            conditions.append(LabelAward.green.is_(_bool(value["green"], f"{path}.value.green")))
        labelled = select(LabelAward.organisation_id).where(*conditions)
        return Person.id.in_(_people_in_organisations(Organisation.id.in_(labelled)))
    if field == "position_title":
        if not isinstance(value, str) or not value.strip():
            raise invalid(f"{path}.value", "must be some text")
        if len(value) > MAX_TEXT:
            raise invalid(f"{path}.value", f"is longer than {MAX_TEXT} characters")
        # strpos, not LIKE: what staff type is matched literally, % and _ included.
        title = func.strpos(func.crm_search_text(Position.title), func.crm_search_text(value.strip())) > 0
        return Person.id.in_(select(Position.person_id).where(Position.held_on(), title))
    if field == "elected":
        elected = select(Position.person_id).where(Position.held_on(), Position.kind == PositionKind.ELECTED)
        return Person.id.in_(elected) if _bool(value, f"{path}.value") else Person.id.not_in(elected)
    if field == "board_member":
        seated = select(Mandate.person_id).where(Mandate.running_on())
        return Person.id.in_(seated) if _bool(value, f"{path}.value") else Person.id.not_in(seated)
    if field == "person":
        return Person.id.in_(_uuid_values(value, op, path))
    if field == "list":
        list_ids = _uuid_values(value, op, path)
        subscribed = select(Subscription.person_id).where(
            Subscription.list_id.in_(list_ids), Subscription.status == SubscriptionStatus.SUBSCRIBED
        )
        return Person.id.in_(subscribed)
    # tag: by id or by name, on the person or on one of their current organisations
    names = _values(value, op, path, str)
    ids: list[UUID] = []
    plain: list[str] = []
    for name in names:
        try:
            ids.append(UUID(name))
        except ValueError:
            plain.append(name.strip())
    tag_ids = select(Tag.id).where(or_(Tag.id.in_(ids) if ids else false(), Tag.name.in_(plain) if plain else false()))
    tagged_people = select(Tagging.entity_id).where(Tagging.entity_type == "person", Tagging.tag_id.in_(tag_ids))
    tagged_organisations = select(Tagging.entity_id).where(
        Tagging.entity_type == "organisation", Tagging.tag_id.in_(tag_ids)
    )
    return or_(
        Person.id.in_(tagged_people),
        Person.id.in_(_people_in_organisations(Organisation.id.in_(tagged_organisations))),
    )


def _node(node: Any, path: str, depth: int, budget: list[int]) -> ColumnElement[bool]:
    if depth > MAX_DEPTH:
        raise invalid(path, f"nests more than {MAX_DEPTH} levels")
    budget[0] += 1
    if budget[0] > MAX_RULES:
        raise invalid(path, f"a definition holds at most {MAX_RULES} rules")
    if not isinstance(node, dict):
        raise invalid(path, "must be an object: a rule, or all / any / not")
    combinators = [k for k in ("all", "any", "not") if k in node]
    if not combinators:
        values = node.get("value")
        if isinstance(values, list):
            if len(values) > MAX_VALUES_PER_RULE:
                raise invalid(
                    f"{path}.value", f"holds {len(values)} values; a rule takes at most {MAX_VALUES_PER_RULE}"
                )
            budget[1] += len(values)
            if budget[1] > MAX_VALUES:
                raise invalid(f"{path}.value", f"a definition holds at most {MAX_VALUES} values in all its rules")
        return _rule(node, path)
    if len(node) != 1:
        raise invalid(path, "a group holds exactly one of all, any or not")
    key = combinators[0]
    if key == "not":
        return not_(_node(node["not"], f"{path}.not", depth + 1, budget))
    children = node[key]
    if not isinstance(children, list) or not children:
        raise invalid(f"{path}.{key}", "must be a non-empty list")
    parts = [_node(child, f"{path}.{key}[{i}]", depth + 1, budget) for i, child in enumerate(children)]
    return and_(true(), *parts) if key == "all" else or_(false(), *parts)


def segment_condition(definition: dict[str, Any], path: str = "definition") -> ColumnElement[bool]:
    """The SQL condition on `Person.id` a definition stands for:
    `select(Person.id).where(segment_condition(defn))`. Raises a 422 problem naming the place
    in the definition (e.g. `definition.all[1].field`) when it is not valid."""
    return _node(definition, path, 0, [0, 0])


def validate_definition(definition: Any, path: str = "definition") -> None:
    segment_condition(definition, path)


PREVIEW_SAMPLE = 10


class SegmentService(Service[Segment]):
    async def _check_name(self, name: str, segment_id: UUID | None = None) -> None:
        clash = await self.get_one_or_none(Segment.name == name)
        if clash is not None and clash.id != segment_id:
            raise ProblemError(
                409, f"A segment is already named {name!r}", errors=[field_error("name", "already used")]
            )

    async def add(self, values: dict[str, Any]) -> Segment:
        validate_definition(values["definition"])
        await self._check_name(values["name"])
        return await self.create(Segment(**values))

    async def change(self, segment_id: UUID, values: dict[str, Any]) -> Segment:
        segment = await self.get(segment_id)
        if values.get("definition") is not None:
            validate_definition(values["definition"])
        elif "definition" in values:
            raise invalid("definition", "cannot be empty")
        if values.get("name") is not None:
            await self._check_name(values["name"], segment_id)
        # A None means "not sent", except for the description, which can be cleared.
        self.apply(segment, {k: v for k, v in values.items() if v is not None or k == "description"})
        return await self.update(segment)

    async def search(self, query: ListQuery, sortable: frozenset[str]) -> tuple[Sequence[Segment], int]:
        conditions: list[Any] = []
        if query.q:
            conditions.append(func.lower(Segment.name).like(f"%{query.q.lower()}%"))
        return await self.get_many_and_count(*query.filters(sortable, "name"), *conditions)

    async def preview(self, definition: dict[str, Any]) -> dict[str, Any]:
        """The live count and a sample of the people a definition selects."""
        condition = segment_condition(definition)
        session = self.session
        total = await session.scalar(select(func.count()).select_from(Person).where(condition))
        organisation = (
            select(Organisation.name)
            .join(Position, Position.organisation_id == Organisation.id)
            .where(Position.person_id == Person.id, Position.held_on())
            .order_by(Position.started_on.desc().nulls_last(), Organisation.name)
            .limit(1)
            .correlate(Person)
            .scalar_subquery()
        )
        rows = (
            await session.execute(
                select(Person.id, Person.first_name, Person.last_name, Person.email, organisation)
                .where(condition)
                .order_by(Person.last_name, Person.first_name, Person.id)
                .limit(PREVIEW_SAMPLE)
            )
        ).all()
        sample = [
            {"id": pid, "name": f"{first} {last}".strip(), "email": email, "organisation": org}
            for pid, first, last, email, org in rows
        ]
        return {"count": int(total or 0), "sample": sample}
