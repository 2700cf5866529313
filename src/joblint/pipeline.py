"""The per-file pipeline: each file read once, pre-filtered, analysed from those bytes, cached.

`probe` runs in the main process, before any file is parsed, and settles every file it can
without a parse: a file the pre-filter skips, a file the cache answers. The rest come back as
`Pending`, carrying the bytes already read (and kept by the pre-filter) to `analyze_and_store`,
which parses them, in a worker when the run is large, and caches the result under the hash of
those very bytes. So a kept file is read and searched for the pre-filter's words once; its
analysis keeps the source lines its findings quote (`analysis`), so no file is read again for a
code frame either.

With a warm cache the stat index answers for unchanged files, which are not read at all. A cold
run reads every file in the workers (`read_chunk`), where the words are looked for at once; the
bytes of the files they keep come back with the answer, and go out again with the work.
"""

from __future__ import annotations

import gc
import sys
from dataclasses import dataclass, replace

from . import prefilter
from .cache import Cache, content_digest, fingerprint, signature
from .files import FileResult, FileTask
from .report.escape import visible
from .safe_io import SOURCE_LIMIT, read_regular


@dataclass(frozen=True)
class Reading:
    """What reading a file tells the probe."""

    stamp: tuple[int, ...] | None  # its stat, taken before reading (with a cache)
    digest: bytes | None  # its content hash (with a cache)
    kept: bool | None  # whether the pre-filter's words keep it; None: not looked for yet
    data: bytes | None  # its bytes, unless the words were looked for and skip it


@dataclass(frozen=True)
class Pending:
    """A file to analyse: its task (with `data`, the bytes read and kept by the pre-filter, when
    the probe read them) and its cache key (None: no cache, an in-memory source, an unreadable
    file, or one that changed while it was probed; a run with such a file is never stored whole)."""

    task: FileTask
    key: str | None = None


def read(task: FileTask, hashed: bool, search: bool = True) -> Reading | None:
    """Read a file for the probe, bounded (`SOURCE_LIMIT`); None when it cannot be read. `hashed`:
    take its stat first and hash it (with a cache). `search`: look for the words at once (a cold
    run's workers); otherwise only when no index answers (`probe`)."""
    try:
        stamp = signature(task.path) if hashed else None
        data = read_regular(task.path, SOURCE_LIMIT)
    except OSError:
        return None
    digest = content_digest(data) if hashed else None
    if search:
        kept = task.wanted(data)
        return Reading(stamp, digest, kept, data if kept else None)
    return Reading(stamp, digest, None, data)


def read_chunk(tasks: list[FileTask], hashed: bool) -> list[Reading | None]:
    """A cold run's reading, in a worker: only the bytes of the files the words keep come back."""
    return [read(task, hashed) for task in tasks]


def _kept(task: FileTask, reading: Reading) -> bool:
    if reading.kept is not None:
        return reading.kept
    return task.wanted(reading.data or b"")


def probe(task: FileTask, cache: Cache | None, reading: Reading | None = None) -> FileResult | str | Pending:
    """What the main process settles without parsing: a skipped file (`FileResult`), the file's
    cache key when the cache holds it (`str`), or the file to analyse (`Pending`).

    Settling every file here, before any worker analyses one, keeps skipped files and cache hits
    off the process pool; with a warm cache, files whose stat is unchanged are not read.
    `reading`: the file already read (`read`), by a worker of a cold run.
    """
    if task.text is not None:
        return Pending(task)  # in-memory sources (fix iterations, stdin) are always analysed
    if cache is None:
        reading = reading or read(task, hashed=False, search=False)
        if reading is None:
            return Pending(task)  # unreadable: its analysis says why
        return Pending(replace(task, data=reading.data)) if _kept(task, reading) else FileResult(task.display)
    if reading is None:
        try:
            digest = cache.known_digest(task.path, cache.stat(task.path))
        except OSError:
            return Pending(task)
        if digest is None:
            reading = read(task, hashed=True, search=False)
            if reading is None:
                return Pending(task)
    if reading is not None:
        digest = reading.digest
        cache.note_digest(task.path, reading.stamp, reading.digest)  # type: ignore[arg-type]
    assert digest is not None
    if task.words is None:  # every file is kept
        key = cache.key(task, digest)
        if reading is None or cache.has(key):
            return key
        return Pending(replace(task, data=reading.data), key)
    skipped = fingerprint(digest, task.path)
    if cache.skipped_before(task.words, skipped):
        return FileResult(task.display, fingerprint=skipped)
    key = cache.key(task, digest)
    if cache.has(key):
        return key  # analysed before with these words: they kept it
    if reading is None:  # the hash came from the index: look for the words now
        reading = read(task, hashed=True, search=False)
        if reading is None or reading.digest != digest:
            return Pending(task)  # unreadable, or changed under our feet: analysis says what is there now
    if not _kept(task, reading):
        cache.note_skipped(task.words, skipped)
        return FileResult(task.display, fingerprint=skipped)
    return Pending(replace(task, data=reading.data), key)


