"""Baselines: today's findings are accepted; only new ones are reported, wherever lines move."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import write_project
from joblint.baseline import Baseline, fingerprints, normalise
from joblint.findings import Finding, Severity, Span

HEADER = 'from celery import Celery\n\napp = Celery("proj")\n'


def tasks_module(count: int, first: int = 0) -> str:
    # Identical decorator lines on purpose: the occurrence index must tell them apart.
    body = "".join(
        f'\n\n@app.task(serializer="pickle")\ndef job_{i}():\n    pass\n' for i in range(first, first + count)
    )
    return HEADER + body


def joblint(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "joblint", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def legacy_project(root: Path) -> None:
    """20 findings over four files."""
    write_project(root, {f"proj/tasks_{n}.py": tasks_module(5, n * 5) for n in range(4)})


def check(root: Path, *args: str) -> subprocess.CompletedProcess:
    return joblint("check", "--select", "CEL101", "--output-format", "concise", *args, ".", cwd=root)


def test_baseline_acceptance(tmp_path):
    legacy_project(tmp_path)
    assert len(check(tmp_path).stdout.splitlines()) == 20

    written = check(tmp_path, "--write-baseline", ".joblint-baseline.json")
    assert written.returncode == 0 and written.stdout == ""
    assert "Wrote 20 findings" in written.stderr

    clean = check(tmp_path, "--baseline", ".joblint-baseline.json")
    assert clean.returncode == 0 and clean.stdout == ""
    assert "20 findings in the baseline" in clean.stderr

    tasks = tmp_path / "proj" / "tasks_2.py"
    tasks.write_text(tasks.read_text() + '\n\n@app.task(serializer="pickle")\ndef brand_new():\n    pass\n')
    one = check(tmp_path, "--baseline", ".joblint-baseline.json")
    assert one.returncode == 1
    assert one.stdout.splitlines() == [one.stdout.splitlines()[0]]
    assert one.stdout.startswith("proj/tasks_2.py:31:22: CEL101 ")

    tasks.write_text(tasks.read_text().rsplit("\n\n@app.task", 1)[0])
    for path in (tmp_path / "proj").glob("*.py"):
        path.write_text("\n" * 5 + path.read_text())
    shifted = check(tmp_path, "--baseline", ".joblint-baseline.json")
    assert shifted.returncode == 0 and shifted.stdout == ""


def test_a_third_copy_of_a_baselined_line_is_new(tmp_path):
    write_project(tmp_path, {"tasks.py": tasks_module(2)})
    check(tmp_path, "--write-baseline", "baseline.json")
    (tmp_path / "tasks.py").write_text(tasks_module(3))
    result = check(tmp_path, "--baseline", "baseline.json")
    assert len(result.stdout.splitlines()) == 1


def test_reformatting_the_flagged_line_keeps_it_baselined(tmp_path):
    write_project(tmp_path, {"tasks.py": tasks_module(1)})
    check(tmp_path, "--write-baseline", "baseline.json")
    text = (tmp_path / "tasks.py").read_text().replace(
        '@app.task(serializer="pickle")', '@app.task(serializer="pickle")   '
    )
    (tmp_path / "tasks.py").write_text(text)
    assert check(tmp_path, "--baseline", "baseline.json").stdout == ""


def test_baseline_file_is_stable_sorted_and_has_no_timestamps(tmp_path):
    legacy_project(tmp_path)
    check(tmp_path, "--write-baseline", "a.json")
    check(tmp_path, "--write-baseline", "b.json")
    first = (tmp_path / "a.json").read_text()
    assert first == (tmp_path / "b.json").read_text()
    document = json.loads(first)
    assert set(document) == {"version", "tool", "findings"}
    keys = [(e["path"], e["code"], e["fingerprint"]) for e in document["findings"]]
    assert keys == sorted(keys) and len(keys) == 20
    assert all(set(e) == {"code", "path", "fingerprint"} for e in document["findings"])


def test_baseline_paths_are_relative_to_the_baseline_file(tmp_path):
    legacy_project(tmp_path)
    check(tmp_path, "--write-baseline", "ci/baseline.json")
    paths = {e["path"] for e in json.loads((tmp_path / "ci" / "baseline.json").read_text())["findings"]}
    assert paths == {f"../proj/tasks_{n}.py" for n in range(4)}
    from_subdirectory = joblint(
        "check", "--select", "CEL101", "--baseline", "../ci/baseline.json", ".", cwd=tmp_path / "proj"
    )
    assert from_subdirectory.returncode == 0 and from_subdirectory.stdout == ""


def test_baseline_from_configuration(tmp_path):
    legacy_project(tmp_path)
    check(tmp_path, "--write-baseline", ".joblint-baseline.json")
    (tmp_path / "pyproject.toml").write_text('[tool.joblint]\nbaseline = ".joblint-baseline.json"\n')
    result = check(tmp_path)
    assert result.returncode == 0 and result.stdout == ""


def test_a_copied_project_keeps_its_baseline(tmp_path):
    legacy_project(tmp_path / "a")
    check(tmp_path / "a", "--write-baseline", ".joblint-baseline.json")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    assert check(tmp_path / "b", "--baseline", ".joblint-baseline.json").stdout == ""


def test_missing_or_broken_baseline_is_one_line_and_exit_2(tmp_path):
    legacy_project(tmp_path)
    missing = check(tmp_path, "--baseline", "nope.json")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert "baseline file not found" in missing.stderr
    (tmp_path / "broken.json").write_text("{")
    broken = check(tmp_path, "--baseline", "broken.json")
    assert broken.returncode == 2 and "invalid JSON" in broken.stderr


def finding(line: int, text: str, code: str = "CEL101", path: str = "a.py") -> Finding:
    return Finding(code, "pickle-serializer", Severity.ERROR, path, Span.point(line), "m", source_line=text)


def test_fingerprints_ignore_line_numbers_and_whitespace():
    assert fingerprints([finding(3, "x = 'pickle'")]) == fingerprints([finding(90, "    x  =  'pickle'  ")])
    assert normalise("\tx   = 1 ") == "x = 1"


def test_fingerprints_differ_by_code_path_text_and_occurrence():
    base = fingerprints([finding(1, "x")])[0]
    assert fingerprints([finding(1, "x", code="CEL104")])[0] != base
    assert fingerprints([finding(1, "x", path="b.py")])[0] != base
    assert fingerprints([finding(1, "y")])[0] != base
    first, second = fingerprints([finding(1, "x"), finding(2, "x")])
    assert first == base and second != base


def test_new_keeps_order_and_only_unknown_findings(tmp_path):
    old = [finding(1, "x"), finding(2, "y")]
    baseline = Baseline.of(old, tmp_path, tmp_path)
    now = [finding(5, "y"), finding(6, "z"), finding(7, "x")]
    assert baseline.new(now, tmp_path) == [now[1]]
