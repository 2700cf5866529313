"""Apply fixes: edit the text, re-parse, repeat until nothing is left to fix, write atomically.

A file is written only when every round's result parses; its encoding, BOM, line endings and mode
are kept. A file whose fixes would break it is left untouched and reported.
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import libcst as cst

from .findings import Applicability, Edit, Finding, Fix, Span
from .report.escape import visible
from .source import Source, line_starts, source_lines, split_lines

MAX_ROUNDS = 10


@dataclass
class FixResult:
    originals: dict[str, Source] = field(default_factory=dict)  # display path -> as read
    texts: dict[str, str] = field(default_factory=dict)  # display path -> fixed text
    applied: int = 0
    applied_in: dict[str, int] = field(default_factory=dict)  # display path -> fixes in its text
    written: set[str] = field(default_factory=set)  # display paths `write_all` wrote
    failures: list[str] = field(default_factory=list)  # one line each
    findings: list[Finding] = field(default_factory=list)  # what remains after fixing

    def changed(self) -> dict[str, tuple[Source, str]]:
        return {p: (self.originals[p], t) for p, t in self.texts.items() if t != self.originals[p].text}


def wanted(fix: Fix | None, unsafe: bool) -> bool:
    return fix is not None and (fix.applicability is Applicability.SAFE or unsafe)


def _offset(starts: list[int], line: int, col: int) -> int:
    return starts[line - 1] + col - 1


def apply_fixes(text: str, fixes: list[Fix], newline: str = "\n") -> tuple[str, int]:
    """Apply non-overlapping fixes (whole fixes only); returns the text and how many applied."""
    starts = line_starts(text)
    taken: list[tuple[int, int]] = []
    edits: list[tuple[int, int, str]] = []
    applied = 0
    for fix in fixes:
        ranges = [
            (_offset(starts, e.span.line, e.span.col), _offset(starts, e.span.end_line, e.span.end_col), e.content)
            for e in fix.edits
        ]
        if any(a < y and x < b or (a == b == x == y) for a, b, _ in ranges for x, y in taken):
            continue  # overlaps an edit already chosen: the next round will get it
        taken += [(a, b) for a, b, _ in ranges]
        edits += ranges
        applied += 1
    for start, end, content in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + content.replace("\n", newline) + text[end:]
    return text, applied


CHANGED = "the file changed while joblint ran; run it again"


def moved(text: str, findings: list[Finding]) -> bool:
    """Whether a flagged line no longer reads as the analysis saw it (its `source_line`): the file
    was edited between the analysis and this read, and its spans point at other text."""
    lines = source_lines(text)
    for finding in findings:
        number = finding.span.line
        if finding.source_line and (not 0 < number <= len(lines) or lines[number - 1] != finding.source_line):
            return True
    return False


def parses(text: str) -> bool:
    try:
        cst.parse_module(text)
    except Exception:  # noqa: BLE001 - any failure means "do not write this"
        return False
    return True


def compiles(text: str) -> bool:
    """What the parser accepts but Python refuses (a repeated keyword argument) shows here."""
    try:
        compile(text, "<joblint-fix>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def fix_until_stable(
    paths: dict[str, Path],
    check: Callable[[dict[str, str]], list[Finding]],
    unsafe: bool,
) -> FixResult:
    """Run `check` on the current texts, apply the fixes it offers, and repeat until none are left."""
    result = FixResult()
    broken: set[str] = set()
    findings = check({})
    for _ in range(MAX_ROUNDS):
        by_path: dict[str, list[Fix]] = {}
        for finding in findings:
            if wanted(finding.fix, unsafe) and finding.path not in broken and finding.path in paths:
                by_path.setdefault(finding.path, []).append(finding.fix)  # type: ignore[arg-type]
        if not by_path:
            break
        progressed = False
        for display, fixes in by_path.items():
            if display not in result.originals:
                if paths[display].is_symlink():
                    # Writing through the link could change a file outside the project; replacing
                    # the link would turn it into a copy. Its target is fixed under its own path.
                    result.failures.append(f"{display}: not fixed: a symbolic link (fix the file it points to)")
                    broken.add(display)
                    continue
                try:
                    read = Source.decode(paths[display].read_bytes())
                except (OSError, SyntaxError, UnicodeDecodeError, LookupError) as exc:
                    result.failures.append(f"{display}: not fixed: cannot read: {exc}")
                    broken.add(display)
                    continue
                if moved(read.text, [f for f in findings if f.path == display]):
                    result.failures.append(f"{display}: not fixed: {CHANGED}")
                    broken.add(display)
                    continue
                result.originals[display] = read
            original = result.originals[display]
            current = result.texts.get(display, original.text)
            new_text, count = apply_fixes(current, fixes, original.newline)
            if not parses(new_text) or (compiles(current) and not compiles(new_text)):
                result.failures.append(f"{display}: not fixed: the fixed source would not parse")
                broken.add(display)
                result.texts.pop(display, None)
                result.applied -= result.applied_in.pop(display, 0)  # its earlier rounds are dropped too
                continue
            if count and new_text != current:
                result.texts[display] = new_text
                result.applied += count
                result.applied_in[display] = result.applied_in.get(display, 0) + count
                progressed = True
        findings = check(dict(result.texts))
        if not progressed:
            break
    result.findings = findings
    return result


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same directory and a rename; keep the file's mode."""
    status = path.stat()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".joblint", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, status.st_mode & 0o7777)
        if hasattr(os, "chown") and (status.st_uid, status.st_gid) != (os.getuid(), os.getgid()):
            try:  # only root may give a file away; everyone else writes files they own anyway
                os.chown(tmp, status.st_uid, status.st_gid)
            except PermissionError:
                pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_all(result: FixResult, paths: dict[str, Path]) -> list[str]:
    """Write every changed file; returns one line per file that could not be written."""
    failures = []
    for display, (original, text) in sorted(result.changed().items()):
        try:
            data = original.encode(text)
        except UnicodeEncodeError as exc:
            failures.append(
                f"{display}: not fixed: the fixed text cannot be encoded as {original.encoding}: {exc.reason}"
            )
            continue
        if original.encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
            data = b"\xef\xbb\xbf" + data
        try:
            if _changed_on_disk(paths[display], original):
                failures.append(f"{display}: not fixed: {CHANGED}")
                continue
            write_atomic(paths[display], data)
            result.written.add(display)
        except OSError as exc:
            failures.append(f"{display}: not fixed: cannot write: {exc.strerror or exc}")
    return failures


