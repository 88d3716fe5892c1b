"""Tags: free labels staff put on any record, and the helpers other lists use for `?tag=` and for
the tag names in their read shapes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.exc import IntegrityError as SQLAlchemyIntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.convention import Convention
from crm.db.models.membership import Membership
from crm.db.models.organisation import Organisation
from crm.db.models.person import Person
from crm.db.models.tag import Tag, Tagging
from crm.domain.tags.schemas import TagCreate, TaggingCreate, TaggingRead, TagRead, TagUpdate
from crm.lib.listing import ListQuery
from crm.lib.problems import ProblemError, field_error, invalid
from crm.lib.services import Service


def tag_key(name: str) -> str:
    """What makes two tag names the same tag: case, the typographic apostrophe (’ as ') and spaces
    do not count, so "Villes d’Or" and "villes d'or" are one tag."""
    return " ".join(name.replace("’", "'").split()).lower()


def tag_key_sql(column: Any) -> Any:
    """`tag_key()` in SQL, for the stored names (which keep their spaces as typed at the edges)."""
    return func.lower(func.btrim(func.replace(column, "’", "'")))


def tag_filter(entity_type: str, id_column: Any, tag_name: str) -> ColumnElement[bool]:
    """An EXISTS condition: the record whose id is `id_column` carries the tag named `tag_name`
    (compared by `tag_key`)."""
    return exists(
        select(Tagging.id)
        .join(Tag, Tag.id == Tagging.tag_id)
        .where(
            Tagging.entity_type == entity_type,
            Tagging.entity_id == id_column,
            tag_key_sql(Tag.name) == tag_key(tag_name),
        )
    )


async def tag_names_for(session: AsyncSession, entity_type: str, ids: Iterable[UUID]) -> dict[UUID, list[str]]:
    """The tag names of each record, sorted, in one query for a whole page; every id is a key."""
    wanted = list(dict.fromkeys(i if isinstance(i, UUID) else UUID(str(i)) for i in ids))
    names: dict[UUID, list[str]] = defaultdict(list)
    if not wanted:
        return {}
    rows = await session.execute(
        select(Tagging.entity_id, Tag.name)
        .join(Tag, Tag.id == Tagging.tag_id)
        .where(Tagging.entity_type == entity_type, Tagging.entity_id.in_(wanted))
        .order_by(func.lower(Tag.name))
    )
    for entity_id, name in rows:
        names[entity_id].append(name)
    return {i: names.get(i, []) for i in wanted}


def _labels_query(entity_type: str, ids: list[UUID]) -> Any:
    """The display name of each record of a type, by id."""
    if entity_type == "organisation":
        return select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))
    if entity_type == "person":
        return select(Person.id, Person.first_name + " " + Person.last_name).where(Person.id.in_(ids))
    if entity_type == "convention":
        return select(Convention.id, Convention.title).where(Convention.id.in_(ids))
    return (
        select(Membership.id, Organisation.name)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.id.in_(ids))
    )


ENTITY_MODELS: dict[str, Any] = {
    "organisation": Organisation,
    "person": Person,
    "convention": Convention,
    "membership": Membership,
}


class TagService(Service[Tag]):
    async def create_tag(self, data: TagCreate) -> TagRead:
        await self._check_name_free(data.name, exclude=None)
        tag = await self.create(Tag(name=data.name, color=data.color))
        return (await self.reads([tag]))[0]

    async def update_tag(self, tag_id: UUID, data: TagUpdate) -> TagRead:
        tag = await self.get(tag_id)
        sent = data.model_dump(exclude_unset=True)
        if "name" in sent:
            if sent["name"] is None:
                raise invalid("name", "cannot be empty")
            await self._check_name_free(sent["name"], exclude=tag.id)
        self.apply(tag, sent)
        tag = await self.update(tag)
        return (await self.reads([tag]))[0]

    async def read(self, tag_id: UUID) -> TagRead:
        return (await self.reads([await self.get(tag_id)]))[0]

    async def list_tags(self, query: ListQuery, sortable: frozenset[str]) -> tuple[list[TagRead], int]:
        conditions: list[ColumnElement[bool]] = []
        if query.q:
            conditions.append(func.crm_search_text(Tag.name).contains(func.crm_search_text(query.q)))
        items, total = await self.get_many_and_count(*query.filters(sortable, "name"), *conditions)
        return await self.reads(items), total

    async def delete_tag(self, tag_id: UUID) -> None:
        tag = await self.get(tag_id)
        session = self.session
        # One by one, so that the audit log says which records lost the tag.
        for tagging in (await session.scalars(select(Tagging).where(Tagging.tag_id == tag.id))).all():
            await session.delete(tagging)
        await session.flush()
        await self.delete(tag.id)

    async def tag(self, tag_id: UUID, data: TaggingCreate) -> tuple[TaggingRead, bool]:
        """Puts the tag on the record; returns the tagging and whether it is new (tagging twice is harmless)."""
        tag = await self.get(tag_id)
        session = self.session
        if await session.get(ENTITY_MODELS[data.entity_type], data.entity_id) is None:
            raise invalid("entity_id", f"no {data.entity_type} has this id")
        where = (
            Tagging.tag_id == tag.id,
            Tagging.entity_type == data.entity_type,
            Tagging.entity_id == data.entity_id,
        )
        tagging = await session.scalar(select(Tagging).where(*where))
        created = tagging is None
        if tagging is None:
            try:
                # A savepoint: if a concurrent request tagged the same record first, only this insert is undone.
                async with session.begin_nested():
                    tagging = Tagging(tag_id=tag.id, entity_type=data.entity_type, entity_id=data.entity_id)
                    session.add(tagging)
            except SQLAlchemyIntegrityError:
                created = False
                tagging = await session.scalar(select(Tagging).where(*where))
        assert tagging is not None
        return (await self._tagging_reads([tagging]))[0], created

    async def untag(self, tag_id: UUID, entity_type: str, entity_id: UUID) -> None:
        tag = await self.get(tag_id)
        session = self.session
        tagging = await session.scalar(
            select(Tagging).where(
                Tagging.tag_id == tag.id, Tagging.entity_type == entity_type, Tagging.entity_id == entity_id
            )
        )
        if tagging is not None:
            await session.delete(tagging)
            await session.flush()

    async def taggings(self, tag_id: UUID, query: ListQuery, entity_type: str | None) -> tuple[list[TaggingRead], int]:
        tag = await self.get(tag_id)
        session = self.session
        conditions = [Tagging.tag_id == tag.id]
        if entity_type:
            conditions.append(Tagging.entity_type == entity_type)
        total = int(await session.scalar(select(func.count()).select_from(Tagging).where(*conditions)) or 0)
        rows = (
            await session.scalars(
                select(Tagging)
                .where(*conditions)
                .order_by(Tagging.created_at.desc(), Tagging.id)
                .limit(query.limit)
                .offset(query.offset)
            )
        ).all()
        return await self._tagging_reads(rows), total

    async def reads(self, tags: Sequence[Tag]) -> list[TagRead]:
        counts: dict[UUID, int] = {}
        if tags:
            counts = dict(
                (
                    await self.session.execute(
                        select(Tagging.tag_id, func.count())
                        .where(Tagging.tag_id.in_([t.id for t in tags]))
                        .group_by(Tagging.tag_id)
                    )
                ).all()
            )
        return [
            TagRead(id=t.id, name=t.name, color=t.color, usage_count=counts.get(t.id, 0), created_at=t.created_at)
            for t in tags
        ]

    async def _tagging_reads(self, taggings: Sequence[Tagging]) -> list[TaggingRead]:
        by_type: dict[str, list[UUID]] = defaultdict(list)
        for tagging in taggings:
            by_type[tagging.entity_type].append(tagging.entity_id)
        labels: dict[UUID, str] = {}
        for entity_type, ids in by_type.items():
            if entity_type in ENTITY_MODELS:
                labels.update(dict((await self.session.execute(_labels_query(entity_type, ids))).all()))
        return [
            TaggingRead(
                tag_id=t.tag_id,
                entity_type=t.entity_type,
                entity_id=t.entity_id,
                label=labels.get(t.entity_id, ""),
                tagged_at=t.created_at,
            )
            for t in taggings
        ]

    async def _check_name_free(self, name: str, *, exclude: UUID | None) -> None:
        conditions = [tag_key_sql(Tag.name) == tag_key(name)]
        if exclude is not None:
            conditions.append(Tag.id != exclude)
        existing = await self.session.scalar(select(Tag.name).where(*conditions))
        if existing is not None:
            raise ProblemError(
                409,
                f"The tag {existing!r} already exists",
                errors=[field_error("name", "already used (whatever the case or apostrophe)")],
            )
