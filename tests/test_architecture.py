"""The layering and the contracts of docs/architecture.md, checked on the source.

- The WebSocket core imports only the standard library.
- kitura.net never imports kitura.websocket or kitura.router.
- No package has a runtime import cycle between its modules, and kitura.router
  imports nothing inside a function (a cycle hidden that way is still a cycle).
- Reaches into another module's private names (``other._name``) stay at the low
  figure the redesign of issue 13 left; a new one needs a public name instead.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "kitura"
CORE = ("frames", "mask", "protocol", "handshake", "deflate", "close_codes", "errors", "utf8", "events")

#: How many reaches ``_private_reaches()`` may find: none. Issue 13's redesign left 52 (71
#: before it); the narrow contracts that replaced them are public-internal names documented
#: on their owner ("not Kitura API: ..."), and the standard library's documented protocol
#: names are not counted (``_STDLIB_PROTOCOL_NAMES``). Never raise it: give the owner a name.
MAX_PRIVATE_REACHES = 0


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(absolute module imported, inside a function?) for each import that runs."""
    package = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other, in_function)
                continue
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((alias.name, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if child.module is None or child.level and not child.module:
                    found.extend((f"{target}.{alias.name}", in_function) for alias in child.names)
                else:
                    found.append((target, in_function))
                    # `from . import x` / `from .pkg import module`: the module too, when it is one
                    found.extend((f"{target}.{alias.name}", in_function) for alias in child.names)
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def _sources(package: str) -> list[Path]:
    return sorted((ROOT.parent / package.replace(".", "/")).glob("*.py"))


def _known_modules() -> set[str]:
    return {_module(p) for p in ROOT.rglob("*.py")}


def test_the_websocket_core_imports_only_the_standard_library():
    known = _known_modules()
    for name in CORE:
        path = ROOT / "websocket" / f"{name}.py"
        for target, _ in _imports(path):
            if target.startswith("kitura."):
                if target not in known:
                    continue  # a name imported from a module, not a module
                assert target in {f"kitura.websocket.{m}" for m in CORE} | {"kitura.websocket._speedups"}, (
                    f"{path.name} imports {target}: the WebSocket core imports only the standard library "
                    "and other core modules")
            else:
                top = target.split(".")[0]
                assert top in sys.stdlib_module_names or top == "__future__", (
                    f"{path.name} imports {target}: the WebSocket core imports only the standard library")


def test_kitura_net_never_imports_the_layers_above():
    for path in _sources("kitura.net"):
        for target, _ in _imports(path):
            assert not target.startswith(("kitura.websocket", "kitura.router", "kitura.app")), (
                f"kitura/net/{path.name} imports {target}: kitura.net is the bottom layer "
                "(the upgrade hook and ServerDelegate.loop_entry are how the layers above plug in)")


@pytest.mark.parametrize("package", ["kitura.net", "kitura.router", "kitura.websocket"])
def test_no_runtime_import_cycle_in_a_package(package):
    known = _known_modules()
    graph: dict[str, set[str]] = {}
    for path in _sources(package):
        name = _module(path)
        if name == package:
            continue  # the package's __init__ re-exports; its modules never import it
        graph[name] = {t for t, _ in _imports(path)
                       if t in known and t.startswith(package + ".") and t != name}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                pytest.fail(f"runtime import cycle in {package}: {' -> '.join(cycle)}")
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_the_router_imports_nothing_inside_a_function():
    for path in _sources("kitura.router"):
        inside = [t for t, in_function in _imports(path) if in_function]
        assert not inside, f"kitura/router/{path.name} imports {inside} inside a function: import at the top"


#: Underscore names that the standard library documents as part of a protocol, so using
#: them is no reach into another module's privates: Enum's ``_value_``/``_name_``
#: ("Supported _sunder_ names" in the enum docs; a ``_missing_`` hook builds its
#: pseudo-member with them) and asyncio's ``_asyncio_future_blocking`` (the flag of the
#: Future protocol a Task follows; the docs of ``asyncio.isfuture`` name it as what makes
#: an object Future-like).
_STDLIB_PROTOCOL_NAMES = frozenset({"_value_", "_name_", "_asyncio_future_blocking"})


def _private_reaches() -> list[str]:
    """``x._name`` where ``x`` is not self/cls and ``_name`` is not defined in the same
    module (on self, as a slot, a function, a class or a global), and ``from m import _name``."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        own: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                own.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and \
                    isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                own.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                own.add(node.id)
            elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets):
                own.update(c.value for c in ast.walk(node.value)
                           if isinstance(c, ast.Constant) and isinstance(c.value, str))
        where = path.relative_to(ROOT.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                found += [f"{where}:{node.lineno} import {a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__") and a.name != "_speedups"]
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                value = node.value
                if isinstance(value, ast.Name) and value.id in ("self", "cls"):
                    continue
                if isinstance(value, ast.Name) and value.id == "os" and node.attr == "_exit":
                    continue  # a documented name of the standard library
                if node.attr in _STDLIB_PROTOCOL_NAMES:
                    continue
                if node.attr not in own:
                    found.append(f"{where}:{node.lineno} {ast.unparse(node)}")
    return found


def test_reaches_into_other_modules_private_names_stay_few():
    reaches = _private_reaches()
    assert len(reaches) <= MAX_PRIVATE_REACHES, (
        f"{len(reaches)} reaches into another module's private names (at most {MAX_PRIVATE_REACHES}): "
        "give the other module a public name for what you need.\n" + "\n".join(reaches))
