"""Paths as CI services want them: relative to the repository root, with forward slashes.

Findings carry paths relative to the working directory; the command line puts the working
directory and the repository root into `ReportContext.extra` so reporters can translate.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import ReportContext


def repository_path(display: str, context: ReportContext) -> str:
    cwd = Path(context.extra.get("cwd", "."))
    root = Path(context.extra.get("repository_root", context.root))
    absolute = Path(os.path.abspath(cwd / display))
    try:
        return absolute.relative_to(os.path.abspath(root)).as_posix()
    except ValueError:
        return display.replace(os.sep, "/")
