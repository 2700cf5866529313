"""Whether a cache directory may be used, and the key that proves an entry is this user's own.

A cache is read back on every run, so whoever can write it decides what joblint reports. Entries
are therefore authenticated with a secret key that never lives in a checked tree: a random key made
on first use in the user's own cache directory (`~/.cache/joblint/key`, mode 0600). An entry
committed to a repository, unpacked from an archive, planted by a build step or by another user,
or damaged on disk fails verification and is recomputed. On top of that, a cache directory is not
used at all when git tracks it, when it is not the user's own or others may write to it, or when a
project's configuration points it outside the project.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import sys
from functools import lru_cache
from pathlib import Path

from .safe_io import UnsafeFile, inside, read_regular, real

KEY_BYTES = 32
MAC_BYTES = 32
_PERSON = b"joblint-cache"  # the MAC's domain: the key serves nothing else
_INDEX_LIMIT = 256 * 1024 * 1024


class CacheRefused(Exception):
    """A cache directory joblint will not use: one line saying why."""


def user_cache_home() -> Path:
    """Where per-user caches live: `$XDG_CACHE_HOME`, else the platform's place for them."""
    configured = os.environ.get("XDG_CACHE_HOME")
    if configured and os.path.isabs(configured):
        return Path(configured)
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    return Path.home() / ".cache"


def key_path() -> Path:
    return user_cache_home() / "joblint" / "key"


