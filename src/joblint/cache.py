"""Per-file results kept between runs, so a run re-analyses only the files that changed.

An entry holds one file's `FileResult` (its stripped facts, file-rule findings and suppressions).
Its key is the file's content hash, joblint's version and source, the Python version, where the
file sits (display path, module name) and the effective configuration of the rules that read it
(the enabled file rules, the pre-filter words, rule options). The project phase is never cached:
it re-runs on the cached facts every time, so cross-file findings follow a changed settings file.

Entries are written atomically (a temporary file renamed over the entry), so concurrent runs never
read half an entry; an entry that cannot be read (corrupt, truncated, from a foreign version) is a
miss and gets rewritten. The cache lives in `.joblint_cache/` at the project root, with a
`.gitignore` inside so it is never committed.

A warm run does not read files it has seen: an index of each file's size, modification and
change times and inode, with the content hash they had, answers for files whose stat is the same
(as git's index does). A file changed within a second of the index being written is read again,
since a second change in the same clock tick would keep its times.

Entries are pickles read back by an unpickler that only builds joblint's own dataclasses and
enums: a cache directory planted in a repository cannot make joblint run code.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import io
import os
import pickle
import sys
import time
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import __version__, prefilter
from .files import FileResult, FileTask, module_name
from .rules import RuleMeta

DIRECTORY_NAME = ".joblint_cache"
_GITIGNORE = "# Created by joblint: its cache is never committed.\n*\n"
_CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This file marks joblint's cache directory.\n"

# Settings that decide which files are checked or which findings are shown, not what a rule
# computes for one file; changing them must not throw the cache away.
ENGINE_SETTINGS = frozenset(
    {"select", "extend_select", "ignore", "per_file_ignores", "exclude", "extend_exclude", "respect_gitignore",
     "baseline", "cache_dir"}
)


@dataclass(eq=False)
class Cache:
    directory: Path  # the entries' directory, one per joblint build
    options: str  # digest of the settings rules read
    # Files the pre-filter skipped before, by content and name, per set of words: a warm run does
    # not look for the words again (one small index instead of an entry per skipped file).
    skips: dict[object, set[str]] = dataclasses.field(default_factory=dict, compare=False)
    new_skips: dict[object, set[str]] = dataclasses.field(default_factory=dict, compare=False)
    # path -> (stat signature, content hash): files a warm run need not read (see the module doc).
    stamps: dict[str, tuple[tuple[int, ...], bytes]] | None = dataclasses.field(default=None, compare=False)
    new_stamps: dict[str, tuple[tuple[int, ...], bytes]] = dataclasses.field(default_factory=dict, compare=False)

    def __getstate__(self) -> dict[str, object]:
        # Workers only read and write entries: the indexes stay with the main process.
        return {"directory": self.directory, "options": self.options}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(state["directory"], state["options"])  # type: ignore[misc]

    @classmethod
    def open(cls, root: Path, settings: Any = None) -> Cache | None:
        """The cache under `root` (created with its .gitignore), or None when it cannot be created."""
        try:
            _prepare(root)
            directory = root / f"v-{_build()[:16]}"
            directory.mkdir(exist_ok=True)
        except OSError:
            return None
        return cls(directory, _options_digest(settings))

    def key(self, task: FileTask, digest: bytes) -> str:
        name, is_package = module_name(Path(task.path))
        parts = (_build(), self.options, task.display, task.kind, name, is_package, task.rules, task.words, digest.hex())
        return hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()

    def load(self, key: str) -> FileResult | None:
        result = self._load_entry(key)
        return result if isinstance(result, FileResult) else None

    def _load_entry(self, key: str) -> object:
        try:
            data = (self.directory / key).read_bytes()
        except OSError:
            return None
        try:
            stored_key, result = _SafeUnpickler(io.BytesIO(data)).load()
        except Exception:  # noqa: BLE001 - any damage to an entry makes it a miss, rewritten after
            return None
        return result if stored_key == key else None

    def run_key(self, probed: list[FileResult | str | None], enabled: frozenset[str], config: Any) -> str | None:
        """The key of a whole run: every file's key (or skip), the rules and every setting.

        None when some file has no key (unreadable): such a run is never stored whole.
        """
        parts: list[object] = [_build(), sorted(enabled), str(config.root), _settings_dump(config.settings)]
        for settled in probed:
            if settled is None:
                return None
            parts.append(settled if isinstance(settled, str) else ("skipped", settled.display, settled.fingerprint))
        return "run-" + hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()

    def _skip_index(self, words: object) -> set[str]:
        if words not in self.skips:
            stored = self._load_entry(_skip_index_key(words))
            self.skips[words] = stored if isinstance(stored, set) else set()
        return self.skips[words]

    def skipped_before(self, words: object, fingerprint: str) -> bool:
        return fingerprint in self._skip_index(words)

    def note_skipped(self, words: object, fingerprint: str) -> None:
        self.new_skips.setdefault(words, set()).add(fingerprint)

    def save_indexes(self) -> None:
        """Write what this run learnt about skipped files and file stats."""
        self._save_stamps()
        for words, fresh in self.new_skips.items():
            merged = self._skip_index(words) | fresh
            self.store(_skip_index_key(words), merged)  # type: ignore[arg-type]
            self.skips[words] = merged
        self.new_skips.clear()

    def known_digest(self, path: str, signature: tuple[int, ...]) -> bytes | None:
        """The content hash of a file whose stat is what it was when the index last saw it."""
        known = self._stamps().get(path)
        return known[1] if known is not None and known[0] == signature else None

    def knows_stamps(self) -> bool:
        """Whether the index of file stats answers for any file: without it, every file is read."""
        return bool(self._stamps())

    def _stamps(self) -> dict[str, tuple[tuple[int, ...], bytes]]:
        if self.stamps is None:
            stored = self._load_entry(_STAMPS_KEY)
            trusted, stamps = stored if isinstance(stored, tuple) and len(stored) == 2 else (0, {})
            # A file modified within a second of the index being written may have changed again
            # in the same clock tick: its times prove nothing.
            self.stamps = {p: v for p, v in stamps.items() if v[0][1] < trusted}
        return self.stamps

    def note_digest(self, path: str, signature: tuple[int, ...], digest: bytes) -> None:
        self.new_stamps[path] = (signature, digest)

    def has(self, key: str) -> bool:
        return (self.directory / key).exists()

    def _save_stamps(self) -> None:
        if not self.new_stamps:
            return
        merged = {**(self.stamps or {}), **self.new_stamps}
        self.store(_STAMPS_KEY, (time.time_ns() - 1_000_000_000, merged))  # type: ignore[arg-type]
        self.stamps = merged
        self.new_stamps.clear()

    def rules(self) -> dict[str, RuleMeta]:
        """Every rule's metadata (`rules.all_meta()`), kept per build: a run the cache answers
        whole never imports the rule modules (nor libcst through them)."""
        stored = self._load_entry(_RULES_KEY)
        if isinstance(stored, dict) and stored:
            return stored
        from .rules import all_meta

        metas = all_meta()
        self.store(_RULES_KEY, metas)  # type: ignore[arg-type]
        return metas

    def text_decisions(self, about: str) -> dict[str, bool]:
        """What the second look decided from skipped files' text (by fingerprint), for `about`."""
        stored = self._load_entry(_text_key(about))
        return stored if isinstance(stored, dict) else {}

    def store_text_decisions(self, about: str, decisions: dict[str, bool]) -> None:
        self.store(_text_key(about), decisions)  # type: ignore[arg-type]

    def load_run(self, key: str) -> tuple | None:
        """A whole run's findings and counts, when the same files and settings were checked before."""
        stored = self._load_entry(key)
        return stored if isinstance(stored, tuple) and len(stored) == 4 else None

    def store_run(self, key: str, outcome: tuple) -> None:
        self.store(key, outcome)  # type: ignore[arg-type]

    def store(self, key: str, result: FileResult) -> None:
        """Write an entry atomically; a cache that cannot be written never fails the run."""
        try:
            data = pickle.dumps((key, result), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an unpicklable fact: run without caching this file
            return
        try:
            _write_atomically(self.directory / key, data)
        except OSError:
            pass


_STAMPS_KEY = "stamps"
_RULES_KEY = "rules"


def _text_key(about: str) -> str:
    return "look-" + hashlib.blake2b(about.encode(), digest_size=20).hexdigest()


def signature(path: str) -> tuple[int, ...]:
    """What changes when a file's content does: size, modification and change times, inode."""
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def content_digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=20).digest()


