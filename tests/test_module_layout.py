"""The code stays easy to live in: small modules and no import cycle (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# eksgitops/components and eksgitops/policy_pack are links to components/ and policies/.
LINKED = {ROOT / "eksgitops" / "components", ROOT / "eksgitops" / "policy_pack"}
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for base in ("components", "eksgitops"):
        for path in sorted((ROOT / base).rglob("*.py")):
            if any(path.is_relative_to(link) for link in LINKED):
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name.replace("components", "eksgitops.components", 1) if base == "components" else name] = (
                path
            )
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Modules `name` imports when it is loaded (not inside functions or TYPE_CHECKING)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    wanted: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for item in ast.walk(node) if isinstance(node, ast.If | ast.Try) else [node]:
            if isinstance(item, ast.Import):
                wanted.update(alias.name for alias in item.names)
            elif isinstance(item, ast.ImportFrom):
                module = item.module or ""
                if item.level:
                    base = package.split(".")[: len(package.split(".")) - item.level + 1]
                    module = ".".join([*base, module] if module else base)
                wanted.add(module)
                wanted.update(f"{module}.{alias.name}" for alias in item.names)
    # Importing a.b.c runs a and a.b first (unless they are this module's own packages).
    for dep in list(wanted):
        parts = dep.split(".")
        wanted.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return {d for d in wanted if d in modules and d != name and not name.startswith(d + ".")}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_module_is_over_450_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in _modules().values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_module_level_imports_form_no_cycle() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert len(graph) > 100 and sum(map(len, graph.values())) > 300  # the walk saw the imports
    assert _cycles(graph) == []


def test_the_cycle_check_catches_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
