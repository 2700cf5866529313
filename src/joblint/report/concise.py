"""`path:line:col: CODE message`, one finding per line: what editors' problem matchers read.

A finding about a loaded app (`joblint check-app`) has no line: `celery:proj.celery:app: CODE message`.
"""

from __future__ import annotations

from ..findings import Finding
from . import ReportContext
from .escape import visible, visible_path


def _where(f: Finding) -> str:
    return f"{visible_path(f.path)}:{f.span.line}:{f.span.col}" if f.span.line else visible_path(f.path)


def render(findings: list[Finding], context: ReportContext) -> str:
    return "".join(f"{_where(f)}: {f.code} {visible(f.message)}{' [*]' if f.fix else ''}\n" for f in findings)
