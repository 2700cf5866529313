"""A progress bar on stderr for long runs at a terminal; nothing at all in pipes and CI logs."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator, TextIO

# Below this many files a run finishes before a bar is worth drawing.
THRESHOLD = 300


def wanted(total: int, stream: TextIO) -> bool:
    if total <= THRESHOLD or os.environ.get("CI") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def bar(total: int, stream: TextIO | None = None, label: str = "Checking") -> Iterator[Callable[[], None] | None]:
    """Yields a callback to call once per file analysed, or None when no bar should be shown."""
    stream = stream if stream is not None else sys.stderr
    if not wanted(total, stream):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(file=stream, force_terminal=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)
