"""Route patterns: a Kitura path pattern compiled once into a matcher.

Pure functions, no I/O and no imports from the rest of kitura. A pattern is
either a plain string (matched with ``==`` or a prefix test, the fast path) or
is turned into one regular expression with a named group per parameter, as
Kitura's ``RouteRegex`` does:

- ``:name`` captures one path segment (``[^/]+?``) as ``parameters["name"]``;
- ``:name(regex)`` captures with a custom expression;
- a bare group ``(regex)`` captures under the keys ``"0"``, ``"1"``, ...;
- a capture followed by ``?`` is optional, ``+`` takes one or more segments,
  ``*`` zero or more;
- a segment that is only ``*`` matches anything (including nothing);
- other text is used as regular-expression text, as in Kitura
  (``/file.txt`` lets the dot match any character).

Handlers match the whole path (a trailing ``/`` is allowed); middleware
(``allow_partial_match``) matches a prefix that ends at a ``/`` boundary.
Matching is case-sensitive on the raw (still percent-encoded) path.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = ["CompiledPattern", "compile_pattern", "normalize_pattern"]

# Characters that make a pattern "complex" (anything else is a plain string).
_COMPLEX = frozenset("*.:+?()[]\\")
# One segment with a named key: optional prefix, ":name", optional "(regex)", optional modifier.
_NAMED = re.compile(r"(.*)?(?::(\w+)(?:\(((?:\\.|[^()])+)\))?([+*?])?)")
# One segment with an unnamed group: optional prefix, "(regex)", optional modifier.
_UNNAMED = re.compile(r"(.*)?(?:\(((?:\\.|[^()])+)\)([+*?])?)")
_DEFAULT_EXPR = "[^/]+?"


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    """A compiled route pattern.

    ``simple`` patterns have ``regex is None`` and are compared as strings.
    ``pattern is None`` matches every path (``router.all(middleware=...)``).
    """

    pattern: str | None
    simple: bool
    allow_partial_match: bool
    regex: re.Pattern[str] | None
    keys: tuple[str, ...]          # parameter names, in group order
    groups: tuple[str, ...]        # the regex group names that carry them

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        """Match ``path``; return ``(matched_path, parameters)`` or None.

        ``matched_path`` is the part of the path the pattern consumed (what a
        sub-router strips); parameter values are percent-decoded.
        """
        pattern = self.pattern
        if pattern is None:
            return "", {}
        if self.simple:
            if not path:
                path = "/"
            if not self.allow_partial_match:
                return (path, {}) if path == pattern else None
            if not path.startswith(pattern):
                return None
            if pattern == "/":
                return "", {}
            if len(path) > len(pattern) and path[len(pattern)] != "/" and not pattern.endswith("/"):
                return None
            return pattern, {}
        m = self.regex.match(path)  # type: ignore[union-attr]
        if m is None:
            return None
        params: dict[str, str] = {}
        for key, group in zip(self.keys, self.groups):
            value = m.group(group)
            if value is not None:
                params[key] = unquote(value) if "%" in value else value
        return m.group(0), params


def normalize_pattern(pattern: str | None) -> str | None:
    """Kitura stores a pattern with a leading ``/``."""
    if pattern is None or pattern.startswith("/"):
        return pattern
    return "/" + pattern


def _segment_regex(prefix: str, expr: str, modifier: str, group: str) -> str:
    cap = f"(?P<{group}>"
    if modifier == "+":
        return f"/{prefix}{cap}{expr}(?:/{expr})*)"
    if modifier == "?":
        if not prefix:
            return f"(?:/{cap}{expr}))?"
        return f"/{prefix}(?:{cap}{expr}))?"
    if modifier == "*":
        if not prefix:
            return f"(?:/{cap}{expr}(?:/{expr})*))?"
        return f"/{prefix}(?:{cap}{expr}(?:/{expr})*))?"
    return f"/{prefix}{cap}{expr})"


def compile_pattern(pattern: str | None, allow_partial_match: bool = False) -> CompiledPattern:
    """Compile a Kitura route pattern (see the module docstring).

    Raises ``ValueError`` when the resulting regular expression is invalid,
    at registration time rather than on the first request.
    """
    pattern = normalize_pattern(pattern)
    if pattern is None:
        return CompiledPattern(None, False, allow_partial_match, None, (), ())
    if not _COMPLEX.intersection(pattern):
        return CompiledPattern(pattern, True, allow_partial_match, None, (), ())
    parts = ["^"]
    keys: list[str] = []
    groups: list[str] = []
    unnamed = 0
    for segment in pattern.split("/"):
        if not segment:
            continue
        if segment == "*":
            parts.append("/(?:.*)")
            continue
        group = f"_k{len(keys)}"
        m = _NAMED.match(segment)
        if m is not None:
            prefix, name, expr, modifier = m.group(1) or "", m.group(2), m.group(3), m.group(4) or ""
            keys.append(name)
        else:
            m = _UNNAMED.match(segment)
            if m is None:
                parts.append("/" + segment)
                continue
            prefix, expr, modifier = m.group(1) or "", m.group(2), m.group(3) or ""
            keys.append(str(unnamed))
            unnamed += 1
        groups.append(group)
        parts.append(_segment_regex(prefix, expr or _DEFAULT_EXPR, modifier, group))
        parts.append(segment[m.end():])  # text after the capture (":id.json"), kept as regex text
    parts.append("(?:/(?=$))?(?=/|$)" if allow_partial_match else "(?:/(?=$))?$")
    source = "".join(parts)
    try:
        regex = re.compile(source)
    except re.error as exc:
        raise ValueError(f"invalid route pattern {pattern!r}: {exc}") from None
    return CompiledPattern(pattern, False, allow_partial_match, regex, tuple(keys), tuple(groups))
