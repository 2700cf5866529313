"""No JL002 on real code: the CPython standard library and this environment's site-packages.

Whole, that is some 60 MB of Python and more than the normal run can afford on two cores, so the
normal run checks a deterministic sample (files ordered by a hash of their path, taken up to a
size budget; the same files every run on the same installation). JOBLINT_STDLIB_MB=all checks
everything.
"""

from __future__ import annotations

import hashlib
import os
import sysconfig
from pathlib import Path

import pytest

from joblint import config as config_mod
from joblint import engine
from joblint.discover import SourceFile
from joblint.rules import all_meta

pytestmark = pytest.mark.slow

BUDGET = os.environ.get("JOBLINT_STDLIB_MB", "2")


def python_files(root: Path, skip: tuple[Path, ...] = ()) -> list[Path]:
    found = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if Path(directory, d) not in skip)
        found += [Path(directory, name) for name in filenames if name.endswith(".py")]
    return found


def sample(files: list[Path], root: Path) -> list[Path]:
    if BUDGET == "all":
        return sorted(files)
    ordered = sorted(files, key=lambda p: hashlib.sha1(p.relative_to(root).as_posix().encode()).digest())
    chosen, size = [], 0
    for path in ordered:
        size += path.stat().st_size
        if size > float(BUDGET) * 1024 * 1024:
            break
        chosen.append(path)
    return sorted(chosen)


def run_all_rules(files: list[Path]) -> engine.RunResult:
    config = config_mod.Config(config_mod.Settings(), Path("/"), None)
    sources = [SourceFile(path, path.as_posix()) for path in files]
    return engine.run(sources, config, frozenset(all_meta()), jobs=2)


def assert_no_crash(files: list[Path]) -> None:
    assert files
    result = run_all_rules(files)
    crashes = [f"{f.path}:{f.span.line}: {f.message}" for f in result.findings if f.code == "JL002"]
    assert crashes == []
    assert result.files == len(files)


PATHS = sysconfig.get_paths()
STDLIB = Path(PATHS["stdlib"])
SITE = sorted({Path(PATHS["purelib"]), Path(PATHS["platlib"])})


def test_standard_library():
    assert_no_crash(sample(python_files(STDLIB, skip=(STDLIB / "site-packages",)), STDLIB))


@pytest.mark.parametrize("site", SITE, ids=[p.as_posix() for p in SITE])
def test_site_packages(site):
    assert_no_crash(sample(python_files(site), site))
