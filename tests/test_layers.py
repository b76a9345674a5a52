"""The import rules between the layers (docs/ARCHITECTURE.md), read from the source itself.

- ``classifiers/`` imports nothing of the project;
- ``crawlers/`` imports ``classifiers/`` and itself, and reaches the pipelines only through
  Scrapy's dotted names in its settings;
- ``pipelines/`` imports ``crawlers``' portal knowledge (items, sites, families, parsing) and
  ``classifiers/``;
- ``digest/`` imports ``pipelines/``, ``classifiers/``, ``crawlers``' portal knowledge and the
  config's checks (``crawlers.config``) for the tables it owns;
- every package's ``cli.py`` is imported by the front door (``scheduler.py``) alone;
- no cycles between modules; project imports at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("classifiers", "crawlers", "pipelines", "digest")
PROJECT = (*PACKAGES, "scheduler")
PORTAL_KNOWLEDGE = ("crawlers.items", "crawlers.sites", "crawlers.families", "crawlers.parsing")

# What each layer may import of the project (prefixes of module names).
ALLOWED = {
    "classifiers": ("classifiers",),
    "crawlers": ("crawlers", "classifiers"),
    "pipelines": ("pipelines", "classifiers", *PORTAL_KNOWLEDGE),
    # and the config's checks, for its own tables ([channels], [[subscription]], [feeds])
    "digest": ("digest", "pipelines", "classifiers", "crawlers.config", *PORTAL_KNOWLEDGE),
    "scheduler": PROJECT,
}
COMMAND_MODULES = ("crawlers.cli", "pipelines.cli", "digest.cli", "classifiers.cli")
# Modules that exist to hold a heavy optional library (Datasette, matplotlib): imported inside
# the function that needs them, like the library itself, so that nothing else pays for it.
HEAVY = ("digest.browseplugin", "digest.feedplugin", "digest.charts")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {"scheduler": REPO / "scheduler.py"}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


SOURCES = _sources()


def _imports(module: str, path: Path) -> list[tuple[str, int, bool]]:
    """(imported project module, line, at module level) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nested.update(id(n) for n in ast.walk(node) if n is not node)
    # Imports for type checkers alone (``if TYPE_CHECKING:``) are not run: not edges.
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(n) for n in ast.walk(node) if n is not node)
    out = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (path.name == "__init__.py")]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # `from package import module` imports the module; otherwise the names' module.
            names = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in SOURCES else origin
                     for a in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in PROJECT:
                out.append((name, node.lineno, id(node) not in nested))
    return out


IMPORTS = {module: _imports(module, path) for module, path in SOURCES.items()}


def _within(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("layer", list(ALLOWED))
def test_each_layer_imports_only_what_it_may(layer):
    broken = [f"{module}:{line} imports {name}"
              for module, imports in IMPORTS.items() if _within(module, (layer,))
              for name, line, _ in imports if not _within(name, ALLOWED[layer])]
    assert not broken, "\n".join(broken)


def test_commands_are_imported_by_the_front_door_alone():
    broken = [f"{module}:{line} imports {name}"
              for module, imports in IMPORTS.items() if module != "scheduler"
              for name, line, _ in imports if _within(name, COMMAND_MODULES)]
    assert not broken, "\n".join(broken)


def test_project_imports_are_at_the_top_of_modules():
    inside = [f"{module}:{line} imports {name} inside a function"
              for module, imports in IMPORTS.items()
              for name, line, top in imports if not top and not _within(name, HEAVY)]
    assert not inside, "\n".join(inside)


def _resolve(name: str) -> str | None:
    """The project module an imported name lives in (``a.b.c`` may be a name in ``a.b``)."""
    while name and name not in SOURCES:
        name = name.rpartition(".")[0]
    return name or None


def test_no_import_cycles():
    graph = {module: {m for name, _, top in imports if top and (m := _resolve(name)) and m != module}
             for module, imports in IMPORTS.items()}
    # A package's __init__ imported on the way to its module is not an edge of the module's.
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_rules_see_the_whole_project():
    """The rules above read every package (a layer that vanished from the scan would pass)."""
    assert {m.split(".")[0] for m in SOURCES} == set(PROJECT)
    assert sum(len(v) for v in IMPORTS.values()) > 300
    assert "crawlers.engine.spiders.policy" in SOURCES and "pipelines.store" in SOURCES
