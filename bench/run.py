"""Benchmark joblint against ruff and bandit on a pinned corpus of real PyPI projects.

    pip install -e '.[bench]'           # ruff and bandit, the peers
    python bench/run.py                 # download the corpus (once), 3 interleaved rounds, write bench/RESULTS.md
    python bench/run.py --rounds 5 --semgrep

Each round runs every measurement once, in the same order, so a busy machine slows them all alike:
joblint cold (empty cache), warm (nothing changed), one file changed, one file alone (the
pre-commit case, without and with a warm cache), ruff (default rules), bandit, and semgrep when
asked for and installed.
Wall time, CPU time (user + system) and peak memory (the largest process's resident set) come
from the operating system's accounting of each finished process (`os.wait4`).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = (
    "django==5.2.19",
    "apache-superset==6.1.0",
    "celery==5.7.0",
    "temporalio==1.35.0",
    "arq==0.28.0",
    "apache-airflow-providers-celery==3.26.0",
    "pretix==2026.8.0",
)
# Globs in the corpus tree (a wheel unpacks to pretix/..., an sdist to pretix-2026.8.0/pretix/...).
# A 52 KB module of tasks and dispatches: joblint parses it, so its change costs a re-analysis
# (Celery's own modules are excluded by default, so editing one would cost nothing).
CHANGED_FILE = "pretix-2026.8.0/**/pretix/base/services/mail.py"
ONE_FILE = CHANGED_FILE  # the pre-commit case: one changed file, checked alone
SEMGREP_RULES = """rules:
  - id: celery-pickle
    languages: [python]
    severity: ERROR
    message: pickle serializer
    pattern: $APP.conf.update(..., task_serializer="pickle", ...)
  - id: temporal-sleep
    languages: [python]
    severity: WARNING
    message: time.sleep in a workflow
    pattern: time.sleep(...)
  - id: arq-blocking
    languages: [python]
    severity: WARNING
    message: requests in an async job
    pattern: requests.get(...)
"""


# -- corpus ------------------------------------------------------------------------------------

def fetch(corpus: Path) -> list[Path]:
    """Download each pinned distribution with pip (no dependencies) and unpack it once."""
    downloads = corpus / ".dl"
    downloads.mkdir(parents=True, exist_ok=True)
    projects = []
    for spec in CORPUS:
        name, version = spec.split("==")
        stem = f"{name.replace('-', '_')}-{version}"
        target = corpus / "tree" / stem  # the tree holds only the pinned projects
        projects.append(target)
        if target.is_dir():
            continue
        archive = _download(spec, name, version, downloads)
        target.mkdir(parents=True)
        if archive.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(target)
        else:
            with tarfile.open(archive) as tf:
                if hasattr(tarfile, "data_filter"):
                    tf.extractall(target, filter="data")
                else:  # pragma: no cover - Pythons without extraction filters
                    tf.extractall(target)
    return projects


def _download(spec: str, name: str, version: str, downloads: Path) -> Path:
    def existing() -> Path | None:
        wanted = {name.lower().replace("-", "_"), name.lower()}
        for path in downloads.iterdir():
            head = path.name.lower().split(f"-{version}")[0]
            if f"-{version}" in path.name and head in wanted:
                return path
        return None

    found = existing()
    if found is None:
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(downloads)]
        if subprocess.run([*pip, spec], capture_output=True).returncode != 0:
            subprocess.run([*pip, "--only-binary", ":all:", spec], check=True)
        found = existing()
    if found is None:
        raise SystemExit(f"pip downloaded nothing recognisable for {spec}")
    return found


def count_python(projects: list[Path]) -> tuple[int, int]:
    files = lines = 0
    for project in projects:
        for path in project.rglob("*.py"):
            files += 1
            lines += path.read_bytes().count(b"\n")
    return files, lines


# -- measuring ---------------------------------------------------------------------------------

@dataclass
class Series:
    label: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(self.wall)


def measure(
    command: list[str], cwd: Path, env: dict[str, str], stderr: Path | None = None
) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds, peak RSS in MB and the exit code of one run."""
    errors = stderr.open("wb") if stderr is not None else subprocess.DEVNULL
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    _, status, usage = os.wait4(process.pid, 0)
    if stderr is not None:
        errors.close()  # type: ignore[union-attr]
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode


def tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description="joblint vs ruff and bandit on a pinned corpus")
    parser.add_argument("--corpus", type=Path, default=HERE / ".corpus", help="where the corpus is unpacked")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--semgrep", action="store_true", help="also time semgrep (3 local rules) when installed")
    parser.add_argument("--no-bandit", action="store_true", help="skip bandit (it takes minutes per round)")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()

    corpus = args.corpus.resolve()
    projects = fetch(corpus)
    work = corpus / "tree"
    # A repository's root: `joblint check one_file.py` judges the file against the project found
    # around it (the nearest pyproject.toml or .git), as pre-commit does in a monorepo. Without
    # one, the project would be the file's own directory.
    root_marker = work / "pyproject.toml"
    if not root_marker.exists():
        root_marker.write_text('[project]\nname = "joblint-bench-corpus"\nversion = "0"\n')
    files, lines = count_python(projects)
    changed = next(work.glob(CHANGED_FILE))
    one_file = str(next(work.glob(ONE_FILE)).relative_to(work))

    joblint = [sys.executable, "-m", "joblint", "check", "--exit-zero", "--output-format", "concise"]
    cache = work / ".joblint_cache"
    original = changed.read_bytes()
    commands: dict[str, list[str] | None] = {
        "joblint cold": [*joblint, "."],
        "joblint warm": [*joblint, "."],
        "joblint one file changed": [*joblint, "."],
        "joblint one file": [*joblint, "--no-cache", one_file],
        "joblint one file, cache warm": [*joblint, one_file],
        # The pre-commit case as it usually is: the file given was just edited.
        "joblint one edited file, cache warm": [*joblint, one_file],
        "ruff": (
            [r, "check", "--no-cache", "--isolated", "--exit-zero", "--quiet", "."] if (r := tool("ruff")) else None
        ),
        "bandit": (
            [b, "-r", "-q", "-f", "json", "-o", os.devnull, "."]
            if (b := tool("bandit")) and not args.no_bandit
            else None
        ),
    }
    if args.semgrep and (s := tool("semgrep")):
        rules = corpus / "semgrep-rules.yml"
        rules.write_text(SEMGREP_RULES)
        commands["semgrep"] = [s, "scan", "--metrics=off", "--quiet", "--config", str(rules), "."]
    for peer in ("ruff", "bandit"):
        if commands[peer] is None and not (peer == "bandit" and args.no_bandit):
            print(
                f"bench: {peer} is not installed (pip install -e '.[bench]'): its row and ratios are left out",
                file=sys.stderr,
            )
    series = {label: Series(label) for label, command in commands.items() if command is not None}
    # Timed as installed: pip writes bytecode for what it installs, and Python writes joblint's own
    # on first import, unless PYTHONDONTWRITEBYTECODE (set in some sandboxes) forbids it; then every
    # run would compile joblint again. An untimed run compiles everything the timed ones import.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([*joblint, "--no-cache", one_file], cwd=work, env=env, stdout=subprocess.DEVNULL, check=False)
    for stale in work.rglob(".joblint_cache"):  # left by earlier runs, here or in a subproject
        shutil.rmtree(stale, ignore_errors=True)
    summary_file = corpus / "cold-summary.txt"  # joblint's own summary line of the last cold run

    for round_number in range(1, args.rounds + 1):
        for label, command in commands.items():
            if command is None:
                continue
            if label == "joblint cold":
                shutil.rmtree(cache, ignore_errors=True)
            if label in ("joblint one file changed", "joblint one edited file, cache warm"):
                # Different text for each measurement and round: no run of this bench saw it before.
                changed.write_bytes(original + f"\n# bench round {round_number}: {label}\n".encode())
            try:
                wall, cpu, rss, code = measure(command, work, env, summary_file if label == "joblint cold" else None)
            finally:
                changed.write_bytes(original)
            if code not in (0, 1):
                raise SystemExit(f"{label} failed with exit code {code}: {' '.join(command)}")
            series[label].wall.append(wall)
            series[label].cpu.append(cpu)
            series[label].rss_mb.append(rss)
            print(f"round {round_number}: {label:26} {wall:7.2f} s wall {cpu:7.2f} s cpu {rss:6.0f} MB", flush=True)

    summary = summary_file.read_text(errors="replace").strip().splitlines() if summary_file.exists() else []
    versions = {
        "joblint": version([sys.executable, "-m", "joblint", "--version"]),
        "ruff": version([commands["ruff"][0], "--version"]) if commands.get("ruff") else "not installed",
        "bandit": version([commands["bandit"][0], "--version"]) if commands.get("bandit") else "not run",
    }
    if "semgrep" in commands:
        versions["semgrep"] = version([commands["semgrep"][0], "--version"])
    report = render(series, files, lines, args.rounds, versions, summary[-1] if summary else "")
    args.output.write_text(report)
    print(report)


