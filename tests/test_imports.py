"""CSV imports (dry run, all-or-nothing apply) and exports, with files as French offices make them."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.db.models.staff import StaffRole
from tests.conftest import log_in

ORGANISATIONS_CP1252 = (
    "Type;Code INSEE;SIREN;Nom;Statut adhésion;Adhérent depuis;Étiquettes\r\n"
    "\r\n"
    "commune;42218;;Saint-Étienne;actif;15/03/2012;Villes moyennes|Métropole\r\n"
    ";2A004;;Ajaccio;active;2019-01-31;\r\n"
    "\r\n"
    "commune;2O004;;Ville mal tapée;active;;\r\n"
    "epci;;200046977;;;;\r\n"
    "association;;;Association des maires d’Île-de-France;prospect;;Partenaire\r\n"
)

PEOPLE_UTF8 = (
    "Prénom;Nom;Courriel;Téléphone;Code INSEE;Fonction;Type de fonction;Date de début;Tags\r\n"
    "Hélène;D'Arbois;Helene.DArbois@Ville-Saint-Etienne.fr;04 77 00 00 01;42218;Adjointe au numérique;élue;01/07/2020;Jury du label\r\n"
    "\r\n"
    "Jérôme;N’Diaye;jerome.ndiaye@ajaccio.fr;;2A004;DSI;agent;2021-09-01;\r\n"
    "Anne;Sans-Arobase;anne.sans-arobase.fr;;;;;;\r\n"
    "Marc;Leroy;marc.leroy@example.org;;97411;Maire;elected;32/13/2020;\r\n"
)


async def editor(client: AsyncTestClient[Any], make_staff: Any) -> AsyncTestClient[Any]:
    account = await make_staff(StaffRole.EDITOR)
    await log_in(client, account.email)
    return client


async def check(client: AsyncTestClient[Any], kind: str, content: bytes, name: str = "fichier.csv") -> Any:
    return await client.post("/api/v1/imports", files={"file": (name, content, "text/csv")}, data={"kind": kind})


async def check_and_apply(client: AsyncTestClient[Any], kind: str, content: bytes) -> dict[str, Any]:
    checked = await check(client, kind, content)
    assert checked.status_code == 201, checked.text
    assert checked.json()["report"]["errors"] == []
    applied = await client.post(f"/api/v1/imports/{checked.json()['id']}/apply")
    assert applied.status_code == 200, applied.text
    return applied.json()


async def total(client: AsyncTestClient[Any], resource: str) -> int:
    response = await client.get(f"/api/v1/{resource}", params={"limit": 1})
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def parse_export(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.DictReader(io.StringIO(body[3:].decode("utf-8")), delimiter=";"))


async def test_a_messy_windows_file_is_read_and_its_bad_row_blocks_the_whole_apply(
    client: AsyncTestClient[Any], make_staff: Any
) -> None:
    await editor(client, make_staff)
    checked = await check(client, "organisations", ORGANISATIONS_CP1252.encode("cp1252"), "adhérents.csv")
    assert checked.status_code == 201, checked.text
    body = checked.json()
    report = body["report"]
    assert (body["status"], body["encoding"], body["delimiter"]) == ("checked", "windows-1252", ";")
    assert report["columns"] == ["kind", "name", "insee_code", "siren", "membership_status", "member_since", "tags"]
    # Line numbers are the file's, blank lines included: the typo'd code is on line 6.
    assert report["errors"] == [{"line": 6, "column": "insee_code", "why": report["errors"][0]["why"]}]
    assert "INSEE" in report["errors"][0]["why"]
    assert (report["to_create"], report["to_update"], report["unchanged"]) == (4, 0, 0)
    created = {row["line"]: row["label"] for row in report["first_to_create"]}
    # The official name wins over the file's; the apostrophe and accents of the others survive.
    assert created == {
        3: "Saint-Étienne",
        4: "Ajaccio",
        7: "Métropole de Lyon",
        8: "Association des maires d’Île-de-France",
    }
    assert await total(client, "organisations") == 0, "a dry run writes nothing"

    refused = await client.post(f"/api/v1/imports/{body['id']}/apply")
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["errors"][0]["line"] == 6
    assert problem["errors"][0]["field"] == "insee_code"
    assert await total(client, "organisations") == 0, "all or nothing"
    assert (await client.get(f"/api/v1/imports/{body['id']}")).json()["status"] == "failed"

    fixed = ORGANISATIONS_CP1252.replace("commune;2O004;;Ville mal tapée;active;;\r\n", "")
    applied = await check_and_apply(client, "organisations", fixed.encode("cp1252"))
    assert applied["status"] == "applied"
    assert applied["report"]["to_create"] == 4
    listed = (await client.get("/api/v1/organisations", params={"q": "saint etienne"})).json()["items"]
    assert [(o["name"], o["membership_status"], o["member_since"]) for o in listed] == [
        ("Saint-Étienne", "active", "2012-03-15")
    ]
    assert sorted(listed[0]["tags"]) == ["Métropole", "Villes moyennes"]


async def test_people_file_with_bom_reports_each_bad_cell_then_applies_once(
    client: AsyncTestClient[Any], make_staff: Any
) -> None:
    await editor(client, make_staff)
    await check_and_apply(client, "organisations", b"code_insee\n42218\n2A004\n97411\n")

    checked = await check(client, "people", ("\ufeff" + PEOPLE_UTF8).encode("utf-8"))
    assert checked.status_code == 201, checked.text
    report = checked.json()["report"]
    assert checked.json()["encoding"] == "utf-8-sig"
    assert {(e["line"], e["column"]) for e in report["errors"]} == {(5, "email"), (6, "position_started_on")}
    assert report["to_create"] == 2
    refused = await client.post(f"/api/v1/imports/{checked.json()['id']}/apply")
    assert refused.status_code == 422
    assert await total(client, "people") == 0

    good = "\n".join(line for line in PEOPLE_UTF8.splitlines() if "Sans-Arobase" not in line and "Leroy" not in line)
    checked = await check(client, "people", ("\ufeff" + good).encode("utf-8"))
    dry_run = checked.json()["report"]
    applied = await client.post(f"/api/v1/imports/{checked.json()['id']}/apply")
    assert applied.status_code == 200, applied.text
    # The dry run said exactly what the apply did.
    for key in ("to_create", "to_update", "unchanged", "first_to_create"):
        assert applied.json()["report"][key] == dry_run[key]

    again = await client.post(f"/api/v1/imports/{checked.json()['id']}/apply")
    assert again.status_code == 409
    assert await total(client, "people") == 2

    people = (await client.get("/api/v1/people", params={"q": "arbois"})).json()["items"]
    assert len(people) == 1
    helene = people[0]
    assert helene["email"] == "helene.darbois@ville-saint-etienne.fr"
    assert [(p["title"], p["kind"], p["organisation_name"]) for p in helene["positions"]] == [
        ("Adjointe au numérique", "elected", "Saint-Étienne")
    ]
    assert helene["tags"] == ["Jury du label"]


async def test_a_known_email_updates_the_person_instead_of_adding_one(
    client: AsyncTestClient[Any], make_staff: Any
) -> None:
    await editor(client, make_staff)
    await check_and_apply(client, "organisations", b"code_insee\n42218\n")
    await check_and_apply(
        client,
        "people",
        b"first_name,last_name,email,organisation_insee_code,position_title,position_kind\n"
        b"Paul,Martin,paul.martin@example.org,42218,DGS,staff\n",
    )
    changed = (
        "Prénom;Nom;E-mail;Téléphone;Code INSEE;Fonction\n"
        "Paul;Martin;PAUL.MARTIN@Example.org;06 12 34 56 78;42218;dgs\n"
    ).encode()
    applied = await check_and_apply(client, "people", changed)
    report = applied["report"]
    assert (report["to_create"], report["to_update"], report["unchanged"]) == (0, 1, 0)
    assert report["first_to_update"][0]["changes"] == {"phone": {"old": None, "new": "06 12 34 56 78"}}
    people = (await client.get("/api/v1/people")).json()
    assert people["total"] == 1
    # Same title (whatever its case) at the same place: no second position.
    assert len(people["items"][0]["positions"]) == 1


async def test_export_then_import_changes_nothing(
    client: AsyncTestClient[Any], make_staff: Any, engine: AsyncEngine
) -> None:
    await editor(client, make_staff)
    await check_and_apply(
        client,
        "organisations",
        ORGANISATIONS_CP1252.replace("commune;2O004;;Ville mal tapée;active;;\r\n", "").encode("cp1252"),
    )
    people = "\n".join(line for line in PEOPLE_UTF8.splitlines() if "Sans-Arobase" not in line and "Leroy" not in line)
    await check_and_apply(client, "people", people.encode("utf-8"))

    for kind in ("organisations", "people"):
        exported = await client.get(f"/api/v1/{kind}/export.csv")
        assert exported.status_code == 200, exported.text
        assert exported.headers["content-type"].startswith("text/csv")
        rows = parse_export(exported.content)
        assert len(rows) == (4 if kind == "organisations" else 2)
        again = await check(client, kind, exported.content)
        report = again.json()["report"]
        assert report["errors"] == []
        assert (report["to_create"], report["to_update"], report["unchanged"]) == (0, 0, len(rows)), report

    async with engine.connect() as conn:
        exports = (await conn.execute(text("SELECT entity_type FROM audit_log WHERE action = 'export'"))).scalars()
        assert sorted(exports) == ["organisation", "person"], "each export is in the audit log"


async def test_export_follows_the_list_filters(client: AsyncTestClient[Any], make_staff: Any) -> None:
    await editor(client, make_staff)
    await check_and_apply(client, "organisations", b"code_insee\n42218\n2A004\n97411\n")
    rows = parse_export((await client.get("/api/v1/organisations/export.csv", params={"q": "ajacc"})).content)
    assert [r["name"] for r in rows] == ["Ajaccio"]
    assert rows[0]["insee_code"] == "2A004"
    rows = parse_export((await client.get("/api/v1/organisations/export.csv", params={"kind": "epci"})).content)
    assert rows == []
    bad = await client.get("/api/v1/organisations/export.csv", params={"region_code": "XYZ"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "region_code"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "empty"),
        (b"colonne_inconnue;autre\nx;y\n", "no known column"),
        (b"PK\x03\x04\x00\x00binary", "not a text file"),
    ],
)
async def test_an_unreadable_file_is_refused_naming_the_file(
    client: AsyncTestClient[Any], make_staff: Any, content: bytes, why: str
) -> None:
    await editor(client, make_staff)
    response = await check(client, "organisations", content)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "file"
    assert why in response.json()["detail"]


async def test_only_editors_import_and_viewers_export(client: AsyncTestClient[Any], make_staff: Any) -> None:
    assert (await check(client, "organisations", b"code_insee\n42218\n")).status_code == 401
    viewer = await make_staff(StaffRole.VIEWER)
    await log_in(client, viewer.email)
    refused = await check(client, "organisations", b"code_insee\n42218\n")
    assert refused.status_code == 403
    assert (await client.get("/api/v1/imports")).status_code == 403
    exported = await client.get("/api/v1/people/export.csv")
    assert exported.status_code == 200
    assert parse_export(exported.content) == []
    assert exported.content.decode("utf-8-sig").splitlines()[0] == (
        "first_name;last_name;email;phone;language;organisation_insee_code;organisation_siren;"
        "position_title;position_kind;position_started_on;tags"
    )
