from joblint.report import pylint

from ._findings import context, project_findings


def test_pylint_parseable_lines(tmp_path):
    lines = pylint.render(project_findings(tmp_path), context(tmp_path)).splitlines()
    assert lines[0] == (
        "proj/app.py:4: [CEL101] serializer 'pickle' lets anyone who can publish to the broker run code "
        "on the workers; "
        "use 'json'"
    )
    assert lines[1].startswith("proj/app.py:6: [CEL104] soft time limit 300s")
    assert len(lines) == 2


def test_a_finding_without_a_line(tmp_path):
    from ._findings import without_line

    assert pylint.render([without_line()], context(tmp_path)) == (
        "celery:proj.celery:app: [CEL101] task_serializer is 'pickle'\n"
    )
