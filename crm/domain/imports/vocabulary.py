"""The words French offices write in their files, as data, in one place.

Header names are written here as people type them ("Adresse électronique", "N° INSEE", "Tél.
portable"); `header_key` folds them (case, accents, punctuation, little words and word order) and
the file's headers are folded the same way before they are looked up. To accept a new header, add
it to its column's list: nothing else changes.

Function words (what a position's title says about its kind) are folded by `words` and matched as
whole words or phrases.
"""

from __future__ import annotations

from crm.lib.words import words

# Little words that say nothing about a column: "Date d'entrée en fonction" is "date entree fonction".
# Single letters go too: the "s" of "Prénom(s)", the "n" of "N°", the "e" of "E-mail".
_NOISE = frozenset({"de", "du", "des", "d", "l", "la", "le", "les", "en", "a", "au", "aux", "et", "ou", "no", "num"})


def header_key(text: str) -> str:
    """How two header names are compared: "Code Insee commune" and "commune (code INSEE)" are one."""
    kept = {w for w in words(text) if len(w) > 1 and w not in _NOISE}
    return " ".join(sorted(kept))


_ID = ("id", "Identifiant", "UUID", "Id CRM")
_EMAIL = (
    "E-mail",
    "Email",
    "Mail",
    "Courriel",
    "Mél",
    "Adresse électronique",
    "Adresse e-mail",
    "Adresse mail",
    "Adresse courriel",
    "Adresse de messagerie",
    "Messagerie",
    "Courrier électronique",
    "E-mail professionnel",
    "Mail pro",
    "Courriel professionnel",
    "Adresse électronique professionnelle",
)
_PHONE = (
    "Téléphone",
    "Tél.",
    "Tel",
    "Téléphone fixe",
    "Tél. fixe",
    "Téléphone portable",
    "Tél. portable",
    "Portable",
    "Mobile",
    "Téléphone mobile",
    "Tél. mobile",
    "N° de téléphone",
    "Numéro de téléphone",
    "Ligne directe",
    "Téléphone professionnel",
    "Tél. pro",
    "GSM",
    "Phone",
)
_TAGS = ("Tags", "Tag", "Étiquettes", "Étiquette", "Mots-clés", "Mots clés")
_INSEE = (
    "Code INSEE",
    "INSEE",
    "Code Insee commune",
    "N° INSEE",
    "Numéro INSEE",
    "COG",
    "Code COG",
    "Code commune",
    "Code officiel géographique",
    "Code géographique",
    "Code INSEE de la commune",
    "Code INSEE collectivité",
)
_SIREN = ("SIREN", "N° SIREN", "Numéro SIREN", "SIREN EPCI", "SIREN de l'EPCI", "SIREN collectivité")
_DEPARTEMENT = (
    "Département",
    "Code département",
    "Dép.",
    "Dept",
    "Code dept",
    "N° département",
    "Numéro de département",
)
# A commune or an EPCI by its name, found in the reference geography ("Saint-Denis (93)", "CA du Grand Annecy").
_PLACE = (
    "Commune",
    "Nom de la commune",
    "Libellé commune",
    "Nom commune",
    "Ville",
    "Collectivité",
    "Nom de la collectivité",
    "EPCI",
    "Nom EPCI",
    "Intercommunalité",
    "Nom de l'intercommunalité",
)

