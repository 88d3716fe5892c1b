"""Response headers that protect every page, and the Content-Security-Policy of server-rendered pages.

Every response refuses to be framed (clickjacking) or sniffed into another type; pages that set
their own policy keep it. Inline `<script>` and `<style>` blocks of the public templates are
allowed by their SHA-256 (computed from the template files at start-up), never by
'unsafe-inline': a script injected into a page would not run."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from litestar.types import Message, Scope

DEFAULTS = (
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),  # for browsers older than frame-ancestors
    (b"referrer-policy", b"no-referrer"),
)

_INLINE = {tag: re.compile(rf"<{tag}\b[^>]*>(.*?)</{tag}>", re.S | re.I) for tag in ("script", "style")}


def inline_hashes(directory: Path, tag: str) -> list[str]:
    """CSP source expressions for every inline block of `tag` in the templates of `directory`.
    The blocks must hold no template expression: their text is then what the browser hashes."""
    found: set[str] = set()
    for template in sorted(directory.glob("*.html")):
        for body in _INLINE[tag].findall(template.read_text(encoding="utf-8")):
            if "{{" in body or "{%" in body:
                raise ValueError(f"{template.name}: an inline <{tag}> must be constant to be allowed by hash")
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            found.add(f"'sha256-{digest}'")
    return sorted(found)


def page_policy(template_dir: Path) -> str:
    scripts = " ".join(inline_hashes(template_dir, "script")) or "'none'"
    styles = " ".join(inline_hashes(template_dir, "style")) or "'none'"
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src {scripts}",
            f"style-src {styles}",
            "img-src 'self' data:",
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A before-send hook rather than a middleware: it also sees the answers the router gives
    itself (404, 405), which no middleware wraps."""
    if message["type"] == "http.response.start":
        headers = list(message.get("headers") or [])
        present = {bytes(key).lower() for key, _ in headers}
        headers.extend((key, value) for key, value in DEFAULTS if key not in present)
        message["headers"] = headers
