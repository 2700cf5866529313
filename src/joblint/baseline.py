"""Baselines: record today's findings, then report only the ones that are new.

A finding is recognised by its code, its path and a fingerprint of the flagged source text
(whitespace-normalised, plus its occurrence index among identical lines), never by its line
number: code added or removed elsewhere in the file moves lines but leaves the baseline valid.
The file is sorted JSON with no timestamps, so it diffs cleanly in review.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .findings import Finding
from .safe_io import BASELINE_LIMIT, read_regular, write_atomically

FORMAT_VERSION = 1
_SPACE = re.compile(r"\s+")


class BaselineError(Exception):
    """A baseline file that cannot be read; one line, exit code 2."""


def normalise(source_line: str) -> str:
    """The flagged text with indentation and runs of whitespace folded, so reformatting is ignored."""
    return _SPACE.sub(" ", source_line).strip()


def fingerprints(findings: Iterable[Finding], path_of: Callable[[Finding], str] = lambda f: f.path) -> list[str]:
    """A stable id per finding: code, path, normalised source text and occurrence index.

    The occurrence index tells apart identical flagged lines in one file (counted in file order),
    so two copies of the same bad line are two entries, and fixing one leaves the other's id.
    """
    ordered = sorted(enumerate(findings), key=lambda item: item[1].sort_key)
    seen: Counter[tuple[str, str, str]] = Counter()
    out: dict[int, str] = {}
    for index, finding in ordered:
        key = (finding.code, path_of(finding), normalise(finding.source_line))
        occurrence = seen[key]
        seen[key] += 1
        digest = hashlib.sha256("\0".join((*key, str(occurrence))).encode("utf-8", "surrogateescape")).hexdigest()
        out[index] = digest[:20]
    return [out[i] for i in range(len(out))]


@dataclass(frozen=True)
class Entry:
    code: str
    path: str  # relative to the baseline file's directory (../ when outside it), with forward slashes
    fingerprint: str


class Baseline:
    """The findings a project has accepted for now."""

    def __init__(self, entries: Iterable[Entry], directory: Path) -> None:
        self.entries = frozenset(entries)
        self.directory = directory

    @classmethod
    def load(cls, path: Path) -> Baseline:
        try:
            # A regular file, bounded: a baseline set to /dev/zero or a FIFO stops the run at once.
            data = json.loads(read_regular(path, BASELINE_LIMIT).decode("utf-8"))
        except FileNotFoundError:
            raise BaselineError(f"{path}: baseline file not found (create it with --write-baseline)") from None
        except OSError as exc:
            raise BaselineError(f"{path}: cannot read baseline: {exc.strerror or exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BaselineError(f"{path}: not a joblint baseline: invalid JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
            raise BaselineError(f"{path}: not a joblint baseline: no 'findings' list")
        if data.get("version") != FORMAT_VERSION:
            raise BaselineError(
                f"{path}: unsupported baseline version {data.get('version')!r} (expected {FORMAT_VERSION})"
            )
        try:
            entries = [Entry(str(e["code"]), str(e["path"]), str(e["fingerprint"])) for e in data["findings"]]
        except (KeyError, TypeError):
            raise BaselineError(
                f"{path}: not a joblint baseline: each finding needs code, path and fingerprint"
            ) from None
        return cls(entries, path.resolve().parent)

    @classmethod
    def of(cls, findings: list[Finding], directory: Path, cwd: Path) -> Baseline:
        path_of = _relative_to(directory, cwd)
        ids = fingerprints(findings, path_of)
        return cls((Entry(f.code, path_of(f), fp) for f, fp in zip(findings, ids)), directory)

    def new(self, findings: list[Finding], cwd: Path) -> list[Finding]:
        """The findings the baseline does not know, in their original order."""
        path_of = _relative_to(self.directory, cwd)
        ids = fingerprints(findings, path_of)
        return [f for f, fp in zip(findings, ids) if Entry(f.code, path_of(f), fp) not in self.entries]

    def dumps(self) -> str:
        rows = sorted(self.entries, key=lambda e: (e.path, e.code, e.fingerprint))
        document = {
            "version": FORMAT_VERSION,
            "tool": "joblint",
            "findings": [{"code": e.code, "path": e.path, "fingerprint": e.fingerprint} for e in rows],
        }
        return json.dumps(document, indent=2, sort_keys=True) + "\n"

    def write(self, path: Path) -> None:
        """Write atomically (a temporary file renamed into place): a symlink at `path` is replaced,
        never written through. The caller refuses a path the project aimed (`check_output_path`)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, self.dumps().encode("utf-8"))


def _relative_to(directory: Path, cwd: Path) -> Callable[[Finding], str]:
    """Finding paths are relative to the working directory; baselines store them relative to their own."""
    directory = directory.resolve()
    cache: dict[str, str] = {}

    def path_of(finding: Finding) -> str:
        if finding.path not in cache:
            absolute = (cwd / finding.path).resolve()
            try:
                relative = os.path.relpath(absolute, directory)
            except ValueError:  # another drive on Windows
                relative = str(absolute)
            cache[finding.path] = relative.replace(os.sep, "/")
        return cache[finding.path]

    return path_of
