"""What the engine knows about one file: the work to do (`FileTask`) and what came of it
(`FileResult`). Plain data, cheap to import: it crosses process boundaries and the cache, and a
run answered from the cache never loads the analysis (libcst, the rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    # The file's bytes as the pipeline read them, once, and the pre-filter kept them: analysis
    # parses these, and the cache key is their hash.
    data: bytes | None = None

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
    # The source lines the file's facts point at (line number -> text), where project rules report:
    # code frames for their findings come from the read that was analysed. Kept in memory for the
    # run, never in the cache (the findings of the file's own rules carry their line).
    lines: dict[int, str] | None = None
    fingerprint: str = ""  # a skipped file's content hash and name: the second look may still read it
