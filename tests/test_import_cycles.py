"""No import cycles in the package, counting TYPE_CHECKING and function-local imports.

Every ``import``/``from ... import`` statement anywhere in a module (its body, a function, an
``if TYPE_CHECKING:`` block) is an edge to the module it names; ``from pkg import name`` points at
``pkg.name`` when that is a module. Parent packages imported implicitly are not edges.
"""

from __future__ import annotations

import ast
from pathlib import Path

from support import REPO_ROOT

PACKAGE = "exalsius_jupyter"


def _modules(root: Path) -> dict[str, Path]:
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def import_graph(root: Path = REPO_ROOT) -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere in its source."""
    modules = _modules(root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node.level, node.module)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            for target in targets:
                while target and target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]  # a name inside a module
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_package_has_no_import_cycles() -> None:
    graph = import_graph()
    assert graph.get(f"{PACKAGE}.api.client")
    assert find_cycles(graph) == []


def test_the_walker_sees_hidden_imports(tmp_path: Path) -> None:
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from typing import TYPE_CHECKING\n"
                              "if TYPE_CHECKING:\n    from .sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..a import thing\n")
    graph = import_graph(tmp_path)
    assert graph[f"{PACKAGE}.a"] == {f"{PACKAGE}.sub.b"}
    assert graph[f"{PACKAGE}.sub.b"] == {f"{PACKAGE}.a"}
    assert find_cycles(graph) == [[f"{PACKAGE}.a", f"{PACKAGE}.sub.b"]]


def test_the_lower_layers_import_no_front_end() -> None:
    graph = import_graph()
    lower = [m for m in graph if m.startswith((f"{PACKAGE}.api", f"{PACKAGE}.model"))
             or m in (f"{PACKAGE}.watch", f"{PACKAGE}.errors", f"{PACKAGE}.session",
                      f"{PACKAGE}.table", f"{PACKAGE}.actions", f"{PACKAGE}.refresh",
                      f"{PACKAGE}.poller")]
    assert {f"{PACKAGE}.model.placement", f"{PACKAGE}.model.variables"} <= set(lower)
    assert {f"{PACKAGE}.table", f"{PACKAGE}.actions", f"{PACKAGE}.refresh"} <= set(lower)
    for module in lower:
        front = {t for t in graph[module]
                 if t.startswith((f"{PACKAGE}.magics", f"{PACKAGE}.widgets"))}
        assert not front, f"{module} imports {front}"


def test_sign_in_sits_between_the_api_and_the_session() -> None:
    graph = import_graph()
    auth = [m for m in graph if m.startswith(f"{PACKAGE}.auth")]
    assert len(auth) >= 8
    for module in auth:  # auth uses the api's transport; it knows no session, magic or widget
        upper = {t for t in graph[module] if t.startswith(
            (f"{PACKAGE}.session", f"{PACKAGE}.magics", f"{PACKAGE}.widgets", f"{PACKAGE}.watch"))}
        assert not upper, f"{module} imports {upper}"
    for module in (m for m in graph if m.startswith(f"{PACKAGE}.api")):
        assert not {t for t in graph[module] if t.startswith(f"{PACKAGE}.auth")}, module
