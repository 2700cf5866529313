"""Reading and writing files a repository controls, as a tool that runs on strangers' pull requests must.

Everything a checked repository holds is hostile input: a `.gitignore`, a config file, a baseline or a
cache entry may be a symlink to `/dev/zero`, a FIFO, or a file of gigabytes; a report target may be a
committed symlink to `~/.bashrc`. So reads take regular files only, bounded in size, and never block;
writes go to a temporary file renamed into place, never through a symlink.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .source import repository_root

# Bounds on what joblint reads of files it does not analyse: generous for real files, small
# enough that a hostile one cannot exhaust memory.
CONFIG_LIMIT = 4 * 1024 * 1024  # pyproject.toml, joblint.toml, .gitignore
BASELINE_LIMIT = 256 * 1024 * 1024  # a baseline of a large legacy repository
SOURCE_LIMIT = 256 * 1024 * 1024  # a file read for analysis (which parses at most a few MB of it)


class UnsafeFile(OSError):
    """A file joblint will not read or write: not a regular file, too large, or behind a symlink.

    `UnsafeFile("path: reason")`; those raised here also carry the reason alone as `strerror`, so
    the usual `f"{path}: cannot read: {exc.strerror or exc}"` names the path once.
    """


def _unsafe(path: str | os.PathLike[str], reason: str) -> UnsafeFile:
    error = UnsafeFile(f"{os.fspath(path)}: {reason}")
    error.strerror = reason
    return error


def read_regular(path: str | os.PathLike[str], limit: int, *, follow_symlinks: bool = True) -> bytes:
    """The bytes of a regular file of at most `limit` bytes.

    Raises `UnsafeFile` for a FIFO, device, directory or socket (checked on the open descriptor, so
    a swap between check and read changes nothing), for a file over `limit`, and, with
    `follow_symlinks=False`, for a symlink. Opening never blocks, even on a FIFO with no writer.
    Other failures (a missing file, no permission) raise the usual OSError.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow_symlinks:
        if not hasattr(os, "O_NOFOLLOW") and os.path.islink(path):
            raise _unsafe(path, "is a symlink")
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if not follow_symlinks and os.path.islink(path):
            raise _unsafe(path, "is a symlink") from None
        raise error
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _unsafe(path, "not a regular file")
        if info.st_size > limit:
            raise _unsafe(path, f"larger than {limit} bytes")
        # One read may return less than asked (read(2) stops at 2 GB on Linux; a /proc file says
        # it has 0 bytes and has more): read to the end, never past limit + 1 bytes.
        chunks: list[bytes] = []
        size = 0
        want = info.st_size + 1  # the whole file in the first read, as a rule
        while size <= limit:
            chunk = os.read(fd, min(limit + 1 - size, max(want, 1 << 16), 1 << 24))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            want = 0
    finally:
        os.close(fd)
    if size > limit:
        raise _unsafe(path, f"larger than {limit} bytes")
    return b"".join(chunks)


def inside(path: Path, directory: Path) -> bool:
    """Whether `path` is `directory` or lies below it (both absolute, compared as given)."""
    try:
        path.relative_to(directory)
    except ValueError:
        return False
    return True


def real(path: Path) -> Path:
    """The path with every symlink resolved (as far as they resolve: a loop stops the resolution)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def check_output_path(path: Path, project: Path | None) -> None:
    """Refuse to write `path` when a repository could have aimed it elsewhere.

    Inside the project, a committed symlink in place of the file, or in place of a directory on
    the way to it, could send the write anywhere (`joblint.sarif -> ~/.bashrc`): the file must not
    be a symlink, and once the path enters the project no directory after that may lead out of it.
    "The project" is each of the trees a repository controls: the configuration's root (`project`),
    the repository holding it (a nested `pyproject.toml` must not shrink the boundary) and the
    working directory. Outside all of them the path is the user's own choice. Relative paths are
    taken from the working directory, `..` as written (`os.path.abspath`).
    """
    if project is None:
        return
    for boundary in _boundaries(Path(os.path.abspath(project))):
        _check_within(path, boundary)


def _boundaries(project: Path) -> list[Path]:
    return [project, repository_root(project), Path(os.getcwd())]


def _check_within(path: Path, project: Path) -> None:
    absolute = Path(os.path.abspath(path))
    actual = real(project)
    entered = False
    directory = Path(absolute.anchor)
    for part in absolute.parent.parts[1:]:
        directory = directory / part
        resolved = real(directory)
        entered = entered or inside(directory, project) or inside(resolved, actual)
        if entered and not inside(resolved, actual):
            raise UnsafeFile(
                f"{path}: its directory leads outside the project through a symlink; joblint does not write there"
            )
    entered = entered or inside(absolute, project)
    if entered and absolute.is_symlink():
        raise UnsafeFile(f"{path}: is a symlink inside the project; joblint does not write through it")


def write_atomically(path: Path, data: bytes, mode: int = 0o666) -> None:
    """Write a temporary file beside `path`, then rename it over `path`: a reader never sees half a
    file, and a symlink at `path` is replaced, never followed. `mode` is masked by the umask."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.joblint-{os.getpid()}-{os.urandom(6).hex()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_BINARY", 0), mode)
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
