"""Reads that must end: .gitignore, config and baseline files a repository controls.

A committed symlink to /dev/zero reads forever; one to a FIFO (or /dev/stdin) blocks forever. Every
file joblint reads for itself is a regular file, read with a bound; a .gitignore that is not is
skipped with a warning, a config or a baseline that is not stops the run with one line. Each run has
a time limit, so a regression fails here instead of hanging the suite.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from joblint import cli, safe_io

from ._run import joblint

APP = 'from celery import Celery\n\napp = Celery("proj")\napp.conf.update(task_serializer="pickle")\n'
QUICK = 60  # seconds: a run reading /dev/zero or waiting on a FIFO never finishes

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="POSIX only")


def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git" / "info").mkdir(parents=True)
    (repo / "sub").mkdir()
    (repo / "app.py").write_text(APP, encoding="utf-8")
    (repo / "sub" / "tasks.py").write_text(APP, encoding="utf-8")
    return repo


def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def check(repo: Path, *args: str):
    return joblint(
        "check", "--no-cache", "--select", "CEL101", "--output-format", "concise", *args, cwd=repo, timeout=QUICK
    )


# -- .gitignore ------------------------------------------------------------------------------------

IGNORE_FILES = [".gitignore", "sub/.gitignore", ".git/info/exclude"]


@pytest.mark.parametrize("where", IGNORE_FILES)
@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_an_ignore_file_linked_to_an_endless_file_is_skipped(tmp_path, where, target):
    repo = repository(tmp_path)
    (repo / where).symlink_to(fifo(tmp_path) if target == "fifo" else target)
    result = check(repo, ".")
    assert result.returncode == 1, result.stderr
    assert sorted(line.split(":")[0] for line in result.stdout.splitlines()) == ["app.py", "sub/tasks.py"]
    [warning] = result.stderr.splitlines()[:-1]  # the last line is the summary
    assert warning.startswith("joblint: warning: ") and where in warning


@pytest.mark.parametrize("where", [".gitignore", "sub/.gitignore"])
def test_an_ignore_file_that_is_a_fifo_is_skipped(tmp_path, where):
    repo = repository(tmp_path)
    os.mkfifo(repo / where)
    result = check(repo, ".")
    assert result.returncode == 1, result.stderr
    assert len(result.stdout.splitlines()) == 2
    assert any(line.startswith("joblint: warning: ") and where in line for line in result.stderr.splitlines())


def test_an_oversized_ignore_file_is_skipped(tmp_path):
    repo = repository(tmp_path)
    with open(repo / ".gitignore", "wb") as handle:
        handle.write(b"sub/\n")
        handle.truncate(safe_io.CONFIG_LIMIT + 1)  # sparse: no disk used
    result = check(repo, ".")
    assert result.returncode == 1, result.stderr
    assert len(result.stdout.splitlines()) == 2
    assert any(line.startswith("joblint: warning: .gitignore") for line in result.stderr.splitlines())


def test_a_regular_ignore_file_still_applies(tmp_path):
    repo = repository(tmp_path)
    (repo / "sub" / ".gitignore").write_text("tasks.py\n", encoding="utf-8")
    (repo / ".git" / "info" / "exclude").write_text("app.py\n", encoding="utf-8")
    result = check(repo, ".")
    assert result.returncode == 0 and result.stdout == "", result.stderr


def test_files_given_with_an_endless_ignore_file_above_them(tmp_path):
    """Given only files, the rest of the project is read too: the same ignore files apply."""
    repo = repository(tmp_path)
    (repo / ".gitignore").symlink_to("/dev/zero")
    result = check(repo, "app.py")
    assert result.returncode == 1, result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["app.py"]


# -- the baseline ----------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/dev/zero", "fifo", "link-to-zero"])
def test_a_baseline_that_is_not_a_regular_file_is_an_error(tmp_path, target):
    repo = repository(tmp_path)
    if target == "fifo":
        baseline = str(fifo(tmp_path))
    elif target == "link-to-zero":
        (repo / ".joblint-baseline.json").symlink_to("/dev/zero")
        baseline = ".joblint-baseline.json"
    else:
        baseline = target
    for args in (("--baseline", baseline, "."), ("--config", "pyproject.toml", ".")):
        (repo / "pyproject.toml").write_text(f'[tool.joblint]\nbaseline = "{baseline}"\n', encoding="utf-8")
        result = check(repo, *args)
        assert result.returncode == 2, result.stderr
        [line] = result.stderr.splitlines()
        assert line.startswith("joblint: error: ") and baseline in line and "not a regular file" in line


def test_an_oversized_baseline_is_an_error(tmp_path):
    repo = repository(tmp_path)
    with open(repo / "huge.json", "wb") as handle:
        handle.truncate(safe_io.BASELINE_LIMIT + 1)
    result = check(repo, "--baseline", "huge.json", ".")
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("joblint: error: huge.json") and "larger than" in line


# -- the configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/dev/zero", "fifo", "itself-a-fifo"])
def test_a_pyproject_that_is_not_a_regular_file_is_an_error(tmp_path, target):
    repo = repository(tmp_path)
    if target == "itself-a-fifo":
        os.mkfifo(repo / "pyproject.toml")
    else:
        (repo / "pyproject.toml").symlink_to(fifo(tmp_path) if target == "fifo" else target)
    for args in ((".",), ("app.py",), ("--config", "pyproject.toml", ".")):
        result = check(repo, *args)
        assert result.returncode == 2, result.stderr
        [line] = result.stderr.splitlines()
        assert line.startswith("joblint: error: ") and "pyproject.toml" in line and "not a regular file" in line


def test_an_oversized_config_is_an_error(tmp_path):
    repo = repository(tmp_path)
    with open(repo / "pyproject.toml", "wb") as handle:
        handle.write(b"[tool.joblint]\n")
        handle.truncate(safe_io.CONFIG_LIMIT + 1)
    result = check(repo, ".")
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("joblint: error: ") and "pyproject.toml" in line and "larger than" in line


def test_an_unreadable_pyproject_is_one_line(tmp_path, monkeypatch, capsys):
    # As root every file is readable: the refusal is simulated where the configuration is opened.
    repo = repository(tmp_path)
    (repo / "pyproject.toml").write_text("[tool.joblint]\n", encoding="utf-8")
    real_open = os.open

    def refusing_open(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if os.path.basename(path) == "pyproject.toml":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.chdir(repo)
    monkeypatch.setattr(safe_io.os, "open", refusing_open)
    assert cli.main(["check", "--no-cache", "."]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"joblint: error: {repo / 'pyproject.toml'}: cannot read: Permission denied"]


def test_a_symlinked_pyproject_to_a_regular_file_is_still_read(tmp_path):
    """Monorepos link a shared pyproject.toml: a link to a regular file is followed."""
    repo = repository(tmp_path)
    shared = tmp_path / "shared.toml"
    shared.write_text('[tool.joblint]\nignore = ["CEL101"]\n', encoding="utf-8")
    (repo / "pyproject.toml").symlink_to(shared)
    result = joblint("check", "--no-cache", "--output-format", "concise", ".", cwd=repo, timeout=QUICK)
    assert "CEL101" not in result.stdout, result.stderr


# -- safe_io itself --------------------------------------------------------------------------------


def test_read_regular_refuses_what_is_not_a_bounded_regular_file(tmp_path):
    regular = tmp_path / "a.toml"
    regular.write_bytes(b"x" * 10)
    assert safe_io.read_regular(regular, 10) == b"x" * 10
    with pytest.raises(safe_io.UnsafeFile, match="larger than"):
        safe_io.read_regular(regular, 9)
    with pytest.raises(safe_io.UnsafeFile, match="not a regular file"):
        safe_io.read_regular(fifo(tmp_path), 10)
    with pytest.raises(safe_io.UnsafeFile, match="not a regular file"):
        safe_io.read_regular("/dev/zero", 10)
    link = tmp_path / "link"
    link.symlink_to(regular)
    assert safe_io.read_regular(link, 10) == b"x" * 10
    with pytest.raises(safe_io.UnsafeFile, match="symlink") as refused:
        safe_io.read_regular(link, 10, follow_symlinks=False)
    assert refused.value.strerror == "is a symlink"  # for `exc.strerror or exc` in messages
    with pytest.raises(FileNotFoundError):
        safe_io.read_regular(tmp_path / "missing", 10)
