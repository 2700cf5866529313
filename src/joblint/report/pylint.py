"""`path:line: [CODE] message`: the pylint parseable shape, which many CI tools and editors read."""

from __future__ import annotations

from ..findings import Finding
from . import ReportContext


def render(findings: list[Finding], context: ReportContext) -> str:
    return "".join(f"{f.path}:{f.span.line}: [{f.code}] {f.message}\n" for f in findings)
