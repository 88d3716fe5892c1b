"""Publications kept by staff, and the public archive page."""

from __future__ import annotations

from typing import Any

from crm.db.models.staff import StaffRole
from tests.conftest import log_in

REPORT = {
    "title": "Baromètre du numérique dans les collectivités",
    "kind": "survey_results",
    "published_on": "2025-11-03",
    "url": "https://example.org/barometre-2025.pdf",
    "summary": "Les résultats de l’enquête 2025 auprès de 1 200 communes.",
    "cover_image_url": "https://example.org/couverture.png",
    "is_public": True,
}


async def test_publications_crud_guards_and_archive(client: Any, make_staff: Any) -> None:
    viewer = await make_staff(StaffRole.VIEWER)
    editor = await make_staff(StaffRole.EDITOR)
    assert (await client.get("/api/v1/publications")).status_code == 401
    await log_in(client, viewer.email)
    assert (await client.post("/api/v1/publications", json=REPORT)).status_code == 403

    await log_in(client, editor.email)
    created = await client.post("/api/v1/publications", json=REPORT)
    assert created.status_code == 201, created.text
    report = created.json()
    assert report["published_on"] == "2025-11-03"
    assert report["url"] == REPORT["url"]
    internal = await client.post(
        "/api/v1/publications",
        json={"title": "Motion sur l’inclusion numérique", "kind": "motion", "published_on": "2025-06-12"},
    )
    assert internal.status_code == 201
    assert internal.json()["is_public"] is False

    found = await client.get("/api/v1/publications", params={"q": "barometre numerique"})
    assert [p["id"] for p in found.json()["items"]] == [report["id"]]
    newest_first = await client.get("/api/v1/publications")
    assert [p["published_on"] for p in newest_first.json()["items"]] == ["2025-11-03", "2025-06-12"]
    assert (await client.get("/api/v1/publications", params={"is_public": False})).json()["total"] == 1

    # The archive needs no login and shows only public publications.
    client.cookies.clear()
    archive = await client.get("/archive")
    assert archive.status_code == 200
    assert "Baromètre du numérique" in archive.text
    assert "Motion sur" not in archive.text
    assert "résultats d’enquête" in archive.text

    await log_in(client, editor.email)
    await client.patch(f"/api/v1/publications/{internal.json()['id']}", json={"is_public": True})
    await client.patch(f"/api/v1/publications/{report['id']}", json={"is_public": False})
    client.cookies.clear()
    archive = await client.get("/archive")
    assert "Motion sur" in archive.text
    assert "Baromètre" not in archive.text

    await log_in(client, editor.email)
    assert (await client.delete(f"/api/v1/publications/{report['id']}")).status_code == 403


async def test_bad_publications_are_refused_naming_the_field(client: Any, make_staff: Any) -> None:
    await log_in(client, (await make_staff(StaffRole.EDITOR)).email)
    for field, value in (("kind", "poem"), ("published_on", "03/11/2025"), ("url", "javascript:alert(1)")):
        response = await client.post("/api/v1/publications", json=REPORT | {field: value})
        assert response.status_code in (400, 422), field
        assert field in response.json()["detail"], response.json()
    created = (await client.post("/api/v1/publications", json=REPORT)).json()
    emptied = await client.patch(f"/api/v1/publications/{created['id']}", json={"title": None})
    assert emptied.status_code == 422
    assert emptied.json()["errors"][0]["field"] == "title"
    assert (await client.get(f"/api/v1/publications/{created['id']}")).json()["title"] == REPORT["title"]
    assert (await client.get("/api/v1/publications")).json()["total"] == 1
