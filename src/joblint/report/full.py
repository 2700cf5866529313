"""The human format: findings grouped by file, each with a code frame, then a summary."""

from __future__ import annotations

import io
import shutil
from collections import Counter

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..findings import Finding, Severity
from . import ReportContext
from .escape import visible, visible_path

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _shown(source: str) -> str:
    """A source line as the frame shows it: control characters escaped, tabs expanded."""
    return visible(source, tabs=True).expandtabs(4)


def _frame(console: Console, finding: Finding) -> None:
    source, span = finding.source_line, finding.span
    line = _shown(source)
    if not line.strip():
        return
    number = str(span.line)
    gutter = " " * len(number)
    console.print(f"  [dim]{number} |[/dim] {escape(line)}", highlight=False)
    # Columns count characters of the source; measure the shown text up to them instead, so the
    # carets stay under the flagged text when a tab or an escaped character comes before it.
    start = len(_shown(source[: max(span.col - 1, 0)]))
    end = len(_shown(source[: max(span.end_col - 1, 0)])) if span.end_line == span.line else start
    width = max(end - start, 1)
    console.print(f"  [dim]{gutter} |[/dim] {' ' * start}[{_STYLE[finding.severity]}]{'^' * width}[/]", highlight=False)


def render(findings: list[Finding], context: ReportContext) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=context.color,
        no_color=not context.color,
        width=max(shutil.get_terminal_size((120, 24)).columns, 80),
        soft_wrap=True,
        highlight=False,
        emoji=False,  # a file named `:warning:.py` is shown as it is named
    )
    current = None
    for finding in findings:
        if finding.path != current:
            if current is not None:
                console.print()
            console.print(f"[bold underline]{escape(visible_path(finding.path))}[/]")
            current = finding.path
        style = _STYLE[finding.severity]
        fixable = " [dim][*][/dim]" if finding.fix else ""
        where = f"{finding.span.line}:{finding.span.col} " if finding.span.line else ""  # check-app: no line
        console.print(
            f"{where}[{style}]{finding.code}[/] {finding.severity.value}: "
            f"{escape(visible(finding.message))} [dim]({finding.name})[/dim]{fixable}"
        )
        _frame(console, finding)
    if findings:
        console.print()
        _summary(console, findings, context)
    return buffer.getvalue()


def _summary(console: Console, findings: list[Finding], context: ReportContext) -> None:
    by_rule = Counter((f.code, f.name, f.severity) for f in findings)
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("count", justify="right")
    table.add_column("code")
    table.add_column("rule")
    table.add_column("severity")
    for (code, name, severity), count in sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0][0])):
        table.add_row(str(count), code, name, f"[{_STYLE[severity]}]{severity.value}[/]")
    console.print(table)
    severities = Counter(f.severity for f in findings)
    parts = [f"{severities[s]} {s.value}{'s' if severities[s] != 1 else ''}" for s in Severity if severities[s]]
    fixable = sum(1 for f in findings if f.fix)
    files = len({f.path for f in findings})
    line = (
        f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''} ({', '.join(parts)}) "
        f"in {files} file{'s' if files != 1 else ''}."
    )
    if fixable:
        line += f" {fixable} fixable with --fix (some may need --unsafe-fixes)."
    console.print(f"[bold]{line}[/]")