# Other names accepted for each column. The canonical names themselves are always accepted.
HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "organisations": {
        "id": _ID,
        "kind": (
            "Type",
            "Nature",
            "Type d'organisation",
            "Type de structure",
            "Type de collectivité",
            "Catégorie",
            "Nature juridique",
        ),
        "name": (
            "Nom",
            "Raison sociale",
            "Libellé",
            "Dénomination",
            "Nom de l'organisation",
            "Organisation",
            "Nom de la structure",
            "Structure",
        ),
        "place": _PLACE,
        "insee_code": _INSEE,
        "siren": _SIREN,
        "population": ("Population", "Habitants", "Nombre d'habitants", "Nb habitants", "Pop", "Population municipale"),
        "departement_code": _DEPARTEMENT,
        "region_code": ("Région", "Code région", "Reg"),
        "is_partner": ("Partenaire", "Est partenaire", "Partner"),
        "email": _EMAIL,
        "phone": _PHONE,
        "website": ("Site", "Site web", "Site internet", "URL", "Website"),
        "address": ("Adresse", "Adresse postale"),
        "membership_status": ("Statut d'adhésion", "Adhésion", "Statut", "Statut adhérent", "Membership status"),
        "member_since": ("Adhérent depuis", "Membre depuis", "Date d'adhésion", "Première adhésion"),
        "tags": _TAGS,
    },
    "people": {
        "id": _ID,
        "first_name": ("Prénom", "Prénom(s)", "Prénom usuel", "First name", "Given name", "Firstname"),
        "last_name": (
            "Nom",
            "Nom de famille",
            "Nom d'usage",
            "Nom usuel",
            "Nom patronymique",
            "Last name",
            "Lastname",
            "Surname",
            "Family name",
        ),
        "email": _EMAIL,
        "phone": _PHONE,
        "language": ("Langue", "Language", "Lang"),
        "organisation_insee_code": _INSEE,
        "organisation_siren": (*_SIREN, "SIREN de l'organisation"),
        "place": _PLACE,
        "departement_code": _DEPARTEMENT,
        "position_title": (
            "Fonction",
            "Mandat",
            "Poste",
            "Titre",
            "Qualité",
            "Rôle",
            "Fonction exercée",
            "Intitulé du poste",
            "Intitulé de la fonction",
            "Job title",
            "Title",
            "Function",
        ),
        "position_kind": (
            "Type",
            "Statut",
            "Type de fonction",
            "Type de poste",
            "Nature",
            "Élu ou agent",
            "Élu/agent",
            "Catégorie",
            "Kind",
            "Type de contact",
        ),
        "position_started_on": (
            "Date de début",
            "Début",
            "Depuis",
            "En poste depuis",
            "Date d'entrée en fonction",
            "Entrée en fonction",
            "Date d'entrée",
            "Date de prise de fonction",
            "Date de prise de poste",
            "Date de nomination",
            "Date d'élection",
            "Élu depuis",
            "Début de mandat",
            "Date de début de mandat",
            "Start date",
            "Started on",
        ),
        "keep_positions": (
            "Garder les autres fonctions",
            "Conserver les autres fonctions",
            "Garder les fonctions",
            "Cumul",
        ),
        "tags": _TAGS,
    },
}

# Words of a position's title that say its kind when no column does. Phrases win over single
# words ("conseiller municipal" is an elected office, "conseiller numérique" a job).
ELECTED_FUNCTIONS = (
    "maire",
    "adjoint",
    "adjointe",
    "conseiller municipal",
    "conseillere municipale",
    "conseiller communautaire",
    "conseillere communautaire",
    "conseiller departemental",
    "conseillere departementale",
    "conseiller regional",
    "conseillere regionale",
    "conseiller delegue",
    "conseillere deleguee",
    "vice president",
    "vice presidente",
    "president",
    "presidente",
    "elu",
    "elue",
    "senateur",
    "depute",
)
STAFF_FUNCTIONS = (
    "dgs",
    "dga",
    "dgst",
    "dst",
    "dsi",
    "drh",
    "daf",
    "dpo",
    "rssi",
    "directeur",
    "directrice",
    "direction",
    "charge",
    "chargee",
    "charge de mission",
    "chargee de mission",
    "chef",
    "cheffe",
    "chef de projet",
    "responsable",
    "secretaire general",
    "secretaire de mairie",
    "secretaire generale",
    "technicien",
    "technicienne",
    "ingenieur",
    "ingenieure",
    "assistant",
    "assistante",
    "agent",
    "agente",
    "conseiller numerique",
    "conseillere numerique",
    "mediateur",
    "mediatrice",
    "developpeur",
    "developpeuse",
    "administrateur systeme",
    "webmestre",
    "collaborateur",
    "collaboratrice",
    "attache",
    "attachee",
    "salarie",
    "salariee",
)
# A président·e or vice-président·e is elected at these kinds of organisation (an association's
# or a company's president may be anything): elsewhere the row is asked to say.
PRESIDENT_ELECTED_AT = frozenset({"epci", "departement", "region", "commune"})
