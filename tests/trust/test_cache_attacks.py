"""A repository's cache directory is hostile input: it cannot run code, hide findings or send writes
elsewhere (security issue, items 1, 2, 5, 7 and 8)."""

from __future__ import annotations

import os
import random
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_project
from joblint import cache_trust
from joblint.cache import Cache

from ._run import concise, joblint

TASKS = """
from celery import Celery

app = Celery("proj", task_serializer="pickle")


@app.task
def crunch(x):
    return app.AsyncResult(x).get()
"""
CONFIG = "[tool.joblint]\n"
SHIPPED_PICKLE_GADGETS = {
    # The attack found on fd322b6: extend `joblint.__path__` with the repository, then name a
    # module in it: the restricted unpickler imported the repository's `pwned_mod`.
    "path-extension": lambda repo: b"cjoblint\n__path__\n(V" + str(repo).encode() + b"\ne0cjoblint.pwned_mod\nx\n.",
    "os.system": lambda repo: b"cos\nsystem\n(V touch " + str(repo / "PWNED").encode() + b"\ntR.",
    "builtins.eval": lambda repo: b"cbuiltins\neval\n(V__import__('os').system('touch "
    + str(repo / "PWNED").encode() + b"')\ntR.",
}


def _project(root: Path) -> None:
    write_project(root, {"pyproject.toml": CONFIG, "proj/__init__.py": "", "proj/tasks.py": TASKS})
    # What the path-extension gadget would import: it marks that code ran.
    (root / "pwned_mod.py").write_text(f"open({str(root / 'PWNED')!r}, 'w').close()\nx = 1\n")


def _cache_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / ".joblint_cache").rglob("*") if p.is_file())


def _home(tmp_path: Path, name: str) -> dict[str, str]:
    """Another user's cache home (and so another key)."""
    home = tmp_path / name
    home.mkdir(mode=0o700)
    return {"XDG_CACHE_HOME": str(home)}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    _project(root)
    return root


def _findings(result: subprocess.CompletedProcess) -> list[tuple[str, int, str]]:
    assert result.returncode in (0, 1), result.stderr
    return sorted(concise(result))


@pytest.mark.parametrize("gadget", sorted(SHIPPED_PICKLE_GADGETS))
def test_pickle_gadgets_planted_in_every_cache_file_run_nothing(repo, gadget):
    cold = _findings(joblint("check", "--output-format", "concise", ".", cwd=repo))
    assert cold, "the project must have findings for the test to mean anything"
    for entry in _cache_files(repo):
        entry.write_bytes(SHIPPED_PICKLE_GADGETS[gadget](repo))
    for args in (["."], ["proj/tasks.py"]):
        assert _findings(joblint("check", "--output-format", "concise", *args, cwd=repo)) == cold
    editor = subprocess.run(
        [sys.executable, "-m", "joblint", "check", "--output-format", "concise", "--stdin-filename", "proj/tasks.py"],
        cwd=repo, input=TASKS.lstrip(), capture_output=True, text=True, timeout=300,
    )
    assert sorted(concise(editor)) == cold
    assert not (repo / "PWNED").exists()


def test_an_object_whose_reduce_runs_code_is_never_unpickled(repo):
    class Exploit:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (os.system, (f"touch {repo / 'PWNED'}",))

    import pickle

    cold = _findings(joblint("check", "--output-format", "concise", ".", cwd=repo))
    for entry in _cache_files(repo):
        entry.write_bytes(pickle.dumps((entry.name, Exploit())))
    assert _findings(joblint("check", "--output-format", "concise", ".", cwd=repo)) == cold
    assert not (repo / "PWNED").exists()


