"""Per-file results kept between runs, so a run re-analyses only the files that changed.

Storage only: entries, their keys, the indexes (file stats, skipped files, second-look answers),
whole runs and their snapshots. The per-file work that fills them (reading, the pre-filter,
analysis) is `pipeline`'s, which uses this module; this module never imports it or the analysis.

An entry holds one file's `FileResult` (its stripped facts, file-rule findings with the line each
flags, and suppressions).
Its key is the file's content hash, joblint's version and source, the Python version, where the
file sits (display path, module name) and the effective configuration of the rules that read it
(the enabled file rules, the pre-filter words, rule options). The project phase re-runs on the
cached facts whenever any file changed, so cross-file findings follow a changed settings file; a
run in which nothing changed replays the last such run's findings.

Entries are written atomically (a temporary file renamed over the entry), so concurrent runs never
read half an entry; an entry that cannot be read (corrupt, truncated, from a foreign version) is a
miss and gets rewritten. The cache lives in `.joblint_cache/` at the project root, with a
`.gitignore` inside so it is never committed.

A warm run does not read files it has seen: an index of each file's size, modification and
change times and inode, with the content hash they had, answers for files whose stat is the same
(as git's index does). Only stats whose times lie two seconds before the run began are kept, since
a second write within the file system's timestamp granularity would leave them unchanged; and a
run during which a file's stat changed is not stored whole.

The cache stays bounded: whole runs, snapshots and second-look answers keep only their newest
few; per-file entries not used by the latest run go once they outnumber `ENTRY_GROWTH` times the
most a run has used; only the `KEPT_BUILDS` most recently used joblint builds keep a directory.

Entries are data, never code: `plain_data` trees written with `marshal`, rebuilt into joblint's
own dataclasses with every field's type checked. Each carries a tag made with the user's secret key
(`cache_trust`), checked before anything is decoded: an entry committed to a repository, planted by
another user or damaged on disk is a miss, and is recomputed. Entries are read only as regular files
of bounded size, never through a symlink, and only under names joblint makes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import marshal
import os
import re
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import __version__, cache_trust, plain_data, prefilter
from .files import FileResult, FileTask
from .findings import Finding
from .rules import RuleMeta
from .safe_io import SOURCE_LIMIT, inside, read_regular, real, write_atomically
from .source import module_name, packages

DIRECTORY_NAME = ".joblint_cache"
_GITIGNORE = "# Created by joblint: its cache is never committed.\n*\n"
_CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This file marks joblint's cache directory.\n"

# Settings that decide which files are checked or which findings are shown, not what a rule
# computes for one file; changing them must not throw the cache away.
ENGINE_SETTINGS = frozenset(
    {"select", "extend_select", "ignore", "per_file_ignores", "exclude", "extend_exclude", "respect_gitignore",
     "baseline", "cache_dir"}
)


# A file's stat is trusted only when its times lie this far before the run began: a second write
# within the file system's timestamp granularity (2 s on FAT; 1 s on ext3, HFS+ and many network
# mounts) would leave them as they were.
TIMESTAMP_SLACK_NS = 2_000_000_000
# An index grows with every version of every file; past this many times the entries a run used
# (and a floor), it keeps only those.
INDEX_GROWTH = 2
INDEX_FLOOR = 1000
# Whole runs and second-look answer sets kept (the newest): a branch switch and back finds its run.
KEPT_RUNS = 8
KEPT_ANSWER_SETS = 4
# Directories of joblint builds kept, the most recently used: builds used in turn (a pinned
# pre-commit hook, a global install, a tox matrix over Python versions) keep their entries.
KEPT_BUILDS = 8
# Per-file entries kept, as a multiple of the most a run has used: runs with other rule selections,
# over other parts of the project, or on other branches keep theirs up to that many.
ENTRY_GROWTH = 4
_PER_FILE = re.compile(r"[0-9a-f]{40}")  # the names of per-file entries (`Cache.key`)
_BUILD = re.compile(r"v-[0-9a-f]{16}")  # the names of build directories (`Cache.open`)
_ENTRY_NAME = re.compile(r"[a-z0-9-]{1,80}")  # every name `store` writes: never a path
_MAGIC = b"JLC\x02"  # the format: magic, tag (`cache_trust.mac`), marshal'd `plain_data` tree
ENTRY_LIMIT = 512 * 1024 * 1024  # the largest entry read back (a whole run of a very large repository)


@dataclass(eq=False)
class Cache:
    directory: Path  # the entries' directory, one per joblint build (created on the first write)
    options: str  # digest of the settings rules read
    secret: bytes  # the user's key (`cache_trust.user_key`): it signs every entry
    opened_ns: int = dataclasses.field(default_factory=time.time_ns)  # before any file is stat'ed
    # Files the pre-filter skipped before, by content and name, per set of words: a warm run does
    # not look for the words again (one small index instead of an entry per skipped file).
    skips: dict[object, Index] = dataclasses.field(default_factory=dict)
    new_skips: dict[object, set[str]] = dataclasses.field(default_factory=dict)
    used_skips: dict[object, set[str]] = dataclasses.field(default_factory=dict)
    # path -> (stat signature, content hash): files a warm run need not read (see the module doc).
    stamps: Index | None = None
    new_stamps: dict[str, tuple[tuple[int, ...], bytes]] = dataclasses.field(default_factory=dict)
    # This run's stats, with the content hash read under each (None: answered by the index).
    probed: dict[str, tuple[tuple[int, ...], bytes | None]] = dataclasses.field(default_factory=dict)
    answers: dict[str, Index] = dataclasses.field(default_factory=dict)  # the second look's, by key
    stats: dict[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)  # taken by `snapshot`
    new_rules: dict[str, RuleMeta] | None = None
    used: set[str] = dataclasses.field(default_factory=set)  # the per-file entries this run asked for
    # Whether this process has checked the cache root's .gitignore and CACHEDIR.TAG: a build
    # directory that already exists (copied, or left by a run that was killed) may lack them.
    prepared: bool = False

    def __getstate__(self) -> dict[str, object]:
        # Workers only read and write entries: the indexes stay with the main process.
        return {"directory": self.directory, "options": self.options, "secret": self.secret}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(state["directory"], state["options"], state["secret"])  # type: ignore[misc]

    @classmethod
    def open(
        cls, root: Path, settings: Any = None, project: Path | None = None, chosen_by_user: bool = True
    ) -> Cache | None:
        """The cache under `root`; None when no key can be kept for this user (nothing is cached).

        Raises `cache_trust.CacheRefused` for a directory that must not be used (see
        `cache_trust.check_directory`; `project` and `chosen_by_user` say where it may lie).
        Nothing is created until an entry is written (with the directory's .gitignore), so a run
        that stops on an error leaves no cache behind."""
        cache_trust.check_directory(root, project, chosen_by_user)
        secret = cache_trust.user_key()
        if secret is None:
            return None
        return cls(root / f"v-{_build()[:16]}", _options_digest(settings), secret)

    def key(self, task: FileTask, digest: bytes) -> str:
        name, is_package = module_name(Path(task.path))
        parts = (
            _build(), self.options, task.display, task.kind, name, is_package, task.rules, task.words, digest.hex()
        )
        return hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()

    def load(self, key: str) -> FileResult | None:
        result = self._load_entry(key, FileResult)
        return result if isinstance(result, FileResult) else None

    def _load_entry(self, key: str, hint: Any = Any) -> Any:
        """The value stored under `key`, checked against the type `hint`; None for a miss: no such
        entry, or one that is not a regular file, too large, not signed with this user's key, or
        not of the expected shape."""
        if not _ENTRY_NAME.fullmatch(key):
            return None
        try:
            data = read_regular(self.directory / key, ENTRY_LIMIT, follow_symlinks=False)
        except OSError:
            return None
        start = len(_MAGIC) + cache_trust.MAC_BYTES
        if data[: len(_MAGIC)] != _MAGIC:
            return None
        if not cache_trust.verify(self.secret, key, data[start:], data[len(_MAGIC) : start]):
            return None
        try:
            return plain_data.decode(marshal.loads(data[start:]), hint, budget=len(data) - start)
        except (plain_data.Malformed, ValueError, EOFError, TypeError):
            return None

    def snapshot(self, files: list[tuple[str, str, str]], enabled: frozenset[str], config: Any) -> str | None:
        """A key for the run's files (path, display path, kind) as their stats show them, with the
        rules and settings. When every stat is old enough to prove its file's content, the same
        snapshot means the same run: a stored one answers without probing file by file. None when
        a stat is too recent, or missing."""
        parts: list[object] = [_build(), sorted(enabled), str(config.root), _settings_dump(config.settings)]
        complete = True
        directories = set()
        for path, display, kind in files:
            try:
                stamp = self.stats[path] = signature(path)  # the probe takes it from here
            except OSError:
                complete = False
                continue
            complete = complete and not self._recent(stamp)
            parts.append((path, display, kind, stamp))
            directories.add(os.path.dirname(path))
        # Module names too: an `__init__.py` that is not checked (excluded, or outside the paths
        # given) still decides them, through the packages each directory sits in.
        parts.append(sorted((directory, packages(directory)) for directory in directories))
        return "snap-" + hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest() if complete else None

    def begin_run(self) -> None:
        """Forget the stats an earlier run with this cache took (`--fix` runs several)."""
        self.stats.clear()
        self.probed.clear()
        self.used.clear()
        try:
            os.utime(self.directory)  # the build's last use: see `_remove_old_builds`
        except OSError:
            pass  # not created yet, or not ours to touch

    def stat(self, path: str) -> tuple[int, ...]:
        """The file's stat: the one the snapshot took, else a fresh one (both before any read)."""
        taken = self.stats.pop(path, None)
        return taken if taken is not None else signature(path)

    def run_for(self, snapshot: str) -> StoredRun | None:
        """The stored run a snapshot points to."""
        key = self._load_entry(snapshot, str)
        return self.load_run(key) if isinstance(key, str) else None

    def point(self, snapshot: str, run_key: str) -> None:
        """Let a snapshot answer for a stored run the probe found again."""
        if self.still_as_probed():
            self.store(snapshot, run_key)
            self._keep_newest({"snap-": KEPT_RUNS})

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

    # -- what the pre-filter skipped -----------------------------------------------------------

    def _skip_index(self, words: object) -> Index:
        if words not in self.skips:
            self.skips[words] = self._load_index(_skip_index_key(words), set)
        return self.skips[words]

    def _load_index(self, key: str, kind: type) -> Index:
        stored = self._load_entry(key, Index)
        return stored if isinstance(stored, Index) and isinstance(stored.entries, kind) else Index(kind())

    def skipped_before(self, words: object, fingerprint: str) -> bool:
        if fingerprint in self._skip_index(words).entries:
            self.used_skips.setdefault(words, set()).add(fingerprint)
            return True
        return False

    def note_skipped(self, words: object, fingerprint: str) -> None:
        self.new_skips.setdefault(words, set()).add(fingerprint)

    def save_indexes(self) -> None:
        """Write what this run learnt about skipped files and file stats (and the rules)."""
        if self.new_rules is not None:
            self.store(_RULES_KEY, self.new_rules)
            self.new_rules = None
        self._save_stamps()
        for words, fresh in self.new_skips.items():
            index = self._skip_index(words).updated(fresh, self.used_skips.get(words, set()) | fresh)
            self.store(_skip_index_key(words), index)
            self.skips[words] = index
        self.new_skips.clear()

    # -- file stats ----------------------------------------------------------------------------

    def known_digest(self, path: str, signature: tuple[int, ...]) -> bytes | None:
        """The content hash of a file whose stat is what it was when the index last saw it."""
        known = self._stamps().get(path)
        digest = known[1] if known is not None and known[0] == signature else None
        self.probed[path] = (signature, digest)
        return digest

    def knows_stamps(self) -> bool:
        """Whether the index of file stats answers for any file: without it, every file is read."""
        return bool(self._stamps())

    def _stamps(self) -> dict[str, tuple[tuple[int, ...], bytes]]:
        if self.stamps is None:
            self.stamps = self._load_index(_STAMPS_KEY, dict)
        entries: dict[str, tuple[tuple[int, ...], bytes]] = self.stamps.entries
        return entries

    def note_digest(self, path: str, signature: tuple[int, ...], digest: bytes) -> None:
        """Remember a file's hash under the stat taken before reading it, when its times are old
        enough that a later write would change them (`TIMESTAMP_SLACK_NS`)."""
        self.probed[path] = (signature, digest)
        if not self._recent(signature):
            self.new_stamps[path] = (signature, digest)

    def _recent(self, signature: tuple[int, ...]) -> bool:
        _, modified, changed, _ = signature
        return max(modified, changed) >= self.opened_ns - TIMESTAMP_SLACK_NS

    def still_as_probed(self) -> bool:
        """Whether every file this run probed still holds what it held then: a file saved during
        the run may have been probed in one version and analysed in another, so the run is not
        stored whole. Its stat says so, except for a file whose times are too recent to prove
        anything (a rewrite within the timestamp granularity): that one is hashed again."""
        for path, (before, digest) in self.probed.items():
            try:
                if signature(path) != before:
                    return False
                if self._recent(before) and (
                    digest is None or content_digest(read_regular(path, SOURCE_LIMIT)) != digest
                ):
                    return False
            except OSError:
                return False
        return True

    def has(self, key: str) -> bool:
        return (self.directory / key).exists()

    def _save_stamps(self) -> None:
        if not self.new_stamps:
            return
        self._stamps()
        assert self.stamps is not None
        self.stamps = self.stamps.updated(self.new_stamps, self.probed.keys())
        self.store(_STAMPS_KEY, self.stamps)
        self.new_stamps.clear()

    # -- rule metadata, second-look answers, whole runs ------------------------------------------

    def rules(self) -> dict[str, RuleMeta]:
        """Every rule's metadata (`rules.all_meta()`), kept per build: a run the cache answers
        whole never imports the rule modules (nor libcst through them)."""
        stored: dict[str, RuleMeta] | None = self._load_entry(_RULES_KEY, dict[str, RuleMeta])
        if stored:
            return stored
        from .rules import all_meta

        self.new_rules = all_meta()  # written with the indexes, once the run is under way
        return self.new_rules

    def words(self, enabled: frozenset[str], metas: dict[str, RuleMeta]) -> prefilter.Words | None:
        """`prefilter.words` for these rules, kept per build: dropping the words that others imply
        compares every pair of them, which costs a warm run more than its whole probe of stats."""
        key = "words-" + hashlib.blake2b(repr(sorted(enabled)).encode(), digest_size=20).hexdigest()
        stored = self._load_entry(key, tuple[Any])
        if stored is not None and _are_words(stored[0]):
            words: prefilter.Words | None = stored[0]
            return words
        found = prefilter.words(enabled, metas)
        self.store(key, (found,))
        return found

    def text_decisions(self, about: str) -> dict[str, bool]:
        """What the second look decided from skipped files' text (by fingerprint), for `about`."""
        if about not in self.answers:
            self.answers[about] = self._load_index(_text_key(about), dict)
        decided: dict[str, bool] = self.answers[about].entries
        return decided

    def store_text_decisions(self, about: str, fresh: dict[str, bool], used: set[str]) -> None:
        self.text_decisions(about)
        self.answers[about] = self.answers[about].updated(fresh, used | fresh.keys())
        self.store(_text_key(about), self.answers[about])
        self._keep_newest({"look-": KEPT_ANSWER_SETS})

    def load_run(self, key: str) -> StoredRun | None:
        """A whole run's findings and counts, when the same files and settings were checked before."""
        stored: StoredRun | None = self._load_entry(key, StoredRun)
        return stored

    def store_run(self, key: str, outcome: StoredRun, snapshot: str | None = None) -> None:
        """Store a whole run, and the snapshot that points to it, when every file still holds
        what it held when probed."""
        if not self.still_as_probed():
            return
        self.store(key, outcome)
        if snapshot is not None:
            self.store(snapshot, key)
        self._keep_newest({"run-": KEPT_RUNS, "snap-": KEPT_RUNS}, prune_files=True)

    def _keep_newest(self, limits: dict[str, int], prune_files: bool = False) -> None:
        """Delete all but the newest entries of each name prefix (`limits`: prefix -> how many):
        each project state or set of task names writes its own, and only recent ones are asked for.

        `prune_files`: per-file entries pile up too, one per version of each file analysed; once
        there are more than `ENTRY_GROWTH` times as many as the most a run has asked for (and a
        floor), only those this run asked for stay. Measured against the most, so a run over part
        of the project keeps the rest; another branch's files are analysed again when next checked."""
        found: dict[str, list[tuple[int, str]]] = {prefix: [] for prefix in limits}
        per_file: list[os.DirEntry[str]] = []
        try:
            for entry in os.scandir(self.directory):
                prefix = next((p for p in limits if entry.name.startswith(p)), None)
                if prefix is not None:
                    found[prefix].append((entry.stat().st_mtime_ns, entry.path))
                elif prune_files and _PER_FILE.fullmatch(entry.name):
                    per_file.append(entry)
        except OSError:
            return
        stale = [
            path for prefix, entries in found.items() for _, path in sorted(entries, reverse=True)[limits[prefix] :]
        ]
        if prune_files:
            mark = self._load_index(_ENTRIES_KEY, set)
            if len(self.used) > mark.most_used:
                mark = Index(set(), len(self.used))
                self.store(_ENTRIES_KEY, mark)
            if len(per_file) > ENTRY_GROWTH * mark.most_used + INDEX_FLOOR:
                stale += [entry.path for entry in per_file if entry.name not in self.used]
        for path in stale:
            try:
                os.unlink(path)
            except OSError:
                pass

    def store(self, key: str, value: object) -> None:
        """Write an entry atomically, signed; a cache that cannot be written never fails the run."""
        assert _ENTRY_NAME.fullmatch(key), key
        try:
            payload = marshal.dumps(plain_data.encode(value))
        except (TypeError, ValueError):  # a fact that is not plain data: run without caching it
            return
        data = _MAGIC + cache_trust.mac(self.secret, key, payload) + payload
        try:
            if not self.prepared:
                _prepare(self.directory.parent)
                self.prepared = True
            try:
                _write_entry(self.directory / key, data)
            except FileNotFoundError:  # the first write: create the build's directory
                self.directory.mkdir(mode=0o700, exist_ok=True)
                _write_entry(self.directory / key, data)
                _remove_old_builds(self.directory)
        except OSError:
            pass


def _are_words(found: object) -> bool:
    """Whether a stored value has the shape of `prefilter.Words` (or None: every file is kept)."""
    return found is None or (
        isinstance(found, tuple)
        and all(isinstance(parts, tuple) and all(isinstance(p, bytes) for p in parts) for parts in found)
    )


@dataclass
class Index:
    """An index kept in the cache (a set, or a dict), with the most entries one run has used. Old
    entries (earlier versions of files, files since deleted) pile up; once they are far more than
    that mark, the index is cut back to the entries of the run that writes it. Measured against the
    mark, not the run, so a run over part of the project keeps what whole runs learnt."""

    entries: Any
    most_used: int = 0

    def updated(self, fresh: Any, used: Any) -> Index:
        merged = self.entries | fresh
        most = max(self.most_used, len(used))
        if len(merged) > INDEX_GROWTH * most + INDEX_FLOOR:
            merged = {k: merged[k] for k in merged if k in used} if isinstance(merged, dict) else merged & set(used)
        return Index(merged, most)


# A whole run as stored: its findings, and the files checked, parsed and skipped.
StoredRun = tuple[list[Finding], int, int, int]

_STAMPS_KEY = "file-stamps"
_ENTRIES_KEY = "file-entries"  # an empty Index: the most per-file entries a run has asked for
_RULES_KEY = "rules"


def _text_key(about: str) -> str:
    return "look-" + hashlib.blake2b(about.encode(), digest_size=20).hexdigest()


def signature(path: str) -> tuple[int, ...]:
    """What changes when a file's content does: size, modification and change times, inode."""
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def fingerprint(digest: bytes, path: str) -> str:
    """A file's content and name: what the pre-filter's words are looked for in."""
    return f"{digest.hex()}/{os.path.basename(path)}"


def content_digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=20).digest()


