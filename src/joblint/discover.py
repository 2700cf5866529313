"""Paths -> the files to analyse: .gitignore, exclude/extend-exclude, file kinds."""

from __future__ import annotations

import os
import re
import stat
import sys
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

import pathspec

from .config import Config
from .frameworks import own_packages
from .launch import launch_kind
from .report.escape import visible
from .safe_io import CONFIG_LIMIT, UnsafeFile, inside, read_regular, real
from .source import repository_root


@dataclass(frozen=True, order=True)
class SourceFile:
    path: Path  # absolute
    display: str  # what the user sees: relative to the working directory when below it
    kind: str = "python"


class PathError(Exception):
    """A path given on the command line does not exist."""


def display_path(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()


def file_kind(path: Path) -> str | None:
    """"python", "launch" (files that start workers: see launch.py), or None to skip."""
    if path.suffix == ".py":
        return "python"
    if launch_kind(path):
        return "launch"
    return None


# The frameworks' own packages (an unpacked wheel or sdist, the framework's repository, a copy
# vendored at the top of a tree) define and call everything the rules look for, yet hold no
# one's task code: the whole of Celery's source and Temporal's SDK gave no finding and cost half
# of a large run. Excluded with the default `exclude`, and recognised by modules only the framework
# has, never by name alone (`airflow/providers/celery/` is user code), and only as a top-level
# package: `app/arq/` with its own worker.py and jobs.py is `app.arq`, a project's module, which
# could not be the library.
# Package name -> its marker modules, from every row of the framework table (`Framework.packages`).
FRAMEWORK_PACKAGES = own_packages()


def is_framework_package(directory: str, names: set[str] | None = None) -> bool:
    """Whether `directory` is the source of one of the frameworks' own packages
    (`FRAMEWORK_PACKAGES`). `names`: its entries, when already listed."""
    markers = FRAMEWORK_PACKAGES.get(os.path.basename(directory))
    if markers is None:
        return False
    if names is None:
        try:
            names = set(os.listdir(directory))
        except OSError:
            return False
    modules = {name.removesuffix(".py") for name in names}
    if "__init__.py" not in names or not markers <= modules:
        return False
    return not os.path.exists(os.path.join(os.path.dirname(directory), "__init__.py"))


class _Ignores:
    """The exclude patterns and the .gitignore files that apply below the project root.

    A directory's .gitignore applies to everything below it, up to a nested repository (a
    directory holding `.git`). The walk carries, for each directory, the chain of specs that
    apply to it, so a file costs one match per spec in its chain and no file-system calls.
    """

    def __init__(self, config: Config, respect_gitignore: bool) -> None:
        self.root = str(config.root)
        self.root_path = config.root
        self._below_root = self.root.rstrip(os.sep) + os.sep
        self.exclude = pathspec.GitIgnoreSpec.from_lines(config.exclude)
        # Bare names (the defaults: `.git`, `node_modules`, `build/`) match a basename at any
        # depth: a set lookup instead of a match per pattern. Negations keep every pattern in order.
        plain = not any(p.startswith("!") for p in config.exclude)
        self._names = {p for p in config.exclude if plain and _PLAIN.match(p) and not p.endswith("/")}
        self._dir_names = {p.rstrip("/") for p in config.exclude if plain and _PLAIN.match(p)}
        rest = [p for p in config.exclude if not (plain and _PLAIN.match(p))]
        self._rest = pathspec.GitIgnoreSpec.from_lines(rest) if rest else None
        self.respect_gitignore = respect_gitignore
        self.frameworks = config.settings.exclude is None  # part of the defaults `exclude` replaces
        self.boundary = repository_root(config.root)

    def leads_outside(self, path: str) -> bool:
        """A symlink whose target lies outside the repository: `celery.py -> ~/.ssh/id_rsa` or
        `-> /proc/self/environ` would put the target's lines in code frames and reports."""
        return not inside(real(Path(path)), self.boundary)

    @staticmethod
    def _gitignore(directory: str, names: set[str] | None = None) -> pathspec.GitIgnoreSpec | None:
        lines: list[str] = []
        for name in (".gitignore", ".git/info/exclude"):
            if names is not None and name.split("/", 1)[0] not in names:
                continue  # the directory's listing says it is not there
            path = os.path.join(directory, name)
            try:
                # The project's own file: never through a symlink (as git, which warns and skips
                # one), a regular file only, bounded: a link to /dev/zero or a FIFO must not hang.
                data = read_regular(path, CONFIG_LIMIT, follow_symlinks=False)
            except UnsafeFile as error:
                _skipped_file(path, error.strerror or str(error))
                continue
            except OSError:
                continue  # not there (or .git is a worktree's file): nothing to ignore
            lines += data.decode("utf-8", errors="replace").splitlines()
        return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None

    def chain(self, directory: str, parent: Chain | None, names: set[str] | None = None) -> Chain:
        """The specs that apply below `directory`: its own, then (unless it is the root or a
        repository of its own) those of the directories above it. `names`: the directory's
        entries, when already listed."""
        if not self.respect_gitignore:
            return ()
        if parent is not None and names is not None and not names & _IGNORE_FILES and directory != self.root:
            return parent  # most directories: nothing of their own, nothing that cuts the chain
        has_git = ".git" in names if names is not None else os.path.exists(os.path.join(directory, ".git"))
        boundary = directory == self.root or has_git
        if parent is None and not boundary:
            above = os.path.dirname(directory)
            parent = self.chain(above, None) if above != directory else ()
        inherited = () if boundary else parent or ()
        spec = self._gitignore(directory, names)
        return ((directory, spec), *inherited) if spec is not None else inherited

    def force_excluded(self, path: Path, is_dir: bool) -> bool:
        """With `force-exclude`, whether a path named on the command line is excluded: it, or a
        directory above it inside the project, matches `exclude`/`extend-exclude`, or it lies in
        a framework's own package (`joblint check build/pkg`, `joblint check .venv/x.py`). As
        ruff does, .gitignore is not consulted for named paths."""
        rel = _rel(path, self.root_path)
        return self.exclude.match_file(rel + ("/" if is_dir else "")) or self.in_framework(
            str(path if is_dir else path.parent)
        )

    def in_framework(self, path: str) -> bool:
        """Whether `path` (given on the command line) lies in a framework's own package."""
        if not self.frameworks:
            return False
        directory = path
        while True:
            if os.path.basename(directory) in FRAMEWORK_PACKAGES and is_framework_package(directory):
                return True
            above = os.path.dirname(directory)
            if above == directory:
                return False
            directory = above

    def named(self, directory: str, chain: Chain) -> tuple[Chain, pathspec.GitIgnoreSpec | None]:
        """For the walk of a directory named on the command line: the ignore specs and the exclude
        patterns that do not match the directory itself. Those that do would exclude all of it (a
        pattern that names a directory matches what is below it), yet it was named; as in ruff,
        it is walked and only what is below it is matched."""
        rel = directory[len(self._below_root) :] if directory.startswith(self._below_root) else None
        rest = self._rest if rel is None or self._rest is None or not self._rest.match_file(rel + "/") else None
        kept = tuple(
            (d, spec) for d, spec in chain
            if d == directory or not spec.match_file(directory[len(d.rstrip(os.sep)) + 1 :] + "/")
        )
        return kept, rest

    def ignored(self, path: str, is_dir: bool, chain: Chain, rest: pathspec.GitIgnoreSpec | None) -> bool:
        """For an entry of a walk: `chain` and `rest` (the exclude patterns that are not plain
        names), as the walk carries them."""
        rel = path[len(self._below_root) :] if path.startswith(self._below_root) else os.path.basename(path)
        name = rel.rpartition("/")[2]
        if name in self._names or (is_dir and name in self._dir_names):
            return True
        suffix = "/" if is_dir else ""
        if rest is not None and rest.match_file(rel + suffix):
            return True
        for directory, spec in chain:
            if spec.match_file(path[len(directory.rstrip(os.sep)) + 1 :] + suffix):
                return True
        return False


_IGNORE_FILES = {".gitignore", ".git"}  # all `_gitignore` reads, and the repository boundary
_PLAIN = re.compile(r"^[A-Za-z0-9._-]+/?$")
Chain = tuple[tuple[str, pathspec.GitIgnoreSpec], ...]  # (directory, spec), nearest first


def discover(paths: list[Path], config: Config, cwd: Path, respect_gitignore: bool | None = None) -> list[SourceFile]:
    """Every file to analyse, sorted. A path that does not exist raises PathError."""
    respect = config.settings.respect_gitignore if respect_gitignore is None else respect_gitignore
    ignores = _Ignores(config, respect)
    found: dict[str, SourceFile] = {}
    prefix = str(cwd).rstrip(os.sep) + os.sep
    for given in paths:
        path = (cwd / given) if not given.is_absolute() else given
        path = Path(os.path.abspath(path))
        if not path.exists():
            reason = "a broken or looping symbolic link" if path.is_symlink() else "no such file or directory"
            raise PathError(f"{given}: {reason}")
        if not path.is_file() and not path.is_dir():
            raise PathError(f"{given}: not a regular file or directory")
        # A path named on the command line is checked whatever `exclude` says, unless
        # `force-exclude` (as ruff: pre-commit names every changed file, excluded or not).
        if config.settings.force_exclude and ignores.force_excluded(path, path.is_dir()):
            continue
        if path.is_file():
            if path.is_symlink() and ignores.leads_outside(str(path)):
                _outside(str(given))
                continue
            kind = file_kind(path) or "python"  # an explicitly named file is checked as Python
            found[str(path)] = SourceFile(path, display_path(path, cwd), kind)
        else:
            _walk(str(path), ignores, None, prefix, found)
    if len(paths) == 1 and os.name == "posix":
        # One walk yields its files in the order they sort in (see _walk); a POSIX path sorts as
        # its parts, case and all. Comparing Paths is a good part of the cost of a large tree.
        return list(found.values())
    return sorted(found.values())


def _walk(
    directory: str, ignores: _Ignores, above: Chain | None, prefix: str, found: dict[str, SourceFile],
    rest: pathspec.GitIgnoreSpec | None = None,
) -> None:
    """`above`: the chain of the directory's parent; None for a directory given on the command line,
    which is walked even when excluded (or in a framework's package): the entries below it are
    matched against the excludes, the directory itself was named.
    `prefix`: the working directory and a separator, cut from the displayed path."""
    entries = _listing(directory)
    if entries is None:
        return
    names = set(map(_NAME, entries))
    if above is not None and ignores.frameworks and is_framework_package(directory, names):
        return
    chain = ignores.chain(directory, above, names)
    if above is None:
        chain, rest = ignores.named(directory, chain)
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            # Entered where it sorts, not after the files: what is found comes out in path order.
            if not ignores.ignored(entry.path, True, chain, rest):
                _walk(entry.path, ignores, chain, prefix, found, rest)
            continue
        kind = _kind(entry.name)
        if kind is None or ignores.ignored(entry.path, False, chain, rest) or _special(entry):
            continue
        if _dangling(entry):
            _skipped_file(entry.path, "a symbolic link to a file that does not exist")
            continue
        if entry.is_symlink() and ignores.leads_outside(entry.path):
            _outside(entry.path.removeprefix(prefix))
            continue
        display = entry.path.removeprefix(prefix)
        found[entry.path] = SourceFile(Path(entry.path), display.replace(os.sep, "/"), kind)


def _outside(shown: str) -> None:
    print(f"joblint: warning: {visible(shown)}: not read: a symbolic link to a file outside the repository",
          file=sys.stderr)


def _listing(directory: str) -> list[os.DirEntry[str]] | None:
    try:
        return sorted(os.scandir(directory), key=_NAME)
    except OSError as error:
        _unreadable_directory(error)
        return None


_NAME = attrgetter("name")


def _kind(name: str) -> str | None:
    if name.endswith(".py"):
        return "python"
    return "launch" if launch_kind(name) else None


def _special(entry: os.DirEntry[str]) -> bool:
    """A FIFO, socket or device named like a source file: reading it could block forever.

    A file that cannot be stat'ed (a symlink loop) is kept: its analysis says why it cannot be
    read. A dangling link is `_dangling`.
    """
    try:
        if entry.is_symlink():
            return not stat.S_ISREG(os.stat(entry.path).st_mode)
        return not entry.is_file(follow_symlinks=False)  # the entry's type: no system call
    except OSError:
        return False


def _dangling(entry: os.DirEntry[str]) -> bool:
    """A symbolic link to nothing: a file of a git submodule that is not checked out
    (`.pre-commit-config.yaml -> common/pre-commit-config.yaml`), a build output not built yet.
    There is no code to check, and no fault of the project's: skipped with a warning, where a
    JL001 would fail its CI. (A link that loops is kept: its analysis reports it.)"""
    if not entry.is_symlink():
        return False
    try:
        os.stat(entry.path)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


_warned: set[str] = set()  # skipped files warned about in this run


def forget_warnings() -> None:
    """A new run (in the same process) warns again."""
    _warned.clear()


def _skipped_file(path: str, reason: str) -> None:
    """A file not read (an ignore file, a dangling link), said once per file a run: a run given
    files walks their project again for its context."""
    if path not in _warned:
        _warned.add(path)
        print(f"joblint: warning: {visible(_shown(path))}: not read: {reason}", file=sys.stderr)


def _shown(path: str) -> str:
    """`path` relative to the working directory when below it, as findings show paths."""
    try:
        cwd = os.getcwd()
    except OSError:
        return path
    return path[len(cwd.rstrip(os.sep)) + 1 :] if path.startswith(cwd.rstrip(os.sep) + os.sep) else path


def _unreadable_directory(error: OSError) -> None:
    """os.walk skips a directory it cannot list; say so rather than check less in silence."""
    reason = error.strerror or error
    print(f"joblint: warning: {visible(str(error.filename))}: cannot list directory: {reason}", file=sys.stderr)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name
