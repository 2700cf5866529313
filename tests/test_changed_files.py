"""Given only some files (pre-commit, editors), joblint judges them against the whole project."""

from __future__ import annotations

import subprocess
import sys

from conftest import write_project

PROJECT = {
    "pyproject.toml": "[project]\nname = 'proj'\n",
    "proj/__init__.py": "",
    "proj/celery.py": (
        'from celery import Celery\napp = Celery("proj")\napp.conf.task_time_limit = 60\n'
        'app.conf.task_serializer = "pickle"\n'
    ),
    "proj/tasks.py": "from proj.celery import app\n\n@app.task(soft_time_limit=120)\ndef slow():\n    pass\n",
}


def run(tmp_path, *args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "joblint", "check", "--output-format", "concise", "--select", "CEL101,CEL104", *args],
        cwd=tmp_path, capture_output=True, text=True, input=stdin, timeout=120,
    )


def test_a_changed_file_is_judged_with_the_settings_elsewhere(tmp_path):
    write_project(tmp_path, PROJECT)
    result = run(tmp_path, "proj/tasks.py")
    # The task's soft limit meets the app's hard limit from proj/celery.py; celery.py's own
    # finding (pickle) is not reported: that file was not given.
    assert [line.split(": ")[0] + ": " + line.split(": ")[1].split()[0] for line in result.stdout.splitlines()] == [
        "proj/tasks.py:3:27: CEL104"
    ]
    assert result.returncode == 1


def test_stdin_gets_the_project_too(tmp_path):
    write_project(tmp_path, PROJECT)
    text = (tmp_path / "proj/tasks.py").read_text()
    result = run(tmp_path, "--stdin-filename", "proj/tasks.py", stdin=text)
    assert [line.split(" ")[0] for line in result.stdout.splitlines()] == ["proj/tasks.py:3:27:"]


def test_fix_touches_only_the_given_files(tmp_path):
    write_project(tmp_path, PROJECT)
    before = (tmp_path / "proj/celery.py").read_text()
    run(tmp_path, "--fix", "--unsafe-fixes", "proj/tasks.py")
    assert (tmp_path / "proj/celery.py").read_text() == before
