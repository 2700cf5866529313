"""What the engine knows about one file: the work to do (`FileTask`) and what came of it
(`FileResult`). Plain data, cheap to import: it crosses process boundaries and the cache, and a
run answered from the cache never loads the analysis (libcst, the rules).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from . import prefilter
from .findings import Finding
from .prefilter import Words
from .suppress import Suppressions

if TYPE_CHECKING:
    from .facts import ModuleFacts


@dataclass(frozen=True)
class FileTask:
    path: str  # absolute
    display: str
    rules: tuple[str, ...]  # enabled file-rule codes
    words: Words | None  # pre-filter; None keeps every file
    text: str | None = None  # in-memory source (fix iterations, stdin)
    kind: str = "python"  # or "launch": a file that starts workers (launch.py)
    data: bytes | None = None  # the file's bytes, already read (so a cache key matches what is analysed)

    def wanted(self, data: bytes) -> bool:
        """Whether the pre-filter keeps the file, given its bytes: launch files are no Python,
        so their comments count."""
        return prefilter.keeps(data, self.words, self.path, python=self.kind == "python")


@dataclass
class FileResult:
    display: str
    parsed: bool = False
    facts: ModuleFacts | None = None
    findings: list[Finding] = field(default_factory=list)
    suppressions: Suppressions | None = None
    lines: list[str] | None = None  # source lines, kept only when a finding needs a code frame
    fingerprint: str = ""  # a skipped file's content hash and name: the second look may still read it


@lru_cache(maxsize=8192)
def packages(directory: str) -> tuple[str, ...]:
    """The package names `directory` sits in, outermost first (with a file's name, its module);
    () outside a package tree."""
    if not os.path.isfile(os.path.join(directory, "__init__.py")):
        return ()
    parent, name = os.path.split(directory)
    return (*packages(parent), name) if parent != directory and name else (name,)


def rescan_packages() -> None:
    """Forget which directories held an `__init__.py`: a long-lived process runs again later."""
    packages.cache_clear()


def module_name(path: Path | str) -> tuple[str | None, bool]:
    """The dotted module name from the package tree the file sits in, and whether it is a package."""
    directory, filename = os.path.split(os.fspath(path))
    is_package = filename == "__init__.py"
    parts = [*packages(directory), *([] if is_package else [os.path.splitext(filename)[0]])]
    if not parts or not all(p.isidentifier() for p in parts):
        return (None, is_package)
    return (".".join(parts), is_package)
