"""`--statistics`: how many findings each rule produced, most frequent first, and how many are fixable."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from ..findings import Finding
from . import ReportContext


def rows(findings: list[Finding]) -> list[dict[str, Any]]:
    counts = Counter((f.code, f.name) for f in findings)
    fixable = Counter((f.code, f.name) for f in findings if f.fix)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0]))
    return [{"code": code, "name": name, "count": n, "fixable": fixable[(code, name)]} for (code, name), n in ordered]


def render(findings: list[Finding], context: ReportContext) -> str:
    table = rows(findings)
    if not table:
        return ""
    count_width = max(len("count"), *(len(str(r["count"])) for r in table))
    code_width = max(len("code"), *(len(r["code"]) for r in table))
    name_width = max(len("rule"), *(len(r["name"]) for r in table))
    lines = [f"{'count':>{count_width}}  {'code':<{code_width}}  {'rule':<{name_width}}  fixable"]
    lines += [
        f"{r['count']:>{count_width}}  {r['code']:<{code_width}}  {r['name']:<{name_width}}  {r['fixable']:>7}"
        for r in table
    ]
    return "\n".join(lines) + "\n"


def render_json(findings: list[Finding], context: ReportContext) -> str:
    return json.dumps(rows(findings), indent=2) + "\n"
