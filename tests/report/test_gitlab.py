import json

from joblint.findings import Severity
from joblint.report import gitlab

from ._findings import context, made, project_findings


def test_code_quality_issue_shape(tmp_path):
    issues = json.loads(gitlab.render(project_findings(tmp_path), context(tmp_path)))
    assert len(issues) == 2
    first = issues[0]
    assert set(first) == {"description", "check_name", "fingerprint", "severity", "location"}
    assert first["check_name"] == "CEL101"
    assert first["description"].startswith("CEL101 serializer 'pickle'")
    assert first["severity"] == "critical"
    assert first["location"] == {"path": "proj/app.py", "lines": {"begin": 4, "end": 4}}
    assert len({i["fingerprint"] for i in issues}) == 2


def test_severities_map_to_code_climate_levels(tmp_path):
    findings = [
        made(severity=Severity.ERROR, line=1),
        made(severity=Severity.WARNING, line=2),
        made(severity=Severity.INFO, line=3),
    ]
    assert [i["severity"] for i in json.loads(gitlab.render(findings, context(tmp_path)))] == [
        "critical",
        "major",
        "minor",
    ]


def test_identical_lines_get_distinct_fingerprints(tmp_path):
    issues = json.loads(gitlab.render([made(line=3), made(line=9)], context(tmp_path)))
    assert issues[0]["fingerprint"] != issues[1]["fingerprint"]


def test_no_findings_is_an_empty_array(tmp_path):
    assert json.loads(gitlab.render([], context(tmp_path))) == []


def test_a_finding_without_a_line_is_put_on_line_1(tmp_path):
    from ._findings import without_line

    [issue] = json.loads(gitlab.render([without_line()], context(tmp_path)))
    assert issue["location"]["lines"] == {"begin": 1, "end": 1}
