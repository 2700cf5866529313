from joblint.findings import Severity
from joblint.report import github

from ._findings import context, made, project_findings


def test_one_workflow_command_per_finding(tmp_path):
    out = github.render(project_findings(tmp_path), context(tmp_path))
    assert out.splitlines() == [
        "::error file=proj/app.py,line=4,col=33,endLine=4,endColumn=41,title=CEL101 pickle-serializer::"
        "serializer 'pickle' lets anyone who can publish to the broker run code on the workers; use 'json'",
        out.splitlines()[1],
    ]
    assert out.splitlines()[1].startswith(
        "::error file=proj/app.py,line=6,col=33,endLine=6,endColumn=36,title=CEL104 soft-time-limit-not-below-hard::"
    )


def test_severity_picks_the_command(tmp_path):
    findings = [made(severity=Severity.ERROR), made(severity=Severity.WARNING), made(severity=Severity.INFO)]
    commands = [line.split(" ", 1)[0] for line in github.render(findings, context(tmp_path)).splitlines()]
    assert commands == ["::error", "::warning", "::notice"]


def test_message_and_properties_are_escaped(tmp_path):
    finding = made(path="we,ird:name.py", message="50% done\r\nthen: more, text")
    line = github.render([finding], context(tmp_path))
    assert line == (
        "::error file=we%2Cird%3Aname.py,line=3,col=5,endLine=3,endColumn=13,title=CEL101 pickle-serializer::"
        "50%25 done%0D%0Athen: more, text\n"
    )


def test_paths_are_relative_to_the_repository_root(tmp_path):
    sub = tmp_path / "services" / "worker"
    sub.mkdir(parents=True)
    line = github.render([made(path="app.py")], context(tmp_path, cwd=sub))
    assert "file=services/worker/app.py," in line


def test_no_findings_no_output(tmp_path):
    assert github.render([], context(tmp_path)) == ""


def test_a_finding_without_a_line_names_its_source_in_the_message(tmp_path):
    from ._findings import without_line

    assert github.render([without_line()], context(tmp_path)) == (
        "::error title=CEL101 pickle-serializer::celery:proj.celery:app: task_serializer is 'pickle'\n"
    )
