"""The staff admin: a react-admin app in `admin/`, built by Vite into `admin/dist`, served at /admin.

The built files are never committed: they are made from the sources on the first `crm up` (or by
`crm build-admin`, or by the Dockerfile's own stage) and rebuilt whenever the sources change. A
hash of the sources stored beside the build says whether it is current, so a fresh clone, a pull or
an edit all lead to one rebuild, and an unchanged tree to none."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from litestar import Controller, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from crm.domain.auth.guards import open_to_anyone

ADMIN_DIR = Path(__file__).resolve().parents[1] / "admin"
DIST = ADMIN_DIR / "dist"
STAMP = DIST / ".source-hash"
SOURCES = ("src", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json")

# MUI (emotion) writes its styles at run time: inline styles stay allowed, scripts only from here.
ADMIN_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class AdminBuildError(RuntimeError):
    pass


def source_hash(admin_dir: Path = ADMIN_DIR) -> str:
    digest = hashlib.sha256()
    for name in SOURCES:
        root = admin_dir / name
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if path.exists():
                digest.update(str(path.relative_to(admin_dir)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def is_built() -> bool:
    return (DIST / "index.html").exists()


def is_current(admin_dir: Path = ADMIN_DIR) -> bool:
    stamp = admin_dir / "dist" / ".source-hash"
    return (
        (admin_dir / "dist" / "index.html").exists() and stamp.exists() and stamp.read_text() == source_hash(admin_dir)
    )


def _npm(*args: str, cwd: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise AdminBuildError("npm is not installed: the admin app needs Node.js 20 and npm to be built")
    result = subprocess.run([npm, *args], cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise AdminBuildError(f"npm {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def build(admin_dir: Path = ADMIN_DIR, *, force: bool = False) -> bool:
    """Builds the app when its sources changed; True when it built."""
    if not force and is_current(admin_dir):
        return False
    installed = admin_dir / "node_modules" / ".package-lock.json"
    lock = admin_dir / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        _npm("ci", "--no-audit", "--no-fund", "--loglevel=error", cwd=admin_dir)
    _npm("run", "build", cwd=admin_dir)
    (admin_dir / "dist" / ".source-hash").write_text(source_hash(admin_dir))
    return True


NOT_BUILT = """<!doctype html><html lang="fr"><meta charset="utf-8"><title>Administration</title>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>L’administration n’est pas encore construite</h1>
<p>Lancez <code>crm build-admin</code> (il faut Node.js 20 et npm), ou simplement <code>crm up</code>,
qui la construit au premier démarrage. L’API répond déjà sur <a href="/schema">/schema</a>.</p></body></html>"""


class AdminPage(Controller):
    path = "/"
    guards = [open_to_anyone]
    include_in_schema = False

    @get(["/admin", "/admin/"], name="admin")
    async def admin(self) -> Response[bytes]:
        index = DIST / "index.html"
        headers = {"Cache-Control": "no-cache", "Content-Security-Policy": ADMIN_CSP}
        if not is_built():
            return Response(NOT_BUILT.encode(), media_type="text/html; charset=utf-8", status_code=503, headers=headers)
        return Response(index.read_bytes(), media_type="text/html; charset=utf-8", headers=headers)


def admin_handlers() -> list[ControllerRouterHandler]:
    # Vite names every asset after its content hash: browsers may keep them for good.
    assets = create_static_files_router(
        path="/admin/assets",
        directories=[DIST / "assets"],
        include_in_schema=False,
        name="admin-assets",
        cache_control=CacheControlHeader(max_age=31_536_000, public=True, immutable=True),
        send_as_attachment=False,
        guards=[open_to_anyone],
    )
    return [AdminPage, assets]
