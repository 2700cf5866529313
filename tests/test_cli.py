"""The command line as a user meets it: output, exit codes, config errors, fixes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import write_project

PICKLE_APP = """
from celery import Celery

app = Celery("proj")
app.conf.update(task_serializer="pickle")
"""


def joblint(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "joblint", *args], cwd=cwd, capture_output=True, text=True, input=stdin, timeout=120
    )


def test_concise_finding_at_line_and_exit_1(tmp_path):
    write_project(tmp_path, {"proj/app.py": PICKLE_APP})
    result = joblint("check", "--output-format", "concise", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert any(line.startswith("proj/app.py:4:33: CEL101 ") for line in result.stdout.splitlines())
    assert "Traceback" not in result.stderr


def test_bare_path_means_check_and_clean_exits_0(tmp_path):
    write_project(
        tmp_path,
        {
            "app.py": PICKLE_APP.replace("pickle", "json").replace(
                '"proj"',
                '"proj", task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,'
                " task_time_limit=300",
            )
        },
    )
    result = joblint(".", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "All checks passed" in result.stderr


def test_json_output_fields(tmp_path):
    write_project(tmp_path, {"app.py": PICKLE_APP})
    result = joblint("check", "--select", "CEL101", "--output-format", "json", cwd=tmp_path)
    [item] = json.loads(result.stdout)
    assert set(item) == {"code", "name", "severity", "message", "filename", "location", "end_location", "fix", "url"}
    assert item["code"] == "CEL101" and item["name"] == "pickle-serializer" and item["severity"] == "error"
    assert item["location"] == {"row": 4, "column": 33} and item["end_location"] == {"row": 4, "column": 41}
    assert item["fix"]["applicability"] == "unsafe"
    assert item["fix"]["edits"] == [
        {"content": '"json"', "location": {"row": 4, "column": 33}, "end_location": {"row": 4, "column": 41}}
    ]


def test_noqa_and_joblint_ignore_suppress(tmp_path):
    write_project(
        tmp_path,
        {
            "a.py": PICKLE_APP.replace('"pickle")', '"pickle")  # noqa: CEL101'),
            "b.py": PICKLE_APP.replace('"pickle")', '"pickle")  # joblint: ignore[CEL101]'),
            "c.py": PICKLE_APP.replace('"pickle")', '"pickle")  # noqa'),
            "d.py": PICKLE_APP.replace('"pickle")', '"pickle")  # noqa: E501'),
            "e.py": (
                'from celery import Celery\napp = Celery("p")\n'
                'app.conf.update(  # noqa: CEL101\n    task_serializer="pickle",\n)\n'
            ),
        },
    )
    result = joblint("check", "--select", "CEL101", "--output-format", "concise", cwd=tmp_path)
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["d.py"]


def test_noqa_with_other_linters_codes_suppresses_only_what_it_lists(tmp_path):
    write_project(
        tmp_path,
        {
            "a.py": (
                'from celery import Celery\napp = Celery("p")\n'
                'app.conf.update(  # noqa: E501, cel101\n    task_serializer="pickle",\n)\n'
            ),
            "b.py": (
                'from celery import Celery  # noqa: F401\napp = Celery("p")\n'
                'app.conf.update(  # noqa: E501\n    task_serializer="pickle",\n)\n'
            ),
        },
    )
    result = joblint("check", "--select", "CEL101", "--output-format", "concise", cwd=tmp_path)
    assert [line.split(":")[:2] for line in result.stdout.splitlines()] == [["b.py", "4"]]


def test_upper_case_and_unclosed_suppressions_still_suppress(tmp_path):
    write_project(
        tmp_path,
        {
            "a.py": PICKLE_APP.replace('"pickle")', '"pickle")  # NOQA'),
            "b.py": PICKLE_APP.replace('"pickle")', '"pickle")  # JOBLINT: ignore') + "x = [1][0]\n",
            "c.py": (
                PICKLE_APP.replace('"pickle")', '"pickle")  # joblint: ignore[') + "first = [1, 2][0]  # noqa: E501\n"
            ),
        },
    )
    result = joblint("check", "--select", "CEL101", "--output-format", "concise", cwd=tmp_path)
    assert result.stdout.splitlines() == [] and result.returncode == 0


def test_every_rule_code_has_a_prefix_suppression_comments_are_read_for():
    from joblint.rules import all_meta
    from joblint.suppress import CODE_PREFIXES

    assert all(code.startswith(CODE_PREFIXES) for code in all_meta())


def test_config_ignore_and_select(tmp_path):
    write_project(tmp_path, {"app.py": PICKLE_APP, "pyproject.toml": '[tool.joblint]\nignore = ["CEL101", "CEL102"]\n'})
    assert joblint("check", cwd=tmp_path).returncode == 0
    (tmp_path / "pyproject.toml").write_text('[tool.joblint]\nignore = ["CEL1"]\nextend-select = []\n')
    assert joblint("check", cwd=tmp_path).returncode == 0
    (tmp_path / "pyproject.toml").write_text('[tool.joblint]\nselect = ["soft-time-limit-not-below-hard"]\n')
    assert joblint("check", cwd=tmp_path).returncode == 0


def test_per_file_ignores(tmp_path):
    write_project(
        tmp_path,
        {
            "legacy/app.py": PICKLE_APP,
            "app.py": PICKLE_APP,
            "pyproject.toml": '[tool.joblint.per-file-ignores]\n"legacy/*" = ["CEL101"]\n',
        },
    )
    result = joblint("check", "--select", "CEL101", "--output-format", "concise", cwd=tmp_path)
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["app.py"]


def test_bad_config_key_is_one_line_exit_2(tmp_path):
    write_project(tmp_path, {"app.py": PICKLE_APP, "pyproject.toml": '[tool.joblint]\nignroe = ["CEL101"]\n'})
    result = joblint("check", cwd=tmp_path)
    assert result.returncode == 2
    assert "ignroe" in result.stderr and "pyproject.toml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_bad_selector_and_bad_toml_exit_2(tmp_path):
    write_project(tmp_path, {"app.py": PICKLE_APP, "pyproject.toml": '[tool.joblint]\nselect = ["NOPE999"]\n'})
    result = joblint("check", cwd=tmp_path)
    assert result.returncode == 2 and "NOPE999" in result.stderr
    (tmp_path / "pyproject.toml").write_text("[tool.joblint\n")
    result = joblint("check", cwd=tmp_path)
    assert result.returncode == 2 and "invalid TOML" in result.stderr and "Traceback" not in result.stderr
    result = joblint("check", "--select", "CEL999", cwd=tmp_path / "..")
    assert result.returncode == 2


def test_missing_path_exit_2(tmp_path):
    result = joblint("check", "does-not-exist", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "joblint: error: does-not-exist: no such file or directory"


def test_syntax_error_is_reported_and_run_goes_on(tmp_path):
    write_project(
        tmp_path, {"broken.py": "from celery import Celery\napp.conf.task_time_limit = (\n", "app.py": PICKLE_APP}
    )
    result = joblint("check", "--select", "CEL101,CEL104,JL001", "--output-format", "concise", cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert any(line.startswith("app.py:4:33: CEL101") for line in lines)
    assert any(line.startswith("broken.py:") and " JL001 " in line for line in lines)
    assert result.returncode == 1


def test_fix_unsafe_rewrites_and_converges(tmp_path):
    write_project(tmp_path, {"app.py": PICKLE_APP})
    assert joblint("check", "--fix", cwd=tmp_path).returncode == 1  # the fix is unsafe: not applied
    assert "pickle" in (tmp_path / "app.py").read_text()
    result = joblint("check", "--select", "CEL101", "--fix", "--unsafe-fixes", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'task_serializer="json"' in (tmp_path / "app.py").read_text()
    second = joblint("check", "--select", "CEL101", cwd=tmp_path)
    assert second.returncode == 0


def test_diff_changes_nothing(tmp_path):
    write_project(tmp_path, {"app.py": PICKLE_APP})
    before = (tmp_path / "app.py").read_bytes()
    result = joblint("check", "--select", "CEL101", "--diff", "--unsafe-fixes", cwd=tmp_path)
    assert result.returncode == 1
    assert '-app.conf.update(task_serializer="pickle")' in result.stdout
    assert '+app.conf.update(task_serializer="json")' in result.stdout
    assert (tmp_path / "app.py").read_bytes() == before


def test_fix_and_diff_conflict(tmp_path):
    result = joblint("check", "--fix", "--diff", cwd=tmp_path)
    assert result.returncode == 2 and "cannot be used together" in result.stderr


def test_rule_and_rules_commands(tmp_path):
    result = joblint("rule", "CEL101", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("# CEL101 pickle-serializer")
    assert joblint("rule", "pickle-serializer", cwd=tmp_path).stdout == result.stdout
    assert joblint("rule", "NOPE", cwd=tmp_path).returncode == 2
    rows = json.loads(joblint("rules", "--output-format", "json", cwd=tmp_path).stdout)
    assert {"code": "CEL101", "name": "pickle-serializer"}.items() <= (
        rows[[r["code"] for r in rows].index("CEL101")].items()
    )
    table = joblint("rules", cwd=tmp_path).stdout
    assert "CEL104" in table and "soft-time-limit-not-below-hard" in table


def test_full_output_groups_by_file_with_code_frame(tmp_path):
    write_project(tmp_path, {"app.py": PICKLE_APP})
    result = joblint("check", "--select", "CEL101", "--output-format", "full", cwd=tmp_path)
    assert "\x1b[" not in result.stdout  # no colour when not a terminal
    lines = result.stdout.splitlines()
    assert lines[0] == "app.py"
    assert lines[1].startswith("4:33 CEL101 error: ")
    assert lines[2] == '  4 | app.conf.update(task_serializer="pickle")'
    assert lines[3] == "    |                                 ^^^^^^^^"
    assert "Found 1 finding (1 error) in 1 file." in result.stdout


def test_all_output_reaches_a_pipe_before_the_process_leaves(tmp_path):
    """`joblint` leaves without tearing the interpreter down: what a command buffered for a pipe
    (`rule` and `rules` print without flushing) must still arrive whole, with the exit code."""
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as most users run it

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "joblint", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=buffered,
            timeout=120,
        )

    document = run("rule", "CEL101")
    assert document.returncode == 0, document.stderr
    assert document.stdout.startswith("# CEL101") and document.stdout.endswith("\n")
    listing = run("rules", "--output-format", "json")
    assert {"CEL101", "TMP101", "ARQ101"} <= {row["code"] for row in json.loads(listing.stdout)}
    write_project(tmp_path, {f"proj/app{i}.py": PICKLE_APP for i in range(300)})
    result = run("check", "--output-format", "json", ".")
    assert result.returncode == 1, result.stderr
    assert len({f["filename"] for f in json.loads(result.stdout) if f["code"] == "CEL101"}) == 300


def test_output_format_choices_come_from_the_reporter_registry():
    """The formats are written once, in report/__init__.py: both commands offer exactly those,
    their help lists them, and each renders."""
    import argparse

    from joblint.cli import build_parser
    from joblint.report import FORMATS, PIPED_DEFAULT, REPORTERS, TERMINAL_DEFAULT, ReportContext, renderer

    assert FORMATS == tuple(REPORTERS) and {TERMINAL_DEFAULT, PIPED_DEFAULT} <= set(FORMATS)
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    for command in ("check", "check-app"):
        action = next(a for a in commands[command]._actions if "--output-format" in a.option_strings)
        assert tuple(action.choices) == FORMATS, command
    help_text = " ".join(commands["check"].format_help().split())
    assert all(fmt in help_text for fmt in FORMATS)
    for fmt in FORMATS:
        assert isinstance(renderer(fmt)([], ReportContext()), str), fmt


def test_description_names_the_tables_frameworks():
    from joblint.cli import build_parser
    from joblint.frameworks import checked_names

    description = build_parser().description or ""
    assert description == "Lint Celery, ARQ and Temporal background-task code."
    assert all(name in description for name in checked_names())
