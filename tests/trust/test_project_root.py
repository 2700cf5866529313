"""The project a run reads: where a marker says, or the files given alone.

Given only files (pre-commit, an editor's `--stdin-filename`), joblint reads the rest of their
project too, for cross-file rules. Without a marker (pyproject.toml, .git, .hg) above them there is
no project to read: `--stdin-filename /usr/scratch.py` walked all of /usr, `/x.py` all of / and
/proc. Then the files are checked alone.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from joblint import cli, engine
from joblint import config as config_mod

APP = 'from celery import Celery\n\napp = Celery("proj")\napp.conf.update(task_serializer="pickle")\n'
MARKERS = ["pyproject.toml", ".git", ".hg"]


def unmarked(tmp_path: Path) -> Path:
    """A directory with no project marker in it or above it."""
    if config_mod.find_root(tmp_path / "x.py") != tmp_path:
        pytest.skip("a project marker lies above the temporary directory")
    return tmp_path


def tree(root: Path) -> None:
    """The file given, and a large directory beside it that a walk would go through."""
    (root / "scratch.py").write_text(APP, encoding="utf-8")
    for n in range(5):
        (root / "elsewhere" / f"d{n}").mkdir(parents=True)
        (root / "elsewhere" / f"d{n}" / "other.py").write_text(APP, encoding="utf-8")


def mark(root: Path, marker: str) -> None:
    if marker == "pyproject.toml":
        (root / marker).write_text("[project]\nname = 'p'\n", encoding="utf-8")
    else:
        (root / marker).mkdir()


@pytest.fixture
def analysed(monkeypatch, capsys):
    """`joblint ARGS` in `root`, in this process: (exit code, displays of the files analysed, stderr)."""

    def run(root: Path, *args: str, stdin: str = "") -> tuple[int, list[str], str]:
        seen: list[str] = []
        real_run = engine.run

        def spy(files, *rest, **kwargs):
            seen.extend(f.display for f in files)
            return real_run(files, *rest, **kwargs)

        monkeypatch.setattr(engine, "run", spy)
        monkeypatch.chdir(root)
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = cli.main(
            ["check", "--no-cache", "--select", "CEL101", "--output-format", "concise", "--jobs", "1", *args]
        )
        _out, err = capsys.readouterr()
        return code, sorted(set(seen)), err

    return run


@pytest.mark.parametrize("how", ["stdin", "file", "absolute file"])
def test_a_file_with_no_project_marker_above_it_is_checked_alone(tmp_path, analysed, how):
    root = unmarked(tmp_path)
    tree(root)
    if how == "stdin":
        code, files, err = analysed(root, "--stdin-filename", "scratch.py", stdin=APP)
    elif how == "file":
        code, files, err = analysed(root, "scratch.py")
    else:
        code, files, err = analysed(root / "elsewhere", str(root / "scratch.py"))
    assert code == 1, err
    assert [Path(f).name for f in files] == ["scratch.py"]


@pytest.mark.parametrize("marker", MARKERS)
def test_a_file_in_a_marked_project_is_checked_with_its_project(tmp_path, analysed, marker):
    root = unmarked(tmp_path)
    tree(root)
    mark(root, marker)
    code, files, err = analysed(root, "--stdin-filename", "scratch.py", stdin=APP)
    assert code == 1, err
    assert len(files) == 6 and "scratch.py" in files
    code, files, err = analysed(root, "scratch.py")
    assert code == 1 and len(files) == 6, err


def test_a_directory_given_is_still_walked_without_a_marker(tmp_path, analysed):
    root = unmarked(tmp_path)
    tree(root)
    code, files, err = analysed(root, ".")
    assert code == 1 and len(files) == 6, err


@pytest.mark.parametrize("marker", [None, *MARKERS, "--config"])
def test_config_says_whether_a_marker_was_found(tmp_path, marker):
    root = unmarked(tmp_path)
    tree(root)
    explicit = None
    if marker == "--config":
        explicit = root / "joblint.toml"
        explicit.write_text("ignore = []\n", encoding="utf-8")
    elif marker is not None:
        mark(root, marker)
    for given in (root / "scratch.py", root / "elsewhere" / "d0" / "other.py", root / "new.py"):
        config = config_mod.discover([given], explicit)
        assert config.marked is (marker is not None), given
        assert config.root == (root if marker is not None else given.parent)
    # A directory the user names to check is a project of its own, marker or not.
    for given in (root, root / "elsewhere"):
        config = config_mod.discover([given], explicit)
        assert config.marked and config.root == (root if marker is not None else given)


def test_a_marker_with_joblint_config_is_a_project(tmp_path):
    root = unmarked(tmp_path)
    (root / "pyproject.toml").write_text('[tool.joblint]\nignore = ["CEL104"]\n', encoding="utf-8")
    config = config_mod.discover([root / "a" / "b.py"])
    assert config.marked and config.root == root and config.source == root / "pyproject.toml"


def test_stdin_filename_at_the_filesystem_root_reads_no_directory(tmp_path):
    """`--stdin-filename /x.py`: the old walk went through / and /proc, for minutes."""
    if config_mod.find_root(Path("/x.py")) != Path("/"):
        pytest.skip("/ holds a project marker")
    result = subprocess.run(
        [sys.executable, "-m", "joblint", "check", "--no-cache", "--select", "CEL101", "--output-format", "concise",
         "--stdin-filename", "/joblint-test-scratch.py"],
        input=APP, capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["/joblint-test-scratch.py"]
