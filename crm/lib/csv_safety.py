"""CSV cells that a spreadsheet cannot run (OWASP "CSV injection"), and read back unchanged.

Excel and LibreOffice take a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage
return before one) as a formula: a name typed as `=HYPERLINK(...)` in a public form would run on
the computer of whoever opens the export. Every CSV writer passes its cells through `escape_cell`,
which puts an apostrophe in front of such a cell (spreadsheets show the text as is); the import
passes every cell through `unescape_cell`, which takes that apostrophe off again, so that an export
imported again changes nothing ("+33 1 23 45 67 89" and "-12" included).

The rule is one-to-one: a cell that already starts with apostrophes followed by a trigger gets
one more, and reading removes exactly one, so a value typed as `'=x` survives the round trip too.
"""

from __future__ import annotations

import re

# Formula triggers, their full-width forms (Excel reads some of them as the ASCII ones), tab and
# carriage return; spaces and apostrophes in front of one do not disarm it.
_TRIGGERS = "=+\\-@\t\r\uff1d\uff0b\uff0d\uff20"
_RISKY = re.compile(rf"[\s']*[{_TRIGGERS}]")
_ESCAPED = re.compile(rf"'[\s']*[{_TRIGGERS}]")
APOSTROPHE = "'"


def escape_cell(value: str) -> str:
    """The cell as a spreadsheet shows it as text, never as a formula."""
    return APOSTROPHE + value if _RISKY.match(value) else value


def unescape_cell(value: str) -> str:
    """The value `escape_cell` was given (any other cell is returned as is)."""
    return value[1:] if _ESCAPED.match(value) else value


# Every CSV the API answers. Litestar adds the charset of text types itself (utf-8): naming it here
# would send it twice.
CSV_MEDIA_TYPE = "text/csv"