@lru_cache(maxsize=1)
def user_key() -> bytes | None:
    """The user's cache key, made on first use; None when no key can be kept safely (a home that
    cannot be written, a key directory or file that is not the user's own): then nothing is cached."""
    path = key_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _require_private(path.parent, directory=True)
        try:
            return _read_key(path)
        except FileNotFoundError:
            pass
        fresh = os.urandom(KEY_BYTES)
        temporary = path.with_name(f".key-{os.getpid()}-{os.urandom(6).hex()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(fresh)
            try:
                os.link(temporary, path)  # never replaces a key another run made meanwhile
            except FileExistsError:
                pass
            except OSError:  # a file system without hard links
                os.replace(temporary, path)
        finally:
            try:
                os.unlink(temporary)
            except OSError:
                pass
        return _read_key(path)
    except (OSError, CacheRefused):
        return None


def _read_key(path: Path) -> bytes:
    _require_private(path, directory=False)
    data = read_regular(path, KEY_BYTES, follow_symlinks=False)
    if len(data) != KEY_BYTES:
        raise UnsafeFile(f"{path}: not a joblint key")
    return data


def _require_private(path: Path, directory: bool) -> None:
    """The key and its directory must be the user's own, and the key readable by no one else."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise CacheRefused(f"{path} is a symlink")
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # Windows: the profile directory's ACLs keep other users out
        return
    if info.st_uid != getuid():
        raise CacheRefused(f"{path} belongs to another user")
    if info.st_mode & (0o022 if directory else 0o077):
        raise CacheRefused(f"{path} is open to other users (mode {stat.S_IMODE(info.st_mode):o})")


def mac(key: bytes, name: str, payload: bytes) -> bytes:
    """The entry's authentication tag: it binds the payload to the entry's name."""
    tag = hashlib.blake2b(key=key, digest_size=MAC_BYTES, person=_PERSON)
    tag.update(name.encode("ascii"))
    tag.update(b"\0")
    tag.update(payload)
    return tag.digest()


def verify(key: bytes, name: str, payload: bytes, tag: bytes) -> bool:
    return hmac.compare_digest(mac(key, name, payload), tag)


# -- the cache directory ---------------------------------------------------------------------------


def check_directory(directory: Path, project: Path | None, chosen_by_user: bool) -> None:
    """Raise `CacheRefused` when `directory` must not be used.

    `chosen_by_user`: given on the command line or in the environment, so it may lie anywhere; a
    directory from the project's configuration, or the default, must really lie inside the project
    (a committed `cache-dir = "../.."` or `.joblint_cache -> ../..` would write outside it).
    """
    if not chosen_by_user and project is not None:
        where, root = real(directory), real(project)
        if not inside(where, root):
            raise CacheRefused(f"{directory} lies outside the project {project}")
        if where == root:  # `cache-dir = "."`: its .gitignore would hide the whole project
            raise CacheRefused(f"{directory} is the project's own directory")
        if os.path.islink(directory):
            raise CacheRefused(f"{directory} is a symlink")
    try:
        info = os.stat(directory)
    except FileNotFoundError:
        info = None  # created on the first write, with mode 0700
    except OSError as error:
        raise CacheRefused(f"{directory}: {error.strerror or error}") from None
    if info is not None:
        if not stat.S_ISDIR(info.st_mode):
            raise CacheRefused(f"{directory} is not a directory")
        getuid = getattr(os, "getuid", None)
        if getuid is not None and info.st_uid != getuid():
            raise CacheRefused(f"{directory} belongs to another user")
        if info.st_mode & 0o022:
            raise CacheRefused(f"{directory} is writable by other users (mode {stat.S_IMODE(info.st_mode):o})")
        _check_builds(directory, getuid() if getuid is not None else None)
    if tracked_by_git(directory):
        raise CacheRefused(f"{directory} is tracked by git")


def _check_builds(directory: Path, uid: int | None) -> None:
    """The directories of joblint builds inside the cache must be real directories of the user's
    own: a planted `v-<build> -> /elsewhere` would take entries, and their pruning, elsewhere."""
    try:
        entries = list(os.scandir(directory))
    except OSError as error:
        raise CacheRefused(f"{directory}: {error.strerror or error}") from None
    for entry in entries:
        if not entry.name.startswith("v-"):
            continue
        info = entry.stat(follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
            raise CacheRefused(f"{entry.path} is not a directory of joblint's")
        if uid is not None and info.st_uid != uid:
            raise CacheRefused(f"{entry.path} belongs to another user")


def tracked_by_git(directory: Path) -> bool:
    """Whether the git index of the work tree holding `directory` lists a file below it.

    Read from the index itself, never by running git: a repository's own `.git/config` can make
    git run commands (`core.fsmonitor`). Conservative: a path anywhere in the index that ends in
    the directory's path followed by `/` counts (in index v4, which compresses paths, its name)."""
    here = real(directory)
    for top in (here, *here.parents):
        dot_git = top / ".git"
        if os.path.lexists(dot_git):
            break
    else:
        return False
    if here == top:
        return True  # the work tree itself: git tracks what is in it
    index = _index_file(dot_git)
    if index is None:
        return False
    try:
        data = read_regular(index, _INDEX_LIMIT)
    except OSError:
        return False
    if data[:4] != b"DIRC":
        return False
    relative = here.relative_to(top).as_posix().encode("utf-8", "surrogateescape") + b"/"
    if data[4:8] < b"\0\0\0\x04":
        return relative in data  # whole paths: a substring test is enough, and errs towards "tracked"
    return _v4_lists(data, relative)


_PATH_LIMIT = 4096  # git's own limit on a path (PATH_MAX); a longer one means a forged index


def _v4_lists(data: bytes, prefix: bytes) -> bool:
    """Whether an index in version 4, whose entries drop the prefix shared with the previous one,
    lists a path starting with `prefix`. SHA-1 repositories first, then SHA-256 ones; an index that
    parses as neither lists nothing. Each path is compared as it is rebuilt, never kept."""
    count = int.from_bytes(data[8:12], "big")
    for hash_size in (20, 32):
        previous, at = b"", 12
        try:
            for _ in range(count):
                at += 40 + hash_size  # stat data, object name
                flags = int.from_bytes(data[at : at + 2], "big")
                at += 4 if flags & 0x4000 else 2  # extended flags
                strip, at = _offset(data, at)
                end = data.index(b"\0", at)
                if strip > len(previous) or len(previous) - strip + end - at > _PATH_LIMIT:
                    raise ValueError("not an index entry")
                previous = previous[: len(previous) - strip] + data[at:end]
                if previous.startswith(prefix):
                    return True
                at = end + 1
        except (ValueError, IndexError):
            continue
        return False
    return False


def _offset(data: bytes, at: int) -> tuple[int, int]:
    """git's variable-length integer (varint.c): seven bits a byte, each continuation adding one."""
    byte = data[at]
    at += 1
    value = byte & 0x7F
    while byte & 0x80:
        byte = data[at]
        at += 1
        value = ((value + 1) << 7) | (byte & 0x7F)
    return value, at


def _index_file(dot_git: Path) -> Path | None:
    """The index of a `.git` directory, or of the one a `.git` file (a worktree) points to."""
    if dot_git.is_dir():
        return dot_git / "index"
    try:
        text = read_regular(dot_git, 4096).decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None
    target = Path(text[len("gitdir:"):].strip())
    return (target if target.is_absolute() else dot_git.parent / target) / "index"
