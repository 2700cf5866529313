"""Findings for reporter tests: real ones from a small project, and hand-made ones for edge cases."""

from __future__ import annotations

from pathlib import Path

from conftest import lint, write_project
from joblint.findings import Finding, Severity, Span
from joblint.report import ReportContext

BAD_APP = """
from celery import Celery

app = Celery("proj")
app.conf.update(task_serializer="pickle")
app.conf.task_time_limit = 300
app.conf.task_soft_time_limit = 300
"""


def project_findings(root: Path) -> list[Finding]:
    write_project(root, {"proj/app.py": BAD_APP})
    return lint(root, ["CEL101", "CEL104"])


def context(root: Path, cwd: Path | None = None) -> ReportContext:
    return ReportContext(files=1, root=str(root), extra={"cwd": str(cwd or root), "repository_root": str(root)})


def made(
    code: str = "CEL101", severity: Severity = Severity.ERROR, path: str = "app.py", message: str = "bad", line: int = 3
) -> Finding:
    return Finding(
        code, "pickle-serializer", severity, path, Span(line, 5, line, 13), message, source_line="x = 'pickle'"
    )


def without_line(path: str = "celery:proj.celery:app") -> Finding:
    """What `joblint check-app` reports: a loaded app's setting, with no line to point at."""
    return Finding("CEL101", "pickle-serializer", Severity.ERROR, path, Span(0, 0, 0, 0), "task_serializer is 'pickle'")
