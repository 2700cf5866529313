"""`joblint audit`: one report on a whole repository, for the people who decide what to fix first.

This module gathers what the HTML and Markdown reports show (counts by framework, category, rule
and severity; the files with most findings; each finding's code frame; each rule's explanation)
as plain data. The reporters in report/html.py and report/markdown.py only lay it out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from . import __version__, frameworks, rule_docs
from .findings import Finding, Severity
from .rules import RuleMeta, all_meta
from .safe_io import read_regular
from .source import MAX_BYTES, Source, source_lines

# Lines of code shown above and below a finding.
CONTEXT_LINES = 2
# A finding spanning more lines than this shows only its first lines.
MAX_FRAME_LINES = 9
TOP_FILES = 15

SEVERITY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)


@dataclass(frozen=True)
class Frame:
    """Source lines around a finding: `first` is the number of lines[0]."""

    first: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class RuleExplanation:
    meta: RuleMeta
    what: str  # markdown
    why: str  # markdown
    fix: str  # markdown; empty when the rule has no fix
    url: str

    @property
    def framework(self) -> str:
        return frameworks.display_name(self.meta.framework)

    @property
    def category(self) -> str:
        return category_name(self.meta.category)


@dataclass
class Audit:
    target: str  # what was audited, as the user named it
    files: int  # files checked
    seconds: float
    findings: list[Finding]
    frames: list[Frame | None]  # one per finding
    rules: dict[str, RuleExplanation]  # every rule with findings
    enabled: int  # how many rules ran
    paths: str = "."  # the paths as given on the command line, to reproduce the run
    generated: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    version: str = __version__

    @property
    def by_severity(self) -> list[tuple[str, int]]:
        counts = Counter(f.severity for f in self.findings)
        return [(s.value, counts[s]) for s in SEVERITY_ORDER]

    @property
    def by_framework(self) -> list[tuple[str, int]]:
        counts = Counter(self.rules[f.code].framework for f in self.findings)
        return counts.most_common()

    @property
    def by_category(self) -> list[tuple[str, int]]:
        counts = Counter(self.rules[f.code].category for f in self.findings)
        return counts.most_common()

    @property
    def by_rule(self) -> list[tuple[str, int]]:
        """(code, count), most frequent first."""
        counts = Counter(f.code for f in self.findings)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    @property
    def top_files(self) -> list[tuple[str, dict[str, int]]]:
        """The files with most findings: (path, {severity: count}), worst first."""
        per_file: dict[str, Counter[str]] = {}
        for f in self.findings:
            per_file.setdefault(f.path, Counter())[f.severity.value] += 1
        ranked = sorted(per_file.items(), key=lambda kv: (-sum(kv[1].values()), -kv[1]["error"], kv[0]))
        return [(path, dict(counts)) for path, counts in ranked[:TOP_FILES]]

    @property
    def files_with_findings(self) -> int:
        return len({f.path for f in self.findings})

    @property
    def fixable(self) -> int:
        return sum(1 for f in self.findings if f.fix)

    def findings_by_rule(self) -> list[tuple[RuleExplanation, list[tuple[Finding, Frame | None]]]]:
        """Rules from the most severe and most frequent down, each with its findings in file order."""
        grouped: dict[str, list[tuple[Finding, Frame | None]]] = {}
        for finding, frame in zip(self.findings, self.frames):
            grouped.setdefault(finding.code, []).append((finding, frame))
        order = sorted(
            grouped, key=lambda code: (SEVERITY_ORDER.index(self.rules[code].meta.severity), -len(grouped[code]), code)
        )
        return [(self.rules[code], grouped[code]) for code in order]


def category_name(category: str) -> str:
    """The title of a category (`CEL1`), as the framework table gives it."""
    return frameworks.category_title(category)


def explain(meta: RuleMeta) -> RuleExplanation:
    document = rule_docs.text(meta.code) or ""
    sections = rule_docs.sections(document)
    return RuleExplanation(
        meta=meta,
        what=sections.get("What it does", meta.summary),
        why=sections.get("Why it matters", ""),
        fix=sections.get("Fix", ""),
        url=rule_docs.url(meta.code, meta.name),
    )


def frame(lines: list[str], finding: Finding) -> Frame | None:
    if not lines or not 0 < finding.span.line <= len(lines):
        return None
    last = max(finding.span.line, min(finding.span.end_line, finding.span.line + MAX_FRAME_LINES - 1))
    first = max(1, finding.span.line - CONTEXT_LINES)
    end = min(len(lines), last + CONTEXT_LINES)
    while first < finding.span.line and not lines[first - 1].strip():  # blank context says nothing
        first += 1
    while end > last and not lines[end - 1].strip():
        end -= 1
    return Frame(first, tuple(lines[first - 1:end]))


def _read_lines(path: Path) -> list[str]:
    """The lines of a checked file, for code frames: a regular file no larger than joblint analyses."""
    try:
        return source_lines(Source.decode(read_regular(path, MAX_BYTES)).text)
    except (OSError, SyntaxError, UnicodeDecodeError, LookupError):
        return []


def build(
    target: str,
    findings: list[Finding],
    files: int,
    seconds: float,
    enabled: int,
    path_of: Callable[[str], Path],
    paths: str = ".",
) -> Audit:
    """The audit of a finished run; `path_of` maps a finding's display path to the file."""
    metas = all_meta()
    cache: dict[str, list[str]] = {}
    frames = []
    for finding in findings:
        if finding.path not in cache:
            cache[finding.path] = _read_lines(path_of(finding.path))
        frames.append(frame(cache[finding.path], finding))
    rules = {code: explain(metas[code]) for code in sorted({f.code for f in findings}) if code in metas}
    return Audit(target, files, seconds, findings, frames, rules, enabled, paths)