def _changed_on_disk(path: Path, original: Source) -> bool:
    """Whether someone edited the file since it was read: their edit must not be overwritten."""
    try:
        return Source.decode(path.read_bytes()).text != original.text
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return True


def unified_diff(result: FixResult) -> str:
    chunks = []
    for display, (original, text) in sorted(result.changed().items()):
        lines = difflib.unified_diff(
            split_lines(original.text, keepends=True),
            split_lines(text, keepends=True),
            fromfile=f"a/{visible(display)}",
            tofile=f"b/{visible(display)}",
        )
        header = [next(lines, ""), next(lines, "")]
        chunks.append("".join([*header, *(_shown_diff_line(line) for line in lines)]))
    return "".join(chunks)


_LINE_END = re.compile(r"(\r\n|\r|\n)?$")
_KEPT = re.compile(r"([\f\v])")


def _shown_diff_line(line: str) -> str:
    """A diff line with the source's control characters shown escaped, and a leading `::` too (a
    docstring holding `::error::` or an ESC sequence is printed inert), its marker and line end kept."""
    if line.startswith("@@"):
        return line
    end = _LINE_END.search(line)
    ending = end.group() if end is not None else ""
    # A form feed or vertical tab is whitespace in the line (Python's tokenizer reads a form feed
    # before a statement): it is kept, or the patch would not apply (`git apply` matches bytes).
    # On a terminal it only moves the cursor, and no CI runner starts a line at it.
    parts = _KEPT.split(line[1 : len(line) - len(ending)])
    body = "".join(part if i % 2 else visible(part, tabs=True) for i, part in enumerate(parts))
    if body.lstrip().startswith("::"):  # the runner reads a command after leading whitespace
        body = body.replace("::", "\\x3a:", 1)
    return line[0] + body + ending


__all__ = ["Edit", "Span", "apply_fixes", "fix_until_stable", "unified_diff", "write_all", "wanted"]
