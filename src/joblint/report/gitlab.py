"""GitLab Code Quality: a JSON array of Code Climate issues, shown in merge request widgets.

https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format
"""

from __future__ import annotations

import json

from ..baseline import fingerprints
from ..findings import Finding, Severity
from . import ReportContext
from .paths import repository_path

SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "minor"}


def render(findings: list[Finding], context: ReportContext) -> str:
    paths = {f.path: repository_path(f.path, context) for f in findings}
    ids = fingerprints(findings, lambda f: paths[f.path])
    issues = [
        {
            "description": f"{f.code} {f.message}",
            "check_name": f.code,
            "fingerprint": fingerprint,
            "severity": SEVERITY[f.severity],
            # GitLab needs a line; a finding about a loaded app (check-app) has none, so line 1.
            "location": {"path": paths[f.path], "lines": {"begin": f.span.line or 1, "end": f.span.end_line or 1}},
        }
        for f, fingerprint in zip(findings, ids)
    ]
    return json.dumps(issues, indent=2) + "\n"
