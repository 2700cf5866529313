"""Writes a repository can aim: reports, baselines and noqa comments never go through its symlinks.

A pull request from a stranger may commit `joblint.sarif -> ../../.bashrc`; CI then runs
`joblint check -o joblint.sarif`. Every output is written atomically (a temporary file renamed into
place), and a symlink inside the project, in place of the file or of a directory on the way to it,
is refused with one line and exit code 2, its target untouched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ._run import joblint

APP = 'from celery import Celery\n\napp = Celery("proj")\napp.conf.update(task_serializer="pickle")\n'
SECRET = "export API_KEY=hunter2\n"


def repository(tmp_path: Path) -> tuple[Path, Path]:
    """A project (a git checkout with one finding) and a file of the user's outside it."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "app.py").write_text(APP, encoding="utf-8")
    outside = tmp_path / "home" / ".bashrc"
    outside.parent.mkdir()
    outside.write_text(SECRET, encoding="utf-8")
    return repo, outside


# (name of the committed link, command line writing it)
OUTPUTS = [
    (".joblint-baseline.json", ("check", "--no-cache", "--write-baseline", ".joblint-baseline.json", ".")),
    ("joblint.sarif", ("check", "--no-cache", "--output-format", "sarif", "-o", "joblint.sarif", ".")),
    (
        "gl-code-quality.json",
        ("check", "--no-cache", "--output-format", "gitlab", "--output-file", "gl-code-quality.json", "."),
    ),
    ("joblint-report.html", ("audit", "--html", "joblint-report.html", ".")),
    ("joblint-report.md", ("audit", "--markdown", "joblint-report.md", ".")),
]


@pytest.mark.parametrize(("name", "args"), OUTPUTS, ids=[name for name, _ in OUTPUTS])
def test_a_committed_symlink_in_place_of_an_output_is_refused(tmp_path, name, args):
    repo, outside = repository(tmp_path)
    link = repo / name
    link.symlink_to(os.path.relpath(outside, repo))
    result = joblint(*args, cwd=repo, timeout=120)
    assert result.returncode == 2, result.stderr
    assert outside.read_text(encoding="utf-8") == SECRET
    assert link.is_symlink() and os.readlink(link) == os.path.relpath(outside, repo)
    [line] = result.stderr.splitlines()
    assert line.startswith("joblint: ") and name in line and "symlink" in line
    assert sorted(p.name for p in repo.iterdir()) == sorted([".git", "app.py", name])  # no temporary file left


@pytest.mark.parametrize(("name", "args"), OUTPUTS, ids=[name for name, _ in OUTPUTS])
def test_a_committed_symlinked_directory_on_the_way_to_an_output_is_refused(tmp_path, name, args):
    repo, outside = repository(tmp_path)
    (repo / "out").symlink_to(os.path.relpath(outside.parent, repo))
    args = tuple(f"out/{a}" if a == name else a for a in args)
    result = joblint(*args, cwd=repo, timeout=120)
    assert result.returncode == 2, result.stderr
    assert sorted(p.name for p in outside.parent.iterdir()) == [".bashrc"]
    [line] = result.stderr.splitlines()
    assert line.startswith("joblint: ") and f"out/{name}" in line


@pytest.mark.parametrize(("name", "args"), OUTPUTS, ids=[name for name, _ in OUTPUTS])
def test_outputs_are_written_whole_as_regular_files(tmp_path, name, args):
    repo, _ = repository(tmp_path)
    (repo / name).write_text("old\n", encoding="utf-8")
    result = joblint(*args, cwd=repo, timeout=120)
    assert result.returncode in (0, 1), result.stderr
    written = repo / name
    assert not written.is_symlink() and written.is_file()
    text = written.read_text(encoding="utf-8")
    assert text != "old\n" and ("CEL101" in text or "pickle" in text)
    if name.endswith((".json", ".sarif")):
        json.loads(text)
    assert sorted(p.name for p in repo.iterdir()) == sorted([".git", "app.py", name])


def test_an_output_outside_the_project_is_the_users_choice(tmp_path):
    repo, _ = repository(tmp_path)
    target = tmp_path / "reports" / "new" / "joblint.sarif"  # directories are created
    result = joblint("check", "--no-cache", "--output-format", "sarif", "-o", str(target), ".", cwd=repo, timeout=120)
    assert result.returncode == 1, result.stderr
    assert json.loads(target.read_text(encoding="utf-8"))["runs"]


def test_an_outside_symlink_is_replaced_never_followed(tmp_path):
    """Outside the project the user names the path; still, the write never goes through a link."""
    repo, outside = repository(tmp_path)
    link = tmp_path / "reports" / "joblint.sarif"
    link.parent.mkdir()
    link.symlink_to(outside)
    result = joblint("check", "--no-cache", "--output-format", "sarif", "-o", str(link), ".", cwd=repo, timeout=120)
    assert result.returncode == 1, result.stderr
    assert outside.read_text(encoding="utf-8") == SECRET
    assert not link.is_symlink() and json.loads(link.read_text(encoding="utf-8"))["runs"]


# -- --add-noqa -----------------------------------------------------------------------------------


def test_add_noqa_leaves_a_symlink_and_its_target_alone(tmp_path):
    repo, _ = repository(tmp_path)
    secret = tmp_path / "home" / "settings.py"
    secret.write_text("API_KEY = 'hunter2'\n" + APP, encoding="utf-8")
    (repo / "app.py").unlink()
    link = repo / "linked.py"
    link.symlink_to(os.path.relpath(secret, repo))
    (repo / "own.py").write_text(APP, encoding="utf-8")
    result = joblint("check", "--no-cache", "--select", "CEL101", "--add-noqa", ".", cwd=repo, timeout=120)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == os.path.relpath(secret, repo)
    assert secret.read_text(encoding="utf-8") == "API_KEY = 'hunter2'\n" + APP
    problems = [line for line in result.stderr.splitlines() if "linked.py" in line]
    assert problems == ["joblint: warning: linked.py: not read: a symbolic link to a file outside the repository"]
    assert "# noqa: CEL101" in (repo / "own.py").read_text(encoding="utf-8")  # the rest is still done


def test_add_noqa_leaves_a_symlink_inside_the_repository_a_symlink(tmp_path):
    repo, _ = repository(tmp_path)
    (repo / "lib").mkdir()
    target = repo / "lib" / "shared.py"
    target.write_text(APP, encoding="utf-8")
    link = repo / "linked.py"
    link.symlink_to(os.path.join("lib", "shared.py"))
    result = joblint("check", "--no-cache", "--select", "CEL101", "--add-noqa", ".", cwd=repo, timeout=120)
    assert link.is_symlink() and os.readlink(link) == os.path.join("lib", "shared.py")
    problems = [line for line in result.stderr.splitlines() if "linked.py" in line]
    assert len(problems) == 1 and problems[0].startswith("joblint: linked.py: ") and "symbolic link" in problems[0]
    assert "# noqa: CEL101" in target.read_text(encoding="utf-8")  # the file itself, under its own name
