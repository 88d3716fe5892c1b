"""Reading CSV files as French offices make them, and writing them so that Excel opens them right.

Reading forgives what spreadsheets do: a UTF-8 byte-order mark or none, Windows-1252 (Excel's
"CSV" on French Windows), UTF-16 (its "Texte Unicode"), semicolons, commas or tabs, blank lines, a
title line above the header, header names as offices write them (`vocabulary.HEADERS`: "N° INSEE",
"Adresse électronique", "Prénom(s)"), and asks about a column it does not know. Every row
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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import Any
from uuid import UUID

from crm.domain.imports.vocabulary import HEADERS, header_key
from crm.lib.csv_safety import escape_cell, unescape_cell
from crm.lib.problems import ProblemError, field_error, invalid
from crm.lib.words import words

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

# Which column a header names, per kind of file: the synonyms of `vocabulary.HEADERS` folded by
# `header_key`, and each column's own name.
FIELDS: dict[str, tuple[str, ...]] = {kind: tuple(HEADERS[kind]) for kind in KINDS}
HEADER_INDEX: dict[str, dict[str, str]] = {
    kind: {header_key(name): field for field, names in HEADERS[kind].items() for name in (field, *names)}
    for kind in KINDS
}
IGNORE = "ignore"
HEADER_SEARCH = 10  # non-blank lines looked at for the header line (a title may come first)
SNIFF_SAMPLE = 200  # non-empty values of an unknown column looked at to tell what it holds

ENCODINGS = ("utf-8-sig", "utf-8", "windows-1252", "utf-16")
DELIMITER_NAMES = {";": "semicolon", ",": "comma", "\t": "tab"}


def plain_key(text: str) -> str:
    """Lower case, no accents, anything else as "_": how enum words in cells are compared."""
    return "_".join(words(text))


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
    header_line: int = 1
    # How each column of the header was read: {"column": header, "field": name or "ignore", "by": ...}.
    mapping: list[dict[str, str]] = field(default_factory=list)


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in: UTF-16 (Excel's "Texte Unicode"), UTF-8 (with or
    without BOM) when it decodes as such, else Windows-1252, Excel's "CSV" on French Windows."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(data):
        try:
            return data.decode("utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-16-le").lstrip(
                "\ufeff"
            ), "utf-16"
        except UnicodeDecodeError as exc:
            raise invalid("file", "starts as UTF-16 (Texte Unicode) but is not; save it as CSV UTF-8") from exc
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


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without its byte-order mark: every other byte of ASCII text is zero."""
    head = data[:200]
    return len(head) >= 4 and head[1::2].count(0) > len(head) // 4 and head[0::2].count(0) == 0


def sniff_delimiter(lines: list[str]) -> str:
    """Semicolon (French Excel), tab (Texte Unicode), or comma: whichever the lines that have most
    of one have most of, outside quotes (a title line above the header has few or none)."""
    best, most = ",", 0
    for delimiter in (";", "\t", ","):
        count = max((re.sub(r'"[^"]*"', "", line).count(delimiter) for line in lines), default=0)
        if count > most:
            best, most = delimiter, count
    return best


def raw_cell(record: list[str], i: int) -> str:
    """The one place a cell's text is read from the file; a cell an export made inert against
    spreadsheet formulas comes back as it was stored."""
    return unescape_cell(record[i].strip()) if i < len(record) else ""


def read_records(data: bytes, max_rows: int) -> tuple[list[tuple[int, list[str]]], str, str]:
    """The non-blank records of a CSV file as offices save it, each with the line it starts on,
    and the encoding and delimiter found; a file that cannot be read, or with more than `max_rows`
    rows (a header and a title line above it allowed), is a 422 on `file`."""
    if not data.strip():
        raise invalid("file", "is empty")
    if data.startswith(b"PK\x03\x04"):
        raise invalid("file", "is a spreadsheet (.xlsx), not a text file; save it as CSV")
    text, encoding = decode(data)
    if "\x00" in text:
        raise invalid("file", "is not a text file (a spreadsheet saved as .xls?); save it as CSV")
    first_lines = [line for line in text.splitlines() if line.strip()][:HEADER_SEARCH]
    delimiter = sniff_delimiter(first_lines)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    previous_end = 0
    try:
        for record in reader:
            line = previous_end + 1
            previous_end = reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank lines, and rows of empty cells (;;;;) that spreadsheets leave
            if len(records) > max_rows + HEADER_SEARCH:
                raise invalid("file", f"has more than {max_rows} rows; split it")
            records.append((line, record))
    except csv.Error as exc:
        raise invalid("file", f"line {reader.line_num}: {exc}") from exc
    return records, encoding, delimiter


