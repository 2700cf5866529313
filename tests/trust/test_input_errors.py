"""Input a user gave that joblint cannot use is a user error: one line naming it and exit 2, never
"internal error" (issue 21, item 11)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ._run import joblint

APP = 'from celery import Celery\napp = Celery("p", task_serializer="pickle")\n'


def test_a_config_nested_thousands_deep_is_invalid_toml(tmp_path: Path) -> None:
    depth = 5000
    (tmp_path / "pyproject.toml").write_text("[tool.joblint]\nx = " + "[" * depth + "]" * depth + "\n")
    (tmp_path / "app.py").write_text(APP)
    result = joblint("check", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"joblint: error: {tmp_path / 'pyproject.toml'}: invalid TOML: nested too deeply to read"
    ]


def test_a_stdin_filename_too_long_for_the_file_system_is_still_checked(tmp_path: Path) -> None:
    name = "a" * 5000 + ".py"
    result = subprocess.run(
        [sys.executable, "-m", "joblint", "check", "--no-cache", "--output-format", "concise",
         "--stdin-filename", name],
        cwd=tmp_path, input=APP, capture_output=True, text=True, timeout=120,
    )
    assert "internal error" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stderr
    codes = [line.split(": ", 1)[1].split()[0] for line in result.stdout.splitlines()]
    assert codes == ["CEL101"]
