"""`path:line: [CODE] message`: the pylint parseable shape, which many CI tools and editors read."""

from __future__ import annotations

from ..findings import Finding
from . import ReportContext
from .escape import visible, visible_path


def render(findings: list[Finding], context: ReportContext) -> str:
    # A finding about a loaded app (check-app) has no line: `celery:proj.celery:app: [CODE] message`.
    return "".join(
        f"{visible_path(f.path)}{f':{f.span.line}' if f.span.line else ''}: [{f.code}] {visible(f.message)}\n"
        for f in findings
    )
