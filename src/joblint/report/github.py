"""GitHub Actions workflow commands: one `::error file=…,line=…::message` annotation per finding.

https://docs.github.com/en/actions/reference/workflow-commands-for-github-actions
"""

from __future__ import annotations

from ..findings import Finding, Severity
from . import ReportContext
from .escape import visible
from .paths import repository_path

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """The runner's own escapes for %, CR and LF; every other control character (ESC, BEL, ...) is
    then shown visibly, as in the other formats."""
    return visible(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding, path: str) -> str:
    span = finding.span
    title = f"title={escape_property(f'{finding.code} {finding.name}')}"
    if not span.line:  # a finding about a loaded app (check-app): no file to annotate, so name it
        return f"::{COMMAND[finding.severity]} {title}::{escape_data(f'{finding.path}: {finding.message}')}\n"
    properties = (
        f"file={escape_property(path)},line={span.line},col={span.col},"
        f"endLine={span.end_line},endColumn={span.end_col},{title}"
    )
    return f"::{COMMAND[finding.severity]} {properties}::{escape_data(finding.message)}\n"


def render(findings: list[Finding], context: ReportContext) -> str:
    return "".join(annotation(f, repository_path(f.path, context)) for f in findings)
