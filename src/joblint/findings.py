"""What the analysis produces: findings, their locations and their fixes. Plain data only."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Applicability(str, Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True, order=True)
class Span:
    """A source range: 1-based lines, 1-based columns counted in characters; end is exclusive."""

    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def point(cls, line: int, col: int = 1) -> Span:
        return cls(line, col, line, col)


@dataclass(frozen=True)
class Edit:
    """Replace the text in `span` with `content` (an empty span inserts)."""

    span: Span
    content: str


@dataclass(frozen=True)
class Fix:
    edits: tuple[Edit, ...]
    applicability: Applicability
    message: str


@dataclass(frozen=True)
class Finding:
    code: str
    name: str
    severity: Severity
    path: str  # as given to the user: relative to the working directory when possible
    span: Span
    message: str
    fix: Fix | None = None
    # The flagged source text, stripped; used by baselines to recognise a finding after lines move.
    source_line: str = field(default="", compare=False)

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.span.line, self.span.col, self.code, self.message)
