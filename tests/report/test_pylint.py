from joblint.report import pylint

from ._findings import context, project_findings


def test_pylint_parseable_lines(tmp_path):
    lines = pylint.render(project_findings(tmp_path), context(tmp_path)).splitlines()
    assert lines[0] == (
        "proj/app.py:4: [CEL101] serializer 'pickle' lets anyone who can publish to the broker run code on the workers; "
        "use 'json'"
    )
    assert lines[1].startswith("proj/app.py:6: [CEL104] soft time limit 300s")
    assert len(lines) == 2