def _skip_index_key(words: object) -> str:
    return "skips-" + hashlib.blake2b(repr((_build(), words)).encode(), digest_size=20).hexdigest()


@dataclass(frozen=True)
class Reading:
    """What reading a file tells the probe."""

    stamp: tuple[int, ...] | None  # its stat, taken before reading (with a cache)
    digest: bytes | None  # its content hash (with a cache)
    kept: bool | None  # whether the pre-filter's words keep it; None: not looked for yet
    data: bytes | None = None  # its bytes, while the words are not looked for


def read(task: FileTask, hashed: bool, search: bool = True) -> Reading | None:
    """Read a file for the probe; None when it cannot be read. A cold run does this in workers,
    where the words are looked for at once; otherwise only when no index answers (`probe`)."""
    try:
        stamp = signature(task.path) if hashed else None
        data = Path(task.path).read_bytes()
    except OSError:
        return None
    digest = content_digest(data) if hashed else None
    if search:
        return Reading(stamp, digest, prefilter.keeps(data, task.words, task.path))
    return Reading(stamp, digest, None, data)


def read_chunk(tasks: list[FileTask], hashed: bool) -> list[Reading | None]:
    return [read(task, hashed) for task in tasks]


def _kept(task: FileTask, reading: Reading) -> bool:
    if reading.kept is not None:
        return reading.kept
    return prefilter.keeps(reading.data or b"", task.words, task.path)


