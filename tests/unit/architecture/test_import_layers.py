"""Packages import downwards only: the graph of imports between ``companion.*`` parts is
acyclic, so the composition root (``runtime``) and the adapters above it (``api``,
``cli``, ``web``, ``channels``) compose domains that never import them back.

Imports under ``if TYPE_CHECKING:`` count too: a domain that names ``Runtime`` in a
type hint depends on everything the runtime builds.
"""

from __future__ import annotations

import ast
from pathlib import Path

import companion

ROOT = Path(companion.__file__).parent


def _part(module: str) -> str | None:
    """``companion.memory.search`` → ``memory``; ``None`` outside the package."""
    pieces = module.split(".")
    if pieces[0] != "companion" or len(pieces) < 2:
        return None
    return pieces[1]


def _module_name(path: Path) -> str:
    relative = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every ``companion.*`` module ``path`` imports, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                found.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                found.add(node.module)
    return found


def package_graph() -> dict[str, set[str]]:
    """Top-level part of ``companion`` → the other parts it imports."""
    graph: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        source = _part(_module_name(path))
        if source is None:
            continue
        targets = graph.setdefault(source, set())
        for module in _imports(path):
            target = _part(module)
            if target is not None and target != source:
                targets.add(target)
    return graph


def tangles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected parts with more than one member: packages in a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = set()
            while True:
                member = stack.pop()
                part.add(member)
                if member == node:
                    break
            if len(part) > 1:
                found.append(part)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


#: Cycles that predate this test, each a reason to untangle, never to grow: ``store``
#: registers every domain's tables (``store.schema``), the domains implement the ports
#: ``conversation`` declares while the pipeline reads ``personality.core`` and
#: ``tools`` types, and the web pages reuse the API's dependencies.
KNOWN_TANGLES: list[set[str]] = [
    {"conversation", "llm", "memory", "personality", "proactive", "security", "store", "tools"},
    {"api", "web"},
]


def test_tangles_finds_cycles_and_accepts_a_dag() -> None:
    assert tangles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert tangles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_no_new_import_cycle_between_packages() -> None:
    for part in tangles(package_graph()):
        assert any(part <= known for known in KNOWN_TANGLES), (
            f"a new import cycle between packages: {sorted(part)}"
        )


def test_the_composition_root_is_in_no_cycle() -> None:
    for part in tangles(package_graph()):
        assert "runtime" not in part and "jobs" not in part, sorted(part)


def test_domains_do_not_import_the_composition_root() -> None:
    graph = package_graph()
    on_top = {"runtime", "api", "cli", "web", "channels", "health", "__main__", "bench"}
    offenders = sorted(
        part for part, targets in graph.items() if part not in on_top and "runtime" in targets
    )
    assert offenders == [], f"domains importing the composition root: {offenders}"
