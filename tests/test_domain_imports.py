"""No import cycles between the folders of `crm/domain`: a folder may use another's services, but
two folders that import each other (campaigns ↔ public, events → public → campaigns → events) are
one tangle that can only be understood, tested and changed together. Every import counts, even one
inside a function: deferring it hides the cycle without removing it."""

from __future__ import annotations

import ast
from pathlib import Path

CRM = Path(__file__).resolve().parents[1] / "crm"
DOMAIN = CRM / "domain"
PACKAGE = "crm.domain."


def _folder_imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in DOMAIN.rglob("*.py"):
        relative = path.relative_to(DOMAIN)
        if len(relative.parts) < 2:
            continue
        folder = relative.parts[0]
        targets = graph.setdefault(folder, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith(PACKAGE):
                    target = name[len(PACKAGE) :].split(".")[0]
                    if target != folder and (DOMAIN / target).is_dir():
                        targets.add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected groups of more than one folder (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.add(frozenset(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_the_domain_folders_import_each_other_without_cycles() -> None:
    cycles = _cycles(_folder_imports())
    assert {tuple(sorted(c)) for c in cycles} == set(), "import cycles between crm/domain folders"


def test_auth_imports_no_domain_folder() -> None:
    # auth (guards, sessions, throttle) sits below every controller; the login lives with staff.
    graph = _folder_imports()
    assert "auth" in graph["staff"]
    assert graph["auth"] == set()


def test_the_check_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == {frozenset({"a", "b", "c"})}


def test_no_module_takes_another_modules_private_names() -> None:
    """A leading underscore says "mine": a page that needs another controller's helper gets it from
    the module they share (crm/domain/public/layout.py for the public pages)."""
    taken = []
    for path in CRM.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("crm"):
                taken += [
                    f"{path.relative_to(CRM.parent)}: {node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_")
                ]
    assert taken == []
