"""What a new staff member hits in their first week of imports, with files made the way French
offices make them: Excel exports in Windows-1252 with semicolons, UTF-16 "Texte Unicode" with tabs
and a title line, their own headers, communes by name, phone numbers Excel ate."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm.db.models.organisation import Organisation, OrganisationKind
from crm.domain.imports.csvfiles import FIELDS, HEADER_INDEX, KINDS, clean_phone, excel_phone, parse_date, read_csv
from crm.domain.imports.rows import infer_kind
from crm.domain.imports.vocabulary import HEADERS, header_key
from crm.domain.people.services import single_seat
from crm.lib.problems import ProblemError
from tests.test_imports import apply, check, check_and_apply, editor, upload

TODAY = date.today()


def excel_csv(text: str) -> bytes:
    """What French Excel writes for "CSV (séparateur: point-virgule)": Windows-1252, CRLF."""
    return text.replace("\n", "\r\n").encode("cp1252")


async def make_org(engine: AsyncEngine, name: str, kind: OrganisationKind, **codes: Any) -> str:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        org = Organisation(name=name, kind=kind, **codes)
        session.add(org)
        await session.commit()
        return str(org.id)


async def people_named(client: AsyncTestClient[Any], q: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/people", params={"q": q})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def positions_of(client: AsyncTestClient[Any], person_id: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/positions", params={"person_id": person_id, "limit": 50})
    assert response.status_code == 200, response.text
    return sorted(response.json()["items"], key=lambda p: p["title"])


# --- 1. columns are never silently ignored ---------------------------------------------------


def test_the_headers_french_offices_write_are_recognised_and_no_synonym_means_two_columns() -> None:
    expected = {
        "Adresse électronique": "email",
        "Courriel": "email",
        "Mél": "email",
        "MAIL": "email",
        "Code Insee commune": "organisation_insee_code",
        "commune (code INSEE)": "organisation_insee_code",
        "N° INSEE": "organisation_insee_code",
        "COG": "organisation_insee_code",
        "Prénom(s)": "first_name",
        "Nom d'usage": "last_name",
        "Date d'entrée en fonction": "position_started_on",
        "Fonction": "position_title",
        "Mandat": "position_title",
        "Poste": "position_title",
        "Type": "position_kind",
        "Statut": "position_kind",
        "Tél. portable": "phone",
        "Commune": "place",
    }
    assert {h: HEADER_INDEX["people"].get(header_key(h)) for h in expected} == expected
    for kind in KINDS:
        owners: dict[str, set[str]] = {}
        for column, names in HEADERS[kind].items():
            for name in (column, *names):
                owners.setdefault(header_key(name), set()).add(column)
        assert {k: v for k, v in owners.items() if len(v) > 1} == {}, kind
        assert set(HEADER_INDEX[kind].values()) == set(FIELDS[kind])


async def test_an_unknown_column_holding_emails_stops_the_check_with_a_question_a_mapping_answers(
    client: AsyncTestClient[Any], make_staff: Any, run_worker: Any, engine: AsyncEngine
) -> None:
    await make_org(engine, "Saint-Étienne", OrganisationKind.COMMUNE, insee_code="42218")
    await editor(client, make_staff)
    content = excel_csv(
        "Prénom(s);Nom d'usage;Adresse mail pro 2;Code Insee commune;Fonction;Type;Observations\n"
        "Hélène;Darbois;helene.darbois@saint-etienne.fr;42218;Adjointe au numérique;élue;RAS\n"
        "Jérôme;Ndiaye;jerome.ndiaye@saint-etienne.fr;42218;DSI;agent;\n"
    )
    refused = await upload(client, "people", content)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert [e["field"] for e in problem["errors"]] == ["mapping"]
    assert problem["questions"] == [
        {"column": "Adresse mail pro 2", "position": 3, "looks_like": "holds e-mail addresses", "suggested": "email"}
    ]

    mapping = json.dumps({"Adresse mail pro 2": "email", "Observations": "ignore"})
    queued = await client.post(
        "/api/v1/imports",
        files={"file": ("élus.csv", content, "text/csv")},
        data={"kind": "people", "mapping": mapping},
    )
    assert queued.status_code == 202, queued.text
    await run_worker()
    report = (await client.get(f"/api/v1/imports/{queued.json()['id']}")).json()["report"]
    assert report["errors"] == []
    assert {m["column"]: (m["field"], m["by"]) for m in report["mapping"]} == {
        "Prénom(s)": ("first_name", "header"),
        "Nom d'usage": ("last_name", "header"),
        "Adresse mail pro 2": ("email", "mapping"),
        "Code Insee commune": ("organisation_insee_code", "header"),
        "Fonction": ("position_title", "header"),
        "Type": ("position_kind", "header"),
        "Observations": ("ignore", "mapping"),
    }
    applied = await apply(client, run_worker, queued.json()["id"])
    assert applied["status"] == "applied"
    # Imported again, the same people are found by their e-mail: no duplicates.
    again = await client.post(
        "/api/v1/imports",
        files={"file": ("élus.csv", content, "text/csv")},
        data={"kind": "people", "mapping": "Adresse mail pro 2 -> email\nObservations -> ignore"},
    )
    await run_worker()
    report = (await client.get(f"/api/v1/imports/{again.json()['id']}")).json()["report"]
    assert (report["to_create"], report["unchanged"]) == (0, 2)


async def test_a_mapping_naming_no_column_or_no_field_is_refused_naming_mapping(
    client: AsyncTestClient[Any], make_staff: Any
) -> None:
    await editor(client, make_staff)
    content = excel_csv("Prénom;Nom\nAnne;Martin\n")
    for mapping in ('{"Nom": "surnom"}', '{"Courriel": "email"}', "not json {"):
        refused = await client.post(
            "/api/v1/imports",
            files={"file": ("f.csv", content, "text/csv")},
            data={"kind": "people", "mapping": mapping},
        )
        assert refused.status_code == 422, mapping
        assert refused.json()["errors"][0]["field"] == "mapping"


def test_a_column_of_free_notes_is_ignored_and_said_so() -> None:
    parsed = read_csv(excel_csv("Prénom;Nom;Remarques\nAnne;Martin;à rappeler\n"), "people")
    assert parsed.ignored_columns == ["Remarques"]
    assert parsed.mapping[-1] == {"column": "Remarques", "field": "ignore", "by": "not recognised"}


def test_an_unknown_column_of_commune_names_or_dates_is_asked_about() -> None:
    content = excel_csv("Prénom;Nom;Localité;Né le\nAnne;Martin;Saint-Denis;12/01/70\nPaul;Roux;Le Mans;\n")
    with pytest.raises(ProblemError) as raised:
        read_csv(content, "people", known_place={"Saint-Denis", "Le Mans"}.__contains__)
    questions = raised.value.problem_extra["questions"]
    assert [(q["column"], q["suggested"]) for q in questions] == [
        ("Localité", "place"),
        ("Né le", "position_started_on"),
    ]


# --- 2. communes by name ---------------------------------------------------------------------


async def test_organisations_named_instead_of_coded_are_found_ambiguous_and_close_names_are_asked(
    client: AsyncTestClient[Any], make_staff: Any, run_worker: Any
) -> None:
    await editor(client, make_staff)
    content = excel_csv(
        "Commune;Département;Statut d'adhésion\n"
        "Saint-Denis (93);;actif\n"
        "St-Étienne;;actif\n"
        "Le Mans;;actif\n"
        "CA du Grand Annecy;;actif\n"
        "Saint-Denis;La Réunion;actif\n"
        "Saint-Denis;;actif\n"
        "Marseile;;actif\n"
    )
    report = (await check(client, run_worker, "organisations", content))["report"]
    errors = {e["line"]: (e["column"], e["why"]) for e in report["errors"]}
    assert set(errors) == {7, 8}
    assert errors[7][0] == "place"
    assert "Saint-Denis (93, 93066)" in errors[7][1]
    assert "Saint-Denis (974, 97411)" in errors[7][1]
    assert errors[8][0] == "place"
    assert "did you mean Marseille (13, 13055)" in errors[8][1]
    created = {row["line"]: row["label"] for row in report["first_to_create"]}
    assert created == {
        2: "Saint-Denis",
        3: "Saint-Étienne",
        4: "Le Mans",
        5: "Communauté d'agglomération du Grand Annecy",
        6: "Saint-Denis",
    }

    fixed = content.replace(b"Saint-Denis;;actif\r\n", b"").replace(b"Marseile;;actif\r\n", b"Marseille;;actif\r\n")
    await check_and_apply(client, run_worker, "organisations", fixed)
    codes = {
        (o["name"], o["insee_code"] or o["siren"])
        for o in (await client.get("/api/v1/organisations", params={"limit": 20})).json()["items"]
    }
    assert codes == {
        ("Saint-Denis", "93066"),
        ("Saint-Denis", "97411"),
        ("Saint-Étienne", "42218"),
        ("Le Mans", "72181"),
        ("Marseille", "13055"),
        ("Communauté d'agglomération du Grand Annecy", "200066793"),
    }

    people = excel_csv(
        "Prénom;Nom;Courriel;Commune;Fonction\n"
        "Anne;Martin;anne.martin@ville-saint-denis.fr;Saint-Denis (93);DGS\n"
        "Paul;Hoarau;paul.hoarau@saintdenis.re;Saint-Denis (974);DSI\n"
    )
    applied = await check_and_apply(client, run_worker, "people", people)
    assert applied["report"]["to_create"] == 2
    anne = (await people_named(client, "anne martin"))[0]
    assert [(p["organisation_name"], p["title"], p["kind"]) for p in anne["positions"]] == [
        ("Saint-Denis", "DGS", "staff")
    ]


async def test_a_postal_code_where_an_insee_code_belongs_gets_a_hint(
    client: AsyncTestClient[Any], make_staff: Any, run_worker: Any, engine: AsyncEngine
) -> None:
    await make_org(engine, "Saint-Denis", OrganisationKind.COMMUNE, insee_code="93066")
    await editor(client, make_staff)
    content = excel_csv("Prénom;Nom;Code INSEE;Fonction\nAnne;Martin;93200;DGS\nLéa;Morel;42218;DSI\n")
    report = (await check(client, run_worker, "people", content))["report"]
    errors = {e["line"]: e["why"] for e in report["errors"]}
    assert "postal code" in errors[2]
    assert "import the organisations first" not in errors[2]
    assert errors[3].startswith("Saint-Étienne (42218) is not an organisation yet")
    organisations = await check(client, run_worker, "organisations", excel_csv("Type;Code INSEE\ncommune;93200\n"))
    assert "a postal code?" in organisations["report"]["errors"][0]["why"]


# --- 3. the kind of position is inferred -----------------------------------------------------


def test_the_kind_of_position_is_told_from_the_function() -> None:
    told = {
        ("Maire", "commune"): "elected",
        ("Adjointe au numérique", "commune"): "elected",
        ("Conseiller municipal délégué", "commune"): "elected",
        ("Vice-présidente", "epci"): "elected",
        ("Président", "epci"): "elected",
        ("DGS", "commune"): "staff",
        ("DSI", "epci"): "staff",
        ("Directrice de la communication", "commune"): "staff",
        ("Chargé de mission numérique", "epci"): "staff",
        ("Conseillère numérique", "commune"): "staff",
        ("Président", "association"): None,
        ("Directeur de cabinet du maire", "commune"): None,
        ("Jardinier", "commune"): None,
    }
    assert {key: infer_kind(*key)[0] for key in told} == told


async def test_a_file_without_a_kind_column_infers_it_and_reports_doubts_per_row(
    client: AsyncTestClient[Any], make_staff: Any, run_worker: Any, engine: AsyncEngine
) -> None:
    await make_org(engine, "Saint-Étienne", OrganisationKind.COMMUNE, insee_code="42218")
    await editor(client, make_staff)
    content = excel_csv(
        "Prénom;Nom;Code INSEE;Fonction;Statut\n"
        "Hélène;Darbois;42218;Maire;\n"
        "Jérôme;Ndiaye;42218;DSI;\n"
        "Marc;Leroy;42218;Jardinier;\n"
        "Zoé;Petit;42218;Jardinière;agent\n"
    )
    report = (await check(client, run_worker, "people", content))["report"]
    assert [(e["line"], e["column"]) for e in report["errors"]] == [(4, "position_kind")]
    assert "élu or agent" in report["errors"][0]["why"]
    inferred = {w["line"]: w["why"] for w in report["warnings"] if w["column"] == "position_kind"}
    assert inferred == {2: "elected (from the function 'Maire')", 3: "staff (from the function 'DSI')"}


# --- 4. re-importing after an election -------------------------------------------------------


def test_single_seats() -> None:
    assert single_seat("Maire", "commune") == "maire"
    assert single_seat("Madame la Maire", "commune") == "maire"
    assert single_seat("Maire de Saint-Denis", "commune") == "maire"
    assert single_seat("Présidente", "epci") == "president"
    assert single_seat("Maire adjoint", "commune") is None
    assert single_seat("Adjoint au maire", "commune") is None
    assert single_seat("Vice-président", "epci") is None
    assert single_seat("Président", "association") is None


async def test_after_an_election_the_new_maire_ends_the_old_and_a_changed_function_ends_the_previous(
    client: AsyncTestClient[Any], make_staff: Any, run_worker: Any, engine: AsyncEngine
) -> None:
    await make_org(engine, "Saint-Étienne", OrganisationKind.COMMUNE, insee_code="42218")
    await editor(client, make_staff)
    before = excel_csv(
        "Prénom;Nom;Courriel;Code INSEE;Fonction;Type;Date d'entrée en fonction\n"
        "François;Dupré;francois.dupre@saint-etienne.fr;42218;Maire;élu;04/07/2020\n"
        "Léa;Morel;lea.morel@saint-etienne.fr;42218;Adjointe au numérique;élue;04/07/2020\n"
        "Marc;Leroy;marc.leroy@saint-etienne.fr;42218;Conseiller municipal;élu;04/07/2020\n"
    )
    await check_and_apply(client, run_worker, "people", before)

    after = excel_csv(
        "Prénom;Nom;Courriel;Code INSEE;Fonction;Type;Date d'entrée en fonction;Garder les autres fonctions\n"
        "LÉA;MOREL;lea.morel@saint-etienne.fr;42218;Maire;élue;22/03/26;\n"
        "FRANÇOIS;DUPRÉ;francois.dupre@saint-etienne.fr;42218;Conseiller municipal;élu;22/03/26;\n"
        "MARC;LEROY;marc.leroy@saint-etienne.fr;42218;Conseiller délégué au numérique;élu;22/03/26;oui\n"
    )
    checked = await check(client, run_worker, "people", after)
    report = checked["report"]
    assert report["errors"] == []
    updates = {row["line"]: row for row in report["first_to_update"]}
    # The names in capitals are the stored names: they change nothing.
    assert all(set(row["changes"]) <= {"position", "ended_positions"} for row in updates.values())
    assert updates[2]["changes"]["ended_positions"] == [
        "Maire of Saint-Étienne held by François Dupré, ended on 2026-03-22",
        "Adjointe au numérique of Saint-Étienne, ended on 2026-03-22",
    ]
    # Line 2 ended his mandate as maire already.
    assert "ended_positions" not in updates[3]["changes"]
    assert "ended_positions" not in updates[4]["changes"]
    applied = await apply(client, run_worker, checked["id"])
    assert applied["status"] == "applied", applied["report"]

    def held(positions: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
        return [(p["title"], p["ended_on"]) for p in positions]

    lea, francois, marc = [
        (await people_named(client, name))[0] for name in ("lea morel", "francois dupre", "marc leroy")
    ]
    assert (lea["first_name"], lea["last_name"], francois["first_name"]) == ("Léa", "Morel", "François")
    assert held(await positions_of(client, lea["id"])) == [
        ("Adjointe au numérique", "2026-03-22"),
        ("Maire", None),
    ]
    assert held(await positions_of(client, francois["id"])) == [
        ("Conseiller municipal", None),
        ("Maire", "2026-03-22"),
    ]
    assert held(await positions_of(client, marc["id"])) == [
        ("Conseiller délégué au numérique", None),
        ("Conseiller municipal", None),
    ]


async def test_two_rows_giving_one_seat_to_two_people_are_refused(
    client: AsyncTestClient[Any], make_staff: Any, run_worker: Any, engine: AsyncEngine
) -> None:
    await make_org(engine, "Saint-Étienne", OrganisationKind.COMMUNE, insee_code="42218")
    await editor(client, make_staff)
    content = excel_csv("Prénom;Nom;Code INSEE;Fonction\nLéa;Morel;42218;Maire\nMarc;Leroy;42218;Maire\n")
    report = (await check(client, run_worker, "people", content))["report"]
    assert [(e["line"], e["column"]) for e in report["errors"]] == [(3, "position_title")]
    assert "line 2 already makes someone Maire of Saint-Étienne" in report["errors"][0]["why"]


# --- 5. Excel round trips keep phone numbers -------------------------------------------------


def test_a_phone_number_that_lost_its_zero_gets_it_back() -> None:
    assert clean_phone("612345678") == ("06 12 34 56 78", True)
    assert clean_phone("1 44 55 66 77") == ("01 44 55 66 77", True)
    assert clean_phone("06 12 34 56 78") == ("06 12 34 56 78", False)
    assert clean_phone("+33 6 12 34 56 78") == ("+33 6 12 34 56 78", False)
    assert excel_phone("0612345678") == "06 12 34 56 78"
    assert excel_phone("+33612345678") == "06 12 34 56 78"
    assert excel_phone("+44 20 7946 0958") == "+44 20 7946 0958"


async def test_phones_survive_excel_both_ways_and_lost_letters_are_not_stored(
    client: AsyncTestClient[Any], make_staff: Any, run_worker: Any, engine: AsyncEngine
) -> None:
    await make_org(engine, "Saint-Étienne", OrganisationKind.COMMUNE, insee_code="42218")
    await editor(client, make_staff)
    content = excel_csv(
        "Prénom;Nom;Courriel;Tél. portable;Code INSEE;Fonction;Type\n"
        "Hélène;Darbois;helene.darbois@saint-etienne.fr;612345678;42218;Maire;élue\n"
        "Jérôme;Ndiaye;jerome.ndiaye@saint-etienne.fr;6,12E+08;42218;DSI;agent\n"
        "Zbigniew;Wa?ęsa;zbigniew.walesa@saint-etienne.fr;;42218;DGS;agent\n".replace("ę", "?")
    )
    report = (await check(client, run_worker, "people", content))["report"]
    errors = {e["line"]: (e["column"], e["why"]) for e in report["errors"]}
    assert errors[3][0] == "phone"
    assert "lost its digits" in errors[3][1]
    assert errors[4][0] == "last_name"
    assert "Windows-1252" in errors[4][1]
    assert report["warnings"] == [
        {
            "line": 2,
            "column": "phone",
            "why": "'612345678' lost its leading 0 in a spreadsheet: read as 06 12 34 56 78",
            "code": "leading_zero_restored",
            "params": {"value": "612345678", "phone": "06 12 34 56 78"},
        }
    ]

    good = b"\r\n".join(content.split(b"\r\n")[:2]) + b"\r\n"
    await check_and_apply(client, run_worker, "people", good)
    helene = (await people_named(client, "helene"))[0]
    assert helene["phone"] == "06 12 34 56 78"

    exported = await client.get("/api/v1/people/export.csv")
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(exported.content[3:].decode()), delimiter=";"))
    assert rows[0]["phone"] == "06 12 34 56 78"
    # Stored as +33, written as Excel keeps it, and the export imported again changes nothing.
    assert (await client.patch(f"/api/v1/people/{helene['id']}", json={"phone": "+33612345678"})).status_code == 200
    exported = await client.get("/api/v1/people/export.csv")
    assert csv.DictReader(io.StringIO(exported.content[3:].decode()), delimiter=";").__next__()["phone"] == (
        "06 12 34 56 78"
    )
    report = (await check(client, run_worker, "people", exported.content))["report"]
    assert (report["errors"], report["unchanged"], report["to_update"]) == ([], 1, 0)


# --- 6. smaller cases ------------------------------------------------------------------------


def test_two_digit_years() -> None:
    today = date(2026, 1, 1)
    assert parse_date("01/07/20", today) == date(2020, 7, 1)
    assert parse_date("12/03/65", today) == date(1965, 3, 12)
    assert parse_date("31/12/2024", today) == date(2024, 12, 31)


async def test_a_texte_unicode_file_with_a_title_line_and_tabs_is_read(
    client: AsyncTestClient[Any], make_staff: Any, run_worker: Any, engine: AsyncEngine
) -> None:
    await make_org(engine, "Ajaccio", OrganisationKind.COMMUNE, insee_code="2A004")
    await editor(client, make_staff)
    text = (
        "Liste des élus au numérique — mars 2026\r\n"
        "\r\n"
        "Prénom\tNom\tCourriel\tCode INSEE\tFonction\tDate de début\r\n"
        "Jérôme\tN’Diaye\tjerome.ndiaye@ajaccio.fr\t2A004\tAdjoint au numérique\t01/07/20\r\n"
    )
    checked = await check(client, run_worker, "people", "\ufeff".encode("utf-16-le") + text.encode("utf-16-le"))
    report = checked["report"]
    assert (checked["encoding"], report["delimiter_name"], report["header_line"]) == ("utf-16", "tab", 3)
    assert report["errors"] == []
    assert report["first_to_create"][0]["line"] == 4
    applied = await apply(client, run_worker, checked["id"])
    assert applied["status"] == "applied"
    jerome = (await people_named(client, "ndiaye"))[0]
    assert jerome["last_name"] == "N’Diaye"
    assert [(p["title"], p["kind"], p["started_on"]) for p in jerome["positions"]] == [
        ("Adjoint au numérique", "elected", "2020-07-01")
    ]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"PK\x03\x04rest of a zip", ".xlsx"),
        (b"Remarques;Divers\nun;deux\n", "no known column"),
    ],
)
def test_files_that_are_not_csv_or_name_no_column_say_so(content: bytes, why: str) -> None:
    with pytest.raises(ProblemError) as raised:
        read_csv(content, "people")
    assert why in raised.value.detail
