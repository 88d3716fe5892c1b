"""Demo questionnaires, planned from the demo's members and labels: last year's label with its
applications (one per city labelled that year, up to 200), their answers, the jury's scores and
the decisions (the label awards already in the demo), and the crisis-management survey with a few
hundred answers. Plain rows written in bulk, like the rest of the demo; nobody is mailed."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from crm.db.models.questionnaire import (
    AnsweredBy,
    JuryAssignment,
    JuryMember,
    Questionnaire,
    QuestionnaireAnswer,
    QuestionnaireKind,
    QuestionnaireRecipient,
    QuestionnaireResponse,
    QuestionnaireStatus,
    QuestionnaireVersion,
    ResponseStatus,
)
from crm.domain.questionnaires.label import FIRST_CONTENT, FIRST_CRITERIA
from crm.domain.questionnaires.services import population_band

APPLICATIONS = 200
SURVEY_ANSWERS = 320
BATCH = 2_000
JURORS = ("Claire Vasseur", "Mehdi Benali", "Sophie Lemaire", "Yann Le Gall", "Inès Carvalho")
ACTIONS = (
    "Portail citoyen unique et démarches en ligne",
    "Conseillers numériques dans les maisons France services",
    "Open data des délibérations et budgets",
    "Réseau de tiers-lieux et fablab municipal",
    "Plan de sobriété numérique des services",
    "Wifi public dans les équipements sportifs",
    "Formation des agents à la cybersécurité",
)
SURVEY_CONTENT: dict[str, Any] = {
    "sections": [
        {
            "title": "Pendant la crise",
            "questions": [
                {"key": "cell", "label": "Avez-vous activé une cellule de crise ?", "type": "yes_no", "required": True},
                {
                    "key": "cell_tools",
                    "label": "Avec quels outils la cellule a-t-elle travaillé ?",
                    "type": "multiple_choice",
                    "choices": ["Visioconférence", "Messagerie instantanée", "Téléphone", "Outil de gestion de crise"],
                    "show_if": {"question": "cell", "equals": "oui"},
                },
                {
                    "key": "channels",
                    "label": "Par quels canaux avez-vous informé la population ?",
                    "type": "multiple_choice",
                    "choices": ["Site web", "Réseaux sociaux", "SMS", "Application mobile", "Panneaux lumineux"],
                },
                {
                    "key": "telework",
                    "label": "Part des agents en télétravail au plus fort de la crise",
                    "type": "single_choice",
                    "choices": ["Moins de 10 %", "10 à 30 %", "30 à 60 %", "Plus de 60 %"],
                },
                {
                    "key": "readiness",
                    "label": "Votre préparation numérique, de 1 à 5",
                    "type": "scale",
                    "min": 1,
                    "max": 5,
                },
            ],
        },
        {
            "title": "Et après",
            "questions": [
                {"key": "kept", "label": "Quels usages avez-vous gardés ?", "type": "long_text"},
                {"key": "budget", "label": "Budget numérique supplémentaire (k€)", "type": "number", "min": 0},
            ],
        },
    ]
}
KEPT = (
    "Les réunions en visio pour les élus des communes éloignées.",
    "Le télétravail deux jours par semaine.",
    "Les SMS d'alerte à la population.",
    "La prise de rendez-vous en ligne à l'état civil.",
    "Rien de particulier, retour aux habitudes.",
)


def _moment(rng: random.Random, day: date) -> datetime:
    return datetime(day.year, day.month, day.day, rng.randint(8, 18), rng.randint(0, 59), tzinfo=UTC)


def _questionnaire(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": None,
        "closes_at": None,
        "reminder_dates": [],
        "label_year": None,
        "criteria": [],
        "results_public": False,
        "current_version": 1,
        "anonymous": False,
    } | row


def plan_questionnaires(
    rows: dict[str, list[dict[str, Any]]], seed: int, today: date
) -> dict[Any, list[dict[str, Any]]]:
    """The rows, table by table, in insert order; a pure function of the demo's rows and seed."""
    rng = random.Random(seed * 31 + 15)
    out: dict[Any, list[dict[str, Any]]] = {
        t: []
        for t in (
            Questionnaire,
            QuestionnaireVersion,
            QuestionnaireRecipient,
            QuestionnaireResponse,
            QuestionnaireAnswer,
            JuryMember,
            JuryAssignment,
        )
    }
    orgs = {o["id"]: o for o in rows.get("organisation", [])}
    contact: dict[UUID, UUID] = {}
    for position in rows.get("position", []):
        if position.get("ended_on") is None:
            contact.setdefault(position["organisation_id"], position["person_id"])
    year = today.year - 1

    # Last year's label: closed, every application decided as the demo's awards say.
    label_id = uuid7()
    opened = date(year, 3, 1)
    out[Questionnaire].append(
        _questionnaire(
            {
                "id": label_id,
                "title": f"Label – candidature {year}",
                "kind": QuestionnaireKind.LABEL_APPLICATION,
                "status": QuestionnaireStatus.CLOSED,
                "answered_by": AnsweredBy.ORGANISATION,
                "content": FIRST_CONTENT,
                "label_year": year,
                "criteria": FIRST_CRITERIA,
                "closes_at": datetime(year, 6, 30, 22, tzinfo=UTC),
            }
        )
    )
    out[QuestionnaireVersion].append(
        {"id": uuid7(), "questionnaire_id": label_id, "number": 1, "content": FIRST_CONTENT}
    )
    jurors = [uuid7() for _ in JURORS]
    for juror_id, name in zip(jurors, JURORS, strict=True):
        slug = name.lower().replace(" ", ".").replace("è", "e").replace("é", "e")
        out[JuryMember].append(
            {
                "id": juror_id,
                "questionnaire_id": label_id,
                "staff_id": None,
                "name": name,
                "email": f"{slug}@example.org",
            }
        )
    awards = [a for a in rows.get("label_award", []) if a["year"] == year and a["organisation_id"] in contact]
    for award in awards[:APPLICATIONS]:
        org = orgs[award["organisation_id"]]
        person = contact[award["organisation_id"]]
        response_id = uuid7()
        submitted = _moment(rng, opened + timedelta(days=rng.randint(10, 110)))
        out[QuestionnaireRecipient].append(
            {
                "id": uuid7(),
                "questionnaire_id": label_id,
                "person_id": person,
                "organisation_id": org["id"],
                "answered_on": submitted.date(),
                "reminded_on": [],
            }
        )
        out[QuestionnaireResponse].append(
            {
                "id": response_id,
                "questionnaire_id": label_id,
                "version": 1,
                "respondent_key": f"o:{org['id']}",
                "person_id": person,
                "organisation_id": org["id"],
                "region_code": org.get("region_code"),
                "population_band": population_band(org.get("population")),
                "status": ResponseStatus.DECIDED,
                "submitted_at": submitted,
                "decided_level": award["level"],
                "decided_green": award["green"],
            }
        )
        green = award["green"] or rng.random() < 0.2
        answers = {
            "contact_name": "Direction générale des services",
            "strategy": f"{org['name']} mène un schéma directeur du numérique depuis {rng.randint(2012, year - 1)}.",
            "actions": " ; ".join(rng.sample(ACTIONS, 3)),
            "green": "oui" if green else "non",
        }
        if green:
            answers["green_actions"] = "Allongement de la durée de vie des postes, hébergement sobre du site."
        out[QuestionnaireAnswer].extend(
            {"id": uuid7(), "response_id": response_id, "question_key": k, "value": v} for k, v in answers.items()
        )
        for juror_id in rng.sample(jurors, 2):
            base = award["level"] * 2
            scores = {c["key"]: max(0, min(c["max"], base + rng.randint(-1, 1))) for c in FIRST_CRITERIA}
            out[JuryAssignment].append(
                {
                    "id": uuid7(),
                    "jury_member_id": juror_id,
                    "response_id": response_id,
                    "scores": scores,
                    "comment": rng.choice(
                        ("Dossier solide.", "Belle progression.", "À confirmer l'an prochain.", None)
                    ),
                    "scored_at": submitted + timedelta(days=30),
                }
            )

    # The crisis-management survey, one answer per member, a few hundred members answered.
    survey_id = uuid7()
    launched = date(2020, 12, 1)  # with a partner association, as the real one was
    out[Questionnaire].append(
        _questionnaire(
            {
                "id": survey_id,
                "title": "Enquête : le numérique dans la gestion de crise",
                "description": "Menée avec une association partenaire : comment les collectivités ont utilisé "
                "le numérique pendant la crise sanitaire.",
                "kind": QuestionnaireKind.SURVEY,
                "status": QuestionnaireStatus.CLOSED,
                "answered_by": AnsweredBy.ORGANISATION,
                "content": SURVEY_CONTENT,
                "closes_at": datetime(launched.year + 1, 2, 15, 22, tzinfo=UTC),
                "results_public": True,
            }
        )
    )
    out[QuestionnaireVersion].append(
        {"id": uuid7(), "questionnaire_id": survey_id, "number": 1, "content": SURVEY_CONTENT}
    )
    members = sorted(contact)
    rng.shuffle(members)
    for org_id in members[:SURVEY_ANSWERS]:
        org = orgs[org_id]
        response_id = uuid7()
        submitted = _moment(rng, launched + timedelta(days=rng.randint(1, 70)))
        out[QuestionnaireRecipient].append(
            {
                "id": uuid7(),
                "questionnaire_id": survey_id,
                "person_id": contact[org_id],
                "organisation_id": org_id,
                "answered_on": submitted.date(),
                "reminded_on": [],
            }
        )
        out[QuestionnaireResponse].append(
            {
                "id": response_id,
                "questionnaire_id": survey_id,
                "version": 1,
                "respondent_key": f"o:{org_id}",
                "person_id": contact[org_id],
                "organisation_id": org_id,
                "region_code": org.get("region_code"),
                "population_band": population_band(org.get("population")),
                "status": ResponseStatus.SUBMITTED,
                "submitted_at": submitted,
                "decided_level": None,
                "decided_green": None,
            }
        )
        big = (org.get("population") or 0) > 20_000
        cell = "oui" if rng.random() < (0.85 if big else 0.55) else "non"
        survey_answers: dict[str, Any] = {
            "cell": cell,
            "channels": sorted(rng.sample(SURVEY_CONTENT["sections"][0]["questions"][2]["choices"], rng.randint(1, 4))),
            "telework": rng.choice(SURVEY_CONTENT["sections"][0]["questions"][3]["choices"]),
            "readiness": rng.randint(2 if big else 1, 5),
        }
        if cell == "oui":
            survey_answers["cell_tools"] = sorted(
                rng.sample(SURVEY_CONTENT["sections"][0]["questions"][1]["choices"], 2)
            )
        if rng.random() < 0.5:
            survey_answers["kept"] = rng.choice(KEPT)
        if rng.random() < 0.6:
            survey_answers["budget"] = rng.randint(0, 400 if big else 60)
        out[QuestionnaireAnswer].extend(
            {"id": uuid7(), "response_id": response_id, "question_key": k, "value": v}
            for k, v in survey_answers.items()
        )
    return out


async def write_questionnaires(session: AsyncSession, planned: dict[Any, list[dict[str, Any]]]) -> dict[str, int]:
    """Bulk inserts, table by table (Core: no audit entry per row, as for the rest of the demo)."""
    for model, table_rows in planned.items():
        for i in range(0, len(table_rows), BATCH):
            await session.execute(insert(model.__table__), table_rows[i : i + BATCH])
    return {model.__tablename__: len(table_rows) for model, table_rows in planned.items()}
