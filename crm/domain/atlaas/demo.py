"""Demo data for the Atlaas: a realistic French theme tree (axe › enjeu › usage › service) and
about 30,000 actions over the demo members and other communes, so that the facets mean something.

Written in bulk (`imports.insert_many`): a few statements per table, each action row written once
with its facet columns. The same generator fills the benchmark's larger catalogues."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from crm.db.models.atlaas import Theme
from crm.db.models.membership import Membership
from crm.db.models.organisation import Organisation, OrganisationKind
from crm.db.models.person import Position
from crm.db.models.reference import Commune
from crm.domain.atlaas.imports import insert_many

ACTIONS = 30_000
OTHER_COMMUNES = 1_500  # non-member communes that describe actions too
MEMBER_SHARE = 0.6

# axe -> enjeu -> usage -> services
THEME_TREE: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "Services aux habitants": {
        "Démarches en ligne": {
            "Relation usagers": ("Portail citoyen", "Prise de rendez-vous en ligne", "Gestion de la relation citoyen"),
            "État civil": ("Demandes d'actes en ligne", "Dématérialisation des dossiers de mariage"),
            "Paiement": ("Paiement en ligne des factures", "Carte de services unique"),
        },
        "Éducation et jeunesse": {
            "École numérique": (
                "Tablettes en classe",
                "Espace numérique de travail",
                "Tableaux numériques interactifs",
            ),
            "Périscolaire": ("Inscriptions périscolaires en ligne", "Portail famille"),
        },
        "Culture et loisirs": {
            "Lecture publique": ("Médiathèque numérique", "Prêt de liseuses", "Ressources en ligne"),
            "Patrimoine": ("Visite virtuelle du patrimoine", "Numérisation des archives"),
        },
        "Santé et solidarités": {
            "Maintien à domicile": ("Téléassistance des seniors", "Plateforme des aidants"),
            "Santé": ("Téléconsultation en maison de santé", "Cabine de télémédecine"),
        },
    },
    "Inclusion numérique": {
        "Médiation numérique": {
            "Accompagnement": ("Conseillers numériques", "Permanences numériques en mairie", "Bus numérique itinérant"),
            "Formation": ("Ateliers pour les seniors", "Pass numérique", "Cours d'informatique"),
        },
        "Lieux numériques": {
            "Tiers-lieux": ("Tiers-lieu", "Fablab", "Espace de coworking"),
            "Espaces publics numériques": ("Espace public numérique", "Cyberbase"),
        },
        "Équipement": {
            "Réemploi": ("Reconditionnement d'ordinateurs", "Dons de matériel aux associations"),
            "Accès": ("Wi-Fi public", "Bornes d'accès aux droits"),
        },
    },
    "Administration numérique": {
        "Données": {
            "Open data": ("Portail open data", "Publication des données budgétaires", "Données des transports"),
            "Pilotage": ("Tableaux de bord de la collectivité", "Système d'information géographique"),
        },
        "Sécurité et souveraineté": {
            "Cybersécurité": ("Plan de cybersécurité", "Sensibilisation des agents", "Sauvegardes externalisées"),
            "Logiciels libres": ("Passage aux logiciels libres", "Mutualisation de logiciels"),
        },
        "Travail des agents": {
            "Outils collaboratifs": ("Messagerie collaborative", "Télétravail des agents"),
            "Dématérialisation interne": ("Parapheur électronique", "Gestion électronique des documents"),
        },
    },
    "Territoire intelligent et durable": {
        "Infrastructures": {
            "Très haut débit": ("Déploiement de la fibre", "Couverture mobile des zones blanches"),
            "Éclairage et énergie": ("Éclairage public intelligent", "Suivi des consommations d'énergie"),
        },
        "Mobilités": {
            "Information voyageurs": ("Application de transport", "Stationnement intelligent"),
            "Mobilités douces": ("Vélos en libre-service connectés", "Covoiturage de proximité"),
        },
        "Démocratie participative": {
            "Participation": ("Budget participatif en ligne", "Consultation citoyenne", "Signalements citoyens"),
            "Transparence": ("Retransmission des conseils municipaux", "Publication des délibérations"),
        },
        "Sobriété numérique": {
            "Numérique responsable": ("Plan de sobriété numérique", "Achats numériques responsables"),
        },
    },
}

OPENINGS = (
    "Mise en place : {s}",
    "{s} pour tous",
    "Lancement du projet « {s} »",
    "{s} : une démarche pionnière",
    "Déploiement de {s_lower}",
    "{s} à l'échelle du territoire",
    "Expérimentation : {s_lower}",
    "Généralisation de {s_lower}",
)
PUBLICS = (
    "les habitants",
    "les seniors",
    "les familles",
    "les jeunes",
    "les agents",
    "les associations",
    "les entreprises",
)
TOOLS = (
    "Nextcloud",
    "Moodle",
    "QGIS",
    "Decidim",
    "OpenStreetMap",
    "LibreOffice",
    "WordPress",
    "Matomo",
    "Jitsi",
    "uData",
    "Rocket.Chat",
    "GLPI",
)
PROVIDERS = (
    "Atelier Numérique du Centre",
    "Syndicat mixte numérique",
    "Coopérative Libre Territoire",
    "Agence régionale du numérique",
    "Réseau des médiathèques",
    "Association Clic&Lien",
    "Bureau d'études Données Publiques",
)
RESULTS = (
    "{n} personnes accompagnées la première année.",
    "Une fréquentation en hausse de {p} % en deux ans.",
    "{n} démarches faites en ligne chaque mois.",
    "Un coût de fonctionnement réduit de {p} %.",
    "{n} agents formés et un service rendu plus vite.",
)
RECOMMENDATIONS = (
    "Associer les usagers dès la conception.",
    "Prévoir un accompagnement humain à côté de l'outil.",
    "Mutualiser avec l'intercommunalité pour réduire les coûts.",
    "Mesurer l'usage dès le lancement pour ajuster le service.",
    "Former les agents avant l'ouverture au public.",
)


async def seed_themes(session: AsyncSession) -> list[tuple[UUID, list[UUID], list[str]]]:
    """The tree, inserted; returns each service with its ancestors' ids and names (axe first)."""
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    services = []

    def add(name: str, level: int, parent: UUID | None) -> UUID:
        theme_id = uuid7()
        rows.append(
            {"id": theme_id, "name": name, "level": level, "parent_id": parent, "created_at": now, "updated_at": now}
        )
        return theme_id

    for axe, enjeux in THEME_TREE.items():
        axe_id = add(axe, 1, None)
        for enjeu, usages in enjeux.items():
            enjeu_id = add(enjeu, 2, axe_id)
            for usage, names in usages.items():
                usage_id = add(usage, 3, enjeu_id)
                for name in names:
                    services.append((add(name, 4, usage_id), [axe_id, enjeu_id, usage_id], [axe, enjeu, usage, name]))
    await session.execute(insert(Theme), rows)
    return services


