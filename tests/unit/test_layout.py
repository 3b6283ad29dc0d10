"""The architecture, held by the code's own imports: no import cycle between the package's
modules, a core that imports nothing of the package outside itself, and no mutable state at
module level in the core (a cache or a memo belongs to an object its caller owns)."""
from __future__ import annotations

import ast
from pathlib import Path

from helpers import ROOT

PACKAGE = ROOT / "kalender_sync"


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module_level_only: bool) -> set[str]:
    """The package modules `path` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module(path).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            if target.split(".")[0] != "kalender_sync":
                continue
            for alias in node.names:          # "from . import x" names a module x
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _exists(candidate) else target)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "kalender_sync"}
    return found


def _exists(module: str) -> bool:
    path = ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _graph(module_level_only: bool) -> dict[str, set[str]]:
    return {_module(p): _imports(p, module_level_only) for p in sorted(PACKAGE.rglob("*.py"))}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == node or nxt not in graph:
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if state.get(nxt) is None and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if state.get(node) is None and (found := visit(node)):
            return found
    return None


def _importing_parents_removed(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A module importing its own package's __init__ for the package is not a cycle."""
    return {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in graph.items()}


def test_no_import_cycle_between_the_package_modules():
    assert _cycle(_importing_parents_removed(_graph(module_level_only=True))) is None
    # Imports inside functions (kept lazy for start-up time) do not form one either.
    assert _cycle(_importing_parents_removed(_graph(module_level_only=False))) is None


def test_the_graph_sees_imports():
    graph = _graph(module_level_only=False)
    assert "kalender_sync.core.planning" in graph["kalender_sync.core.diff"]
    assert "kalender_sync.targets.registry" in graph["kalender_sync.engine.sync"]   # a lazy one
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_core_imports_nothing_of_the_package_outside_itself():
    outside = {module: sorted(t for t in targets if not t.startswith("kalender_sync.core"))
               for module, targets in _graph(module_level_only=False).items()
               if module.startswith("kalender_sync.core")}
    assert {m: t for m, t in outside.items() if t} == {}


_MUTABLE_CALLS = {"dict", "list", "set", "defaultdict", "OrderedDict", "Counter", "deque"}
_CACHES = {"lru_cache", "cache", "cached"}


def _mutable_module_state(path: Path) -> list[str]:
    found = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            value = node.value
            if isinstance(value, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)) or (
                    isinstance(value, ast.Call) and getattr(value.func, "id", getattr(value.func, "attr", None))
                    in _MUTABLE_CALLS):
                found.append(f"{path.name}:{node.lineno}")
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            for decorator in node.decorator_list:
                name = decorator.func if isinstance(decorator, ast.Call) else decorator
                if getattr(name, "id", getattr(name, "attr", None)) in _CACHES:
                    found.append(f"{path.name}:{node.lineno} ({node.name} is memoised at module level)")
    return found


def test_the_core_keeps_no_mutable_state_at_module_level():
    found = [hit for path in sorted((PACKAGE / "core").rglob("*.py")) for hit in _mutable_module_state(path)]
    assert found == []


def test_the_state_check_sees_state(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import functools\nA = {}\nB = (1, 2)\nC = set()\n"
                      "@functools.lru_cache(maxsize=1)\ndef f():\n    return 1\n")
    assert _mutable_module_state(sample) == ["sample.py:2", "sample.py:4", "sample.py:6 (f is memoised at module level)"]
