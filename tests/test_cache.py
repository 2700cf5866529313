"""The per-file cache: warm runs re-analyse nothing, yet cross-file findings follow every change."""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import write_project
from joblint import cache as cache_mod
from joblint import config as config_mod
from joblint import engine, pipeline
from joblint.cache import Cache
from joblint.discover import discover
from joblint.rules import all_meta

PROJECT = {
    "proj/__init__.py": "",
    "proj/celery.py": """
        from celery import Celery

        app = Celery("proj")
        app.config_from_object("proj.celeryconfig")
        """,
    "proj/celeryconfig.py": "task_time_limit = 120\n",
    "proj/tasks.py": """
        from proj.celery import app


        @app.task(soft_time_limit=300)
        def crunch():
            pass
        """,
    "proj/util.py": "def helper():\n    return 1\n",
}


@pytest.fixture
def analysed(monkeypatch):
    """The display paths the run actually parsed (cache misses), in order."""
    seen: list[str] = []
    real = pipeline.analyze

    def counting(task):  # type: ignore[no-untyped-def]
        seen.append(task.display)
        return real(task)

    monkeypatch.setattr(pipeline, "analyze", counting)
    return seen


def run(root: Path, select: list[str] | None = None, cache: bool = True, jobs: int = 1):
    cfg = config_mod.discover([root])
    enabled = config_mod.select(cfg.settings, all_meta(), "test", select)
    files = discover([root], cfg, root)
    opened = Cache.open(cache_mod.directory_for(cfg), cfg.settings) if cache else None
    result = engine.run(files, cfg, enabled, jobs, cache=opened)
    return [(f.path, f.span.line, f.code, f.message) for f in result.findings]


def entries(root: Path, prefix: str = "") -> list[Path]:
    """Per-file entries (or, with prefix "run-", whole-run entries)."""
    found = (p for p in (root / ".joblint_cache").glob("v-*/*") if not p.name.endswith(".tmp"))
    per_file = re.compile(r"[0-9a-f]{40}")
    return sorted(p for p in found if p.name.startswith(prefix) and (prefix or per_file.fullmatch(p.name)))


def test_warm_run_analyses_nothing_and_reports_the_same(tmp_path, analysed):
    write_project(tmp_path, PROJECT)
    cold = run(tmp_path, ["CEL104"])
    assert sorted(analysed) == ["proj/celery.py", "proj/celeryconfig.py", "proj/tasks.py"]  # util.py: pre-filter
    analysed.clear()
    assert run(tmp_path, ["CEL104"]) == cold
    assert analysed == []
    assert [(p, line, code) for p, line, code, _ in cold] == [("proj/tasks.py", 4, "CEL104")]


def test_changed_settings_file_changes_cross_file_findings_on_a_warm_run(tmp_path, analysed):
    write_project(tmp_path, PROJECT)
    assert [f[:3] for f in run(tmp_path, ["CEL104"])] == [("proj/tasks.py", 4, "CEL104")]
    analysed.clear()
    (tmp_path / "proj/celeryconfig.py").write_text("task_time_limit = 600\n")
    assert run(tmp_path, ["CEL104"]) == []  # the finding in the unchanged, cached tasks.py is gone
    assert analysed == ["proj/celeryconfig.py"]
    analysed.clear()
    (tmp_path / "proj/celeryconfig.py").write_text("task_time_limit = 60\n")
    warm = run(tmp_path, ["CEL104"])
    assert [f[:3] for f in warm] == [("proj/tasks.py", 4, "CEL104")]
    assert "hard limit 60s" in warm[0][3]
    assert analysed == ["proj/celeryconfig.py"]


