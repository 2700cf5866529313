"""Types and style are checked on every test run (and so by CI): mypy and ruff, as configured in
pyproject.toml, must be clean. A failure prints what they found."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_mypy_is_clean():
    done = _run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_is_clean():
    done = _run("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr
