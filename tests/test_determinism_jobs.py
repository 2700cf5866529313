"""Findings do not depend on how the run is executed: one process or a pool, cold or warm cache."""

from __future__ import annotations

import concurrent.futures
import os
import re
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from joblint import cache as cache_mod
from joblint import config as config_mod
from joblint import engine, rule_docs
from joblint.cache import Cache
from joblint.discover import discover
from joblint.rules import all_meta

BLOCK = re.compile(r"```\w*\n(.*?)```", re.DOTALL)
FILE = re.compile(r"^# file: (\S+)\n")


def generated_project() -> dict[str, str]:
    """Every rule document's examples, three times over, plus files that exercise the edges."""
    files: dict[str, str] = {}
    for doc in rule_docs.all_paths():
        text = doc.read_text(encoding="utf-8")
        code = doc.name.split("-", 1)[0]
        for section in ("Example", "Use instead"):
            body = rule_docs.sections(text).get(section, "")
            for number, block in enumerate(BLOCK.findall(body)):
                match = FILE.match(block)
                name = match.group(1) if match else f"example_{number}.py"
                for copy in range(3):
                    files[f"{code.lower()}_{section[0].lower()}{copy}/{name}"] = block[match.end():] if match else block
    files["edge/broken.py"] = "from celery import Celery\napp = Celery(\n"
    files["edge/suppressed.py"] = (
        "from celery import Celery\n\napp = Celery('x', task_serializer='pickle')  # noqa\n"
        "other = Celery('y', task_serializer='pickle')  # noqa: CEL102\n"
    )
    files["edge/latin1.py"] = "# -*- coding: latin-1 -*-\nfrom celery import Celery\napp = Celery('caf\xe9')\n"
    files["edge/unrelated.py"] = "def add(a, b):\n    return a + b\n"
    return files


def findings(root: Path, jobs: int, cache: Cache | None) -> tuple[list[tuple], int, int]:
    cfg = config_mod.discover([root])
    enabled = config_mod.select(cfg.settings, all_meta(), "test", ["ALL"])
    files = discover([root], cfg, root)
    result = engine.run(files, cfg, enabled, jobs, cache=cache)
    rows = [(f.path, f.span, f.code, f.severity, f.message, f.fix, f.source_line) for f in result.findings]
    return rows, result.parsed, result.skipped


def test_findings_identical_with_and_without_cache_and_pool(tmp_path, monkeypatch):
    files = generated_project()
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("latin-1" if name == "edge/latin1.py" else "utf-8"))
        os.utime(path, (time.time() - 3600,) * 2)  # older than any index of file stats: warm runs trust them
    pools: list[int] = []

    class CountedPool(ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            pools.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", CountedPool)
    monkeypatch.setattr(engine, "POOL_THRESHOLD", 8)
    # A file changed less than the slack before a run is not trusted by its stat (its ctime cannot
    # be set back like its mtime): whether the runs below fell inside those 2 s depended on the
    # machine's load, and a warm run then stored what the cold one had not. No slack: every run
    # trusts the same stats.
    monkeypatch.setattr(cache_mod, "TIMESTAMP_SLACK_NS", 0)

    reference = findings(tmp_path, 1, None)
    assert pools == []
    rows, parsed, skipped = reference
    assert len(rows) > 40 and len({r[2] for r in rows}) > 10, "the project exercises many rules"
    assert "JL001" in {r[2] for r in rows} and skipped > 0 and parsed > 8

    assert findings(tmp_path, 2, None) == reference
    assert pools == [1], "the run above used the pool"

    cache_dir = tmp_path / ".joblint_cache"
    assert findings(tmp_path, 2, Cache.open(cache_dir)) == reference  # cold: the pool writes the entries
    assert len(pools) == 2
    written = sorted(p.name for p in cache_dir.glob("v-*/*"))
    assert written

    pools.clear()
    assert findings(tmp_path, 1, Cache.open(cache_dir)) == reference  # warm, one process
    assert findings(tmp_path, 2, Cache.open(cache_dir)) == reference  # warm: nothing left for a pool
    assert pools == []
    assert sorted(p.name for p in cache_dir.glob("v-*/*")) == written

    cold_single = tmp_path / "single"
    assert findings(tmp_path, 1, Cache.open(cold_single)) == reference  # cold, one process
    assert sorted(p.name for p in cold_single.glob("v-*/*")) == written, "the same entries either way"
    assert cache_mod.DIRECTORY_NAME == ".joblint_cache"
