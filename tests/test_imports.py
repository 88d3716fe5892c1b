"""CSV imports (dry run, all-or-nothing apply, both in the worker) and exports, with files as French
offices make them."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.config import Settings
from crm.db.models.staff import StaffRole
from crm.domain.imports.queue import enqueue_import
from crm.lib.redis import QUEUE_NAME, connect_redis
from crm.lib.services import alchemy_config
from jobs.imports import sweep_imports
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


async def upload(client: AsyncTestClient[Any], kind: str, content: bytes, name: str = "fichier.csv") -> Any:
    return await client.post("/api/v1/imports", files={"file": (name, content, "text/csv")}, data={"kind": kind})


async def check(
    client: AsyncTestClient[Any], run_worker: Any, kind: str, content: bytes, name: str = "fichier.csv"
) -> dict[str, Any]:
    """Uploads the file, lets the worker check it, and answers the import as staff then see it."""
    queued = await upload(client, kind, content, name)
    assert queued.status_code == 202, queued.text
    assert (queued.json()["status"], queued.json()["report"]) == ("checking", None)
    await run_worker()
    return await get_import(client, queued.json()["id"])


async def apply(client: AsyncTestClient[Any], run_worker: Any, import_id: str) -> dict[str, Any]:
    queued = await client.post(f"/api/v1/imports/{import_id}/apply")
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "applying"
    await run_worker()
    return await get_import(client, import_id)


async def get_import(client: AsyncTestClient[Any], import_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/imports/{import_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def check_and_apply(client: AsyncTestClient[Any], run_worker: Any, kind: str, content: bytes) -> dict[str, Any]:
    checked = await check(client, run_worker, kind, content)
    assert checked["status"] == "checked"
    assert checked["report"]["errors"] == []
    applied = await apply(client, run_worker, checked["id"])
    assert applied["status"] == "applied", applied["report"]
    return applied


async def total(client: AsyncTestClient[Any], resource: str) -> int:
    response = await client.get(f"/api/v1/{resource}", params={"limit": 1})
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def parse_export(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.DictReader(io.StringIO(body[3:].decode("utf-8")), delimiter=";"))


async def test_a_messy_windows_file_is_read_and_its_bad_row_blocks_the_whole_apply(
    client: AsyncTestClient[Any], make_staff: Any, run_worker: Any
) -> None:
    await editor(client, make_staff)
    body = await check(client, run_worker, "organisations", ORGANISATIONS_CP1252.encode("cp1252"), "adhérents.csv")
    report = body["report"]
    assert (body["status"], body["encoding"], body["delimiter"]) == ("checked", "windows-1252", ";")
    assert report["columns"] == ["kind", "name", "insee_code", "siren", "membership_status", "member_since", "tags"]
    # Line numbers are the file's, blank lines included: the typo'd code is on line 6.
    # With a stable code and its params, for the admin to say it in French.
    assert report["errors"] == [
        {
            "line": 6,
            "column": "insee_code",
            "why": report["errors"][0]["why"],
            "code": "not_insee_code",
            "params": {"value": "2O004"},
        }
    ]
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
    applied = await check_and_apply(client, run_worker, "organisations", fixed.encode("cp1252"))
    assert applied["status"] == "applied"
    assert applied["report"]["to_create"] == 4
    listed = (await client.get("/api/v1/organisations", params={"q": "saint etienne"})).json()["items"]
    assert [(o["name"], o["membership_status"], o["member_since"]) for o in listed] == [
        ("Saint-Étienne", "active", "2012-03-15")
    ]
    assert sorted(listed[0]["tags"]) == ["Métropole", "Villes moyennes"]


async def test_people_file_with_bom_reports_each_bad_cell_then_applies_once(
    client: AsyncTestClient[Any], make_staff: Any, run_worker: Any
) -> None:
    await editor(client, make_staff)
    await check_and_apply(client, run_worker, "organisations", b"code_insee\n42218\n2A004\n97411\n")

    checked = await check(client, run_worker, "people", ("\ufeff" + PEOPLE_UTF8).encode("utf-8"))
    report = checked["report"]
    assert checked["encoding"] == "utf-8-sig"
    assert {(e["line"], e["column"]) for e in report["errors"]} == {(5, "email"), (6, "position_started_on")}
    assert report["to_create"] == 2
    refused = await client.post(f"/api/v1/imports/{checked['id']}/apply")
    assert refused.status_code == 422
    assert await total(client, "people") == 0

    good = "\n".join(line for line in PEOPLE_UTF8.splitlines() if "Sans-Arobase" not in line and "Leroy" not in line)
    checked = await check(client, run_worker, "people", ("\ufeff" + good).encode("utf-8"))
    dry_run = checked["report"]
    applied = await apply(client, run_worker, checked["id"])
    assert applied["status"] == "applied"
    # The dry run said exactly what the apply did.
    for key in ("to_create", "to_update", "unchanged", "first_to_create"):
        assert applied["report"][key] == dry_run[key]

    again = await client.post(f"/api/v1/imports/{checked['id']}/apply")
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
    client: AsyncTestClient[Any], make_staff: Any, run_worker: Any
) -> None:
    await editor(client, make_staff)
    await check_and_apply(client, run_worker, "organisations", b"code_insee\n42218\n")
    await check_and_apply(
        client,
        run_worker,
        "people",
        b"first_name,last_name,email,organisation_insee_code,position_title,position_kind\n"
        b"Paul,Martin,paul.martin@example.org,42218,DGS,staff\n",
    )
    changed = (
        "Prénom;Nom;E-mail;Téléphone;Code INSEE;Fonction\n"
        "Paul;Martin;PAUL.MARTIN@Example.org;06 12 34 56 78;42218;dgs\n"
    ).encode()
    applied = await check_and_apply(client, run_worker, "people", changed)
    report = applied["report"]
    assert (report["to_create"], report["to_update"], report["unchanged"]) == (0, 1, 0)
    assert report["first_to_update"][0]["changes"] == {"phone": {"old": None, "new": "06 12 34 56 78"}}
    people = (await client.get("/api/v1/people")).json()
    assert people["total"] == 1
    # Same title (whatever its case) at the same place: no second position.
    assert len(people["items"][0]["positions"]) == 1


async def test_export_then_import_changes_nothing(
    client: AsyncTestClient[Any], make_staff: Any, engine: AsyncEngine, run_worker: Any
) -> None:
    await editor(client, make_staff)
    await check_and_apply(
        client,
        run_worker,
        "organisations",
        ORGANISATIONS_CP1252.replace("commune;2O004;;Ville mal tapée;active;;\r\n", "").encode("cp1252"),
    )
    people = "\n".join(line for line in PEOPLE_UTF8.splitlines() if "Sans-Arobase" not in line and "Leroy" not in line)
    await check_and_apply(client, run_worker, "people", people.encode("utf-8"))

    for kind in ("organisations", "people"):
        exported = await client.get(f"/api/v1/{kind}/export.csv")
        assert exported.status_code == 200, exported.text
        assert exported.headers["content-type"].startswith("text/csv")
        rows = parse_export(exported.content)
        assert len(rows) == (4 if kind == "organisations" else 2)
        again = await check(client, run_worker, kind, exported.content)
        report = again["report"]
        assert report["errors"] == []
        assert (report["to_create"], report["to_update"], report["unchanged"]) == (0, 0, len(rows)), report

    async with engine.connect() as conn:
        exports = (await conn.execute(text("SELECT entity_type FROM audit_log WHERE action = 'export'"))).scalars()
        assert sorted(exports) == ["organisation", "person"], "each export is in the audit log"


async def test_records_nothing_else_tells_apart_survive_export_then_import_by_their_id(
    client: AsyncTestClient[Any], make_staff: Any, run_worker: Any
) -> None:
    await editor(client, make_staff)
    await check_and_apply(client, run_worker, "organisations", b"code_insee\n42218\n")
    # Two associations of one kind and name (allowed), so neither is found on its name.
    for _ in range(2):
        created = await client.post("/api/v1/organisations", json={"kind": "association", "name": "Les Maires d’Oc"})
        assert created.status_code == 201, created.text
    # A person without an e-mail (allowed) comes in through an import: created, with a warning.
    checked = await check(
        client,
        run_worker,
        "people",
        "Prénom;Nom;Code INSEE;Fonction;Type de fonction\nÉlise;L’Hôte;42218;Maire;élue\n".encode(),
    )
    report = checked["report"]
    assert (report["errors"], report["to_create"]) == ([], 1)
    assert "only by the id" in report["first_to_create"][0]["note"]
    await apply(client, run_worker, checked["id"])
    await check_and_apply(client, run_worker, "people", b"first_name;last_name;email\nPaul;Martin;paul@example.org\n")

    for kind, count in (("organisations", 3), ("people", 2)):
        exported = (await client.get(f"/api/v1/{kind}/export.csv")).content
        assert exported.decode("utf-8-sig").split(";", 1)[0] == "id", "the id is the first column"
        rows = parse_export(exported)
        assert sorted(r["id"] for r in rows) == sorted(
            o["id"] for o in (await client.get(f"/api/v1/{kind}")).json()["items"]
        )
        applied = await check_and_apply(client, run_worker, kind, exported)
        report = applied["report"]
        assert (report["errors"], report["to_create"], report["to_update"], report["unchanged"]) == ([], 0, 0, count)
        assert await total(client, kind) == count

    # The id finds the person without an e-mail, who may now be given one.
    exported = (await client.get("/api/v1/people/export.csv")).content.decode("utf-8-sig")
    filled = exported.replace("Élise;L’Hôte;;", "Élise;L’Hôte;elise.lhote@saint-etienne.fr;").encode()
    report = (await check_and_apply(client, run_worker, "people", filled))["report"]
    assert (report["to_create"], report["to_update"], report["unchanged"]) == (0, 1, 1)
    assert report["first_to_update"][0]["changes"] == {"email": {"old": None, "new": "elise.lhote@saint-etienne.fr"}}
    found = (await client.get("/api/v1/people", params={"q": "hote"})).json()["items"]
    assert [p["email"] for p in found] == ["elise.lhote@saint-etienne.fr"]


async def test_an_unknown_or_bad_id_is_reported_on_its_line_and_column(
    client: AsyncTestClient[Any], make_staff: Any, run_worker: Any
) -> None:
    await editor(client, make_staff)
    unknown = str(uuid4())
    organisations = f"ID;Type;Nom\n{unknown};association;Les Maires d’Oc\n\n;association;Nouvelle\n".encode()
    report = (await check(client, run_worker, "organisations", organisations))["report"]
    assert report["errors"] == [
        {"line": 2, "column": "id", "why": "no organisation with this id", "code": "unknown_id", "params": {}}
    ]
    assert report["to_create"] == 1

    people = (
        f"Identifiant;Prénom;Nom;Courriel\n;Ana;Sans-Id;ana@example.org\n{unknown};Paul;Martin;\npas-un-id;Léa;Roux;\n"
    )
    report = (await check(client, run_worker, "people", people.encode()))["report"]
    assert [(e["line"], e["column"]) for e in report["errors"]] == [(3, "id"), (4, "id")]
    assert report["errors"][0]["why"] == "no person with this id"
    assert "not an id" in report["errors"][1]["why"]
    assert report["to_create"] == 1
    assert await total(client, "people") == 0


async def test_export_follows_the_list_filters(client: AsyncTestClient[Any], make_staff: Any, run_worker: Any) -> None:
    await editor(client, make_staff)
    await check_and_apply(client, run_worker, "organisations", b"code_insee\n42218\n2A004\n97411\n")
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
    response = await upload(client, "organisations", content)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "file"
    assert why in response.json()["detail"]


async def test_only_editors_import_and_viewers_export(client: AsyncTestClient[Any], make_staff: Any) -> None:
    assert (await upload(client, "organisations", b"code_insee\n42218\n")).status_code == 401
    viewer = await make_staff(StaffRole.VIEWER)
    await log_in(client, viewer.email)
    refused = await upload(client, "organisations", b"code_insee\n42218\n")
    assert refused.status_code == 403
    assert (await client.get("/api/v1/imports")).status_code == 403
    exported = await client.get("/api/v1/people/export.csv")
    assert exported.status_code == 200
    assert parse_export(exported.content) == []
    assert exported.content.decode("utf-8-sig").splitlines()[0] == (
        "id;first_name;last_name;email;phone;language;organisation_insee_code;organisation_siren;"
        "position_title;position_kind;position_started_on;tags"
    )


def people_file(rows: int, code_of: Any) -> bytes:
    """`rows` people, each with a position at the commune `code_of(i)` names."""
    lines = ["Prénom;Nom;Courriel;Code INSEE;Fonction;Type de fonction"]
    lines += [f"Zoé;N’Guyen-{i};zoe.nguyen.{i}@exemple.fr;{code_of(i)};Chargée de mission;agent" for i in range(rows)]
    return "\n".join(lines).encode("utf-8")


async def test_an_apply_shows_its_progress_while_nothing_is_visible_until_it_commits(
    client: AsyncTestClient[Any], make_staff: Any, run_worker: Any, engine: AsyncEngine
) -> None:
    await editor(client, make_staff)
    await check_and_apply(client, run_worker, "organisations", b"code_insee\n42218\n2A004\n")
    # The last 100 people work in Ajaccio, the others in Saint-Étienne.
    checked = await check(client, run_worker, "people", people_file(600, lambda i: "2A004" if i >= 500 else "42218"))
    assert (checked["processed"], checked["total"], checked["report"]["to_create"]) == (600, 600, 600)

    async with engine.connect() as blocker:
        # Holding Ajaccio's row stops the apply when it writes the positions of the last rows there.
        await blocker.execute(text("SELECT id FROM organisation WHERE insee_code = '2A004' FOR UPDATE"))
        queued = await client.post(f"/api/v1/imports/{checked['id']}/apply")
        assert queued.status_code == 202, queued.text
        worker = asyncio.create_task(run_worker())
        seen = []
        for _ in range(1_000):
            seen.append(await get_import(client, checked["id"]))
            if seen[-1]["processed"] >= 500 or worker.done():
                break
            await asyncio.sleep(0.02)
        assert (seen[-1]["status"], seen[-1]["processed"], seen[-1]["total"]) == ("applying", 500, 600)
        processed = [s["processed"] for s in seen]
        assert processed == sorted(processed), "progress never goes back"
        assert await total(client, "people") == 0, "the apply's rows are visible only once it commits"
        await blocker.rollback()
    await worker
    done = await get_import(client, checked["id"])
    assert (done["status"], done["processed"], done["report"]["to_create"]) == ("applied", 600, 600)
    assert await total(client, "people") == 600


async def test_a_row_gone_bad_after_the_check_undoes_the_whole_apply(
    client: AsyncTestClient[Any], make_staff: Any, run_worker: Any
) -> None:
    admin = await make_staff(StaffRole.ADMIN)
    await log_in(client, admin.email)
    await check_and_apply(client, run_worker, "organisations", b"code_insee\n42218\n2A004\n")
    checked = await check(client, run_worker, "people", people_file(600, lambda i: "2A004" if i == 599 else "42218"))
    assert checked["report"]["error_count"] == 0
    ajaccio = (await client.get("/api/v1/organisations", params={"q": "ajaccio"})).json()["items"][0]
    assert (await client.delete(f"/api/v1/organisations/{ajaccio['id']}")).status_code == 204

    failed = await apply(client, run_worker, checked["id"])
    assert (failed["status"], failed["processed"]) == ("failed", 600)
    assert [(e["line"], e["column"]) for e in failed["report"]["errors"]] == [(601, "organisation_insee_code")]
    assert await total(client, "people") == 0, "599 good rows, one bad: nothing written"
    assert (await client.post(f"/api/v1/imports/{checked['id']}/apply")).status_code == 422


async def test_a_job_queued_twice_applies_once_and_a_lost_job_is_queued_again(
    client: AsyncTestClient[Any], make_staff: Any, run_worker: Any, settings: Settings, redis_url: str
) -> None:
    await editor(client, make_staff)
    await check_and_apply(client, run_worker, "organisations", b"code_insee\n42218\n")
    queued = await upload(client, "people", people_file(3, lambda i: "42218"))
    import_id = queued.json()["id"]
    config = alchemy_config(settings)
    redis = connect_redis(redis_url)
    try:
        ctx = {"db_config": config, "redis": redis}
        assert await sweep_imports(ctx) == "re-queued 0", "a job that has just been queued is not lost"
        # Redis loses the job, and the batch waits past the time a live job would have shown signs of life.
        await redis.delete(QUEUE_NAME)
        await run_worker()
        assert (await get_import(client, import_id))["status"] == "checking"
        async with config.get_engine().begin() as conn:
            await conn.execute(
                text("UPDATE import_batch SET heartbeat_at = now() - interval '10 minutes' WHERE id = :id"),
                {"id": import_id},
            )
        assert await sweep_imports(ctx) == "re-queued 1"
        await run_worker()
        checked = await get_import(client, import_id)
        assert (checked["status"], checked["report"]["to_create"]) == ("checked", 3)

        assert (await client.post(f"/api/v1/imports/{import_id}/apply")).status_code == 202
        await enqueue_import(redis, UUID(import_id))  # a second job for the same batch
        await run_worker()
    finally:
        await redis.aclose()
        await config.get_engine().dispose()
    applied = await get_import(client, import_id)
    assert (applied["status"], applied["report"]["to_create"]) == ("applied", 3)
    assert await total(client, "people") == 3
    assert (await client.get("/api/v1/people", params={"q": "guyen"})).json()["total"] == 3