def render(
    series: dict[str, Series], files: int, lines: int, rounds: int, versions: dict[str, str], summary: str
) -> str:
    def ratio(a: str, b: str) -> str:
        if a in series and b in series:
            return f"{series[a].median() / series[b].median():.2f}×"
        return "n/a"

    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    rows = [
        "| measurement | median wall | min–max wall | median CPU | peak memory |",
        "|---|---:|---:|---:|---:|",
    ]
    for s in series.values():
        rows.append(
            f"| {s.label} | {s.median():.2f} s | {min(s.wall):.2f}–{max(s.wall):.2f} s | "
            f"{statistics.median(s.cpu):.2f} s | {max(s.rss_mb):.0f} MB |"
        )
    return "\n".join(
        [
            "# joblint benchmark results",
            "",
            f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · machine: {platform.machine()}, "
            f"{os.cpu_count()} cores ({_cpu_model()}), Python {platform.python_version()}, load average at the end "
            f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}",
            "",
            f"Corpus: {', '.join(CORPUS)} — {files} Python files, {lines} lines. {rounds} interleaved rounds.",
            f"Tools: {'; '.join(f'{k} {v}' for k, v in versions.items())}.",
            f"joblint's own summary of a cold run: `{summary}`",
            "",
            *rows,
            "",
            "Ratios of medians (wall time):",
            "",
            f"- joblint cold / ruff: {ratio('joblint cold', 'ruff')} (target ≤ 1.0×)",
            f"- joblint cold / bandit: {ratio('joblint cold', 'bandit')} (target ≤ 0.05×)",
            f"- joblint warm / ruff: {ratio('joblint warm', 'ruff')}",
            f"- joblint one file changed / ruff: {ratio('joblint one file changed', 'ruff')}",
            f"- joblint one file, cache warm / ruff: {ratio('joblint one file, cache warm', 'ruff')}",
            f"- joblint one edited file, cache warm / ruff: {ratio('joblint one edited file, cache warm', 'ruff')}",
            *( [f"- joblint cold / semgrep: {ratio('joblint cold', 'semgrep')}"] if "semgrep" in series else [] ),
            "",
            "Commands (in the corpus tree): joblint `python -m joblint check --exit-zero --output-format concise .` "
            "(cold: cache directory removed first; one file changed: a comment appended to "
            f"`{CHANGED_FILE}`; one file: `--no-cache {ONE_FILE}`, and the same without `--no-cache` "
            "after the warm run, unchanged and "
            "with a comment appended), ruff `ruff check --no-cache --isolated .`, "
            "bandit `bandit -r -q -f json .`. CPU is user + system time of the process and the workers it waited for; "
            "peak memory is the largest single process's resident set. joblint runs as installed, with its bytecode "
            "written (the bench drops PYTHONDONTWRITEBYTECODE for the timed commands).",
            "",
        ]
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    main()
