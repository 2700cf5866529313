"""Hostile files: each gives a finding or a skip with a message, and the run completes.

The native parser runs in the joblint process, so a crash there would kill the run: the deep
nesting cases run joblint in a child process and look at its exit status.
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from joblint import cli, engine
from joblint import config as config_mod
from joblint.discover import discover
from joblint.nesting import MAX_BRACKETS, nesting_problem
from joblint.rules import all_meta
from joblint.source import MAX_BYTES

from ._run import concise, joblint

APP = 'from celery import Celery\n\napp = Celery("proj")\napp.conf.update(task_serializer="pickle")\n'


@pytest.fixture
def cli_run(monkeypatch, capsys):
    """`joblint ARGS` in a directory, in this process (for files the parser survives)."""

    def run(root: Path, *args: str) -> subprocess.CompletedProcess:
        monkeypatch.chdir(root)
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    return run


@pytest.fixture
def check(cli_run):
    """`joblint check --select CEL101 .` in a directory: (path, line, code) found."""

    def run(root: Path) -> list[tuple[str, int, str]]:
        result = cli_run(root, "check", "--select", "CEL101", "--output-format", "concise", ".")
        assert result.returncode in (0, 1), result.stderr
        return concise(result)

    return run


def lint_in_process(root: Path, files=None):
    """The run in this process (so a test can patch the file system), one worker, no cache."""
    cfg = config_mod.discover([root])
    enabled = config_mod.select(cfg.settings, all_meta(), "test", ["CEL101"])
    files = discover([root], cfg, root) if files is None else files
    return [(f.path, f.span.line, f.code, f.message) for f in engine.run(files, cfg, enabled, jobs=1).findings]


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_nul_bytes_are_a_finding_at_their_line(tmp_path, check):
    write(tmp_path / "nul.py", b"import celery\nx = 1\x00\n")
    write(tmp_path / "app.py", APP.encode())
    assert check(tmp_path) == [("app.py", 4, "CEL101"), ("nul.py", 2, "JL001")]


def test_a_50_mb_file_is_reported_without_being_parsed(tmp_path):
    statement = b"x = celery.task(1)\n"
    write(tmp_path / "huge.py", statement * (50 * 1024 * 1024 // len(statement)))
    write(tmp_path / "huge_unrelated.py", b"x = 1\n" * (50 * 1024 * 1024 // 6))  # the pre-filter skips it
    write(tmp_path / "app.py", APP.encode())
    result = joblint("check", "--select", "CEL101", "--output-format", "concise", ".", cwd=tmp_path, timeout=120)
    assert concise(result) == [("app.py", 4, "CEL101"), ("huge.py", 1, "JL001")]
    assert f"above the {MAX_BYTES // 1024 // 1024} MB joblint parses" in result.stdout


DEEP = {
    "brackets": "x = " + "(" * 10_000 + "1" + ")" * 10_000,
    "lists": "x = " + "[" * 10_000 + "]" * 10_000,
    "calls": "x = " + "f(" * 10_000 + ")" * 10_000,
    "unary": "x = " + "-" * 10_000 + "1",
    "not": "x = " + "not " * 10_000 + "a",
    "lambda": "x = " + "lambda: " * 10_000 + "1",
    "conditional": "x = " + "a if b else " * 10_000 + "c",
    "and": "x = " + " and ".join(["a"] * 10_000),
    "sum": "x = " + " + ".join(["1"] * 10_000),
    "power": "x = " + "**".join(["2"] * 10_000),
    "attributes": "x = a" + ".b" * 10_000,
    "brackets_and_unary": "x = " + ("-" * 60 + "(") * 150 + "1" + ")" * 150,
    "split_over_lines": "x = (\n" + "-\n" * 10_000 + "1)",
}


def test_a_10000_deep_expression_is_a_finding_not_a_crash(tmp_path):
    # libcst's native parser overflows its stack on these (a segmentation fault, exit -11) or takes
    # minutes: joblint must refuse them before parsing. A child process, so a crash fails the test
    # rather than killing the test run.
    for shape, text in DEEP.items():
        write(tmp_path / f"deep_{shape}.py", f"import celery\n{text}\n".encode())
    write(tmp_path / "app.py", APP.encode())
    result = joblint("check", "--select", "CEL101", "--output-format", "concise", ".", cwd=tmp_path, timeout=240)
    assert result.returncode == 1, (result.returncode, result.stderr[-500:])
    line = {"split_over_lines": 2 + 1001}  # where the scan passes the limit; else the statement's line
    expected = [("app.py", 4, "CEL101")] + [(f"deep_{s}.py", line.get(s, 2), "JL001") for s in sorted(DEEP)]
    assert concise(result) == expected
    assert result.stdout.count("nested") == len(DEEP)


def test_deep_but_legal_nesting_is_still_analysed(tmp_path, check):
    # Python itself accepts 200 nested brackets and long flat lists: joblint must not refuse them.
    inner = "(" * MAX_BRACKETS + "1" + ")" * MAX_BRACKETS
    table = "[" + ", ".join(["-1"] * 3_000) + "]"
    text = APP + f"depth = {inner}\ntable = {table}\n" + "total = 1 + 2 + 3\n" * 1_000
    assert nesting_problem(text) is None
    write(tmp_path / "app.py", text.encode())
    assert check(tmp_path) == [("app.py", 4, "CEL101")]


def test_brackets_inside_strings_and_comments_do_not_count():
    text = 'x = "' + "(" * 5_000 + '"\n# ' + "[" * 5_000 + '\ny = """' + "{\n" * 5_000 + '"""\nz = "-" * 3\n'
    assert nesting_problem(text) is None
    assert compile(text, "strings.py", "exec")


def test_nesting_problem_names_the_line():
    assert nesting_problem("a = 1\nb = 2\nc = " + "(" * 300 + ")" * 300 + "\n") == (
        3,
        f"too many nested parentheses (more than {MAX_BRACKETS}, which Python refuses too)",
    )


def test_invalid_utf8_without_a_coding_cookie(tmp_path):
    write(tmp_path / "bad.py", b"# caf\xe9\n" + APP.encode())
    found = lint_in_process(tmp_path)
    assert [(p, line, code) for p, line, code, _ in found] == [("bad.py", 1, "JL001")]
    assert "cannot decode" in found[0][3]


def test_invalid_utf8_under_a_utf8_cookie(tmp_path):
    write(tmp_path / "bad.py", b"# -*- coding: utf-8 -*-\nx = 1\n# caf\xe9\n" + APP.encode())
    found = lint_in_process(tmp_path)
    assert [(p, line, code) for p, line, code, _ in found] == [("bad.py", 3, "JL001")]
    assert "can't decode byte 0xe9" in found[0][3]


def test_a_latin1_cookie_decodes_the_file(tmp_path):
    write(tmp_path / "latin.py", b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + APP.encode())
    assert [f[:3] for f in lint_in_process(tmp_path)] == [("latin.py", 6, "CEL101")]


def test_an_unknown_coding_cookie(tmp_path):
    write(tmp_path / "odd.py", b"# -*- coding: no-such-codec -*-\n" + APP.encode())
    found = lint_in_process(tmp_path)
    assert [f[:3] for f in found] == [("odd.py", 1, "JL001")]
    assert "unknown encoding" in found[0][3]


@pytest.mark.parametrize(
    "name, data",
    [
        ("bom.py", b"\xef\xbb\xbf" + APP.encode()),
        ("crlf.py", APP.replace("\n", "\r\n").encode()),
        ("cr.py", APP.replace("\n", "\r").encode()),
        ("formfeed.py", b"\x0c\n" + APP.replace("\n\n", "\n").encode()),
    ],
)
def test_bom_and_line_endings_keep_line_and_column(tmp_path, name, data):
    write(tmp_path / name, data)
    cfg = config_mod.discover([tmp_path])
    findings = engine.run(discover([tmp_path], cfg, tmp_path), cfg, frozenset({"CEL101"}), jobs=1).findings
    assert [(f.path, f.span.line, f.span.col) for f in findings] == [(name, 4, 33)]


@pytest.mark.parametrize("body", [b"if True:\n\tx = 1\n        y = 2\n", b"if True:\n        x = 1\n\ty = 2\n"])
def test_tabs_and_spaces_mixed_inconsistently(tmp_path, body):
    write(tmp_path / "tabs.py", b"import celery\n" + body)
    found = lint_in_process(tmp_path)
    assert [f[2] for f in found] == ["JL001"]
    assert "tabs and spaces" in found[0][3]


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\n", b"# only a comment, no newline"])
def test_empty_files_are_clean(tmp_path, cli_run, data):
    write(tmp_path / "empty.py", data)
    result = cli_run(tmp_path, "check", "--select", "ALL", "--output-format", "concise", "empty.py")
    assert (result.returncode, result.stdout) == (0, ""), result.stderr


def test_a_directory_named_like_a_module_is_walked_not_read(tmp_path, check, cli_run):
    write(tmp_path / "x.py" / "app.py", APP.encode())
    assert check(tmp_path) == [("x.py/app.py", 4, "CEL101")]
    result = cli_run(tmp_path, "check", "--select", "CEL101", "--output-format", "concise", "x.py")
    assert concise(result) == [("x.py/app.py", 4, "CEL101")]


def test_a_symlink_loop_is_a_finding(tmp_path, check):
    write(tmp_path / "app.py", APP.encode())
    (tmp_path / "loop.py").symlink_to("loop.py")
    assert check(tmp_path) == [("app.py", 4, "CEL101"), ("loop.py", 1, "JL001")]


def test_a_directory_symlink_loop_is_not_followed(tmp_path, check):
    write(tmp_path / "pkg" / "app.py", APP.encode())
    (tmp_path / "pkg" / "up").symlink_to("..")
    (tmp_path / "pkg" / "self").symlink_to(".")
    assert check(tmp_path) == [("pkg/app.py", 4, "CEL101")]


def test_a_symlink_loop_named_on_the_command_line_is_one_line(tmp_path, cli_run):
    (tmp_path / "loop.py").symlink_to("loop.py")
    result = cli_run(tmp_path, "check", "loop.py")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["joblint: error: loop.py: a broken or looping symbolic link"]


def test_a_fifo_named_like_a_module_is_skipped_not_read(tmp_path, cli_run):
    # Reading a FIFO blocks until someone writes to it: the run would never finish.
    write(tmp_path / "app.py", APP.encode())
    os.mkfifo(tmp_path / "pipe.py")
    # A child process with a time limit: were the FIFO read, the run would hang, not fail.
    walked = joblint("check", "--select", "CEL101", "--output-format", "concise", ".", cwd=tmp_path, timeout=60)
    assert concise(walked) == [("app.py", 4, "CEL101")]
    result = cli_run(tmp_path, "check", "pipe.py")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["joblint: error: pipe.py: not a regular file or directory"]


def test_a_file_deleted_after_discovery(tmp_path):
    write(tmp_path / "app.py", APP.encode())
    write(tmp_path / "gone.py", APP.encode())
    cfg = config_mod.discover([tmp_path])
    files = discover([tmp_path], cfg, tmp_path)
    (tmp_path / "gone.py").unlink()
    found = lint_in_process(tmp_path, files)
    assert [f[:3] for f in found] == [("app.py", 4, "CEL101"), ("gone.py", 1, "JL001")]
    assert "cannot read file: No such file or directory" in found[1][3]


def test_a_file_without_read_permission(tmp_path, monkeypatch):
    # The tests may run as root, which reads any file whatever its mode: the refusal is simulated
    # where joblint reads, with the error the kernel gives an ordinary user.
    write(tmp_path / "app.py", APP.encode())
    secret = write(tmp_path / "secret.py", APP.encode())
    real_open = os.open

    def open_file(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if os.path.basename(os.fspath(path)) == secret.name:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_file)
    found = lint_in_process(tmp_path)
    assert [f[:3] for f in found] == [("app.py", 4, "CEL101"), ("secret.py", 1, "JL001")]
    assert found[1][3] == "cannot read file: Permission denied"


def test_a_directory_that_cannot_be_listed(tmp_path, monkeypatch, capsys):
    write(tmp_path / "app.py", APP.encode())
    write(tmp_path / "locked" / "inner.py", APP.encode())
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path).name == "locked":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert [f[:3] for f in lint_in_process(tmp_path)] == [("app.py", 4, "CEL101")]
    warning = capsys.readouterr().err.strip().splitlines()
    assert warning == [f"joblint: warning: {tmp_path / 'locked'}: cannot list directory: Permission denied"]


def test_long_flat_runs_are_analysed_not_refused(tmp_path):
    """500+ implicitly concatenated strings nest libcst's visitors past Python's default limit."""
    import subprocess
    import sys

    source = "import celery\nx = (" + " ".join(['"a"'] * 2000) + ")\nz = " + " + ".join(["1"] * 990) + "\n"
    (tmp_path / "flat.py").write_text(source)
    result = subprocess.run(
        [sys.executable, "-m", "joblint", "check", "--no-cache", "--output-format", "concise", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert "JL001" not in result.stdout and result.returncode == 0, result.stdout + result.stderr