def test_a_committed_cache_that_claims_no_findings_is_not_believed(repo, tmp_path):
    """The attacker runs joblint on a clean copy with their own key and commits that cache under
    the names the real files would have: entries that say "no findings". They are signed, but not
    with the victim's key."""
    attacker = _home(tmp_path, "attacker")
    cold = _findings(joblint("check", "--output-format", "concise", ".", cwd=repo))
    shutil.rmtree(repo / ".joblint_cache")
    assert _findings(joblint("check", "--output-format", "concise", ".", cwd=repo, env=attacker)) == cold
    attacker_key = _key_in(Path(attacker["XDG_CACHE_HOME"]))
    forged = 0
    for entry in _cache_files(repo):
        if entry.parent.name.startswith("v-") and not entry.name.startswith("."):
            _rewrite_without_findings(entry, attacker_key)
            forged += 1
    assert forged
    # The attacker's own key believes the forgery (the forgery is a real one) ...
    assert _findings(joblint("check", "--output-format", "concise", ".", cwd=repo, env=attacker)) == []
    # ... the victim's does not.
    assert _findings(joblint("check", "--output-format", "concise", ".", cwd=repo)) == cold


def _key_in(home: Path) -> bytes:
    return (home / "joblint" / "key").read_bytes()


def _rewrite_without_findings(entry: Path, key: bytes) -> None:
    """Re-sign an entry with `key` after dropping every finding it holds."""
    cache = Cache(entry.parent, "", key)
    value = cache._load_entry(entry.name)
    if value is None:
        return
    cache.store(entry.name, _without_findings(value))


def _without_findings(value: object) -> object:
    from dataclasses import replace

    from joblint.files import FileResult

    if isinstance(value, FileResult):  # a file with no findings, and no facts for project rules
        return replace(value, findings=[], facts=None)
    if isinstance(value, tuple) and len(value) == 4 and isinstance(value[0], list):  # a whole run
        return ([], *value[1:])
    return value