def _skip_index_key(words: object) -> str:
    return "skips-" + hashlib.blake2b(repr((_build(), words)).encode(), digest_size=20).hexdigest()


ENVIRONMENT_VARIABLE = "JOBLINT_CACHE_DIR"


def directory_for(config: Any, cli_dir: Path | None = None) -> Path:
    """--cache-dir, else $JOBLINT_CACHE_DIR, else `cache-dir` from the config (relative to its file),
    else .joblint_cache/ at the root. A `cache-dir` from the project's configuration must lie inside
    the project (a committed `cache-dir = "../.."` would have joblint write, and hide from git, a
    directory outside it): `ConfigError` otherwise."""
    chosen = _users_choice(cli_dir)
    if chosen is not None:
        return chosen
    configured = getattr(config.settings, "cache_dir", None)
    if configured:
        base = config.source.parent if config.source is not None else config.root
        directory = Path(os.path.abspath(base / configured))
        if not inside(real(directory), real(config.root)):
            from .config import ConfigError

            where = config.source or "[tool.joblint]"
            raise ConfigError(f"{where}: cache-dir '{configured}' lies outside the project {config.root}; "
                              f"use --cache-dir or ${ENVIRONMENT_VARIABLE} for a cache elsewhere")
        return directory
    root: Path = config.root
    return root / DIRECTORY_NAME


