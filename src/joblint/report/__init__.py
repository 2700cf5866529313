"""Reporters turn findings into text; they never compute anything about the code.

Each output format is one module with `render(findings, context) -> str`; `full` prints through
rich and is the only one that imports it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

from ..findings import Finding

FORMATS = ("full", "concise", "json", "github", "sarif", "gitlab", "junit", "pylint")


@dataclass(frozen=True)
class ReportContext:
    """What reporters may know besides the findings."""

    files: int = 0
    fixed: int = 0
    color: bool = False
    root: str = "."
    extra: dict = field(default_factory=dict)


def renderer(name: str) -> Callable[[list[Finding], ReportContext], str]:
    if name not in FORMATS:
        raise ValueError(f"unknown output format {name!r}")
    module = importlib.import_module(f"{__name__}.{'json_format' if name == 'json' else name}")
    return module.render