def test_a_corrupted_entry_is_ignored_and_rewritten(tmp_path, analysed):
    write_project(tmp_path, PROJECT)
    cold = run(tmp_path, ["CEL104"])
    damaged = entries(tmp_path)
    assert len(damaged) == 3
    damaged[0].write_bytes(b"\x80\x05not a pickle")
    damaged[1].write_bytes(damaged[1].read_bytes()[:20])  # truncated
    damaged[2].write_bytes(b"")
    for run_entry in entries(tmp_path, "run-"):
        run_entry.write_bytes(b"garbage")
    analysed.clear()
    assert run(tmp_path, ["CEL104"]) == cold
    assert len(analysed) == 3
    cache = Cache.open(tmp_path / ".joblint_cache")
    assert cache is not None
    assert all(cache.load(p.name) is not None for p in entries(tmp_path)), "damaged entries are rewritten"
    analysed.clear()
    assert run(tmp_path, ["CEL104"]) == cold
    assert analysed == []


def test_a_warm_run_with_nothing_changed_reads_one_entry(tmp_path, analysed, monkeypatch):
    write_project(tmp_path, PROJECT)
    cold = run(tmp_path, ["CEL104"])
    assert len(entries(tmp_path, "run-")) == 1
    analysed.clear()
    loads: list[str] = []
    real = Cache.load
    monkeypatch.setattr(Cache, "load", lambda self, key: loads.append(key) or real(self, key))
    assert run(tmp_path, ["CEL104"]) == cold
    assert loads == [] and analysed == []  # the whole-run entry answered


def test_a_warm_run_does_not_look_for_the_words_again_and_survives_a_damaged_index(tmp_path, analysed, monkeypatch):
    from joblint import prefilter

    write_project(tmp_path, {**PROJECT, "proj/plain.py": "def add(a, b):\n    return a + b\n"})
    cold = run(tmp_path, ["CEL104"])
    looked: list[str] = []
    real = prefilter.keeps
    monkeypatch.setattr(
        prefilter,
        "keeps",
        lambda data, words, path="", python=True: looked.append(path) or real(data, words, path, python),
    )
    assert run(tmp_path, ["CEL104"]) == cold
    assert not any(path.endswith("plain.py") for path in looked)
    for index in entries(tmp_path, "skips-"):
        index.write_bytes(b"garbage")
    assert run(tmp_path, ["CEL104"]) == cold
    assert any(path.endswith("plain.py") for path in looked)  # looked again, then noted again
    looked.clear()
    (tmp_path / "proj" / "plain.py").write_text("def add(a, b):\n    return a - b\n")
    assert run(tmp_path, ["CEL104"]) == cold
    assert [p for p in looked if p.endswith("plain.py")], "changed content is looked at"


def test_a_skipped_file_that_changes_is_looked_at_again(tmp_path, analysed):
    """The second look reads skipped files: editing one must not replay a stored run."""
    write_project(tmp_path, {
        "shop/__init__.py": "",
        "shop/worker.py": 'from celery import Celery\n\napp = Celery("shop")\n',
        "shop/tasks.py": (
            "from shop.worker import app\n\n\n@app.task\ndef send_receipt(order_id):\n    return order_id\n"
        ),
        "shop/views.py": "from shop.tasks import send_receipt\n\n\ndef checkout(request):\n    return 1\n",
    })
    assert run(tmp_path, ["CEL802"]) == []
    (tmp_path / "shop" / "views.py").write_text(
        "from shop.tasks import send_receipt\n\n\ndef checkout(request):\n    send_receipt(42)\n    return 1\n"
    )
    assert [f[:3] for f in run(tmp_path, ["CEL802"])] == [("shop/views.py", 5, "CEL802")]


def test_settings_that_filter_findings_are_part_of_the_run_key(tmp_path, analysed):
    write_project(tmp_path, PROJECT)
    assert [f[:3] for f in run(tmp_path, ["CEL104"])] == [("proj/tasks.py", 4, "CEL104")]
    (tmp_path / "pyproject.toml").write_text('[tool.joblint]\nper-file-ignores = {"proj/tasks.py" = ["CEL104"]}\n')
    analysed.clear()
    assert run(tmp_path, ["CEL104"]) == []
    assert analysed == []  # per-file entries still serve: only the filtering changed
    (tmp_path / "pyproject.toml").write_text("[tool.joblint]\n")
    assert [f[:3] for f in run(tmp_path, ["CEL104"])] == [("proj/tasks.py", 4, "CEL104")]


