"""Keeps the docs honest.

- Every public name (``__all__``) of kitura.net, kitura.websocket, kitura.log
  (and of kitura itself, once it exports names) appears, as code, in
  docs/porting.md: the Swift -> Python table covers the whole public API.
- Every ```python block in docs/tutorial.md and README.md compiles.
- The tutorial shows exactly the files of examples/chat, so a reader who
  copies them from the page gets the program that the e2e tests run.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
PORTING = DOCS / "porting.md"
TUTORIAL = DOCS / "tutorial.md"
README = REPO / "README.md"

# The modules whose whole public API docs/porting.md must cover.
DOCUMENTED_MODULES = ["kitura.net", "kitura.websocket", "kitura.log", "kitura.session", "kitura.credentials",
                      "kitura.cors", "kitura.health", "kitura.compression", "kitura.cache"]

FENCE = re.compile(r"^(?P<indent>[ \t]*)```[ \t]*(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                   re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def code_blocks(path: Path, languages: tuple[str, ...]) -> list[tuple[int, str]]:
    """(line number, source) of each fenced block in one of the languages."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        if match.group("lang").lower() in languages:
            line = text.count("\n", 0, match.start()) + 1
            indent = match.group("indent")
            body = match.group("body")
            if indent:
                body = "".join(l[len(indent):] if l.startswith(indent) else l
                               for l in body.splitlines(keepends=True))
            blocks.append((line, body))
    return blocks


def porting_code_identifiers() -> set[str]:
    """Identifiers written as code (`...` spans and fenced blocks) in porting.md."""
    text = PORTING.read_text(encoding="utf-8")
    names: set[str] = set()
    for match in FENCE.finditer(text):
        names.update(IDENTIFIER.findall(match.group("body")))
    without_fences = FENCE.sub("", text)
    for span in INLINE_CODE.findall(without_fences):
        names.update(IDENTIFIER.findall(span))
    return names


def public_names(module_name: str, required: bool = True) -> list[str]:
    module = importlib.import_module(module_name)  # a missing module is a failure
    exported = getattr(module, "__all__", None)
    if exported is None:
        if required:
            pytest.fail(f"{module_name} has no __all__: its public API is not declared")
        return []
    assert exported, f"{module_name}.__all__ is empty"
    for name in exported:
        assert hasattr(module, name), f"{module_name}.__all__ lists {name!r}, which it does not define"
    return list(exported)


@pytest.mark.parametrize("module_name", DOCUMENTED_MODULES)
def test_every_public_name_is_in_porting_md(module_name):
    documented = porting_code_identifiers()
    missing = [name for name in public_names(module_name) if name not in documented]
    assert not missing, f"docs/porting.md does not mention these names of {module_name}: {missing}"


def test_every_public_name_of_kitura_is_in_porting_md():
    names = public_names("kitura", required=False)
    documented = porting_code_identifiers()
    missing = [name for name in names if name not in documented]
    assert not missing, f"docs/porting.md does not mention these names of kitura: {missing}"


@pytest.mark.parametrize("path", [TUTORIAL, README, DOCS / "packages.md"], ids=lambda p: p.name)
def test_python_blocks_compile(path):
    assert path.is_file(), f"{path.relative_to(REPO)} is missing"
    blocks = code_blocks(path, ("python", "py", "python3"))
    assert blocks, f"{path.relative_to(REPO)} has no ```python block"
    for line, source in blocks:
        try:
            compile(source, f"{path.relative_to(REPO)}:{line}", "exec")
        except SyntaxError as error:
            pytest.fail(f"the ```python block at {path.relative_to(REPO)}:{line} does not compile: {error}")


@pytest.mark.parametrize("example_file, languages", [
    ("examples/chat/chat_service.py", ("python", "py")),
    ("examples/chat/main.py", ("python", "py")),
    ("examples/chat/client/package.json", ("json", "javascript")),
    ("examples/chat/client/chat.js", ("javascript", "js")),
])
def test_tutorial_shows_the_example_files(example_file, languages):
    """Each file of examples/chat appears whole, as one code block, in the tutorial."""
    content = (REPO / example_file).read_text(encoding="utf-8").strip()
    blocks = [body.strip() for _, body in code_blocks(TUTORIAL, languages)]
    assert content in blocks, (f"docs/tutorial.md has no code block identical to {example_file}; "
                               "update the tutorial or the example so that they match")


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", ["index.md", "tutorial.md", "porting.md", "packages.md"])
def test_relative_links_resolve(page):
    """Every relative link of these pages points to a file of the repository."""
    path = DOCS / page
    broken = []
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
            continue
        if not (path.parent / target).exists():
            broken.append(target)
    assert not broken, f"docs/{page} links to missing files: {broken}"
