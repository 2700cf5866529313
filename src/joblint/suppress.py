"""Suppression comments: `# noqa`, `# noqa: CEL101`, `# joblint: ignore[CEL101]`.

A comment suppresses findings on its own line, and, on the first line of a statement that spans
several lines, findings anywhere in that statement.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

from .frameworks import code_prefixes
from .source import split_lines

_CODE = r"[A-Z]+[0-9]+"
# Within one line (`_may_suppress` runs it over a whole file): `[ \t]`, never `\s`.
_NOQA = re.compile(
    rf"#[ \t]*(?:noqa(?::[ \t]*(?P<noqa>{_CODE}(?:[ \t,]+{_CODE})*))?"
    rf"|joblint:[ \t]*ignore(?:\[(?P<ignore>[^\]\r\n]*)\])?)",
    re.IGNORECASE,
)
_CODES = re.compile(_CODE)


@dataclass(frozen=True)
class Suppressions:
    lines: dict[int, frozenset[str] | None]  # line -> codes, None meaning every code
    statements: tuple[tuple[int, int], ...] = ()  # (first, last) lines of multi-line statements

    def suppresses(self, code: str, line: int) -> bool:
        if self._on(code, line):
            return True
        for first, last in self.statements:
            if first < line <= last:
                return self._on(code, first)
        return False

    def _on(self, code: str, line: int) -> bool:
        if line not in self.lines:
            return False
        codes = self.lines[line]
        return codes is None or code in codes


# The prefixes of joblint's codes, one per row of the framework table: a comment listing only
# other linters' codes (`noqa: E501`) suppresses nothing here.
CODE_PREFIXES = code_prefixes()


def scan(text: str) -> Suppressions | None:
    """The suppressions in a source file, or None when it has none of joblint's findings."""
    if not _may_suppress(text):
        return None
    lines: dict[int, frozenset[str] | None] = {}
    statements: list[tuple[int, int]] = []
    try:
        start = None
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if start is None and tok.type not in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
                start = tok.start[0]
            if tok.type == tokenize.COMMENT:
                _comment(tok.string, tok.start[0], lines)
            elif tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                if start is not None and tok.start[0] > start:
                    statements.append((start, tok.start[0]))
                start = None
    except (tokenize.TokenError, SyntaxError, IndentationError):
        # Fall back to a line scan; statements spanning lines are then matched on their own lines.
        for number, line in enumerate(split_lines(text), 1):
            if "#" in line:
                _comment(line[line.index("#"):], number, lines)
    if not lines:
        return None
    return Suppressions(lines, tuple(statements))


def _may_suppress(text: str) -> bool:
    """Whether some comment-like text suppresses every code or one of joblint's. Most files that
    mention noqa list only other linters' codes, and tokenizing them costs as much as their facts."""
    for match in _NOQA.finditer(text):
        listed = match.group("noqa") or match.group("ignore")
        if listed is None or any(code.startswith(CODE_PREFIXES) for code in _CODES.findall(listed.upper())):
            return True
    return False


def _comment(comment: str, line: int, lines: dict[int, frozenset[str] | None]) -> None:
    for match in _NOQA.finditer(comment):
        listed = match.group("noqa") or match.group("ignore")
        if listed is None:
            lines[line] = None
            return
        codes = frozenset(c.upper() for c in _CODES.findall(listed.upper()))
        previous = lines.get(line, frozenset())
        if previous is None:
            return
        lines[line] = previous | codes


def scan_launch(text: str) -> Suppressions | None:
    """Suppressions in a launch file (shell, YAML, Procfile): `# noqa` comments line by line."""
    if "noqa" not in text and "joblint" not in text:
        return None
    lines: dict[int, frozenset[str] | None] = {}
    for number, line in enumerate(split_lines(text), 1):
        if "#" in line:
            _comment(line[line.index("#"):], number, lines)
    return Suppressions(lines) if lines else None
