"""Words of a text as names are compared across files and places: no case, no accents."""

from __future__ import annotations

import re
import unicodedata


def words(text: str) -> list[str]:
    """Lower case, no accents, split on anything that is not a letter or a digit."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.findall(r"[a-z0-9]+", plain)
