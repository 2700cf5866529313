"""A form feed starting a line (issue 21): `--fix` once turned `\\fCELERY_RESULT_BACKEND = ...`
into `result_backendD = ...` (the result parses, so the guard passed), and `--diff` split lines at
the form feed (`str.splitlines`), a patch `git apply` refuses.

libcst drops a form feed before a statement from the code it generates, so a column counted in
that code is one short in the text where the edits are applied. Lines end at \\n, \\r\\n and \\r
only, as Python's tokenizer reads them; \\v, \\f, \\x1c-\\x1e, \\x85, \\u2028 and \\u2029 are inside
a line.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ._run import joblint

CONFIG = 'from celery import Celery\n\napp = Celery("proj")\n\fCELERY_RESULT_BACKEND = "redis://b"\n'
FIXED = 'from celery import Celery\n\napp = Celery("proj")\n\fresult_backend = "redis://b"\n'


def project(tmp_path: Path, text: str = CONFIG) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "celeryconfig.py").write_bytes(text.encode("utf-8"))
    return tmp_path


def test_fix_renames_exactly_the_key_and_keeps_the_form_feed(tmp_path):
    repo = project(tmp_path)
    result = joblint("check", "--no-cache", "--fix", ".", cwd=repo)
    assert (repo / "celeryconfig.py").read_bytes().decode("utf-8") == FIXED, result.stdout + result.stderr
    assert result.returncode == 0, result.stdout + result.stderr


def test_fix_in_a_class_body_line_starting_with_a_form_feed(tmp_path):
    text = (
        'from celery import Celery\n\napp = Celery("proj")\n'
        "class Config:\n    x = 1\n\f    CELERY_TASK_SERIALIZER = 'json'\n"
        "app.config_from_object(Config)\n"
    )
    repo = project(tmp_path, text)
    result = joblint("check", "--no-cache", "--fix", ".", cwd=repo)
    after = (repo / "celeryconfig.py").read_bytes().decode("utf-8")
    assert "\f    task_serializer = 'json'\n" in after, result.stdout + result.stderr
    assert after.replace("task_serializer", "CELERY_TASK_SERIALIZER") == text, result.stdout + result.stderr


def test_a_finding_column_on_a_form_feed_line_points_at_the_key(tmp_path):
    repo = project(tmp_path)
    result = joblint("check", "--no-cache", "--output-format", "concise", ".", cwd=repo)
    [line] = [line for line in result.stdout.splitlines() if "CEL108" in line]
    path, row, col, _ = line.split(":", 3)
    source_line = CONFIG.split("\n")[int(row) - 1]
    assert source_line[int(col) - 1 :].startswith("CELERY_RESULT_BACKEND"), line


def _diff(repo: Path) -> str:
    result = joblint("check", "--no-cache", "--diff", ".", cwd=repo)
    assert result.returncode == 1, result.stderr
    return result.stdout


def _applies(repo: Path, diff: str) -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    shutil.rmtree(repo / ".git")
    subprocess.run([git, "init", "-q", "."], cwd=repo, check=True, capture_output=True)
    patch = repo.parent / "fix.patch"
    patch.write_bytes(diff.encode("utf-8"))
    check = subprocess.run([git, "apply", "--check", str(patch)], cwd=repo, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr + repr(diff)


def test_diff_of_a_file_with_a_form_feed_applies(tmp_path):
    (tmp_path / "repo").mkdir()
    repo = project(tmp_path / "repo")
    diff = _diff(repo)
    assert "-\fCELERY_RESULT_BACKEND" in diff and "+\fresult_backend = " in diff, repr(diff)
    _applies(repo, diff)


def test_diff_counts_lines_as_python_does(tmp_path):
    # Characters str.splitlines takes for line ends, in a string and a comment before the change.
    text = 'from celery import Celery\n\nS = "a\vb\x1cc\x85d"  # e\u2028f\fg\x1dh\n' + CONFIG.split("\n\n", 1)[1]
    (tmp_path / "repo").mkdir()
    repo = project(tmp_path / "repo", text)
    diff = _diff(repo)
    hunk = [line for line in diff.split("\n") if line.startswith("@@")]
    assert hunk == ["@@ -2,4 +2,4 @@"], repr(diff)
