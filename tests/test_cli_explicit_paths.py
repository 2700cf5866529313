"""Paths named on the command line are checked even where `exclude` would leave them out, as in
ruff; `--force-exclude` (or `force-exclude = true`) makes `exclude` win, for pre-commit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import write_project

PICKLE_APP = 'from celery import Celery\n\napp = Celery("proj")\napp.conf.update(task_serializer="pickle")\n'


def joblint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "joblint", "check", "--no-cache", "--output-format", "concise", "--select", "CEL101",
         *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )


def _project(root: Path, toml: str = "") -> None:
    write_project(root, {
        "pyproject.toml": f"[tool.joblint]\nextend-exclude = [\"legacy\"]\n{toml}",
        "build/lib/proj/celery.py": PICKLE_APP,
        "legacy/celery.py": PICKLE_APP,
        "proj/__init__.py": "",
        "proj/ok.py": "x = 1\n",
    })


def test_a_named_file_in_an_excluded_directory_is_checked(tmp_path: Path) -> None:
    _project(tmp_path)
    result = joblint("build/lib/proj/celery.py", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("build/lib/proj/celery.py:4:33: CEL101 ")
    assert joblint("legacy/celery.py", cwd=tmp_path).stdout.startswith("legacy/celery.py:4:33: CEL101 ")


def test_force_exclude_leaves_the_named_file_out(tmp_path: Path) -> None:
    _project(tmp_path)
    for named in ("build/lib/proj/celery.py", "legacy/celery.py"):
        result = joblint("--force-exclude", named, cwd=tmp_path)
        assert (result.returncode, result.stdout) == (0, ""), result.stderr
        assert "(0 files checked)" in result.stderr
    # The other files pre-commit names are checked as usual.
    result = joblint("--force-exclude", "legacy/celery.py", "proj/ok.py", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "") and "(1 file checked)" in result.stderr


def test_force_exclude_in_the_configuration_and_its_negation(tmp_path: Path) -> None:
    _project(tmp_path, "force-exclude = true\n")
    assert joblint("legacy/celery.py", cwd=tmp_path).returncode == 0
    result = joblint("--no-force-exclude", "legacy/celery.py", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.startswith("legacy/celery.py:4:33: CEL101 ")


def test_a_named_excluded_directory_is_walked_unless_force_exclude(tmp_path: Path) -> None:
    _project(tmp_path)
    result = joblint("build", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.startswith("build/lib/proj/celery.py:4:33: CEL101 ")
    assert joblint("--force-exclude", "build", cwd=tmp_path).returncode == 0
    # `.`: the excluded directories below stay out.
    assert joblint(".", cwd=tmp_path).returncode == 0