def _users_choice(cli_dir: Path | None) -> Path | None:
    """A cache directory the user chose (the command line, the environment): it may lie anywhere."""
    chosen = cli_dir if cli_dir is not None else os.environ.get(ENVIRONMENT_VARIABLE) or None
    return Path(os.path.abspath(chosen)) if chosen is not None else None


def open_for(config: Any, cli_dir: Path | None = None) -> Cache | None:
    """The cache of a run over `config`'s project; None when nothing can be cached. Raises
    `cache_trust.CacheRefused` for a directory that must not be used, `ConfigError` for a
    configured one outside the project."""
    directory = directory_for(config, cli_dir)
    return Cache.open(directory, config.settings, config.root, chosen_by_user=_users_choice(cli_dir) is not None)


def _remove_old_builds(current: Path) -> None:
    """Delete the directories of all but the `KEPT_BUILDS` most recently used joblint builds,
    `current` among them: each upgrade (or, in a checkout of joblint, each edit) starts one."""
    import shutil

    try:
        builds = [entry for entry in os.scandir(current.parent) if entry.is_dir() and _BUILD.fullmatch(entry.name)]
        by_age = sorted(((entry.stat().st_mtime_ns, entry.path) for entry in builds), reverse=True)
    except OSError:
        return
    others = [path for _, path in by_age if path != str(current)]
    kept = {str(current), *others[: KEPT_BUILDS - 1]}
    for _, path in by_age:
        if path not in kept:
            shutil.rmtree(path, ignore_errors=True)


