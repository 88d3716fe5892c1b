"""Reading CSV files as French offices make them, and writing them so that Excel opens them right.

Reading forgives what spreadsheets do: a UTF-8 byte-order mark or none, Windows-1252 (Excel's
"CSV" on French Windows), semicolons or commas, blank lines, header names in any case, with or
without accents, spaces or hyphens ("Code INSEE", "code_insee", "E-mail", "Courriel"). Every row
keeps the line number it starts on in the file (the header is line 1 when it comes first), so that
a report can say where to look.

Writing uses UTF-8 with a BOM and semicolons (what French Excel expects), in exactly the columns
an import accepts, the record's id first: an export imported again changes nothing, even for the
records that nothing else tells apart (a person without an e-mail, two associations of one name).
Cells a spreadsheet would run as formulas are written inert and read back as they were
(crm/lib/csv_safety.py).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from crm.lib.csv_safety import escape_cell, unescape_cell
from crm.lib.problems import invalid

ORGANISATIONS = "organisations"
PEOPLE = "people"
KINDS = (ORGANISATIONS, PEOPLE)
TAG_SEPARATOR = "|"
MAX_ROWS = 50_000

# `id` comes first: the import matches on it before anything else.
ORGANISATION_COLUMNS: tuple[str, ...] = (
    "id",
    "kind",
    "name",
    "insee_code",
    "siren",
    "population",
    "departement_code",
    "region_code",
    "is_partner",
    "email",
    "phone",
    "website",
    "address",
    "membership_status",
    "member_since",
    "tags",
)
PEOPLE_COLUMNS: tuple[str, ...] = (
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "language",
    "organisation_insee_code",
    "organisation_siren",
    "position_title",
    "position_kind",
    "position_started_on",
    "tags",
)
COLUMNS = {ORGANISATIONS: ORGANISATION_COLUMNS, PEOPLE: PEOPLE_COLUMNS}

_EMAIL = ("e_mail", "courriel", "mail", "adresse_e_mail", "adresse_email", "adresse_mail", "adresse_courriel")
_PHONE = ("telephone", "tel", "numero_de_telephone", "n_de_telephone")
_TAGS = ("tag", "etiquettes", "etiquette", "mots_cles")
_ID = ("identifiant", "uuid")

# Other names accepted for each column, written as `header_key` makes them (lower case, no accents,
# "_" for anything else). The canonical names themselves are always accepted.
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    ORGANISATIONS: {
        "id": _ID,
        "kind": ("type", "nature", "type_d_organisation", "type_organisation", "categorie"),
        "name": ("nom", "raison_sociale", "libelle", "denomination", "nom_de_l_organisation", "organisation"),
        "insee_code": ("code_insee", "insee", "code_commune", "cog", "code_insee_commune"),
        "siren": ("numero_siren", "n_siren", "no_siren", "siren_epci"),
        "population": ("habitants", "nombre_d_habitants", "nb_habitants", "pop"),
        "departement_code": ("code_departement", "departement", "dep", "dept", "code_dept"),
        "region_code": ("code_region", "region", "reg"),
        "is_partner": ("partenaire", "partner", "est_partenaire"),
        "email": _EMAIL,
        "phone": _PHONE,
        "website": ("site", "site_web", "site_internet", "url"),
        "address": ("adresse", "adresse_postale"),
        "membership_status": ("statut_adhesion", "statut_d_adhesion", "adhesion", "statut"),
        "member_since": ("adherent_depuis", "membre_depuis", "date_adhesion", "date_d_adhesion"),
        "tags": _TAGS,
    },
    PEOPLE: {
        "id": _ID,
        "first_name": ("prenom", "firstname", "given_name"),
        "last_name": ("nom", "nom_de_famille", "lastname", "surname", "family_name"),
        "email": _EMAIL,
        "phone": (*_PHONE, "portable", "mobile"),
        "language": ("langue", "lang"),
        "organisation_insee_code": ("code_insee", "insee_code", "insee", "code_commune", "code_insee_organisation"),
        "organisation_siren": ("siren", "siren_organisation", "siren_epci"),
        "position_title": ("fonction", "poste", "titre", "title", "role", "qualite"),
        "position_kind": ("type_de_fonction", "type_de_poste", "nature", "kind", "elu_ou_agent", "elu_agent"),
        "position_started_on": (
            "date_de_debut",
            "debut",
            "depuis",
            "en_poste_depuis",
            "started_on",
            "date_de_prise_de_poste",
        ),
        "tags": _TAGS,
    },
}

# Which column a header names, per kind of file.
HEADER_INDEX: dict[str, dict[str, str]] = {
    kind: {key: canonical for canonical, names in aliases.items() for key in (canonical, *names)}
    for kind, aliases in ALIASES.items()
}

ENCODINGS = ("utf-8-sig", "utf-8", "windows-1252")


def plain_key(text: str) -> str:
    """Lower case, no accents, anything else as "_": how headers and enum words are compared."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    values: dict[str, str]


