"""`path:line:col: CODE message`, one finding per line: what editors' problem matchers read."""

from __future__ import annotations

from ..findings import Finding
from . import ReportContext


def render(findings: list[Finding], context: ReportContext) -> str:
    return "".join(
        f"{f.path}:{f.span.line}:{f.span.col}: {f.code} {f.message}{' [*]' if f.fix else ''}\n" for f in findings
    )
