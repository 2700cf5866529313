"""Reporters turn findings into text; they never compute anything about the code.

Each output format is one module with `render(findings, context) -> str`, registered in
`REPORTERS`; the command line's `--output-format` choices come from that registry. `full` prints
through rich and is the only one that imports it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, cast

from ..findings import Finding

# Output format -> the module of this package that renders it, in the order `--help` lists them.
REPORTERS: dict[str, str] = {
    "full": "full",
    "concise": "concise",
    "json": "json_format",
    "github": "github",
    "sarif": "sarif",
    "gitlab": "gitlab",
    "junit": "junit",
    "pylint": "pylint",
}
FORMATS = tuple(REPORTERS)
# The format when none is given: for a person at a terminal, and for a pipe or a file.
TERMINAL_DEFAULT = "full"
PIPED_DEFAULT = "concise"

Render = Callable[[list[Finding], "ReportContext"], str]


@dataclass(frozen=True)
class ReportContext:
    """What reporters may know besides the findings."""

    files: int = 0
    fixed: int = 0
    color: bool = False
    root: str = "."
    extra: dict[str, Any] = field(default_factory=dict)


def renderer(name: str) -> Render:
    if name not in REPORTERS:
        raise ValueError(f"unknown output format {name!r}")
    module = importlib.import_module(f"{__name__}.{REPORTERS[name]}")
    return cast(Render, module.render)
