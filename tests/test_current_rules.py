"""The two date rules every screen, segment, import and message reads, on their edge days:
a *current* position (started on or before the day, or no start known; not ended: over on the day
it ended) and a mandate running on a day (both ends of the term included). Python and SQL say the
same thing, and the screens that had their own copies now agree with them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm.db.models.board import BoardRole, Mandate
from crm.db.models.organisation import Organisation, OrganisationKind
from crm.db.models.person import Person, Position, PositionKind
from crm.db.models.staff import StaffRole
from tests.conftest import log_in
from tests.mailing_helpers import add

TODAY = date.today()
YESTERDAY, TOMORROW = TODAY - timedelta(days=1), TODAY + timedelta(days=1)

# title: (started_on, ended_on, current today?)
POSITIONS = {
    "no dates": (None, None, True),
    "started yesterday": (YESTERDAY, None, True),
    "started today": (TODAY, None, True),
    "starts tomorrow": (TOMORROW, None, False),
    "ended yesterday": (None, YESTERDAY, False),
    "ended today": (YESTERDAY, TODAY, False),
    "ends tomorrow": (None, TOMORROW, True),
    "starts tomorrow, ends later": (TOMORROW, TOMORROW + timedelta(days=9), False),
}
# role label: (term_start, term_end, running today?)
MANDATES = {
    "open term": (YESTERDAY, None, True),
    "starts today": (TODAY, None, True),
    "starts tomorrow": (TOMORROW, None, False),
    "ends today": (YESTERDAY, TODAY, True),
    "ended yesterday": (YESTERDAY - timedelta(days=9), YESTERDAY, False),
}


async def _world(engine: AsyncEngine) -> tuple[Any, Any]:
    (org_id,) = await add(
        engine,
        Organisation(
            name="Association test", kind=OrganisationKind.ASSOCIATION, region_code="84", departement_code="69"
        ),
    )
    people = {}
    for title in {*POSITIONS, *MANDATES}:
        (pid,) = await add(engine, Person(first_name="P", last_name=title))
        people[title] = pid
    await add(
        engine,
        *(
            Position(
                person_id=people[title],
                organisation_id=org_id,
                title=title,
                kind=PositionKind.ELECTED,
                started_on=start,
                ended_on=end,
            )
            for title, (start, end, _) in POSITIONS.items()
        ),
        *(
            Mandate(
                person_id=people[label],
                organisation_id=org_id,
                role=BoardRole.MEMBER,
                term_start=start,
                term_end=end,
            )
            for label, (start, end, _) in MANDATES.items()
        ),
    )
    return org_id, people


async def test_python_and_sql_agree_on_the_edge_days(engine: AsyncEngine) -> None:
    await _world(engine)
    async with AsyncSession(engine) as session:
        held = set(await session.scalars(select(Position.title).where(Position.held_on(TODAY))))
        assert held == {title for title, (_, _, current) in POSITIONS.items() if current}
        for position in await session.scalars(select(Position)):
            assert position.held_on(TODAY) is POSITIONS[position.title][2], position.title
        running = set(
            await session.scalars(
                select(Person.last_name).join(Mandate, Mandate.person_id == Person.id).where(Mandate.running_on(TODAY))
            )
        )
        assert running == {label for label, (_, _, on) in MANDATES.items() if on}
        for mandate, name in await session.execute(select(Mandate, Person.last_name).join(Person)):
            assert mandate.running_on(TODAY) is MANDATES[name][2], name
        # Without a day, both mean today.
        assert set(await session.scalars(select(Position.title).where(Position.held_on()))) == held


async def test_segments_people_and_board_use_the_same_rule(client: Any, make_staff: Any, engine: AsyncEngine) -> None:
    """A position starting tomorrow used to count in segments (they checked only the end); a
    mandate ending today counts on the board, in segments and on the person's page alike."""
    org_id, _ = await _world(engine)
    await log_in(client, (await make_staff(StaffRole.VIEWER)).email)
    current = {title for title, (_, _, on) in POSITIONS.items() if on}

    response = await client.post(
        "/api/v1/segments/preview",
        json={"definition": {"field": "elected", "op": "eq", "value": True}},
    )
    assert response.status_code == 200, response.text
    assert {item["name"].removeprefix("P ") for item in response.json()["sample"]} == current

    response = await client.get("/api/v1/positions", params={"organisation_id": str(org_id), "current": "true"})
    assert response.status_code == 200, response.text
    assert {item["title"] for item in response.json()["items"]} == current

    seated = {label for label, (_, _, on) in MANDATES.items() if on}
    response = await client.post(
        "/api/v1/segments/preview",
        json={"definition": {"field": "board_member", "op": "eq", "value": True}},
    )
    assert response.status_code == 200, response.text
    assert {item["name"].removeprefix("P ") for item in response.json()["sample"]} == seated

    response = await client.get("/api/v1/mandates", params={"current": "true", "limit": 50})
    assert response.status_code == 200, response.text
    assert {item["person_name"].removeprefix("P ") for item in response.json()["items"]} == seated
    assert all(item["is_current"] for item in response.json()["items"])
