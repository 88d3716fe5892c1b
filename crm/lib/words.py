"""How French text is folded into words for matching: names of places, functions, headers.

Below the domain folders, so the gazetteer, people and imports share it without importing each other."""

from __future__ import annotations

import re
import unicodedata


def words(text: str) -> list[str]:
    """Lower case, no accents, split on anything that is not a letter or a digit."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.findall(r"[a-z0-9]+", plain)
