"""JUnit XML: a test suite per file and a failed test case per finding, for CI test-report views.

With no findings there is one passing test case, so the report shows that joblint ran. Paths and
messages go through `visible`: XML 1.0 cannot carry most control characters at all, and the report
is often printed to a CI log, where a newline followed by `::` would start a workflow command.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby

from ..findings import Finding
from . import ReportContext
from .escape import visible


def _suite(parent: ET.Element, name: str, findings: list[Finding]) -> None:
    suite = ET.SubElement(
        parent,
        "testsuite",
        name=name,
        tests=str(max(len(findings), 1)),
        failures=str(len(findings)),
        errors="0",
        skipped="0",
    )
    if not findings:
        ET.SubElement(suite, "testcase", name="no findings", classname="joblint")
    for f in findings:
        path, message = visible(f.path), visible(f.message)
        where = f" at {f.span.line}:{f.span.col}" if f.span.line else ""  # check-app findings have no line
        case = ET.SubElement(suite, "testcase", name=f"{f.code} {f.name}{where}", classname=path, file=path)
        if f.span.line:
            case.set("line", str(f.span.line))
        failure = ET.SubElement(case, "failure", message=message, type=f.code)
        location = f"{path}:{f.span.line}:{f.span.col}" if f.span.line else path
        failure.text = f"{location}: {f.code} {message}"


def render(findings: list[Finding], context: ReportContext) -> str:
    root = ET.Element(
        "testsuites", name="joblint", tests=str(max(len(findings), 1)), failures=str(len(findings)), errors="0"
    )
    if not findings:
        _suite(root, "joblint", [])
    for path, group in groupby(sorted(findings, key=lambda f: f.sort_key), key=lambda f: f.path):
        _suite(root, visible(path), list(group))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
