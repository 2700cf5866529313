"""Paths -> the files to analyse: .gitignore, exclude/extend-exclude, file kinds."""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import pathspec

from .config import Config
from .launch import launch_kind


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


class _Ignores:
    """The exclude patterns and the .gitignore files that apply below the project root."""

    def __init__(self, config: Config, respect_gitignore: bool) -> None:
        self.root = config.root
        self.exclude = pathspec.GitIgnoreSpec.from_lines(config.exclude)
        self.respect_gitignore = respect_gitignore
        self._gitignores: dict[Path, pathspec.GitIgnoreSpec | None] = {}

    def _gitignore(self, directory: Path) -> pathspec.GitIgnoreSpec | None:
        if directory not in self._gitignores:
            lines: list[str] = []
            for name in (".gitignore", ".git/info/exclude"):
                try:
                    lines += (directory / name).read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    pass
            self._gitignores[directory] = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
        return self._gitignores[directory]

    def ignored(self, path: Path, is_dir: bool) -> bool:
        suffix = "/" if is_dir else ""
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            rel = Path(path.name)
        if self.exclude.match_file(rel.as_posix() + suffix):
            return True
        if not self.respect_gitignore:
            return False
        for directory in (path.parent, *path.parent.parents):
            spec = self._gitignore(directory)
            if spec is not None:
                rel_to = path.relative_to(directory).as_posix() + suffix
                if spec.match_file(rel_to):
                    return True
            if directory == self.root or (directory / ".git").exists():
                break
        return False


def discover(paths: list[Path], config: Config, cwd: Path, respect_gitignore: bool | None = None) -> list[SourceFile]:
    """Every file to analyse, sorted. A path that does not exist raises PathError."""
    respect = config.settings.respect_gitignore if respect_gitignore is None else respect_gitignore
    ignores = _Ignores(config, respect)
    found: dict[Path, SourceFile] = {}
    for given in paths:
        path = (cwd / given) if not given.is_absolute() else given
        path = Path(os.path.abspath(path))
        if not path.exists():
            reason = "a broken or looping symbolic link" if path.is_symlink() else "no such file or directory"
            raise PathError(f"{given}: {reason}")
        if not path.is_file() and not path.is_dir():
            raise PathError(f"{given}: not a regular file or directory")
        if path.is_file():
            kind = file_kind(path) or "python"  # an explicitly named file is checked as Python
            if not ignores.exclude.match_file(_rel(path, config.root)):
                found[path] = SourceFile(path, display_path(path, cwd), kind)
            continue
        for directory, dirnames, filenames in os.walk(path, onerror=_unreadable_directory):
            base = Path(directory)
            dirnames[:] = sorted(d for d in dirnames if not ignores.ignored(base / d, True))
            for name in filenames:
                file = base / name
                kind = file_kind(file)
                if kind is None or ignores.ignored(file, False) or _special(file):
                    continue
                found[file] = SourceFile(file, display_path(file, cwd), kind)
    return sorted(found.values())


def _special(file: Path) -> bool:
    """A FIFO, socket or device named like a source file: reading it could block forever.

    A file that cannot be stat'ed (a symlink loop, a dangling link) is kept: its analysis says why
    it cannot be read.
    """
    try:
        return not stat.S_ISREG(file.stat().st_mode)
    except OSError:
        return False


def _unreadable_directory(error: OSError) -> None:
    """os.walk skips a directory it cannot list; say so rather than check less in silence."""
    print(f"joblint: warning: {error.filename}: cannot list directory: {error.strerror or error}", file=sys.stderr)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name
