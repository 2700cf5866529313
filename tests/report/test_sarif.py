import json
from pathlib import Path

import jsonschema
import pytest

from conftest import lint
from joblint import rule_docs
from joblint.report import sarif
from joblint.rules import all_meta

from ._findings import context, project_findings

# The OASIS SARIF 2.1.0 schema (errata 01), kept beside the tests so they run offline.
SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_validates_against_the_sarif_schema(tmp_path, validator):
    document = json.loads(sarif.render(project_findings(tmp_path), context(tmp_path)))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_empty_report_validates(tmp_path, validator):
    document = json.loads(sarif.render([], context(tmp_path)))
    assert not list(validator.iter_errors(document))
    assert document["runs"][0]["results"] == []


def test_driver_lists_every_rule_with_its_document(tmp_path):
    driver = json.loads(sarif.render([], context(tmp_path)))["runs"][0]["tool"]["driver"]
    assert driver["name"] == "joblint"
    by_id = {r["id"]: r for r in driver["rules"]}
    assert set(by_id) == set(all_meta())
    for code, meta in all_meta().items():
        descriptor = by_id[code]
        assert descriptor["name"] == meta.name
        assert descriptor["shortDescription"]["text"] == meta.summary
        assert descriptor["helpUri"] == rule_docs.url(code, meta.name)
        assert descriptor["defaultConfiguration"]["level"] == {"error": "error", "warning": "warning", "info": "note"}[
            meta.severity.value
        ]
        document = rule_docs.text(code)
        if document:
            assert descriptor["help"]["markdown"] == document
            assert descriptor["fullDescription"]["text"] == rule_docs.sections(document)["What it does"]


def test_every_rule_listed_by_the_cli_is_in_the_driver(tmp_path):
    import subprocess
    import sys

    listed = json.loads(
        subprocess.run(
            [sys.executable, "-m", "joblint", "rules", "--output-format", "json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    driver = json.loads(sarif.render([], context(tmp_path)))["runs"][0]["tool"]["driver"]
    assert {r["code"] for r in listed} <= {r["id"] for r in driver["rules"]}


def test_results_have_rule_level_message_and_relative_location(tmp_path):
    run = json.loads(sarif.render(project_findings(tmp_path), context(tmp_path)))["runs"][0]
    first = run["results"][0]
    assert first["ruleId"] == "CEL101" and first["level"] == "error"
    assert run["tool"]["driver"]["rules"][first["ruleIndex"]]["id"] == "CEL101"
    assert first["message"]["text"].startswith("serializer 'pickle'")
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "proj/app.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"]["startLine"] == 4 and location["region"]["startColumn"] == 33
    assert location["region"]["endLine"] == 4 and location["region"]["endColumn"] == 41
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"


def test_fingerprints_survive_lines_inserted_above(tmp_path):
    before = json.loads(sarif.render(project_findings(tmp_path), context(tmp_path)))["runs"][0]["results"]
    app = tmp_path / "proj" / "app.py"
    app.write_text("\n\n# a comment\n" + app.read_text(encoding="utf-8"), encoding="utf-8")
    after = json.loads(sarif.render(lint(tmp_path, ["CEL101", "CEL104"]), context(tmp_path)))["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after] == [7, 9]
    assert [r["partialFingerprints"] for r in after] == [r["partialFingerprints"] for r in before]


def test_a_finding_without_a_line_has_a_logical_location_and_validates(tmp_path, validator):
    from ._findings import without_line

    document = json.loads(sarif.render([without_line()], context(tmp_path)))
    assert not list(validator.iter_errors(document))
    [result] = document["runs"][0]["results"]
    assert result["locations"] == [
        {"logicalLocations": [{"fullyQualifiedName": "celery:proj.celery:app", "kind": "object"}]}
    ]