def read_csv(
    data: bytes,
    kind: str,
    mapping: dict[str, str] | None = None,
    known_place: Callable[[str], bool] | None = None,
) -> CsvFile:
    """Parses an uploaded file of organisations or people. A file that cannot be read at all, or
    whose columns are not all understood, is a 422 (on `file`, or on `mapping` with the questions
    to answer); row-level problems are for the import's report.

    `mapping` (header as written -> column name or "ignore") overrides what the headers say;
    `known_place` tells whether a text is the name of a commune or an EPCI."""
    if kind not in KINDS:
        raise invalid("kind", f"must be one of {', '.join(KINDS)}")
    mapping = _check_mapping(mapping or {}, kind)
    records, encoding, delimiter = read_records(data, MAX_ROWS)
    if not records:
        raise invalid("file", "has no header line")
    parsed = CsvFile(encoding=encoding, delimiter=delimiter, columns=[])
    at = _header_index(records, kind, mapping)
    parsed.header_line, header = records[at]
    body = records[at + 1 :]
    if len(body) > MAX_ROWS:
        raise invalid("file", f"has more than {MAX_ROWS} rows; split it")
    positions = _map_header(header, kind, mapping, parsed, body, known_place)
    if not body:
        raise invalid("file", "has a header line but no rows")
    parsed.rows = [Row(line=line, values={name: raw_cell(record, i) for i, name in positions}) for line, record in body]
    return parsed


def _check_mapping(mapping: dict[str, str], kind: str) -> dict[str, str]:
    checked = {}
    for column, target in mapping.items():
        wanted = str(target).strip()
        if wanted != IGNORE and wanted not in FIELDS[kind]:
            raise invalid(
                "mapping",
                f"{column!r}: {wanted!r} is not a column of {kind}; write one of "
                f"{', '.join(FIELDS[kind])}, or {IGNORE}",
            )
        checked[str(column).strip()] = wanted
    return checked


def _given(mapping: dict[str, str], header: str) -> str | None:
    """The mapping's answer for this header: by its exact text, else by its folded form."""
    if header in mapping:
        return mapping[header]
    key = header_key(header)
    return next((v for k, v in mapping.items() if header_key(k) == key and key), None)


def _field_of(header: str, kind: str, mapping: dict[str, str]) -> str | None:
    given = _given(mapping, header)
    if given is not None:
        return given
    return HEADER_INDEX[kind].get(header_key(header))


def _header_index(records: list[tuple[int, list[str]]], kind: str, mapping: dict[str, str]) -> int:
    """The header is the line, among the first few, that names the most known columns."""
    best, most = 0, 0
    for i, (_, record) in enumerate(records[:HEADER_SEARCH]):
        known = sum(
            1 for cell in record if cell.strip() and _field_of(cell.strip(), kind, mapping) not in (None, IGNORE)
        )
        if known > most:
            best, most = i, known
    if not most:
        expected = ", ".join(FIELDS[kind])
        raise invalid("file", f"no known column in the first lines; expected some of: {expected}")
    return best


def _map_header(
    header: list[str],
    kind: str,
    mapping: dict[str, str],
    parsed: CsvFile,
    body: list[tuple[int, list[str]]],
    known_place: Callable[[str], bool] | None,
) -> list[tuple[int, str]]:
    positions: list[tuple[int, str]] = []
    seen: dict[str, str] = {}
    questions: list[dict[str, Any]] = []
    headers = {h.strip() for h in header}
    for column in mapping:
        if column not in headers and not any(header_key(column) == header_key(h) for h in headers if h.strip()):
            raise invalid("mapping", f"no column {column!r} in the header line (line {parsed.header_line})")
    for i, raw in enumerate(header):
        name = raw.strip()
        given = _given(mapping, name) if name else None
        canonical = given if given is not None else (HEADER_INDEX[kind].get(header_key(name)) if name else None)
        if canonical is None:
            values = list(islice((v for v in (raw_cell(record, i) for _, record in body) if v), SNIFF_SAMPLE))
            # An empty column loses nothing: it is only reported as ignored.
            looks = _what_it_looks_like(name, values, kind, known_place) if values else None
            if looks is not None:
                questions.append({"column": name or f"column {i + 1}", "position": i + 1, **looks})
                continue
            if name or values:
                parsed.ignored_columns.append(name or f"column {i + 1}")
                parsed.mapping.append({"column": name, "field": IGNORE, "by": "not recognised"})
            continue
        by = "mapping" if given is not None else "header"
        parsed.mapping.append({"column": name, "field": canonical, "by": by})
        if canonical == IGNORE:
            parsed.ignored_columns.append(name)
            continue
        if canonical in seen:
            raise invalid(
                "file",
                f"columns {seen[canonical]!r} and {name!r} both mean {canonical}; keep one, or send a mapping "
                f"that says which to ignore",
            )
        seen[canonical] = name
        positions.append((i, canonical))
    if questions:
        detail = (
            f"{len(questions)} column(s) are not recognised but seem to hold data: send the file again with a "
            f"mapping that gives each one a column or '{IGNORE}'"
        )
        raise ProblemError(
            422,
            detail,
            errors=[field_error("mapping", _question_text(q)) for q in questions],
            questions=questions,
            accepted_fields=list(FIELDS[kind]),
        )
    parsed.columns = [c for c in FIELDS[kind] if c in seen]
    return positions


