"""A file or directory whose name is not UTF-8 (`bad\\xff.py`, `d\\xff/`) is checked like any other,
by every command and output format, and its name is shown escaped; it once made every command end
with "internal error: UnicodeEncodeError" and no findings at all (issue 21)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from ._run import joblint

pytestmark = pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="file names must be bytes")

APP = b'from celery import Celery\napp = Celery("p", task_serializer="pickle")\n'
NAMES = [b"bad\xff.py", b"ok.py", b"d\xff/t.py"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    root = os.fsencode(tmp_path)
    try:
        os.mkdir(root + b"/d\xff")
        for name in NAMES:
            with open(root + b"/" + name, "wb") as handle:
                handle.write(APP)
    except OSError as exc:  # a file system that refuses such names cannot hold the attack
        pytest.skip(f"file system refuses non-UTF-8 names: {exc}")
    return tmp_path


def _clean(result) -> None:  # type: ignore[no-untyped-def]
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1), result.stderr


@pytest.mark.parametrize("fmt", ["full", "concise", "json", "sarif", "github", "gitlab", "junit", "pylint"])
def test_every_format_reports_every_file(project: Path, fmt: str) -> None:
    result = joblint("check", "--no-cache", "--output-format", fmt, ".", cwd=project)
    _clean(result)
    assert result.returncode == 1
    if fmt in ("json", "sarif", "gitlab"):
        json.loads(result.stdout)
    if fmt == "concise":
        assert sorted(line.split(":", 1)[0] for line in result.stdout.splitlines()) == [
            "bad\\udcff.py", "d\\udcff/t.py", "ok.py",
        ]


def test_writing_commands_handle_the_names(project: Path) -> None:
    for args in (["-o", "out.json", "--output-format", "json"], ["--write-baseline", "base.json"]):
        _clean(joblint("check", "--no-cache", *args, ".", cwd=project))
    _clean(joblint("check", "--no-cache", "--baseline", "base.json", ".", cwd=project))
    _clean(joblint("check", "--no-cache", "--diff", "--unsafe-fixes", ".", cwd=project))
    _clean(joblint("audit", "--html", "a.html", "--markdown", "a.md", ".", cwd=project))
    fixed = joblint("check", "--no-cache", "--fix", "--unsafe-fixes", ".", cwd=project)
    _clean(fixed)
    assert fixed.returncode == 0, fixed.stderr
    with open(os.fsencode(project) + b"/bad\xff.py", "rb") as handle:
        assert b'task_serializer="json"' in handle.read()


def test_add_noqa_handles_the_names(project: Path) -> None:
    result = joblint("check", "--no-cache", "--add-noqa", ".", cwd=project)
    _clean(result)
    assert "Added 3 noqa directives." in result.stderr
