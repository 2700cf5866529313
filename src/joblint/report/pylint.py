"""`path:line: [CODE] message`: the pylint parseable shape, which many CI tools and editors read."""

from __future__ import annotations

from ..findings import Finding
from . import ReportContext


def render(findings: list[Finding], context: ReportContext) -> str:
    # A finding about a loaded app (check-app) has no line: `celery:proj.celery:app: [CODE] message`.
    return "".join(f"{f.path}{f':{f.span.line}' if f.span.line else ''}: [{f.code}] {f.message}\n" for f in findings)
