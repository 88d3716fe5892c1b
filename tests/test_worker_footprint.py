"""The worker stays small: importing it loads no password hashing, no web app and none of the
machinery it does not use (issue 12: a worker weighed 179 MB, all of it reached at import)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from crm.lib.security import _DUMMY_HASH, hash_password, password_hasher, verify_password

ROOT = Path(__file__).resolve().parents[1]

# What a worker sending campaigns must not load: argon2 (a hash costs 64 MB), the web app and its
# controllers, advanced-alchemy's Litestar plugin (with its CLI and Alembic commands), and what only
# an import, an event message or a template compilation needs (loaded with the first such job).
NOT_IN_WORKER = (
    "argon2",
    "crm.app",
    "crm.adminui",
    "crm.domain.providers",
    "advanced_alchemy.extensions.litestar",
    "crm.domain.imports.services",
    "mjml",
    "css_inline",
    "inscriptis",
    "icalendar",
)


def imported_by(module: str) -> list[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(out.stdout)


def test_the_worker_imports_no_password_hashing_no_web_app_and_nothing_it_does_not_use() -> None:
    modules = imported_by("jobs.worker")
    loaded = [m for m in modules if m in NOT_IN_WORKER or m.endswith(".controllers") or m.startswith("crm.app")]
    assert loaded == []
    assert not [m for m in modules if any(m.startswith(f"{name}.") for name in NOT_IN_WORKER)]


def test_the_dummy_hash_has_the_parameters_of_real_passwords() -> None:
    # An unknown account is verified against it, so that the answer takes as long as for a real one:
    # its memory and time costs must be those every new password gets.
    assert not password_hasher().check_needs_rehash(_DUMMY_HASH)
    assert password_hasher().memory_cost == 65536
    assert not verify_password(None, "anything at all")
    assert verify_password(hash_password("correct horse battery"), "correct horse battery")
