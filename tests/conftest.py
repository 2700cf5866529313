"""Shared helpers: run joblint on a small project written to a temporary directory."""

from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path

import pytest

from joblint import config as config_mod
from joblint import engine
from joblint.discover import discover
from joblint.findings import Finding
from joblint.rules import all_meta

# The cache key lives in the user's cache directory: tests, and the joblint processes they start,
# make theirs in a private one, never in the real home.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="joblint-tests-home-")


def write_project(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def lint(
    root: Path, select: list[str] | None = None, jobs: int = 1, overrides: dict[str, str] | None = None
) -> list[Finding]:
    """What `joblint check` run in `root` reports (in-process); paths are relative to `root`."""
    cfg = config_mod.discover([root])
    enabled = config_mod.select(cfg.settings, all_meta(), "test", select)
    files = discover([root], cfg, root)
    return engine.run(files, cfg, enabled, jobs, overrides).findings


@pytest.fixture
def project(tmp_path: Path):
    """`project({"app.py": "..."}, select=["CEL101"])` -> [(path, line, code), ...]"""

    def run(files: dict[str, str], select: list[str] | None = None) -> list[tuple[str, int, str]]:
        write_project(tmp_path, files)
        return [(f.path, f.span.line, f.code) for f in lint(tmp_path, select)]

    run.root = tmp_path  # type: ignore[attr-defined]
    return run
