"""SARIF 2.1.0, the format code scanning services (GitHub, Azure DevOps, GitLab) ingest.

The driver lists every rule, enabled or not, with its document as help text, so an alert can be
understood without leaving the code scanning page. Result locations are relative to the
repository root (`%SRCROOT%`); `partialFingerprints` hash the flagged text rather than the line
number, so an alert keeps its identity when code above it moves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import __version__, rule_docs
from ..baseline import fingerprints
from ..findings import Finding, Severity
from ..rules import RuleMeta, all_meta
from . import ReportContext
from .paths import repository_path

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
FINGERPRINT_KEY = "joblint/v1"
ROOT_BASE = "%SRCROOT%"


def _rule(meta: RuleMeta) -> dict[str, Any]:
    document = rule_docs.text(meta.code) or ""
    what = rule_docs.sections(document).get("What it does", meta.summary) if document else meta.summary
    descriptor: dict[str, Any] = {
        "id": meta.code,
        "name": meta.name,
        "shortDescription": {"text": meta.summary},
        "fullDescription": {"text": what},
        "helpUri": rule_docs.url(meta.code, meta.name),
        "defaultConfiguration": {"level": LEVEL[meta.severity], "enabled": not meta.opt_in},
        "properties": {"tags": [meta.framework, meta.category], "fix": meta.fix.value if meta.fix else "none"},
    }
    if document:
        descriptor["help"] = {"text": document, "markdown": document}
    return descriptor


def _region(finding: Finding) -> dict[str, Any]:
    span = finding.span
    region: dict[str, Any] = {"startLine": span.line, "startColumn": span.col}
    if (span.end_line, span.end_col) > (span.line, span.col):
        region |= {"endLine": span.end_line, "endColumn": span.end_col}
    if finding.source_line:
        region["snippet"] = {"text": finding.source_line}
    return region


def _location(finding: Finding, path: str) -> dict[str, Any]:
    if not finding.span.line:
        # A finding about a loaded app (check-app) points at the app object, not at a file.
        return {"logicalLocations": [{"fullyQualifiedName": finding.path, "kind": "object"}]}
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": quote(path.encode("utf-8", "surrogateescape")), "uriBaseId": ROOT_BASE},
            "region": _region(finding),
        }
    }


def render(findings: list[Finding], context: ReportContext) -> str:
    metas = all_meta()
    index = {code: i for i, code in enumerate(metas)}
    paths = {f.path: repository_path(f.path, context) for f in findings}
    ids = fingerprints(findings, lambda f: paths[f.path])
    results = []
    for finding, fingerprint in zip(findings, ids):
        result: dict[str, Any] = {
            "ruleId": finding.code,
            "level": LEVEL[finding.severity],
            "message": {"text": finding.message},
            "locations": [_location(finding, paths[finding.path])],
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        }
        if finding.code in index:
            result["ruleIndex"] = index[finding.code]
        results.append(result)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "joblint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": "https://github.com/joblint/joblint",
                "rules": [_rule(meta) for meta in metas.values()],
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    root = context.extra.get("repository_root")
    if root:
        run["originalUriBaseIds"] = {ROOT_BASE: {"uri": Path(root).resolve().as_uri() + "/"}}
    document = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2) + "\n"