def probe(task: FileTask, cache: Cache | None, reading: Reading | None = None) -> FileResult | str | None:
    """What the main process settles without parsing: a skipped file, or the file's cache key.

    None means the file needs analysis (no cache, an in-memory source, an unreadable file).
    Settling every file here, before any worker analyses one, keeps skipped files and cache hits
    off the process pool; with a warm cache, files whose stat is unchanged are not read.
    `reading`: the file already read (`read`), by a worker of a cold run.
    """
    if task.text is not None:
        return None  # in-memory sources (fix iterations, stdin) are always analysed
    if cache is None:
        reading = reading or read(task, hashed=False, search=False)
        return FileResult(task.display) if reading is not None and not _kept(task, reading) else None
    if reading is None:
        try:
            digest = cache.known_digest(task.path, signature(task.path))
        except OSError:
            return None
        if digest is None:
            reading = read(task, hashed=True, search=False)
    if reading is not None:
        digest = reading.digest
        cache.note_digest(task.path, reading.stamp, reading.digest)  # type: ignore[arg-type]
    assert digest is not None
    if task.words is None:
        return cache.key(task, digest)
    fingerprint = f"{digest.hex()}/{os.path.basename(task.path)}"  # the words are looked for in both
    if cache.skipped_before(task.words, fingerprint):
        return FileResult(task.display, fingerprint=fingerprint)
    key = cache.key(task, digest)
    if cache.has(key):
        return key  # analysed before with these words: they kept it
    if reading is None:  # the hash came from the index: look for the words now
        reading = read(task, hashed=True, search=False)
        if reading is None or reading.digest != digest:
            return None  # unreadable, or changed under our feet: analysis says what is there now
    if not _kept(task, reading):
        cache.note_skipped(task.words, fingerprint)
        return FileResult(task.display, fingerprint=fingerprint)
    return key


