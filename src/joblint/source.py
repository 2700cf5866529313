"""Source files as text: decoding, lines, where a file sits (its module name, whether it is a test).

The lowest layer: it imports nothing of joblint's, so facts, rules and the pipeline all build on it.
"""

from __future__ import annotations

import os
import re
import tokenize
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_NEWLINE = re.compile(r"\r\n|\r|\n")

_LINE_BYTES = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")

# Larger files are reported, not parsed: libcst takes about 20 s and 250 MB per MB of dense code.
# The largest hand-written or generated module in the CPython tree, its site-packages and the
# corpus is under 4 MB (and mostly string data).
MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Source:
    """A decoded source file and what is needed to write it back unchanged."""

    text: str
    encoding: str
    newline: str

    @classmethod
    def decode(cls, data: bytes) -> Source:
        # tokenize reads lines ending in \n only: a file with lone \r line ends would be one line,
        # its coding cookie decoded as UTF-8 together with the rest of the file.
        lines = (m.group() for m in _LINE_BYTES.finditer(data))
        encoding, _ = tokenize.detect_encoding(lambda: next(lines, b""))
        text = data.decode(encoding)
        if encoding == "utf-8-sig" and text.startswith("\ufeff"):
            text = text[1:]
        match = _NEWLINE.search(text)
        return cls(text, encoding, match.group(0) if match else "\n")

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)


def line_starts(text: str) -> list[int]:
    """Offsets where each line starts, counting \\r\\n, \\r and \\n as line ends as libcst does."""
    return [0, *(m.end() for m in _NEWLINE.finditer(text))]


def source_lines(text: str) -> list[str]:
    return _NEWLINE.split(text)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """`text.splitlines(keepends)` with Python's line model: only \\r\\n, \\r and \\n end a line.

    `str.splitlines` also splits at \\v, \\f, \\x1c-\\x1e, \\x85, \\u2028 and \\u2029, which Python
    reads as part of a line (a form feed before a statement, any of them in a string or comment):
    line numbers, code frames and diffs of source text use this instead."""
    if keepends:
        return _LINE.findall(text)
    return [line.rstrip("\r\n") for line in _LINE.findall(text)]


# Test code, by where it sits in the project (see `is_test_path`); the README's "Test code" section
# says the same in words.
_TEST_DIRECTORIES = frozenset({"tests", "test", "t", "testing", "testutils", "test_utils", "testsuite", "testproject"})
# settings/test.py, app/tests.py; settings/pytest.py (a module named pytest can only be test
# configuration: anything else would shadow pytest itself)
_TEST_STEMS = frozenset({"test", "tests", "testing", "conftest", "pytest"})


def is_test_path(path: str) -> bool:
    """Whether the file at `path` (relative to the project root, `/` or `\\` between parts) is test
    code: a file in a test directory (`tests/`, `test/`, `t/`, `testing/`, `testutils/`,
    `test_*/`, `*_tests/`, ...), a test module (`test_*.py`, `*_test.py`, `*_tests.py`,
    `tests.py`, `conftest.py`) or a test settings module (`settings/test.py`, `test_settings.py`,
    `settings_test.py`, `settings/testing.py`, `settings/pytest.py`, `settings_testing.py`).

    Names match whole: `t` only as a directory, `contest.py`, `latest.py` and `testimonials.py`
    are no tests. The project's own directories only: a path relative to somewhere above the
    project (`/home/test/proj/app.py`) would make everything test code."""
    *directories, name = path.replace("\\", "/").split("/")
    if name.endswith(".py") and _is_test_name(name[:-3], _TEST_STEMS, ("_test", "_tests", "_testing")):
        return True
    return any(_is_test_name(d, _TEST_DIRECTORIES, ("_test", "_tests")) for d in directories)


def _is_test_name(name: str, whole: frozenset[str], suffixes: tuple[str, ...]) -> bool:
    return name in whole or name.startswith("test_") or name.endswith(suffixes)


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


def repository_root(start: Path) -> Path:
    """The real path of the nearest directory at or above `start` holding `.git` (a directory, or
    a file in worktrees) or `.hg`; `start` itself (resolved) outside any repository."""
    try:
        start = start.resolve()
    except (OSError, RuntimeError):
        start = Path(os.path.abspath(start))
    for directory in (start, *start.parents):
        if os.path.lexists(directory / ".git") or os.path.lexists(directory / ".hg"):
            return directory
    return start
