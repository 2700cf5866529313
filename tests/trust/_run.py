"""Helpers for the trust tests: joblint as a user runs it, in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def joblint(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`joblint ARGS` in `cwd`: a crash of the native parser kills the child, never the test run."""
    return subprocess.run(
        [sys.executable, "-m", "joblint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def concise(result: subprocess.CompletedProcess) -> list[tuple[str, int, str]]:
    """(path, line, code) of each finding in concise output."""
    out = []
    for line in result.stdout.splitlines():
        path, row, _col, rest = line.split(":", 3)
        out.append((path, int(row), rest.split()[0]))
    return out
