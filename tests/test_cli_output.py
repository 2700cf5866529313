"""`joblint check` in CI and editors: output formats, --output-file, --statistics, exit codes, stdin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import write_project

PICKLE_APP = """
from celery import Celery

app = Celery("proj")
app.conf.update(task_serializer="pickle", accept_content=["pickle"])
app.conf.task_time_limit = 300
app.conf.task_soft_time_limit = 300
"""
CLEAN_APP = """
from celery import Celery

app = Celery("proj")
app.conf.update(task_serializer="json")
"""


# The two foundation rules only, so the outputs asserted here do not change as rules land.
SELECT = '[tool.joblint]\nselect = ["CEL101", "CEL104"]\n'


def joblint(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "joblint", *args], cwd=cwd, capture_output=True, text=True, input=stdin, timeout=120
    )


def test_every_format_is_accepted(tmp_path):
    write_project(tmp_path, {"pyproject.toml": SELECT, "app.py": PICKLE_APP})
    for fmt in ("full", "concise", "json", "github", "sarif", "gitlab", "junit", "pylint"):
        result = joblint("check", "--output-format", fmt, ".", cwd=tmp_path)
        assert result.returncode == 1, (fmt, result.stderr)
        assert result.stdout, fmt


def test_github_and_sarif_paths_from_a_subdirectory_are_repository_relative(tmp_path):
    (tmp_path / ".git").mkdir()
    write_project(tmp_path, {"pyproject.toml": SELECT, "services/worker/app.py": PICKLE_APP})
    cwd = tmp_path / "services"
    github = joblint("check", "--output-format", "github", ".", cwd=cwd)
    assert github.stdout.startswith("::error file=services/worker/app.py,line=4,col=33,")
    sarif = json.loads(joblint("check", "--output-format", "sarif", ".", cwd=cwd).stdout)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert uris == {"services/worker/app.py"}


def test_output_file_gets_the_report_and_the_terminal_the_summary(tmp_path):
    write_project(tmp_path, {"pyproject.toml": SELECT, "app.py": PICKLE_APP})
    result = joblint("check", "--output-format", "sarif", "--output-file", "reports/joblint.sarif", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Found 3 findings" in result.stderr
    document = json.loads((tmp_path / "reports" / "joblint.sarif").read_text(encoding="utf-8"))
    assert len(document["runs"][0]["results"]) == 3


def test_output_file_with_the_full_format_has_no_colour_and_the_summary_still_prints(tmp_path):
    write_project(tmp_path, {"pyproject.toml": SELECT, "app.py": PICKLE_APP})
    result = joblint("check", "--output-format", "full", "-o", "report.txt", ".", cwd=tmp_path)
    text = (tmp_path / "report.txt").read_text(encoding="utf-8")
    assert "\x1b[" not in text and "CEL101" in text
    assert "Found 3 findings" in result.stderr


def test_statistics_counts_per_rule_sorted_with_fixable(tmp_path):
    write_project(tmp_path, {"pyproject.toml": SELECT, "app.py": PICKLE_APP})
    result = joblint("check", "--statistics", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "count  code    rule                            fixable",
        "    2  CEL101  pickle-serializer                     2",
        "    1  CEL104  soft-time-limit-not-below-hard        0",
    ]


def test_statistics_as_json(tmp_path):
    write_project(tmp_path, {"pyproject.toml": SELECT, "app.py": PICKLE_APP})
    rows = json.loads(joblint("check", "--statistics", "--output-format", "json", ".", cwd=tmp_path).stdout)
    assert rows[0] == {"code": "CEL101", "name": "pickle-serializer", "count": 2, "fixable": 2}


def test_statistics_with_output_file_writes_both(tmp_path):
    write_project(tmp_path, {"pyproject.toml": SELECT, "app.py": PICKLE_APP})
    result = joblint("check", "--statistics", "--output-format", "pylint", "-o", "r.txt", ".", cwd=tmp_path)
    assert result.stdout.startswith("count  code")
    assert (tmp_path / "r.txt").read_text(encoding="utf-8").startswith("app.py:4: [CEL101] ")


def test_exit_codes(tmp_path):
    write_project(tmp_path, {"pyproject.toml": SELECT, "bad/app.py": PICKLE_APP, "good/app.py": CLEAN_APP})
    assert joblint("check", "good", cwd=tmp_path).returncode == 0
    assert joblint("check", "bad", cwd=tmp_path).returncode == 1
    assert joblint("check", "--exit-zero", "bad", cwd=tmp_path).returncode == 0
    usage = joblint("check", "--output-format", "xml", "bad", cwd=tmp_path)
    assert usage.returncode == 2 and usage.stderr.count("\n") == 1


def test_exit_non_zero_on_fix(tmp_path):
    fixable = PICKLE_APP.split("app.conf.task_time_limit")[0]
    write_project(tmp_path, {"pyproject.toml": SELECT, "a/app.py": fixable, "b/app.py": fixable})
    plain = joblint("check", "--fix", "--unsafe-fixes", "a", cwd=tmp_path)
    assert plain.returncode == 0 and "Fixed 2 findings" in plain.stderr
    strict = joblint("check", "--fix", "--unsafe-fixes", "--exit-non-zero-on-fix", "b", cwd=tmp_path)
    assert strict.returncode == 1 and "Fixed 2 findings" in strict.stderr
    again = joblint("check", "--fix", "--unsafe-fixes", "--exit-non-zero-on-fix", "b", cwd=tmp_path)
    assert again.returncode == 0
    assert joblint("check", "--exit-non-zero-on-fix", "b", cwd=tmp_path).returncode == 2


def test_stdin_filename_reports_the_given_path(tmp_path):
    write_project(tmp_path, {"pyproject.toml": SELECT})
    (tmp_path / "pkg").mkdir()
    result = joblint(
        "check", "--output-format", "concise", "--stdin-filename", "pkg/unsaved.py",
        cwd=tmp_path, stdin=PICKLE_APP.lstrip("\n"),
    )
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith("pkg/unsaved.py:4:33: CEL101 ")
    assert not (tmp_path / "pkg" / "unsaved.py").exists()


def test_stdin_text_wins_over_the_file_on_disk(tmp_path):
    write_project(tmp_path, {"pyproject.toml": SELECT, "app.py": PICKLE_APP})
    result = joblint("check", "--stdin-filename", "app.py", cwd=tmp_path, stdin=CLEAN_APP.lstrip("\n"))
    assert result.returncode == 0 and result.stdout == ""


def test_stdin_uses_the_configuration_of_the_path(tmp_path):
    write_project(tmp_path, {"svc/pyproject.toml": SELECT + 'ignore = ["CEL101"]\n'})
    result = joblint("check", "--stdin-filename", "svc/app.py", cwd=tmp_path, stdin=PICKLE_APP.lstrip("\n"))
    assert [line.split(" ")[1] for line in result.stdout.splitlines()] == ["CEL104"]


def test_stdin_fix_prints_the_fixed_buffer_and_leaves_the_file_alone(tmp_path):
    write_project(tmp_path, {"app.py": PICKLE_APP})
    on_disk = (tmp_path / "app.py").read_text()
    buffer = PICKLE_APP.lstrip("\n")
    result = joblint(
        "check", "--select", "CEL101,CEL104", "--fix", "--unsafe-fixes", "--output-format", "concise",
        "--stdin-filename", "app.py", cwd=tmp_path, stdin=buffer,
    )
    assert result.returncode == 1
    assert result.stdout == buffer.replace(
        'task_serializer="pickle", accept_content=["pickle"]', 'task_serializer="json", accept_content=["json"]'
    )
    assert result.stderr.startswith("app.py:6:33: CEL104 ")
    assert "Fixed 2 findings." in result.stderr
    assert (tmp_path / "app.py").read_text() == on_disk


def test_stdin_with_paths_or_add_noqa_is_a_usage_error(tmp_path):
    for args in (["--stdin-filename", "a.py", "."], ["--stdin-filename", "a.py", "--add-noqa"]):
        result = joblint("check", *args, cwd=tmp_path, stdin="")
        assert result.returncode == 2 and result.stderr.startswith("joblint: error: ")