async def _authors(session: AsyncSession, rng: random.Random, others: int) -> list[dict[str, Any]]:
    """Who describes actions: every demo member (communes, and EPCIs over their communes) and other
    communes, given an organisation row here (not members)."""
    communes = (
        await session.execute(
            select(Commune.insee_code, Commune.name, Commune.population, Commune.departement_code, Commune.region_code)
            .where(Commune.kind == "COM")
            .order_by(Commune.insee_code)
        )
    ).all()
    by_epci: dict[str, list[str]] = {}
    for code, epci in await session.execute(
        select(Commune.insee_code, Commune.epci_siren).order_by(Commune.insee_code)
    ):
        if epci:
            by_epci.setdefault(epci, []).append(code)
    members = (
        await session.execute(
            select(Organisation.id, Organisation.kind, Organisation.insee_code, Organisation.siren)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .order_by(Organisation.insee_code, Organisation.siren)
        )
    ).all()
    people: dict[UUID, list[tuple[UUID, str]]] = {}
    for person_id, org_id, title in await session.execute(
        select(Position.person_id, Position.organisation_id, Position.title)
        .where(Position.ended_on.is_(None))
        .order_by(Position.organisation_id, Position.person_id)
    ):
        people.setdefault(org_id, []).append((person_id, title))
    authors = []
    for org_id, kind, insee, siren in members:
        places = [insee] if kind == OrganisationKind.COMMUNE else by_epci.get(siren or "", [])
        if places:
            authors.append({"org": org_id, "places": places, "people": people.get(org_id, []), "member": True})
    taken = {m.insee_code for m in members if m.insee_code}
    existing = set(
        (await session.execute(select(Organisation.insee_code).where(Organisation.insee_code.is_not(None)))).scalars()
    )
    # Other communes, the bigger more likely (they describe more of what they do).
    candidates = [
        c
        for c in communes
        if c.insee_code not in taken and c.insee_code not in existing and (c.population or 0) > 1_500
    ]
    chosen = rng.sample(candidates, min(others, len(candidates)))
    now = datetime.now(UTC)
    rows = []
    for c in chosen:
        org_id = uuid7()
        rows.append(
            {
                "id": org_id,
                "kind": OrganisationKind.COMMUNE,
                "name": c.name,
                "insee_code": c.insee_code,
                "population": c.population,
                "departement_code": c.departement_code,
                "region_code": c.region_code,
                "is_partner": False,
                "created_at": now,
                "updated_at": now,
            }
        )
        authors.append({"org": org_id, "places": [c.insee_code], "people": [], "member": False})
    if rows:
        await session.execute(insert(Organisation), rows)
    return authors