@dataclass
class CsvFile:
    encoding: str
    delimiter: str
    columns: list[str]
    ignored_columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in: UTF-8 (with or without BOM) when it decodes as such,
    else Windows-1252, the encoding Excel uses for "CSV" on French Windows."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise invalid("file", f"starts as UTF-8 but byte {exc.start + 3} is not UTF-8") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("windows-1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        raise invalid("file", "is neither UTF-8 nor Windows-1252 text; save it as CSV UTF-8") from exc


def sniff_delimiter(header_line: str) -> str:
    """Semicolon (French Excel), comma, or tab: whichever the header line has most of, outside quotes."""
    outside = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: outside.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(data: bytes, kind: str) -> CsvFile:
    """Parses an uploaded file of organisations or people. A file that cannot be read at all is
    a 422 on `file`; row-level problems are for the import's report."""
    if kind not in KINDS:
        raise invalid("kind", f"must be one of {', '.join(KINDS)}")
    if not data.strip():
        raise invalid("file", "is empty")
    text, encoding = decode(data)
    if "\x00" in text:
        raise invalid("file", "is not a text file (a spreadsheet saved as .xlsx?); save it as CSV")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    header_line = 0
    previous_end = 0
    parsed = CsvFile(encoding=encoding, delimiter=delimiter, columns=[])
    positions: list[tuple[int, str]] = []
    try:
        for record in reader:
            line = previous_end + 1
            previous_end = reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank lines, and rows of empty cells (;;;;) that spreadsheets leave
            if header is None:
                header, header_line = record, line
                positions = _map_header(record, kind, parsed)
                continue
            if len(parsed.rows) >= MAX_ROWS:
                raise invalid("file", f"has more than {MAX_ROWS} rows; split it")
            values = {name: (unescape_cell(record[i].strip()) if i < len(record) else "") for i, name in positions}
            parsed.rows.append(Row(line=line, values=values))
    except csv.Error as exc:
        raise invalid("file", f"line {reader.line_num}: {exc}") from exc
    if header is None:
        raise invalid("file", "has no header line")
    if header_line and not parsed.rows:
        raise invalid("file", "has a header line but no rows")
    return parsed


def _map_header(header: list[str], kind: str, parsed: CsvFile) -> list[tuple[int, str]]:
    index = HEADER_INDEX[kind]
    positions: list[tuple[int, str]] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(header):
        name = raw.strip()
        canonical = index.get(plain_key(name))
        if canonical is None:
            if name:
                parsed.ignored_columns.append(name)
            continue
        if canonical in seen:
            raise invalid("file", f"columns {seen[canonical]!r} and {name!r} both mean {canonical}; keep one")
        seen[canonical] = name
        positions.append((i, canonical))
    parsed.columns = [c for c in COLUMNS[kind] if c in seen]
    if not parsed.columns:
        expected = ", ".join(COLUMNS[kind])
        raise invalid("file", f"no known column in the header line; expected some of: {expected}")
    return positions


# --- values ----------------------------------------------------------------------------------


class CellError(ValueError):
    """A cell that cannot be read: the message says why."""


_FRENCH_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
TRUE_WORDS = frozenset({"oui", "o", "yes", "y", "true", "vrai", "1", "x"})
FALSE_WORDS = frozenset({"non", "n", "no", "false", "faux", "0"})


def parse_date(value: str) -> date:
    """ISO (2024-01-31) or French (31/01/2024); a spreadsheet's "2024-01-31 00:00:00" too."""
    text = value.strip()
    match = _FRENCH_DATE.match(text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return datetime.fromisoformat(text).date() if " " in text or "T" in text else date.fromisoformat(text)
    except ValueError as exc:
        raise CellError(f"{value!r} is not a date: write 2024-01-31 or 31/01/2024") from exc


def parse_bool(value: str) -> bool:
    word = plain_key(value)
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(f"{value!r} is not yes or no: write oui or non")


def parse_int(value: str) -> int:
    digits = re.sub(r"[\s\u00a0\u202f.']", "", value)
    if not re.fullmatch(r"\d+", digits):
        raise CellError(f"{value!r} is not a whole number")
    return int(digits)


def parse_id(value: str) -> UUID:
    """A record's id, as the export writes it (with or without hyphens or braces, any case)."""
    try:
        return UUID(value.strip())
    except ValueError as exc:
        raise CellError(f"{value!r} is not an id as the export writes it; leave it empty for a new record") from exc


def parse_tags(value: str) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in value.split(TAG_SEPARATOR) if t.strip()))


def parse_choice(value: str, words: dict[str, str], what: str) -> str:
    choice = words.get(plain_key(value))
    if choice is None:
        accepted = ", ".join(sorted(set(words.values())))
        raise CellError(f"{value!r} is not a {what}: write one of {accepted}")
    return choice


# --- writing ---------------------------------------------------------------------------------

BOM = "\ufeff"
EXPORT_DELIMITER = ";"


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return TAG_SEPARATOR.join(str(v) for v in value)
    return str(getattr(value, "value", value))


def csv_lines(columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The header, then one CSV line per row; the first chunk starts with the BOM."""
    columns = list(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=EXPORT_DELIMITER, lineterminator="\r\n")
    writer.writerow(columns)
    yield BOM + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([escape_cell(cell(row.get(c))) for c in columns])
        yield buffer.getvalue()