def analyze(task: FileTask) -> FileResult:
    from .analysis import analyze as analyze_file  # libcst and the rules: only when a file is analysed

    return analyze_file(task)


def _unreadable(task: FileTask, error: OSError) -> FileResult:
    """A Python file that cannot be read is a JL001 finding (code that could not be checked). A
    launch file (a Procfile, a CI or compose file, read only for worker command lines) is never a
    reason to fail: skipped with a warning."""
    if task.kind == "launch":
        reason = error.strerror or str(error)
        print(f"joblint: warning: {visible(task.display)}: not read: {reason}", file=sys.stderr)
        return FileResult(task.display)
    from .analysis import unreadable

    return unreadable(task, error)


def analyze_and_store(task: FileTask, cache: Cache | None) -> FileResult:
    """Analyse one file and cache the result under the hash of the bytes actually analysed.

    `task.data`: the bytes the probe read, which the pre-filter kept. Without them (a cache entry
    that could not be loaded, a file the probe could not read or saw change) the file is read
    here, once, and pre-filtered."""
    _collect_now_and_then()
    if task.text is not None:
        return analyze(task)
    data = task.data
    if data is not None:
        result = analyze(task)
    else:
        try:
            data = read_regular(task.path, SOURCE_LIMIT)
        except OSError as error:
            return _unreadable(task, error)
        result = analyze(replace(task, data=data)) if task.wanted(data) else FileResult(task.display)
    if cache is not None:
        cache.store(cache.key(task, content_digest(data)), replace(result, lines=None))
    return result


_analysed = 0
COLLECT_EVERY = 32


def _collect_now_and_then() -> None:
    """With the cycle collector off (cli.main), the small cycles `ast.literal_eval` leaves behind
    (libcst evaluates literals with it) would pile up, some 10 KB a file: collect the young
    generation, what was made since, every few files."""
    global _analysed
    _analysed += 1
    if _analysed % COLLECT_EVERY == 0 and not gc.isenabled():
        gc.collect(0)


def analyze_chunk(tasks: list[FileTask], cache: Cache | None) -> list[FileResult]:
    """A worker's unit of work: several files per submission, so small files do not pay IPC each."""
    return [analyze_and_store(task, cache) for task in tasks]


def keeps_text_chunk(
    tasks: list[FileTask], look: prefilter.SecondLook, stamped: bool
) -> list[tuple[str | None, bool, Reading | None]]:
    """`look.keeps_text` for each skipped file, with the fingerprint of the bytes read (None:
    unreadable) and, for a file it keeps, the reading (`stamped`: with the stat taken before, for
    the cache), so that its analysis does not read it again."""
    answers: list[tuple[str | None, bool, Reading | None]] = []
    for task in tasks:
        try:
            stamp = signature(task.path) if stamped else None
            data = read_regular(task.path, SOURCE_LIMIT)
        except OSError:
            answers.append((None, False, None))
            continue
        digest = content_digest(data)
        keeps = look.keeps_text(data, task.path)
        answers.append((fingerprint(digest, task.path), keeps, Reading(stamp, digest, True, data) if keeps else None))
    return answers