def test_flipped_bits_in_entries_are_misses_not_missing_findings(repo):
    cold = joblint("check", "--output-format", "json", ".", cwd=repo).stdout
    rng = random.Random(7)
    for entry in _cache_files(repo):
        data = bytearray(entry.read_bytes())
        if not data:
            continue
        for _ in range(5):
            bit = rng.randrange(len(data) * 8)
            data[bit // 8] ^= 1 << (bit % 8)
        entry.write_bytes(bytes(data))
    assert joblint("check", "--output-format", "json", ".", cwd=repo).stdout == cold


def test_entries_that_are_symlinks_to_endless_or_blocking_files_are_misses(repo):
    cold = _findings(joblint("check", "--output-format", "concise", ".", cwd=repo))
    fifo = repo / "fifo"
    os.mkfifo(fifo)
    for index, entry in enumerate(_cache_files(repo)):
        if entry.parent.name.startswith("v-"):
            entry.unlink()
            entry.symlink_to("/dev/zero" if index % 2 else fifo)
    assert _findings(joblint("check", "--output-format", "concise", ".", cwd=repo, timeout=120)) == cold


def test_a_signed_entry_naming_a_path_is_never_joined_onto_the_directory(repo):
    """Even an entry the user's own key signed cannot send a read elsewhere: a snapshot that points
    to the run `/dev/zero` or `../x` is a miss, and so is a name that is a path."""
    joblint("check", ".", cwd=repo)
    key = _key_in(Path(os.environ["XDG_CACHE_HOME"]))
    build = next((repo / ".joblint_cache").glob("v-*"))
    cache = Cache(build, "", key)
    for target in ("/dev/zero", "../../../../dev/zero", "run-../../x"):
        cache.store("snap-" + "0" * 40, target)
        assert cache._load_entry("snap-" + "0" * 40, str) == target  # stored, and signed
        assert cache.run_for("snap-" + "0" * 40) is None
    assert cache._load_entry("../../etc/passwd") is None and cache._load_entry("/dev/zero") is None


def test_a_cache_tracked_by_git_is_ignored(repo):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    cold = _findings(joblint("check", "--output-format", "concise", ".", cwd=repo))
    git = ["git", "-c", "user.email=a@b", "-c", "user.name=a"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-f", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "with its cache"], cwd=repo, check=True)
    before = {p: p.read_bytes() for p in _cache_files(repo)}
    result = joblint("check", "--output-format", "concise", ".", cwd=repo)
    assert _findings(result) == cold
    assert "not using the cache" in result.stderr and "tracked by git" in result.stderr
    assert {p: p.read_bytes() for p in _cache_files(repo)} == before  # nothing written into it


def test_a_cache_directory_others_may_write_is_refused(repo, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    result = joblint("check", "--output-format", "concise", "--cache-dir", str(shared), ".", cwd=repo)
    assert _findings(result)
    warnings = [line for line in result.stderr.splitlines() if "not using the cache" in line]
    assert len(warnings) == 1 and "writable by other users" in warnings[0]
    assert list(shared.iterdir()) == []


@pytest.mark.skipif(
    not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to hand a directory to another user"
)
def test_a_cache_directory_of_another_user_is_refused(repo, tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o755)
    os.chown(theirs, 65534, 65534)
    result = joblint("check", "--output-format", "concise", "--cache-dir", str(theirs), ".", cwd=repo)
    assert _findings(result)
    assert "belongs to another user" in result.stderr
    assert list(theirs.iterdir()) == []


def test_the_cache_directory_joblint_makes_is_private(repo):
    joblint("check", ".", cwd=repo)
    for directory in [repo / ".joblint_cache", *(repo / ".joblint_cache").glob("v-*")]:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_a_key_others_can_read_is_not_used(repo, tmp_path):
    env = _home(tmp_path, "loose")
    key = Path(env["XDG_CACHE_HOME"]) / "joblint" / "key"
    key.parent.mkdir(mode=0o700)
    key.write_bytes(b"k" * cache_trust.KEY_BYTES)
    key.chmod(0o644)
    result = joblint("check", "--output-format", "concise", ".", cwd=repo, env=env)
    assert _findings(result)
    assert not (repo / ".joblint_cache").exists()  # no key it can trust: nothing cached


def test_cache_dir_in_project_config_must_stay_inside_the_project(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = outside / "a" / "repo"
    _project(repo)
    (repo / "pyproject.toml").write_text('[tool.joblint]\ncache-dir = "../.."\n')
    result = joblint("check", ".", cwd=repo)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "cache-dir '../..' lies outside the project" in result.stderr
    assert sorted(p.name for p in outside.iterdir()) == ["a"]  # no CACHEDIR.TAG, .gitignore, v-* there
    # The user's own choice, on the command line or in the environment, may lie anywhere.
    chosen = joblint("check", "--cache-dir", str(outside / "c"), ".", cwd=repo)
    assert chosen.returncode == 1 and (outside / "c").is_dir()
    env = joblint("check", ".", cwd=repo, env={"JOBLINT_CACHE_DIR": str(outside / "e")})
    assert env.returncode == 1 and (outside / "e").is_dir()


def test_a_committed_cache_symlink_leading_outside_is_not_written_through(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = outside / "a" / "repo"
    _project(repo)
    (repo / ".joblint_cache").symlink_to("../..")
    result = joblint("check", "--output-format", "concise", ".", cwd=repo)
    assert _findings(result)
    assert "not using the cache" in result.stderr and "outside the project" in result.stderr
    assert sorted(p.name for p in outside.iterdir()) == ["a"]


def test_a_file_outside_any_project_leaves_no_cache_behind(tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "tasks.py").write_text(TASKS)
    assert _findings(joblint("check", "--output-format", "concise", "tasks.py", cwd=loose))
    editor = subprocess.run(
        [sys.executable, "-m", "joblint", "check", "--output-format", "concise", "--stdin-filename",
         str(loose / "scratch.py")],
        cwd=loose, input=TASKS, capture_output=True, text=True, timeout=120,
    )
    assert concise(editor)
    assert not (loose / ".joblint_cache").exists()
