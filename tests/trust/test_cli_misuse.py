"""Misuse of the command line or the configuration: one line on stderr, exit 2, never a traceback."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from joblint import cli
from joblint.config import schema


@pytest.fixture
def joblint(monkeypatch, capsys):
    """`joblint ARGS` in a directory, run in this process (the misuse is caught before any parsing)."""

    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
        monkeypatch.chdir(cwd)
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    return run

APP = 'from celery import Celery\n\napp = Celery("proj")\napp.conf.update(task_serializer="pickle")\n'


def one_error_line(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("joblint: error: "), lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    for word in words:
        assert word in lines[0]
    return lines[0]


def project(root: Path, pyproject: str | None = None) -> Path:
    (root / "app.py").write_text(APP, encoding="utf-8")
    if pyproject is not None:
        (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    return root


def toml_value(annotation) -> str:  # type: ignore[no-untyped-def]
    """A TOML value of the wrong type for a setting."""
    return "[1, 2]" if annotation in (str, str | None, bool) else "3.5"


FIELDS = sorted((field.alias or name, field.annotation) for name, field in schema().model_fields.items())


@pytest.mark.parametrize("key, annotation", FIELDS, ids=[key for key, _ in FIELDS])
def test_every_setting_with_a_wrong_type(tmp_path, joblint, key, annotation):
    project(tmp_path, f"[tool.joblint]\n{key} = {toml_value(annotation)}\n")
    one_error_line(joblint("check", ".", cwd=tmp_path), "pyproject.toml", key)


@pytest.mark.parametrize(
    "body, words",
    [
        ("nosuch = 1", ("unknown key 'nosuch'",)),
        ('select = ["NOPE999"]', ("unknown rule selector 'NOPE999'",)),
        ('extend-select = ["CEL9999"]', ("unknown rule selector 'CEL9999'",)),
        ('ignore = ["not-a-rule"]', ("unknown rule selector 'not-a-rule'",)),
        ('select = [1]', ("select.0",)),
        ('per-file-ignores = { "tests/*" = ["NOPE"] }', ("unknown rule selector 'NOPE'",)),
        ('per-file-ignores = { "tests/*" = "CEL101" }', ("per-file-ignores",)),
        ('respect-gitignore = "maybe"', ("respect-gitignore",)),
        ('respect-gitignore = "yes"', ("respect-gitignore",)),  # TOML has booleans: no lax coercion
        ("respect-gitignore = 1", ("respect-gitignore",)),
    ],
)
def test_invalid_config_values(tmp_path, joblint, body, words):
    project(tmp_path, f"[tool.joblint]\n{body}\n")
    one_error_line(joblint("check", ".", cwd=tmp_path), "pyproject.toml", *words)


def test_the_joblint_table_is_not_a_table(tmp_path, joblint):
    project(tmp_path, "[tool]\njoblint = 3\n")
    one_error_line(joblint("check", ".", cwd=tmp_path), "must be a table")


@pytest.mark.parametrize(
    "text",
    ["[tool.joblint\n", "[tool.joblint]\nselect = [\"CEL101\"\n", "[tool.joblint]\nselect = = 1\n", "a = 1\na = 2\n"],
)
def test_a_toml_syntax_error(tmp_path, joblint, text):
    project(tmp_path, text)
    one_error_line(joblint("check", ".", cwd=tmp_path), "invalid TOML")


def test_a_pyproject_that_is_not_utf8(tmp_path, joblint):
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.joblint]\n# caf\xe9\n")
    project(tmp_path)
    one_error_line(joblint("check", ".", cwd=tmp_path), "invalid TOML")


def test_an_unreadable_pyproject(tmp_path, monkeypatch, capsys):
    # As root every file is readable: the refusal is simulated where the configuration is read.
    project(tmp_path, "[tool.joblint]\n")
    from joblint import config as config_mod

    real_read = config_mod.read_regular

    def read_regular(path, limit, **options):  # type: ignore[no-untyped-def]
        if Path(path).name == "pyproject.toml":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_read(path, limit, **options)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(config_mod, "read_regular", read_regular)
    assert cli.main(["check", "."]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"joblint: error: {tmp_path / 'pyproject.toml'}: cannot read: Permission denied"]


@pytest.mark.parametrize(
    "args, words",
    [
        (["--select", "NOPE999"], ("unknown rule selector 'NOPE999'",)),
        (["--ignore", "CEL9"], ("unknown rule selector 'CEL9'",)),
        (["--extend-select", "ALL,XYZ"], ("unknown rule selector 'XYZ'",)),
        (["--fix", "--diff"], ("--fix and --diff",)),
        (["--add-noqa", "--fix"], ("--add-noqa",)),
        (["--write-baseline", "b.json", "--diff"], ("--write-baseline",)),
        (["--exit-non-zero-on-fix"], ("needs --fix",)),
        (["--stdin-filename", "x.py", "app.py"], ("--stdin-filename",)),
        (["--jobs", "0"], ("--jobs",)),
        (["--jobs", "many"], ("--jobs",)),
        (["--output-format", "xml"], ("--output-format",)),
        (["--no-such-flag"], ("--no-such-flag",)),
        (["no/such/dir"], ("no/such/dir", "no such file or directory")),
        (["--config", "missing.toml"], ("missing.toml", "not found")),
        (["--baseline", "missing.json"], ("missing.json",)),
    ],
)
def test_command_line_misuse(tmp_path, joblint, args, words):
    project(tmp_path)
    one_error_line(joblint("check", *args, cwd=tmp_path), *words)


def test_an_invalid_baseline_file(tmp_path, joblint):
    project(tmp_path)
    (tmp_path / "b.json").write_text("{not json", encoding="utf-8")
    one_error_line(joblint("check", "--baseline", "b.json", ".", cwd=tmp_path), "b.json")


def test_unknown_rule_for_the_rule_command(tmp_path, joblint):
    one_error_line(joblint("rule", "NOPE999", cwd=tmp_path), "unknown rule 'NOPE999'")


CRASH = """
import sys
from joblint import engine
from joblint.cli import main

def crash(*args, **kwargs):
    raise RuntimeError("simulated bug\\nspanning two lines")

engine.run = crash
sys.exit(main(["check", "--output-format", "concise", "."]))
"""


def test_an_internal_error_is_one_line(tmp_path):
    project(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "JOBLINT_DEBUG"}
    result = subprocess.run(
        [sys.executable, "-c", CRASH], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "joblint: internal error: RuntimeError: simulated bug spanning two lines "
        "(set JOBLINT_DEBUG=1 for the traceback)"
    ]


def test_joblint_debug_shows_the_traceback(tmp_path):
    project(tmp_path)
    env = {**os.environ, "JOBLINT_DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "-c", CRASH], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode != 0
    assert "Traceback (most recent call last)" in result.stderr
    assert 'line 7, in crash\nRuntimeError: simulated bug' in result.stderr
