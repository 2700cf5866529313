"""The progress bar: on a terminal for long runs, never in pipes or CI logs."""

from __future__ import annotations

import io
import subprocess
import sys

from conftest import write_project
from joblint import config as config_mod
from joblint import engine
from joblint.discover import discover
from joblint.progress import THRESHOLD, bar
from joblint.rules import all_meta


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_is_drawn_on_a_terminal_for_a_long_run(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    stream = Terminal()
    with bar(THRESHOLD + 1, stream) as tick:
        assert tick is not None
        for _ in range(THRESHOLD + 1):
            tick()
    assert "Checking" in stream.getvalue()


def test_no_bar_in_a_pipe_for_a_short_run_or_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with bar(THRESHOLD * 10, io.StringIO()) as tick:
        assert tick is None
    with bar(THRESHOLD, Terminal()) as tick:
        assert tick is None
    monkeypatch.setenv("CI", "true")
    stream = Terminal()
    with bar(THRESHOLD * 10, stream) as tick:
        assert tick is None
    assert stream.getvalue() == ""


def test_engine_reports_each_file_analysed(tmp_path):
    write_project(tmp_path, {f"m{i}.py": "import celery\n" for i in range(7)})
    config = config_mod.discover([tmp_path])
    files = discover([tmp_path], config, tmp_path)
    ticks = []
    engine.run(files, config, frozenset(all_meta()), 1, progress=lambda: ticks.append(1))
    assert len(ticks) == 7


def test_nothing_of_it_reaches_a_piped_stderr(tmp_path):
    write_project(tmp_path, {f"pkg/m{i}.py": "x = 1\n" for i in range(THRESHOLD + 20)})
    result = subprocess.run(
        [sys.executable, "-m", "joblint", "check", "."], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    assert result.stderr == (
        f"All checks passed! ({THRESHOLD + 20} files checked, {THRESHOLD + 20} skipped by the pre-filter)\n"
    )
