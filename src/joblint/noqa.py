"""`--add-noqa`: write `# noqa: CODE` on every flagged line, so a legacy project starts clean.

A comment goes at the end of the flagged line; where that end lies inside a multi-line string or
after a backslash continuation (a comment there would change the string or break the code), it
goes on the first line of the statement instead, which suppress.py also honours. Existing noqa
codes are kept and extended. Each file is re-parsed, and every finding checked to be suppressed,
before it is written atomically; a file that fails either check is left untouched and reported.
A file edited while joblint runs is never written: its flagged lines must still read as the
analysis saw them, and its bytes must be unchanged just before the write (as `--fix` checks).
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .findings import Finding
from .fix import CHANGED, moved, parses, write_atomic
from .safe_io import UnsafeFile, read_regular
from .source import MAX_BYTES, Source, line_starts
from .suppress import scan

_CODE = r"[A-Z]+[0-9]+"
_NOQA_CODES = re.compile(rf"(?P<head>#\s*(?i:noqa):\s*)(?P<codes>{_CODE}(?:[ \t]*,?[ \t]*{_CODE})*)")
_BARE_NOQA = re.compile(r"#\s*noqa(?!:)", re.IGNORECASE)
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)


@dataclass
class NoqaOutcome:
    added: int = 0  # lines that got a new or extended noqa comment
    files: int = 0  # files written
    problems: list[str] = field(default_factory=list)  # one line each
    unwritten: int = 0  # files with comments to add that were not written (changed meanwhile, or a write failed)


@dataclass
class _Layout:
    """Where in a source file a comment may go."""

    comments: dict[int, tuple[int, str]]  # line -> (column, comment text)
    blocked: set[int]  # lines whose end is inside a string or continues with a backslash
    statements: list[tuple[int, int]]  # (first, last) lines of statements spanning several lines


def _layout(text: str) -> _Layout:
    comments: dict[int, tuple[int, str]] = {}
    blocked: set[int] = set()
    statements: list[tuple[int, int]] = []
    fstrings: list[int] = []
    start = None
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if start is None and tok.type not in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
            start = tok.start[0]
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = (tok.start[1], tok.string)
        elif tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
            blocked.update(range(tok.start[0], tok.end[0]))
        elif _FSTRING_START is not None and tok.type == _FSTRING_START:
            fstrings.append(tok.start[0])
        elif _FSTRING_END is not None and tok.type == _FSTRING_END and fstrings:
            blocked.update(range(fstrings.pop(), tok.end[0]))
        elif tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            if start is not None and tok.start[0] > start:
                statements.append((start, tok.start[0]))
            start = None
    starts = line_starts(text)
    for number in range(1, len(starts) + 1):
        end = starts[number] if number < len(starts) else len(text)
        line = text[starts[number - 1]:end].rstrip("\r\n")
        if number not in comments and number not in blocked and line.rstrip().endswith("\\"):
            blocked.add(number)
    return _Layout(comments, blocked, statements)


def _target(line: int, layout: _Layout, last_line: int) -> int | None:
    """The line whose comment suppresses a finding on `line`, or None when no comment can."""
    if not 1 <= line <= last_line:
        return None
    if line in layout.comments or line not in layout.blocked:
        return line
    for first, last in layout.statements:
        if first < line <= last and (first in layout.comments or first not in layout.blocked):
            return first
    return None


def _with_codes(line: str, comment: tuple[int, str] | None, codes: list[str]) -> str | None:
    """The line with `codes` in its noqa comment; None when it already suppresses everything."""
    if comment is None:
        code_part = line.rstrip()
        return f"{code_part}{'  ' if code_part.strip() else ''}# noqa: {', '.join(codes)}"
    column, text = comment
    if _BARE_NOQA.search(text):
        return None
    match = _NOQA_CODES.search(text)
    if match is None:
        return f"{line[:column]}{text.rstrip()}  # noqa: {', '.join(codes)}"
    present = set(re.findall(_CODE, match.group("codes").upper()))
    missing = [c for c in codes if c not in present]
    if not missing:
        return None
    extended = f"{match.group('head')}{match.group('codes')}, {', '.join(missing)}"
    return line[:column] + text[: match.start()] + extended + text[match.end():]


def annotate(text: str, findings: list[Finding]) -> tuple[str, int, list[Finding]]:
    """The text with noqa comments for `findings`, how many lines changed, and the findings left out."""
    layout = _layout(text)
    starts = line_starts(text)
    wanted: dict[int, set[str]] = defaultdict(set)
    left: list[Finding] = []
    for finding in findings:
        target = _target(finding.span.line, layout, len(starts))
        if target is None:
            left.append(finding)
        else:
            wanted[target].add(finding.code)
    changed = 0
    for number in sorted(wanted, reverse=True):
        begin = starts[number - 1]
        end = starts[number] if number < len(starts) else len(text)
        raw = text[begin:end]
        body = raw.rstrip("\r\n")
        new_body = _with_codes(body, layout.comments.get(number), sorted(wanted[number]))
        if new_body is None:
            continue
        text = text[:begin] + new_body + raw[len(body):] + text[end:]
        changed += 1
    return text, changed, left


def add_noqa(findings: list[Finding], paths: dict[str, Path], python: set[str] | None = None) -> NoqaOutcome:
    """Add noqa comments for `findings` to the files they are in (display path -> file).

    Only Python files (`python`, display paths; default all) are edited: in launch files a trailing
    comment can change meaning (a Dockerfile's JSON-array CMD becomes a shell command), so those
    are reported for a person to suppress.
    """
    outcome = NoqaOutcome()
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_file[finding.path].append(finding)
    for display, file_findings in sorted(by_file.items()):
        if display not in paths:
            outcome.problems.append(f"{display}: no noqa added: not a file joblint read")
            continue
        if python is not None and display not in python:
            outcome.problems.append(f"{display}: no noqa added: not a Python file; add `# noqa: CODE` by hand")
            continue
        _add_to_file(display, paths[display], file_findings, outcome)
    return outcome


def _add_to_file(display: str, path: Path, findings: list[Finding], outcome: NoqaOutcome) -> None:
    if path.is_symlink():
        # As --fix: writing through the link could change a file outside the project, and
        # replacing the link would copy its target (secrets and all) into the repository.
        outcome.problems.append(f"{display}: no noqa added: a symbolic link (add it to the file it points to)")
        return
    try:
        raw = read_regular(path, MAX_BYTES, follow_symlinks=False)
        original = Source.decode(raw)
    except UnsafeFile as exc:
        outcome.problems.append(f"{display}: no noqa added: cannot read: {exc.strerror or exc}")
        return
    except (OSError, SyntaxError, UnicodeDecodeError, LookupError) as exc:
        outcome.problems.append(f"{display}: no noqa added: cannot read: {exc}")
        return
    if not parses(original.text):
        outcome.problems.append(f"{display}: no noqa added: the file does not parse as Python")
        return
    if moved(original.text, findings):
        # Lines were inserted or removed since the analysis read the file: a comment would land
        # on the wrong line.
        outcome.problems.append(f"{display}: no noqa added: {CHANGED}")
        outcome.unwritten += 1
        return
    text, changed, left = annotate(original.text, findings)
    for finding in left:
        outcome.problems.append(
            f"{display}:{finding.span.line}: no noqa added for {finding.code}: no line can carry a comment"
        )
    if not changed:
        return
    suppressions = scan(text)
    unsuppressed = [
        f
        for f in findings
        if f not in left and (suppressions is None or not suppressions.suppresses(f.code, f.span.line))
    ]
    if not parses(text) or unsuppressed:
        outcome.problems.append(f"{display}: no noqa added: the commented file would not parse or not suppress")
        return
    data = original.encode(text)
    if original.encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
        data = b"\xef\xbb\xbf" + data
    try:
        if read_regular(path, MAX_BYTES, follow_symlinks=False) != raw:
            outcome.problems.append(f"{display}: no noqa added: {CHANGED}")
            outcome.unwritten += 1
            return
        write_atomic(path, data)
    except OSError as exc:
        outcome.problems.append(f"{display}: no noqa added: cannot write: {exc.strerror or exc}")
        outcome.unwritten += 1
        return
    outcome.added += changed
    outcome.files += 1
