"""What a file rule sees: one file's source, its libcst module and its facts."""

from __future__ import annotations

from functools import cached_property

import libcst as cst

from .facts import ModuleFacts
from .facts.walker import Positions
from .findings import Span


class FileContext:
    def __init__(self, path: str, text: str, module: cst.Module, facts: ModuleFacts) -> None:
        self.path = path
        self.text = text
        self.module = module
        self.facts = facts

    @cached_property
    def _positions(self):  # type: ignore[no-untyped-def]
        # Computed at most once per file, and only for files where a rule reports a node; the
        # walker's token-index positions, not libcst's PositionProvider (several times slower).
        return Positions(self.module, text=self.text)  # columns counted in the text, as edits are applied

    def span(self, node: cst.CSTNode) -> Span:
        rng = self._positions[node]
        return Span(rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1)
