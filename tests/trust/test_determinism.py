"""The report is the same whatever order the file system lists files in and however many workers run.

Findings are sorted by path, line, column and code; a file system that lists directories in
another order (every file system does) or a pool that finishes files in another order must not
change a byte of the output.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from joblint import config as config_mod
from joblint import engine
from joblint.discover import discover
from joblint.rules import all_meta

APP = """
from celery import Celery

app = Celery("proj")
app.conf.update(task_serializer="pickle", task_acks_late=False)
app.conf.result_serializer = "pickle"
"""

TASKS = """
from celery import shared_task


@shared_task
def step{n}(x):
    return x


@shared_task(bind=True)
def retry{n}(self):
    try:
        return 1
    except Exception as exc:
        self.retry(exc=exc)
"""

# Enough files that --jobs 2 hands them to a process pool.
FILES = {
    "proj/app.py": APP,
    "proj/zeta/app.py": APP,
    "proj/alpha/app.py": APP,
    "broken.py": "def broken(:\n",
    **{f"proj/pkg{n % 7}/tasks_{n}.py": TASKS.format(n=n) for n in range(engine.POOL_THRESHOLD + 2)},
}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("determinism")
    for name, text in FILES.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return base


@pytest.fixture(scope="module")
def expected(root: Path) -> list[tuple]:
    return findings(root, jobs=1)


def findings(root: Path, jobs: int) -> list[tuple]:
    cfg = config_mod.discover([root])
    enabled = config_mod.select(cfg.settings, all_meta(), "test", ["ALL"])
    files = discover([root], cfg, root)
    return [
        (f.path, f.span.line, f.span.col, f.code, f.message) for f in engine.run(files, cfg, enabled, jobs).findings
    ]


def shuffled_walk(seed: int):
    """os.walk as a file system with another directory order would give it."""
    real_walk = os.walk
    rng = random.Random(seed)

    def walk(top, topdown=True, onerror=None, followlinks=False):
        for directory, dirnames, filenames in real_walk(top, topdown, onerror, followlinks):
            rng.shuffle(dirnames)
            rng.shuffle(filenames)
            yield directory, dirnames, filenames

    return walk


def test_findings_are_sorted_by_path_line_column_code(expected):
    assert len({f[0] for f in expected}) > 10, "the project must give findings in many files"
    assert expected == sorted(expected, key=lambda f: (f[0], f[1], f[2], f[3]))


@pytest.mark.parametrize("seed, jobs", [(1, 1), (2, 2), (3, 2)])
def test_file_system_order_and_workers_do_not_change_the_output(root, expected, monkeypatch, seed, jobs):
    monkeypatch.setattr(os, "walk", shuffled_walk(seed))
    assert findings(root, jobs=jobs) == expected


def test_reversed_directory_listing(root, expected, monkeypatch):
    real_scandir = os.scandir

    class Reversed:
        """A directory listing in the opposite order, as os.walk consumes it."""

        def __init__(self, path="."):
            with real_scandir(path) as entries:
                self._entries = sorted(entries, key=lambda e: e.name, reverse=True)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def __iter__(self):
            return self

        def __next__(self):
            if not self._entries:
                raise StopIteration
            return self._entries.pop(0)

        def close(self):
            self._entries = []

    monkeypatch.setattr(os, "scandir", Reversed)
    assert findings(root, jobs=2) == expected
