"""Loads the official geography shipped in `crm/data/fr-geo/` into the `ref_*` tables.

Called by the migration that creates them, so every database, the embedded one included, has
the same reference data without reading a CSV at request time."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from crm.db.models.reference import Commune, Departement, Epci, Region

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "fr-geo"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load_reference_data(connection: Connection) -> None:
    regions = _rows("regions.csv")
    departements = _rows("departements.csv")
    communes = _rows("communes.csv")
    epcis = _rows("epci.csv")

    population: dict[str, int] = defaultdict(int)
    # An EPCI's département and région: those of most of its inhabitants.
    weight: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for c in communes:
        if c["kind"] == "COM" and c["epci_siren"]:
            people = int(c["population"] or 0)
            population[c["epci_siren"]] += people
            weight[c["epci_siren"]][(c["departement_code"], c["region_code"])] += people + 1

    connection.execute(insert(Region), [{"code": r["code"], "name": r["name"]} for r in regions])
    connection.execute(insert(Departement), departements)
    epci_rows: list[dict[str, Any]] = []
    for e in epcis:
        places = weight.get(e["siren"])
        dep, reg = max(places.items(), key=lambda kv: kv[1])[0] if places else (None, None)
        epci_rows.append({**e, "population": population.get(e["siren"]), "departement_code": dep, "region_code": reg})
    connection.execute(insert(Epci), epci_rows)
    connection.execute(
        insert(Commune),
        [
            {
                **c,
                "population": int(c["population"]) if c["population"] else None,
                "epci_siren": c["epci_siren"] or None,
            }
            for c in communes
        ],
    )
