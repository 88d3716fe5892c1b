"""Official codes, validated in one place: INSEE codes of communes, départements and régions, and
SIRENs (with their Luhn check digit). Each error says which field and why, in words staff know."""

from __future__ import annotations

import re
from typing import Any

from crm.lib.problems import ProblemError, field_error

INSEE_COMMUNE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
DEPARTEMENT = re.compile(r"^(?:0[1-9]|[1-8]\d|9[0-5]|2[AB]|97[1-6])$")
REGION = re.compile(r"^\d{2}$")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def invalid_code(field: str, message: str, code: str, **params: Any) -> ProblemError:
    return ProblemError(
        422, f"{field}: {message}", errors=[field_error(field, message, code, **params)], code="invalid_input"
    )


def clean_insee_code(value: str, field: str = "insee_code") -> str:
    code = value.strip().upper()
    if len(code) == 4 and code.isdigit():
        # Spreadsheets drop the leading zero of Ain, Aisne... (01001 becomes 1001).
        code = "0" + code
    if not INSEE_COMMUNE.match(code):
        raise invalid_code(
            field,
            f"{value!r} is not an INSEE commune code: 5 digits, or 2A/2B and 3 digits in Corsica",
            "not_insee_code",
            value=value,
        )
    if code.startswith("20"):
        raise invalid_code(
            field, f"{value!r}: Corsican communes are coded 2A or 2B, not 20", "corsica_code", value=value
        )
    return code


def clean_siren(value: str, field: str = "siren") -> str:
    siren = re.sub(r"[\s.]", "", value)
    if not re.fullmatch(r"\d{9}", siren):
        raise invalid_code(field, f"{value!r} is not a SIREN: 9 digits", "not_siren", value=value)
    if not luhn_ok(siren):
        raise invalid_code(
            field, f"{value!r} is not a valid SIREN: its check digit is wrong (typo?)", "siren_check_digit", value=value
        )
    return siren


def clean_departement_code(value: str, field: str = "departement_code") -> str:
    code = value.strip().upper()
    if len(code) == 1 and code.isdigit():
        code = "0" + code
    if not DEPARTEMENT.match(code):
        raise invalid_code(
            field,
            f"{value!r} is not a département code: 01 to 95, 2A, 2B or 971 to 976",
            "not_departement_code",
            value=value,
        )
    return code


def clean_region_code(value: str, field: str = "region_code") -> str:
    code = value.strip()
    if len(code) == 1 and code.isdigit():
        code = "0" + code
    if not REGION.match(code):
        raise invalid_code(field, f"{value!r} is not a région code: 2 digits", "not_region_code", value=value)
    return code