def test_an_entry_that_would_run_code_is_refused(tmp_path, analysed):
    write_project(tmp_path, PROJECT)
    cold = run(tmp_path, ["CEL104"])
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (os.system, (f"touch {marker}",))

    entry = entries(tmp_path)[0]
    entry.write_bytes(pickle.dumps((entry.name, Exploit())))
    for run_entry in entries(tmp_path, "run-"):
        run_entry.write_bytes(pickle.dumps((run_entry.name, Exploit())))
    analysed.clear()
    assert run(tmp_path, ["CEL104"]) == cold
    assert not marker.exists()
    assert len(analysed) == 1


def test_entries_depend_on_the_enabled_rules(tmp_path, analysed):
    write_project(tmp_path, PROJECT)
    run(tmp_path, ["CEL104"])
    analysed.clear()
    assert run(tmp_path, ["CEL1"]) == run(tmp_path, ["CEL1"], cache=False)
    assert "proj/celery.py" in analysed  # other rules, other words and file rules: not the CEL104 entry
    analysed.clear()
    run(tmp_path, ["CEL1"])
    assert analysed == []


def test_cache_directory_is_gitignored_and_writes_leave_no_temporary_files(tmp_path):
    write_project(tmp_path, PROJECT)
    run(tmp_path, ["CEL104"])
    directory = tmp_path / ".joblint_cache"
    assert (directory / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (directory / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert not list(directory.rglob("*.tmp"))
    assert entries(tmp_path)


def test_a_build_directory_that_exists_still_gets_the_gitignore(tmp_path):
    """A `v-...` directory left without the root's .gitignore (copied, or a run killed between
    the two writes) once kept the cache committable for good: the first write of each run checks."""
    write_project(tmp_path, PROJECT)
    run(tmp_path, ["CEL104"])
    directory = tmp_path / ".joblint_cache"
    (directory / ".gitignore").unlink()
    (directory / "CACHEDIR.TAG").unlink()
    write_project(tmp_path, {"proj/extra.py": "from celery import Celery\nx = Celery('x')\n"})
    run(tmp_path, ["CEL104"])
    assert (directory / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (directory / "CACHEDIR.TAG").exists()


def test_without_cache_nothing_is_written(tmp_path):
    write_project(tmp_path, PROJECT)
    run(tmp_path, ["CEL104"], cache=False)
    assert not (tmp_path / ".joblint_cache").exists()


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    command = [sys.executable, "-m", "joblint", "check", "--output-format", "concise", "--select", "CEL104", *args, "."]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, env=env, timeout=600)


def test_cli_cache_flags_and_config_key(tmp_path):
    write_project(tmp_path, PROJECT)
    assert cli(tmp_path, "--no-cache").returncode == 1
    assert not (tmp_path / ".joblint_cache").exists()

    assert cli(tmp_path, "--cache-dir", "elsewhere").returncode == 1
    assert list((tmp_path / "elsewhere").glob("v-*/*"))
    assert not (tmp_path / ".joblint_cache").exists()

    (tmp_path / "pyproject.toml").write_text('[tool.joblint]\ncache-dir = "build/lint-cache"\n')
    first = cli(tmp_path)
    assert first.returncode == 1
    assert list((tmp_path / "build/lint-cache").glob("v-*/*"))
    assert not (tmp_path / ".joblint_cache").exists()
    assert cli(tmp_path).stdout == first.stdout


def test_two_concurrent_runs_both_succeed(tmp_path):
    files = dict(PROJECT)
    for i in range(60):  # enough files for both runs to be writing entries at the same time
        files[f"proj/jobs_{i}.py"] = (
            f"from proj.celery import app\n\n\n@app.task(soft_time_limit={100 + i})\ndef job_{i}():\n    pass\n"
        )
    write_project(tmp_path, files)
    expected = cli(tmp_path, "--no-cache").stdout
    env = {**os.environ, "NO_COLOR": "1"}
    command = [sys.executable, "-m", "joblint", "check", "--output-format", "concise", "--select", "CEL104", "."]
    runs = [
        subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    outputs = [r.communicate(timeout=600) for r in runs]
    assert [r.returncode for r in runs] == [1, 1], [err for _, err in outputs]
    assert [out for out, _ in outputs] == [expected, expected]
    assert not list((tmp_path / ".joblint_cache").rglob("*.tmp"))
    assert cli(tmp_path).stdout == expected  # and the entries they both wrote are whole


@pytest.fixture
def settled(monkeypatch):
    """Date every file an hour back, as files between two commits are, so the stat index trusts
    them. Setting the times changes the inode's ctime to now: the slack the index leaves for
    coarse timestamps (tested on its own below) is taken away."""
    monkeypatch.setattr(cache_mod, "TIMESTAMP_SLACK_NS", 0)

    def age(root: Path) -> None:
        past = time.time() - 3600
        for path in root.rglob("*.py"):
            os.utime(path, (past, past))

    return age


@pytest.fixture
def reads(monkeypatch):
    """The names of the project's files read (whole) during a run; cache entries not counted."""
    seen: list[str] = []
    real = Path.read_bytes

    def reading(self: Path) -> bytes:
        if ".joblint_cache" not in self.parts:
            seen.append(self.name)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", reading)
    bounded = pipeline.read_regular

    def reading_regular(path, limit, **options):  # type: ignore[no-untyped-def]
        if ".joblint_cache" not in Path(path).parts:
            seen.append(Path(path).name)
        return bounded(path, limit, **options)

    for module in (cache_mod, pipeline, engine):
        monkeypatch.setattr(module, "read_regular", reading_regular)
    return seen


def test_a_warm_run_reads_only_the_file_whose_stat_changed(tmp_path, analysed, reads, settled):
    write_project(tmp_path, {**PROJECT, "proj/plain.py": "def add(a, b):\n    return a + b\n"})
    settled(tmp_path)
    cold = run(tmp_path, ["CEL104"])
    reads.clear()
    (tmp_path / "proj/plain.py").write_text("def add(a, b):\n    return a - b\n")
    assert run(tmp_path, ["CEL104"]) == cold
    assert set(reads) == {"plain.py", "tasks.py"}  # tasks.py: the line its finding quotes
    assert analysed[-1:] != ["proj/plain.py"]  # still skipped by the pre-filter


def test_an_edit_that_keeps_size_and_modification_time_is_still_seen(tmp_path, analysed, settled):
    """Restoring the old mtime (`touch -r`, some sync tools) changes the inode's ctime."""
    write_project(tmp_path, PROJECT)
    settled(tmp_path)
    assert "hard limit 120s" in run(tmp_path, ["CEL104"])[0][3]
    config = tmp_path / "proj/celeryconfig.py"
    before = config.stat()
    config.write_text("task_time_limit = 180\n")  # the same size
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert config.stat().st_size == before.st_size
    assert "hard limit 180s" in run(tmp_path, ["CEL104"])[0][3]


def test_a_file_changed_in_the_second_the_index_was_written_is_read_again(tmp_path, analysed, reads):
    write_project(tmp_path, PROJECT)  # written just now: its times prove nothing yet
    cold = run(tmp_path, ["CEL104"])
    reads.clear()
    assert run(tmp_path, ["CEL104"]) == cold
    assert "celeryconfig.py" in reads


VIEWS_PROJECT = {
    "shop/__init__.py": "",
    "shop/worker.py": 'from celery import Celery\n\napp = Celery("shop")\n',
    "shop/tasks.py": "from shop.worker import app\n\n\n@app.task\ndef send_receipt(order_id):\n    return order_id\n",
    "shop/views.py": "from shop.tasks import send_receipt\n\n\ndef checkout(request):\n    send_receipt(42)\n",
    "shop/forms.py": "def clean(request):\n    return request\n",
}


def test_the_second_look_remembers_what_skipped_files_hold(tmp_path, analysed, reads, settled):
    """Editing a task file re-runs the second look; unchanged skipped files are not read for it."""
    write_project(tmp_path, VIEWS_PROJECT)
    settled(tmp_path)
    cold = run(tmp_path, ["CEL802"])
    assert [f[:3] for f in cold] == [("shop/views.py", 5, "CEL802")]
    reads.clear()
    tasks = tmp_path / "shop/tasks.py"
    tasks.write_text(tasks.read_text() + "# edited\n")
    assert run(tmp_path, ["CEL802"]) == cold
    assert "forms.py" not in reads
    # A task renamed: the remembered answers were for other names, so files are read again.
    tasks.write_text(tasks.read_text().replace("send_receipt", "send_invoice"))
    reads.clear()
    assert run(tmp_path, ["CEL802"]) == []
    assert "forms.py" in reads


def test_a_file_saved_during_a_run_is_judged_by_what_it_holds_on_later_runs(tmp_path, analysed, monkeypatch, settled):
    """An editor saves a skipped file between the probe and the second look, then the edit is
    undone: nothing learnt from the passing version may be replayed for the original one."""
    write_project(tmp_path, {**VIEWS_PROJECT, "shop/other.py": "X = 1\n"})
    settled(tmp_path)
    views = tmp_path / "shop/views.py"
    original = views.read_text()
    expected = run(tmp_path, ["CEL802"], cache=False)
    assert [f[:3] for f in expected] == [("shop/views.py", 5, "CEL802")]
    real = Cache.save_indexes

    def save_then_edit(self):  # type: ignore[no-untyped-def]
        real(self)
        views.write_text("def checkout(request):\n    print(42)\n")  # the run has probed, not yet read it

    monkeypatch.setattr(Cache, "save_indexes", save_then_edit)
    run(tmp_path, ["CEL802"])
    monkeypatch.setattr(Cache, "save_indexes", real)
    assert entries(tmp_path, "run-") == [], "a run during which a file changed is not stored whole"
    views.write_text(original)  # undo
    settled(tmp_path)
    (tmp_path / "shop/other.py").write_text("X = 2\n")  # some other change: no stored run answers
    assert run(tmp_path, ["CEL802"]) == expected


def test_stats_too_recent_to_prove_anything_are_not_kept(tmp_path):
    """A write within the timestamp granularity after the stat would leave it unchanged."""
    cache = Cache.open(tmp_path / ".joblint_cache")
    now = cache.opened_ns
    cache.note_digest("fresh.py", (10, now - 1_000_000_000, now - 1_000_000_000, 1), b"a" * 20)
    cache.note_digest("changed.py", (10, now - 9_000_000_000, now - 500_000_000, 2), b"b" * 20)  # ctime recent
    cache.note_digest("old.py", (10, now - 9_000_000_000, now - 9_000_000_000, 3), b"c" * 20)
    assert set(cache.new_stamps) == {"old.py"}


def test_indexes_are_cut_back_when_they_grow_far_past_what_whole_runs_use():
    small = cache_mod.Index({1, 2})
    assert small.updated({3}, {3}).entries == {1, 2, 3}  # small: kept whole
    grown = cache_mod.Index(set(range(cache_mod.INDEX_FLOOR + 10)), most_used=2)
    assert grown.updated({-1}, {1, -1}).entries == {1, -1}
    assert cache_mod.Index(dict.fromkeys(grown.entries, True)).updated({}, {3}).entries == {3: True}
    # A run over a few files of a project whose whole runs used many keeps what they learnt.
    whole = cache_mod.Index(set(range(cache_mod.INDEX_FLOOR + 10)), most_used=cache_mod.INDEX_FLOOR + 10)
    assert len(whole.updated({-1}, {-1}).entries) == cache_mod.INDEX_FLOOR + 11


def test_a_same_size_rewrite_within_a_coarse_timestamp_is_not_stored_as_the_run(tmp_path, analysed, monkeypatch):
    """On file systems with whole-second times, an in-place rewrite of the same size keeps the
    stat: a file this recent is hashed again before its run is stored."""
    real_signature = cache_mod.signature

    def coarse(path):  # type: ignore[no-untyped-def]
        size, modified, changed, inode = real_signature(path)
        return (size, modified // 10**9 * 10**9, changed // 10**9 * 10**9, inode)

    monkeypatch.setattr(cache_mod, "signature", coarse)
    write_project(tmp_path, VIEWS_PROJECT)
    views = tmp_path / "shop/views.py"
    original = views.read_text()
    real = Cache.save_indexes

    def save_then_rewrite(self):  # type: ignore[no-untyped-def]
        real(self)
        views.write_text(original.replace("send_receipt(42)", "print(42)       "))  # the same size
        os.utime(views, ns=(os.stat(views).st_atime_ns, os.stat(views).st_mtime_ns // 10**9 * 10**9))

    monkeypatch.setattr(Cache, "save_indexes", save_then_rewrite)
    run(tmp_path, ["CEL802"])
    assert entries(tmp_path, "run-") == []


def test_a_failed_run_leaves_no_cache_directory(tmp_path):
    write_project(tmp_path, PROJECT)
    for args in (["check", "nope.py"], ["check", "--select", "NOPE", "."]):
        done = subprocess.run([sys.executable, "-m", "joblint", *args], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 2, done.stderr
        assert not (tmp_path / ".joblint_cache").exists()


def test_the_build_covers_data_files_as_well_as_code():
    package = Path(cache_mod.__file__).parent
    names = {p.relative_to(package).as_posix() for p in cache_mod._package_files(package)}
    assert "settings/celery_settings.json" in names and "cache.py" in names
    assert not any("__pycache__" in name for name in names)


def test_analysis_with_the_cycle_collector_off_collects_now_and_then(monkeypatch):
    import gc

    collected: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: collected.append(generation) or 0)
    monkeypatch.setattr(gc, "isenabled", lambda: False)
    for _ in range(pipeline.COLLECT_EVERY * 2):
        pipeline._collect_now_and_then()
    assert collected == [0, 0]


def test_only_the_newest_whole_runs_are_kept(tmp_path, analysed, monkeypatch):
    monkeypatch.setattr(cache_mod, "KEPT_RUNS", 2)
    write_project(tmp_path, PROJECT)
    config = tmp_path / "proj/celeryconfig.py"
    for limit in (100, 101, 102, 103):
        config.write_text(f"task_time_limit = {limit}\n")
        run(tmp_path, ["CEL104"])
    assert len(entries(tmp_path, "run-")) == 2
    analysed.clear()
    assert "hard limit 103s" in run(tmp_path, ["CEL104"])[0][3]
    assert analysed == []  # the newest run still answers


def test_a_run_whose_files_all_keep_their_stats_is_answered_without_probing(tmp_path, analysed, settled, monkeypatch):
    write_project(tmp_path, PROJECT)
    settled(tmp_path)
    cold = run(tmp_path, ["CEL104"])
    analysed.clear()
    probes: list[str] = []
    real = engine.probe
    monkeypatch.setattr(engine, "probe", lambda task, *args: probes.append(task.display) or real(task, *args))
    assert run(tmp_path, ["CEL104"]) == cold
    assert probes == [] and analysed == []  # the snapshot of stats answered
    os.utime(tmp_path / "proj/util.py", (time.time() - 7200,) * 2)  # touched, the same content
    assert run(tmp_path, ["CEL104"]) == cold
    assert "proj/util.py" in probes  # probed, then answered by the stored run all the same
    assert len(entries(tmp_path, "run-")) == 1


def test_damaged_words_or_snapshot_entries_are_misses(tmp_path, analysed, settled):
    write_project(tmp_path, PROJECT)
    settled(tmp_path)
    cold = run(tmp_path, ["CEL104"])
    for prefix, planted in (("words-", (("not", "bytes"),)), ("snap-", 42), ("rules", {"CEL104": 5})):
        for entry in entries(tmp_path, prefix):
            entry.write_bytes(pickle.dumps((entry.name, planted)))
    assert run(tmp_path, ["CEL104"]) == cold


def test_an_init_file_outside_the_checked_paths_still_changes_a_warm_run(tmp_path, analysed, settled):
    """Module names come from `__init__.py` files that need not be checked themselves."""
    write_project(tmp_path, {
        "pyproject.toml": "[tool.joblint]\n",
        "shop/__init__.py": "",
        "shop/sub/__init__.py": "",
        "shop/sub/tasks.py": (
            "from celery import shared_task\n\n\n@shared_task\ndef send_receipt(order_id):\n    return order_id\n"
        ),
    })
    settled(tmp_path)
    sub = [tmp_path / "shop/sub"]

    def names() -> list[str]:
        return [f[3] for f in run_paths(tmp_path, sub, ["CEL204"])]

    first = names()
    assert first == names() and any("'shop.sub.tasks.send_receipt'" in m for m in first)
    (tmp_path / "shop/__init__.py").unlink()  # no checked file's stat changes
    assert any("'sub.tasks.send_receipt'" in m for m in names())


def run_paths(root: Path, paths: list[Path], select: list[str]) -> list[tuple]:
    cfg = config_mod.discover([root])
    enabled = config_mod.select(cfg.settings, all_meta(), "test", select)
    files = discover(paths, cfg, root)
    result = engine.run(files, cfg, enabled, 1, cache=Cache.open(cache_mod.directory_for(cfg), cfg.settings))
    return [(f.path, f.span.line, f.code, f.message) for f in result.findings]


def test_entries_of_old_file_versions_are_pruned_but_a_partial_run_keeps_the_rest(tmp_path, analysed, monkeypatch):
    monkeypatch.setattr(cache_mod, "INDEX_FLOOR", 0)
    write_project(tmp_path, {**PROJECT, **{f"proj/jobs{i}.py": (
        f"from celery import shared_task\n\n\n@shared_task\ndef job{i}():\n    pass\n"
    ) for i in range(4)}})
    cfg = config_mod.discover([tmp_path])
    tasks = tmp_path / "proj/tasks.py"

    def run_one_file() -> None:
        tasks.write_text(tasks.read_text() + "\n")
        one = discover([tasks], cfg, tmp_path)
        engine.run(one, cfg, frozenset({"CEL104"}), 1, cache=Cache.open(cache_mod.directory_for(cfg), cfg.settings))

    run(tmp_path, ["CEL104"])
    whole = len(entries(tmp_path))
    run_one_file()
    analysed.clear()
    run(tmp_path, ["CEL104"])  # after a run over one file, the others' entries are still there
    assert analysed == []
    for limit in range(301, 301 + 2 * cache_mod.ENTRY_GROWTH * whole):
        tasks.write_text(tasks.read_text().replace(f"soft_time_limit={limit - 1}", f"soft_time_limit={limit}"))
        run(tmp_path, ["CEL104"])
    assert len(entries(tmp_path)) <= cache_mod.ENTRY_GROWTH * whole + 1
    run_one_file()
    analysed.clear()
    run(tmp_path, ["CEL104"])
    assert analysed == []


def test_only_the_most_recently_used_builds_keep_a_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_mod, "KEPT_BUILDS", 3)
    write_project(tmp_path, PROJECT)
    root = tmp_path / ".joblint_cache"
    old = [root / f"v-{n:016x}" for n in range(5)]
    for age, directory in enumerate(old):
        (directory / "entry").parent.mkdir(parents=True)
        (directory / "entry").write_text("")
        os.utime(directory, (time.time() - 1000 * (age + 1),) * 2)
    (root / "mine").mkdir()  # not a build's: never touched
    Cache(old[-1], "", bytes(32)).begin_run()  # the oldest build is used again (a pinned pre-commit hook)
    run(tmp_path, ["CEL104"])  # a new build: its first write prunes
    builds = {p.name for p in root.iterdir() if p.name.startswith("v-")}
    assert len(builds) == cache_mod.KEPT_BUILDS
    assert {old[-1].name, old[0].name} < builds  # the one just used, and the newest of the rest
    assert (root / "mine").is_dir()