def generate(
    rng: random.Random,
    authors: Sequence[dict[str, Any]],
    services: Sequence[tuple[UUID, list[UUID], list[str]]],
    total: int,
    this_year: int,
) -> list[dict[str, Any]]:
    """`total` actions as `insert_many` takes them; members describe more than the others."""
    members = [a for a in authors if a["member"]]
    others = [a for a in authors if not a["member"]] or members
    actions = []
    for _ in range(total):
        author = rng.choice(members if rng.random() < MEMBER_SHARE else others)
        service_id, _, names = rng.choice(services)
        service = names[3]
        title = rng.choice(OPENINGS).format(s=service, s_lower=service[0].lower() + service[1:])
        public = rng.choice(PUBLICS)
        year = rng.randint(this_year - 12, this_year)
        places = rng.sample(author["places"], min(len(author["places"]), rng.choice((1, 1, 1, 2, 3))))
        tools = rng.sample(TOOLS, rng.randint(0, 3))
        themes = [service_id]
        if rng.random() < 0.25:
            themes.append(rng.choice(services)[0])
        people = rng.sample(author["people"], min(len(author["people"]), rng.randint(0, 2)))
        actions.append(
            {
                "title": title,
                "subtitle": f"{names[2]} : un service pensé pour {public}",
                "year": year,
                "synthesis": (
                    f"En {year}, la collectivité a engagé un projet « {service.lower()} » pour {public}, "
                    f"dans le cadre de sa politique « {names[1].lower()} »."
                ),
                "actions_carried_out": (
                    f"Diagnostic des besoins avec {public}, choix des outils ({', '.join(tools) or 'développement interne'}), "
                    f"formation des équipes puis ouverture du service ({names[0].lower()})."
                ),
                "results": rng.choice(RESULTS).format(n=rng.randint(20, 5_000), p=rng.randint(5, 60)),
                "recommendations": rng.choice(RECOMMENDATIONS),
                "tools": tools,
                "providers": rng.sample(PROVIDERS, rng.randint(0, 2)),
                "links": [],
                "videos": [],
                "photos": [],
                "status": "published" if rng.random() < 0.97 else "draft",
                "places": [{"insee_code": code} for code in places],
                "organisation_ids": [author["org"]],
                "people": [{"person_id": pid, "role": title_} for pid, title_ in people],
                "theme_ids": themes,
            }
        )
    return actions


async def seed_atlaas(session: AsyncSession, *, seed: int, this_year: int, total: int = ACTIONS) -> int:
    """The theme tree and `total` actions over the demo members and other communes."""
    rng = random.Random(seed)
    services = await seed_themes(session)
    authors = await _authors(session, rng, OTHER_COMMUNES)
    if not authors:
        return 0
    await insert_many(session, generate(rng, authors, services, total, this_year))
    return total