def analyze(task: FileTask) -> FileResult:
    from .analysis import analyze as analyze_file  # libcst and the rules: only when a file is analysed

    return analyze_file(task)


def analyze_and_store(task: FileTask, cache: Cache | None) -> FileResult:
    """Analyse one file and cache the result under the hash of the bytes actually analysed."""
    if cache is None or task.text is not None:
        return analyze(task)
    try:
        data = Path(task.path).read_bytes()
    except OSError:
        return analyze(task)
    result = analyze(replace(task, data=data))
    cache.store(cache.key(task, content_digest(data)), result)
    return result


def analyze_chunk(tasks: list[FileTask], cache: Cache | None) -> list[FileResult]:
    """A worker's unit of work: several files per submission, so small files do not pay IPC each."""
    return [analyze_and_store(task, cache) for task in tasks]


def directory_for(config: Any, cli_dir: Path | None = None) -> Path:
    """--cache-dir, else `cache-dir` from the config (relative to its file), else .joblint_cache/ at the root."""
    if cli_dir is not None:
        return Path(os.path.abspath(cli_dir))
    configured = getattr(config.settings, "cache_dir", None)
    if configured:
        base = config.source.parent if config.source is not None else config.root
        return Path(os.path.abspath(base / configured))
    return config.root / DIRECTORY_NAME


def _prepare(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in ((".gitignore", _GITIGNORE), ("CACHEDIR.TAG", _CACHEDIR_TAG)):
        path = root / name
        if not path.exists():
            _write_atomically(path, text.encode())


def _write_atomically(path: Path, data: bytes) -> None:
    """Write a private temporary file beside `path`, then rename it over `path` (atomic on POSIX and Windows)."""
    temporary = path.with_name(f".tmp-{os.getpid()}-{os.urandom(6).hex()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _settings_dump(settings: Any) -> dict[str, Any]:
    if settings is None:
        return {}
    dumped = dataclasses.asdict(settings) if dataclasses.is_dataclass(settings) else dict(settings)
    return dict(sorted(dumped.items()))


def _options_digest(settings: Any) -> str:
    relevant = {k: v for k, v in _settings_dump(settings).items() if k not in ENGINE_SETTINGS}
    return hashlib.blake2b(repr(relevant).encode(), digest_size=12).hexdigest()


@lru_cache(maxsize=1)
def _build() -> str:
    """joblint's version, the Python version and a fingerprint of joblint's own source files.

    The fingerprint (sizes and modification times, no reading) keeps an editable install from
    serving results computed by code that has since changed.
    """
    package = Path(__file__).parent
    stamps = []
    for path in sorted(package.rglob("*.py")):
        try:
            stat = path.stat()
        except OSError:
            continue
        stamps.append((str(path.relative_to(package)), stat.st_size, stat.st_mtime_ns))
    parts = (__version__, sys.version_info[:2], stamps)
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


class _SafeUnpickler(pickle.Unpickler):
    """Builds only joblint's dataclasses, enums and module-level constants (UNKNOWN)."""

    def find_class(self, module: str, name: str) -> Any:
        found = _allowed_global(module, name)
        if found is None:
            raise pickle.UnpicklingError(f"cache entry refers to {module}.{name}")
        return found


@lru_cache(maxsize=None)
def _allowed_global(module: str, name: str) -> Any:
    if module != "joblint" and not module.startswith("joblint."):
        return None
    found = getattr(sys.modules.get(module) or __import__(module, fromlist=[name]), name, None)
    if isinstance(found, type) and (dataclasses.is_dataclass(found) or issubclass(found, enum.Enum)):
        return found
    if found is not None and not callable(found) and not isinstance(found, type(sys)):
        return found
    return None