def _prepare(root: Path) -> None:
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name, text in ((".gitignore", _GITIGNORE), ("CACHEDIR.TAG", _CACHEDIR_TAG)):
        path = root / name
        if not path.exists():
            _write_entry(path, text.encode())


def _write_entry(path: Path, data: bytes) -> None:
    """Entries and the cache's own files: private (0600), written whole (`safe_io.write_atomically`)."""
    write_atomically(path, data, 0o600)


def _settings_dump(settings: Any) -> dict[str, Any]:
    if settings is None:
        return {}
    is_instance = dataclasses.is_dataclass(settings) and not isinstance(settings, type)
    dumped = dataclasses.asdict(settings) if is_instance else dict(settings)
    return dict(sorted(dumped.items()))


def _options_digest(settings: Any) -> str:
    relevant = {k: v for k, v in _settings_dump(settings).items() if k not in ENGINE_SETTINGS}
    return hashlib.blake2b(repr(relevant).encode(), digest_size=12).hexdigest()


@lru_cache(maxsize=1)
def _build() -> str:
    """joblint's version, the Python version and a fingerprint of joblint's own files.

    The fingerprint (sizes and modification times, no reading) keeps an editable install from
    serving results computed by code, or data such as the settings table, that has since changed.
    """
    package = Path(__file__).parent
    stamps = []
    for path in _package_files(package):
        try:
            stat = path.stat()
        except OSError:
            continue
        stamps.append((str(path.relative_to(package)), stat.st_size, stat.st_mtime_ns))
    parts = (__version__, sys.version_info[:2], stamps)
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def _package_files(package: Path) -> list[Path]:
    """joblint's sources and data, not the bytecode Python writes beside them."""
    return sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
