"""Time to compute a survey's results page (counts and percentages per question, distributions by
région and population band, free texts listed) for 2,000 submitted answers to a 40-question
survey, beside a plain SQL baseline in the same run: one asyncpg query counting the answers per
question and value, the least any results page must read. Also the CSV export.

    python bench/questionnaire_results.py [--answers 2000] [--runs 15]

The answers are written straight into a scratch database (see bench/README.md). On a shared,
noisy machine compare the ratios of one run rather than milliseconds across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from _common import bench_database, plain_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from crm.config import to_asyncpg_url
from crm.db.models.questionnaire import Questionnaire
from crm.domain.questionnaires.results import results, results_csv

REGIONS = ("11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94")
BANDS = ("< 3 500", "3 500 – 20 000", "20 000 – 100 000", "≥ 100 000")
CHOICES = ["Oui, tout à fait", "Plutôt oui", "Plutôt non", "Non", "Ne sait pas"]
TOOLS = ["SMS", "Appli", "Site", "Réseaux sociaux", "Affichage", "Téléphone"]
BASELINE = """
SELECT a.question_key, a.value, count(*)
FROM questionnaire_answer a JOIN questionnaire_response r ON r.id = a.response_id
WHERE r.questionnaire_id = $1 AND r.status <> 'draft'
GROUP BY 1, 2
"""


def survey() -> list[dict[str, Any]]:
    """40 questions of every countable kind and some free texts."""
    kinds = (
        (["single_choice"] * 10 + ["multiple_choice"] * 8 + ["scale"] * 8 + ["yes_no"] * 4 + ["number"] * 4)
        + ["short_text"] * 3
        + ["long_text"] * 3
    )
    questions = []
    for i, kind in enumerate(kinds):
        question: dict[str, Any] = {"key": f"q{i:02d}", "label": f"Question {i + 1}", "type": kind}
        if kind == "single_choice":
            question["choices"] = CHOICES
        if kind == "multiple_choice":
            question["choices"] = TOOLS
        questions.append(question)
    return [{"title": "Enquête", "questions": questions}]


def answer(question: dict[str, Any], rng: random.Random) -> Any:
    kind = question["type"]
    if kind == "single_choice":
        return rng.choice(CHOICES)
    if kind == "multiple_choice":
        return rng.sample(TOOLS, rng.randint(1, 3))
    if kind == "scale":
        return rng.randint(1, 5)
    if kind == "yes_no":
        return rng.choice(["oui", "non"])
    if kind == "number":
        return rng.randint(0, 500)
    return f"Réponse libre {rng.randint(1, 10_000)} sur la gestion de crise"


async def seed(url: str, answers: int) -> uuid.UUID:
    rng = random.Random(15)
    sections = survey()
    questionnaire_id = uuid.uuid4()
    conn = await asyncpg.connect(plain_url(url))
    try:
        content = json.dumps({"sections": sections})
        await conn.execute(
            "INSERT INTO questionnaire (id, title, kind, status, answered_by, anonymous, content, current_version,"
            " reminder_dates, criteria, results_public, created_at, updated_at) VALUES"
            " ($1, 'Bench', 'survey', 'open', 'person', false, $2::jsonb, 1, '{}', '[]', false, now(), now())",
            questionnaire_id,
            content,
        )
        await conn.execute(
            "INSERT INTO questionnaire_version (id, questionnaire_id, number, content, created_at, updated_at)"
            " VALUES ($1, $2, 1, $3::jsonb, now(), now())",
            uuid.uuid4(),
            questionnaire_id,
            content,
        )
        responses, rows = [], []
        for n in range(answers):
            response_id = uuid.uuid4()
            responses.append((response_id, questionnaire_id, 1, f"p:{n}", rng.choice(REGIONS), rng.choice(BANDS)))
            for question in sections[0]["questions"]:
                if rng.random() < 0.92:  # some questions left empty
                    rows.append((uuid.uuid4(), response_id, question["key"], json.dumps(answer(question, rng))))
        await conn.executemany(
            "INSERT INTO questionnaire_response (id, questionnaire_id, version, respondent_key, region_code,"
            " population_band, status, submitted_at, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, 'submitted', now(), now(), now())",
            responses,
        )
        await conn.executemany(
            "INSERT INTO questionnaire_answer (id, response_id, question_key, value, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4::jsonb, now(), now())",
            rows,
        )
        await conn.execute("VACUUM ANALYZE questionnaire_answer")
        await conn.execute("VACUUM ANALYZE questionnaire_response")
        print(f"seeded {answers} answers, {len(rows)} question answers")
    finally:
        await conn.close()
    return questionnaire_id


async def timed(runs: int, step: Callable[[], Awaitable[Any]]) -> list[float]:
    await step()  # warm: plans, caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await step()
        times.append(time.perf_counter() - start)
    return times


async def main(answers: int, runs: int) -> None:
    async with bench_database("questionnaire_results") as url:
        questionnaire_id = await seed(url, answers)
        engine = create_async_engine(to_asyncpg_url(url))
        conn = await asyncpg.connect(plain_url(url))
        try:

            async def baseline() -> None:
                await conn.fetch(BASELINE, questionnaire_id)

            async def page() -> None:
                async with AsyncSession(engine) as session:
                    questionnaire = await session.get(Questionnaire, questionnaire_id)
                    assert questionnaire is not None
                    data = await results(session, questionnaire)
                    assert data["submitted"] == answers

            async def export() -> None:
                async with AsyncSession(engine) as session:
                    questionnaire = await session.get(Questionnaire, questionnaire_id)
                    assert questionnaire is not None
                    await results_csv(session, questionnaire)

            base = statistics.median(await timed(runs, baseline))
            figures = {"results page": await timed(runs, page), "CSV export": await timed(runs, export)}
        finally:
            await conn.close()
            await engine.dispose()
    print(f"{answers} answers × 40 questions, median of {runs} runs")
    print(f"  plain SQL baseline (count per question and value): {base * 1000:7.1f} ms  (1.0×)")
    for name, times in figures.items():
        median = statistics.median(times)
        print(f"  {name:<48} {median * 1000:7.1f} ms  ({median / base:.1f}× the baseline)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    asyncio.run(main(args.answers, args.runs))
