"""A JSON array in the shape of ruff's JSON output, so tools that read ruff's read ours."""

from __future__ import annotations

import json
from typing import Any

from .. import rule_docs
from ..findings import Finding, Span
from . import ReportContext


def _location(span: Span, end: bool = False) -> dict[str, int] | None:
    if not span.line:
        return None  # a finding about a loaded app's setting: no line to point at
    return {"row": span.end_line, "column": span.end_col} if end else {"row": span.line, "column": span.col}


def as_dict(finding: Finding) -> dict[str, Any]:
    fix = None
    if finding.fix is not None:
        fix = {
            "applicability": finding.fix.applicability.value,
            "message": finding.fix.message,
            "edits": [
                {"content": e.content, "location": _location(e.span), "end_location": _location(e.span, end=True)}
                for e in finding.fix.edits
            ],
        }
    return {
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity.value,
        "message": finding.message,
        "filename": finding.path,
        "location": _location(finding.span),
        "end_location": _location(finding.span, end=True),
        "fix": fix,
        "url": rule_docs.url(finding.code, finding.name),
    }


def render(findings: list[Finding], context: ReportContext) -> str:
    return json.dumps([as_dict(f) for f in findings], indent=2) + "\n"
