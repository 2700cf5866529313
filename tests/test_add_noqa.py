"""`--add-noqa`: a comment on every flagged line; afterwards the project checks clean and still parses."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import libcst as cst

from conftest import write_project
from joblint.findings import Finding, Severity, Span
from joblint.noqa import annotate

PICKLE_APP = """
from celery import Celery

app = Celery("proj")
app.conf.update(task_serializer="pickle", accept_content=["pickle"])
app.conf.task_time_limit = 300
app.conf.task_soft_time_limit = 300
"""


# The two foundation rules only, so the lines flagged here do not change as rules land.
SELECT = ("--select", "CEL101,CEL104")


def joblint(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "joblint", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_add_noqa_then_check_is_clean_and_files_parse(tmp_path):
    tasks = """
    from celery import Celery

    app = Celery("proj")


    @app.task(serializer="pickle", soft_time_limit=900, time_limit=600)
    def export(report_id):
        ...
    """
    write_project(tmp_path, {"proj/app.py": PICKLE_APP, "proj/tasks.py": tasks})
    before = joblint("check", *SELECT, ".", cwd=tmp_path)
    assert before.returncode == 1
    added = joblint("check", *SELECT, "--add-noqa", ".", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert "Added 3 noqa directives." in added.stderr
    after = joblint("check", *SELECT, ".", cwd=tmp_path)
    assert after.returncode == 0 and after.stdout == "", after.stdout
    for path in (tmp_path / "proj").glob("*.py"):
        cst.parse_module(path.read_text())
    text = (tmp_path / "proj" / "app.py").read_text()
    assert 'accept_content=["pickle"])  # noqa: CEL101\n' in text
    assert "app.conf.task_soft_time_limit = 300  # noqa: CEL104\n" in text
    assert '@app.task(serializer="pickle", soft_time_limit=900, time_limit=600)  # noqa: CEL101, CEL104\n' in (
        tmp_path / "proj" / "tasks.py"
    ).read_text()


def test_existing_noqa_codes_are_kept(tmp_path):
    write_project(tmp_path, {"app.py": PICKLE_APP.replace('["pickle"])', '["pickle"])  # noqa: E501')})
    joblint("check", "--add-noqa", "--select", "CEL101", ".", cwd=tmp_path)
    assert 'accept_content=["pickle"])  # noqa: E501, CEL101\n' in (tmp_path / "app.py").read_text()


def test_other_comments_are_kept(tmp_path):
    write_project(tmp_path, {"app.py": PICKLE_APP.replace('["pickle"])', '["pickle"])  # legacy workers need it')})
    joblint("check", "--add-noqa", "--select", "CEL101", ".", cwd=tmp_path)
    assert '["pickle"])  # legacy workers need it  # noqa: CEL101\n' in (tmp_path / "app.py").read_text()
    assert joblint("check", "--select", "CEL101", ".", cwd=tmp_path).returncode == 0


def test_second_run_adds_nothing(tmp_path):
    write_project(tmp_path, {"app.py": PICKLE_APP})
    joblint("check", *SELECT, "--add-noqa", ".", cwd=tmp_path)
    first = (tmp_path / "app.py").read_bytes()
    again = joblint("check", *SELECT, "--add-noqa", ".", cwd=tmp_path)
    assert "Added 0 noqa directives." in again.stderr
    assert (tmp_path / "app.py").read_bytes() == first


def test_crlf_line_endings_are_kept(tmp_path):
    (tmp_path / "app.py").write_bytes(textwrap.dedent(PICKLE_APP).lstrip().replace("\n", "\r\n").encode())
    joblint("check", *SELECT, "--add-noqa", ".", cwd=tmp_path)
    data = (tmp_path / "app.py").read_bytes()
    assert b'["pickle"])  # noqa: CEL101\r\n' in data and b"\n" not in data.replace(b"\r\n", b"")


def made(line: int, code: str = "CEL101") -> Finding:
    return Finding(code, "n", Severity.ERROR, "a.py", Span.point(line), "m")


def test_never_inside_a_multi_line_string():
    text = 'app.conf.update(\n    task_serializer="pickle", note="""\nline\n""",\n)\n'
    new, changed, left = annotate(text, [made(2)])
    assert changed == 1 and not left
    assert new == 'app.conf.update(  # noqa: CEL101\n    task_serializer="pickle", note="""\nline\n""",\n)\n'


def test_not_after_a_backslash_continuation():
    text = 'x = 1 + \\\n    2\n'
    new, changed, _ = annotate(text, [made(1)])
    assert new == text  # the statement starts on the same line: nowhere safe to put it
    text = 'y = (\n    1 + \\\n    2\n)\n'
    new, _, left = annotate(text, [made(2)])
    assert new == 'y = (  # noqa: CEL101\n    1 + \\\n    2\n)\n' and not left


def test_a_finding_no_comment_can_reach_is_reported_and_the_file_left_alone(tmp_path):
    source = 'from celery import Celery\napp = Celery("p")\napp.conf.update(task_serializer="pickle", note="""\n""")\n'
    (tmp_path / "app.py").write_text(source)
    result = joblint("check", "--add-noqa", "--select", "CEL101", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert "app.py:3: no noqa added for CEL101" in result.stderr
    assert (tmp_path / "app.py").read_text() == source


def test_add_noqa_with_fix_is_a_usage_error(tmp_path):
    result = joblint("check", "--add-noqa", "--fix", ".", cwd=tmp_path)
    assert result.returncode == 2


def test_launch_files_are_reported_not_edited(tmp_path):
    # A trailing comment is not a comment everywhere: systemd passes it to the program as arguments.
    write_project(
        tmp_path,
        {
            "Procfile": "worker: celery -A proj worker -B\n",
            "proj.py": 'from celery import Celery\napp = Celery("proj")\n',
        },
    )
    result = joblint("check", "--add-noqa", "--select", "CEL501", ".", cwd=tmp_path)
    assert "Procfile: no noqa added: not a Python file" in result.stderr
    assert result.returncode == 1
    assert (tmp_path / "Procfile").read_text() == "worker: celery -A proj worker -B\n"
