"""A questionnaire's results, question by question, from the submitted answers: counts and
percentages, distributions by région and population band, free texts listed; and the CSV export
(one row per answer, one column per question).

The counting is one grouped query (PostgreSQL unnests multiple choices and groups by value,
région and band); Python only shapes the few thousand groups into the page."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.questionnaire import Questionnaire, QuestionnaireVersion
from crm.domain.questionnaires.content import TEXT_TYPES, Content, shown_text
from crm.lib.csv_safety import escape_cell

# Free texts listed per question on the page (the CSV has them all).
MAX_TEXTS = 500

# Answers as text, multiple choices unnested (only those: a lateral call per scalar answer costs
# more than the counting), grouped by question, value, région and band.
GROUPS = text(
    """
    SELECT question_key, value, region_code, population_band, count(*) AS n FROM (
        SELECT a.question_key, a.value #>> '{}' AS value, r.region_code, r.population_band
        FROM questionnaire_answer a JOIN questionnaire_response r ON r.id = a.response_id
        WHERE r.questionnaire_id = :questionnaire_id AND r.status <> 'draft'
          AND a.question_key = ANY(:counted) AND jsonb_typeof(a.value) <> 'array'
        UNION ALL
        SELECT a.question_key, item, r.region_code, r.population_band
        FROM questionnaire_answer a JOIN questionnaire_response r ON r.id = a.response_id,
             jsonb_array_elements_text(a.value) AS item
        WHERE r.questionnaire_id = :questionnaire_id AND r.status <> 'draft'
          AND a.question_key = ANY(:counted) AND jsonb_typeof(a.value) = 'array'
    ) answers
    GROUP BY 1, 2, 3, 4
    """
)
ANSWERED = text(
    """
    SELECT a.question_key, count(*) AS n
    FROM questionnaire_answer a JOIN questionnaire_response r ON r.id = a.response_id
    WHERE r.questionnaire_id = :questionnaire_id AND r.status <> 'draft'
    GROUP BY 1
    """
)
TEXTS = text(
    """
    SELECT question_key, value #>> '{}' AS value FROM (
        SELECT a.question_key, a.value,
               row_number() OVER (PARTITION BY a.question_key ORDER BY r.submitted_at DESC, r.id) AS rank
        FROM questionnaire_answer a JOIN questionnaire_response r ON r.id = a.response_id
        WHERE r.questionnaire_id = :questionnaire_id AND r.status <> 'draft'
          AND a.question_key = ANY(:texts)
    ) t WHERE rank <= :most
    """
)
SUBMITTED = text(
    "SELECT count(*) FROM questionnaire_response WHERE questionnaire_id = :questionnaire_id AND status <> 'draft'"
)


async def latest_content(session: AsyncSession, questionnaire: Questionnaire) -> Content:
    """The questions as last published (answers to older versions count under the same keys)."""
    if questionnaire.current_version is None:
        return Content.model_validate(questionnaire.content or {})
    raw = await session.scalar(
        QuestionnaireVersion.__table__.select()
        .with_only_columns(QuestionnaireVersion.content)
        .where(
            QuestionnaireVersion.questionnaire_id == questionnaire.id,
            QuestionnaireVersion.number == questionnaire.current_version,
        )
    )
    return Content.model_validate(raw or {})


# A number question with more distinct answers than this is shown as ranges of equal width.
BINS = 8


def _mean(values: dict[Any, int]) -> float | None:
    total = sum(values.values())
    return round(sum(float(v) * n for v, n in values.items()) / total, 2) if total else None


def _bins(values: dict[Any, int]) -> list[tuple[str, float, float]]:
    low, high = min(values), max(values)
    # Whole numbers get whole ranges ("0 – 50"), read as "from 0 to under 50".
    whole = all(float(v).is_integer() for v in values)
    width = max(1, math.ceil((high - low + 1) / BINS)) if whole else (high - low) / BINS or 1
    edges = [(low + i * width, low + (i + 1) * width) for i in range(BINS)]
    return [(f"{a:g} – {b:g}", a, b) for a, b in edges]


def _rebin(values: dict[Any, int], bins: list[tuple[str, float, float]]) -> dict[Any, int]:
    out: dict[Any, int] = defaultdict(int)
    for value, n in values.items():
        for i, (label, low, high) in enumerate(bins):
            if low <= value < high or (i == len(bins) - 1 and value == high):
                out[label] += n
                break
    return out


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


async def results(session: AsyncSession, questionnaire: Questionnaire) -> dict[str, Any]:
    content = await latest_content(session, questionnaire)
    params: dict[str, Any] = {"questionnaire_id": questionnaire.id}
    questions = content.questions()
    counted = [q.key for q in questions if q.type not in TEXT_TYPES and q.type != "file"]
    texts = [q.key for q in questions if q.type in TEXT_TYPES]
    # These grouped reads cost enough for PostgreSQL to compile them (JIT): some 200 ms of compiling
    # for some 100 ms of work, on every call. Off for this transaction only.
    await session.execute(text("SET LOCAL jit = off"))
    submitted = await session.scalar(SUBMITTED, params) or 0
    answered = {key: n for key, n in await session.execute(ANSWERED, params)}
    counts: dict[str, dict[Any, int]] = defaultdict(lambda: defaultdict(int))
    by_region: dict[str, dict[str, dict[Any, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    by_band: dict[str, dict[str, dict[Any, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    numeric = {q.key for q in questions if q.type in ("scale", "number")}
    for key, raw, region, band, n in await session.execute(GROUPS, params | {"counted": counted}):
        value: Any = raw
        if key in numeric:
            number = float(raw)
            value = int(number) if number.is_integer() else number
        counts[key][value] += n
        by_region[key][region or "?"][value] += n
        by_band[key][band or "?"][value] += n
    listed: dict[str, list[str]] = defaultdict(list)
    if texts:
        for key, value in await session.execute(TEXTS, params | {"texts": texts, "most": MAX_TEXTS}):
            listed[key].append(value)
    items = []
    for question in questions:
        if question.type == "number" and len(counts.get(question.key, {})) > BINS:
            binned = _bins(counts[question.key])
            mean = _mean(counts[question.key])
            counts[question.key] = _rebin(counts[question.key], binned)
            by_region[question.key] = {g: _rebin(v, binned) for g, v in by_region[question.key].items()}
            by_band[question.key] = {g: _rebin(v, binned) for g, v in by_band[question.key].items()}
            question = question.model_copy(update={"choices": [label for label, _, _ in binned]})
        else:
            mean = _mean(counts.get(question.key, {})) if question.type in ("scale", "number") else None
        item: dict[str, Any] = {
            "key": question.key,
            "label": question.label,
            "type": question.type,
            "answered": answered.get(question.key, 0),
            "percent_answered": _percent(answered.get(question.key, 0), submitted),
        }
        if question.type in TEXT_TYPES:
            item["texts"] = listed.get(question.key, [])
        elif question.type != "file":
            values = counts.get(question.key, {})
            order = list(question.choices) if question.choices else sorted(values, key=lambda v: (str(type(v)), v))
            if question.type == "yes_no":
                order = ["oui", "non"]
            if question.type == "scale" and question.min is not None and question.max is not None:
                order = list(range(question.min, question.max + 1))
            whole = item["answered"]
            item["counts"] = [
                {"value": value, "count": values.get(value, 0), "percent": _percent(values.get(value, 0), whole)}
                for value in order
            ]
            if mean is not None:
                item["mean"] = mean
            item["by_region"] = {r: dict(v) for r, v in sorted(by_region.get(question.key, {}).items())}
            item["by_population_band"] = {b: dict(v) for b, v in sorted(by_band.get(question.key, {}).items())}
        items.append(item)
    return {
        "questionnaire_id": questionnaire.id,
        "title": questionnaire.title,
        "submitted": submitted,
        "questions": items,
    }


async def results_csv(session: AsyncSession, questionnaire: Questionnaire) -> bytes:
    """One row per submitted answer, one column per question (French Excel: BOM, semicolons);
    cells a spreadsheet would run as formulas are neutralised. An anonymous questionnaire's file
    names nobody."""
    content = await latest_content(session, questionnaire)
    questions = content.questions()
    who = "" if questionnaire.anonymous else ", o.name AS organisation, o.insee_code"
    join = "" if questionnaire.anonymous else "LEFT JOIN organisation o ON o.id = r.organisation_id"
    rows = await session.execute(
        text(
            f"""
            SELECT r.id, r.submitted_at, r.region_code, r.population_band, r.version{who},
                   coalesce((SELECT jsonb_object_agg(a.question_key, a.value) FROM questionnaire_answer a
                             WHERE a.response_id = r.id), '{{}}'::jsonb) AS answers
            FROM questionnaire_response r {join}
            WHERE r.questionnaire_id = :questionnaire_id AND r.status <> 'draft'
            ORDER BY r.submitted_at, r.id
            """  # the two fragments are constants chosen above
        ),
        {"questionnaire_id": questionnaire.id},
    )
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    head = ["reponse", "envoyee_le", "region", "tranche_population", "version"]
    if not questionnaire.anonymous:
        head += ["collectivite", "code_insee"]
    writer.writerow(head + [escape_cell(q.label) for q in questions])
    for row in rows.mappings():
        cells = [str(row["id"]), row["submitted_at"].isoformat() if row["submitted_at"] else ""]
        cells += [row["region_code"] or "", row["population_band"] or "", str(row["version"])]
        if not questionnaire.anonymous:
            cells += [escape_cell(row["organisation"] or ""), row["insee_code"] or ""]
        answers = row["answers"]
        cells += [escape_cell(shown_text(q, answers.get(q.key))) for q in questions]
        writer.writerow(cells)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


async def questionnaire_for_results(session: AsyncSession, questionnaire_id: UUID) -> Questionnaire | None:
    return await session.get(Questionnaire, questionnaire_id)