def _question_text(question: dict[str, Any]) -> str:
    suggested = (
        f": map it to {question['suggested']}, or to {IGNORE}" if question.get("suggested") else f", or {IGNORE}"
    )
    return f"column {question['column']!r} (number {question['position']}) {question['looks_like']}{suggested}"


_EMAIL_LIKE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_DATE_LIKE = re.compile(r"^(\d{1,2}[/.-]\d{1,2}[/.-](\d{2}|\d{4})|\d{4}-\d{2}-\d{2}([ T].*)?)$")
_PHONE_LIKE = re.compile(r"^\+?[\d .\-()/]{9,20}$")
_INSEE_LIKE = re.compile(r"^(\d{4,5}|2[AB]\d{3})$", re.IGNORECASE)
# Header words that say a column holds something worth a question ("Date de naissance", "Mail 2").
_HINT_WORDS = frozenset(
    w for fields in HEADERS.values() for names in fields.values() for name in names for w in header_key(name).split()
) - {"pro", "professionnel", "professionnelle", "type", "nature", "site", "nom", "libelle", "usuel"}


def _what_it_looks_like(
    header: str, values: list[str], kind: str, known_place: Callable[[str], bool] | None
) -> dict[str, Any] | None:
    """Why an unknown column seems to matter (its values or its header), and the column it may be."""
    people = kind == PEOPLE
    if values:
        half = max(1, len(values) // 2)
        tests: list[tuple[Callable[[str], bool], str, str]] = [
            (lambda v: bool(_EMAIL_LIKE.match(v)), "holds e-mail addresses", "email"),
            (lambda v: bool(_DATE_LIKE.match(v)), "holds dates", "position_started_on" if people else "member_since"),
            (
                lambda v: bool(_INSEE_LIKE.match(v)),
                "holds 5-character codes (INSEE codes? postal codes are not)",
                "organisation_insee_code" if people else "insee_code",
            ),
            (
                lambda v: bool(_PHONE_LIKE.match(v)) and 9 <= sum(ch.isdigit() for ch in v) <= 13,
                "holds phone numbers",
                "phone",
            ),
        ]
        if known_place is not None:
            tests.append((known_place, "holds names of communes or EPCIs", "place"))
        for test, looks_like, suggested in tests:
            if sum(1 for v in values if test(v)) >= half:
                return {"looks_like": looks_like, "suggested": suggested}
    hints = set(header_key(header).split()) & _HINT_WORDS
    if hints:
        guess = _closest_field(header, kind)
        return {
            "looks_like": f"has a header that reads like a known one ({', '.join(sorted(hints))})",
            "suggested": guess,
        }
    return None


def _closest_field(header: str, kind: str) -> str | None:
    """The column whose names share the most words with this header."""
    mine = set(header_key(header).split())
    best, most = None, 0
    for name, field_name in HEADER_INDEX[kind].items():
        shared = len(mine & set(name.split()))
        if shared > most:
            best, most = field_name, shared
    return best


# --- values ----------------------------------------------------------------------------------


class Reason(str):
    """Why a row or a cell is refused: the English text, with the machine code and params the admin
    words it from (crm/lib/problems.py)."""

    code: str | None
    params: dict[str, Any]

    def __new__(cls, text: str, code: str | None = None, **params: Any) -> Reason:
        reason = super().__new__(cls, text)
        reason.code = code
        reason.params = params
        return reason

    def coded(self) -> dict[str, Any]:
        """The code and params as a report's row error carries them."""
        return {"code": self.code, "params": self.params} if self.code else {}


def coded(why: str) -> dict[str, Any]:
    return why.coded() if isinstance(why, Reason) else {}


class CellError(ValueError):
    """A cell that cannot be read: the message says why, the code and params say it for the admin."""

    def __init__(self, message: str, code: str, **params: Any) -> None:
        super().__init__(message)
        self.reason = Reason(message, code, **params)


_FRENCH_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})$")
TRUE_WORDS = frozenset({"oui", "o", "yes", "y", "true", "vrai", "1", "x"})
FALSE_WORDS = frozenset({"non", "n", "no", "false", "faux", "0"})
# A two-digit year is of this century unless that puts it this far in the future (01/07/20 is
# 2020, 12/03/65 is 1965).
TWO_DIGIT_YEARS_AHEAD = 10


