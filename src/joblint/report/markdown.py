"""The audit as a Markdown summary, short enough to paste into a ticket or a pull request.

Counts and the worst files only; the HTML report has every finding. Takes an `Audit` (audit.py).
"""

from __future__ import annotations

import re
from typing import Any

from ..audit import TOP_FILES, Audit
from .escape import visible


def _cell(text: str) -> str:
    return visible(text).replace("|", "\\|")


def _code(text: str) -> str:
    """`text` as a code span, whatever backticks it holds: a file name cannot end the span early."""
    text = visible(text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]], numeric_from: int = 1) -> list[str]:
    align = ["---" if i < numeric_from else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_cell(str(v)) for v in row) + " |" for row in rows]
    return lines


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render(audit: Audit) -> str:
    lines = [
        f"# joblint audit: {visible(audit.target)}",
        "",
        f"{audit.generated} · joblint {audit.version} · {_plural(audit.files, 'file')} checked in {audit.seconds:.1f} s"
        f" · {_plural(audit.enabled, 'rule')} enabled",
        "",
    ]
    if not audit.findings:
        return "\n".join([*lines, "No findings.", ""])
    counts = dict(audit.by_severity)
    lines += [
        f"**{_plural(len(audit.findings), 'finding')}** in {_plural(audit.files_with_findings, 'file')}: "
        f"{_plural(counts['error'], 'error')}, {_plural(counts['warning'], 'warning')}, {counts['info']} info; "
        f"{audit.fixable} fixable with `joblint check --fix`.",
        "",
        "## By severity",
        "",
        *_table(("Severity", "Findings"), audit.by_severity),
        "",
        "## By framework",
        "",
        *_table(("Framework", "Findings"), audit.by_framework),
        "",
        "## By category",
        "",
        *_table(("Category", "Findings"), audit.by_category),
        "",
        "## Rules",
        "",
    ]
    fixable: dict[str, int] = {}
    for finding in audit.findings:
        if finding.fix:
            fixable[finding.code] = fixable.get(finding.code, 0) + 1
    rule_rows = []
    for rule, items in audit.findings_by_rule():
        meta = rule.meta
        rule_rows.append(
            (
                f"[{meta.code} {meta.name}]({rule.url})",
                meta.severity.value,
                rule.category,
                len(items),
                fixable.get(meta.code, 0),
            )
        )
    lines += _table(("Rule", "Severity", "Category", "Findings", "Fixable"), rule_rows, numeric_from=3)
    lines += ["", f"## Files with the most findings (top {min(TOP_FILES, audit.files_with_findings)})", ""]
    file_rows = [
        (_code(path), c.get("error", 0), c.get("warning", 0), c.get("info", 0), sum(c.values()))
        for path, c in audit.top_files
    ]
    lines += _table(("File", "Errors", "Warnings", "Info", "Total"), file_rows)
    lines += [
        "",
        "## Next steps",
        "",
        "- Read each rule's explanation with `joblint rule CODE` (or in the HTML report, with every finding's code).",
        "- Stop new findings now: `joblint check --write-baseline .joblint-baseline.json`, commit the file, and run "
        "`joblint check --baseline .joblint-baseline.json` in CI.",
        "- Fix the errors first; `joblint check --fix` applies the safe fixes.",
        "",
    ]
    return "\n".join(lines)
