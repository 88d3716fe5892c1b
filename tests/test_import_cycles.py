"""No import cycles between the domain folders (crm/domain/<folder>): a folder that imports
another, directly or through others, is never imported back. Every import counts, the ones inside
functions too: a late import hides a cycle from Python, not from the design."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[1] / "crm" / "domain"

# Known cycles, allowed until the work that removes them merges: the public pages (campaigns ↔
# public, events → public → campaigns) get their own module on helper `settings`'s branch. This
# allowance only shrinks: a new cycle, or these folders joined by another, fails.
KNOWN_CYCLES: list[frozenset[str]] = [frozenset({"campaigns", "events", "public"})]


def folder_imports() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for source in DOMAIN.rglob("*.py"):
        parts = source.relative_to(DOMAIN).parts
        if len(parts) < 2:
            continue
        folder = parts[0]
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                path = name.split(".")
                if path[:2] == ["crm", "domain"] and len(path) > 2 and path[2] != folder:
                    edges[folder].add(path[2])
    return edges


def cycles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected groups of more than one folder (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges.get(node, ())):
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
                groups.append(frozenset(group))

    for node in sorted(set(edges) | {t for targets in edges.values() for t in targets}):
        if node not in index:
            visit(node)
    return groups


def test_the_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset({"a", "b", "c"})]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_between_domain_folders() -> None:
    found = cycles(folder_imports())
    assert [sorted(c) for c in found if c not in KNOWN_CYCLES] == []


def test_auth_and_staff_do_not_import_each_other() -> None:
    # auth (guards, sessions, throttle) sits below every controller; the login lives with staff.
    edges = folder_imports()
    assert "auth" in edges["staff"]
    assert edges["auth"] == set()