def parse_date(value: str, today: date | None = None) -> date:
    """ISO (2024-01-31) or French (31/01/2024, 31/01/24); a spreadsheet's "2024-01-31 00:00:00" too."""
    text = value.strip()
    match = _FRENCH_DATE.match(text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            if len(match.group(3)) == 2:
                this_year = (today or date.today()).year
                year += 2000 if 2000 + year <= this_year + TWO_DIGIT_YEARS_AHEAD else 1900
            return date(year, month, day)
        return datetime.fromisoformat(text).date() if " " in text or "T" in text else date.fromisoformat(text)
    except ValueError as exc:
        raise CellError(f"{value!r} is not a date: write 2024-01-31 or 31/01/2024", "not_a_date", value=value) from exc


def parse_bool(value: str) -> bool:
    word = plain_key(value)
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(f"{value!r} is not yes or no: write oui or non", "not_yes_no", value=value)


def parse_int(value: str) -> int:
    digits = re.sub(r"[\s\u00a0\u202f.']", "", value)
    if not re.fullmatch(r"\d+", digits):
        raise CellError(f"{value!r} is not a whole number", "not_a_whole_number", value=value)
    return int(digits)


def parse_id(value: str) -> UUID:
    """A record's id, as the export writes it (with or without hyphens or braces, any case)."""
    try:
        return UUID(value.strip())
    except ValueError as exc:
        raise CellError(
            f"{value!r} is not an id as the export writes it; leave it empty for a new record", "not_an_id", value=value
        ) from exc


def parse_tags(value: str) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in value.split(TAG_SEPARATOR) if t.strip()))


def parse_choice(value: str, words: dict[str, str], what: str) -> str:
    choice = words.get(plain_key(value))
    if choice is None:
        accepted = ", ".join(sorted(set(words.values())))
        raise CellError(
            f"{value!r} is not a {what}: write one of {accepted}", "not_one_of", value=value, accepted=accepted
        )
    return choice


_NOT_PHONE = re.compile(r"[^\d+]")
_EXCEL_NUMBER = re.compile(r"^\d+([.,]\d+)?E\+\d+$", re.IGNORECASE)


def phone_digits(value: str) -> str:
    """A phone number's digits as dialled in France (+33 6... is 06...): how two are compared."""
    digits = _NOT_PHONE.sub("", value)
    if digits.startswith("+33") and len(digits) == 12:
        return "0" + digits[3:]
    if digits.startswith("0033") and len(digits) == 13:
        return "0" + digits[4:]
    return digits


def clean_phone(value: str) -> tuple[str, bool]:
    """The phone number as given, or with the leading 0 a spreadsheet dropped (612345678 is
    06 12 34 56 78); says whether it was restored."""
    text = value.strip()
    if _EXCEL_NUMBER.match(text):
        raise CellError(
            f"{value!r}: the spreadsheet turned the number into {text} and lost its digits; type it again",
            "digits_lost",
            value=value,
        )
    if re.fullmatch(r"[1-9](?:[\s.\u00a0]?\d){8}", text):
        digits = "0" + re.sub(r"\D", "", text)
        return " ".join(digits[i : i + 2] for i in range(0, 10, 2)), True
    return text, False


_LOST_LETTER = re.compile(r"\w\?|\?\w")


def lost_letters(value: str) -> bool:
    """A "?" against a letter: what a Windows-1252 save leaves of a character it cannot hold (Ł, ă, ő...)."""
    return "?" in value and bool(_LOST_LETTER.search(value))


def excel_phone(value: str | None) -> str | None:
    """A phone number written so that Excel keeps it as text: a French number in pairs of digits
    (0612345678 would lose its 0 and become a number)."""
    if not value:
        return value
    digits = phone_digits(value)
    if len(digits) == 10 and digits.startswith("0"):
        return " ".join(digits[i : i + 2] for i in range(0, 10, 2))
    if digits.isdigit() and value.strip() == digits:
        return " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))
    return value


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
