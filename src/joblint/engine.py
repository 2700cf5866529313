"""The run: files -> per-file pipeline (in parallel when it pays) -> project analysis -> findings.

The engine drives the run: it probes every file, sends the files that need a parse to the pipeline
(`pipeline`), in a process pool when that pays, runs the second look and the project phase, and
filters the findings. The cache (`cache`) is storage the pipeline and the engine use.
"""

from __future__ import annotations

import gc
import os
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from . import prefilter
from .cache import Cache, StoredRun
from .config import Config, expand
from .discover import SourceFile
from .files import FileResult, FileTask
from .findings import Finding, Span
from .pipeline import Pending, Reading, analyze_and_store, analyze_chunk, keeps_text_chunk, probe, read_chunk
from .rules import BUILTIN, all_meta, all_rules
from .safe_io import SOURCE_LIMIT, read_regular
from .source import is_test_path, module_name, rescan_packages

# The project model, the rules and libcst load only when the cache cannot answer the run whole:
# importing them costs more than the rest of a warm run.
if TYPE_CHECKING:
    from .project import Project

# Below this many files a process pool costs more than it saves.
POOL_THRESHOLD = 48


@dataclass
class RunResult:
    findings: list[Finding]
    files: int = 0
    parsed: int = 0
    skipped: int = 0  # files the pre-filter showed cannot matter
    results: dict[str, FileResult] = field(default_factory=dict)


Probed = FileResult | str | Pending  # what `probe` settles for a file


def _analyze_all(
    tasks: list[FileTask],
    probed: list[Probed],
    workers: Workers,
    progress: Callable[[], None] | None = None,
    cache: Cache | None = None,
) -> list[FileResult]:
    """Results in task order: skipped files and cache hits settled here, the rest analysed (from
    the bytes the probe read, when it read them)."""
    results: list[FileResult | None] = []
    pending: list[tuple[int, FileTask]] = []
    for i, settled in enumerate(probed):
        key = settled if isinstance(settled, str) else settled.key if isinstance(settled, Pending) else None
        if key is not None and cache is not None:
            cache.used.add(key)
        if isinstance(settled, Pending):
            pending.append((i, settled.task))
            results.append(None)
            continue
        if isinstance(settled, str):
            loaded = cache.load(settled) if cache is not None else None
            if loaded is None:  # damaged or gone since the probe: analyse the file again
                pending.append((i, tasks[i]))
                results.append(None)
                continue
            settled = loaded
        results.append(_ticked(settled, progress))
    for j, result in workers.analyze([task for _, task in pending], cache):
        results[pending[j][0]] = _ticked(result, progress)
    return results  # type: ignore[return-value] # every miss is filled


def _keys(probed: list[Probed]) -> list[FileResult | str | None]:
    """What `Cache.run_key` reads: each file's cache key or skip; None for a file without a key."""
    return [settled.key if isinstance(settled, Pending) else settled for settled in probed]


class Workers:
    """The run's process pool: started for a pass with enough files to pay for it, then kept for
    the second look's passes, which are small."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.pool: Any = None  # a ProcessPoolExecutor, once started

    def pays(self, files: int) -> bool:
        """Whether work on this many files goes to the pool (already started, or worth starting)."""
        return self.jobs > 1 and files > 1 and (self.pool is not None or files >= POOL_THRESHOLD)

    def analyze(self, tasks: list[FileTask], cache: Cache | None) -> Iterator[tuple[int, FileResult]]:
        """(index in `tasks`, result), as each file is done."""
        if not self.pays(len(tasks)):
            yield from enumerate(analyze_and_store(t, cache) for t in tasks)
            return
        from concurrent.futures import as_completed

        self._start()
        # Largest files first, a few per submission: small files do not pay a round trip each,
        # and the last ones to finish are small, so no worker idles while another parses a big one.
        order = sorted(range(len(tasks)), key=lambda i: _size(tasks[i]), reverse=True)
        size = max(1, min(16, len(tasks) // (self.jobs * 8)))
        chunks = [order[i : i + size] for i in range(0, len(order), size)]
        futures = {self.pool.submit(analyze_chunk, [tasks[i] for i in chunk], cache): chunk for chunk in chunks}
        for future in as_completed(futures):
            yield from zip(futures[future], future.result())

    def map(self, work: Callable[..., list[Any]], items: list[Any], *args: Any) -> list[Any]:
        """`work(chunk, *args)` over `items` in chunks, in the pool; results in `items`' order."""
        self._start()
        size = max(1, min(64, len(items) // (self.jobs * 8)))
        futures = [self.pool.submit(work, items[i : i + size], *args) for i in range(0, len(items), size)]
        return [result for future in futures for result in future.result()]

    def _start(self) -> None:
        if self.pool is None:
            from concurrent.futures import ProcessPoolExecutor  # multiprocessing costs start-up time

            self.pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=_start_worker)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None


def _size(task: FileTask) -> int:
    if task.text is not None:
        return len(task.text)
    if task.data is not None:
        return len(task.data)
    try:
        return os.path.getsize(task.path)
    except OSError:
        return 0


def _probe_all(tasks: list[FileTask], cache: Cache | None, workers: Workers) -> list[Probed]:
    """`probe` every file. With no index of file stats (no cache, or its first run) every file must
    be read and searched for the words: many files are read in the workers, which send back the
    bytes of the files the words keep, for their analysis."""
    readings: list[Reading | None] = []
    if cache is None or not cache.knows_stamps():
        unread = [t for t in tasks if t.text is None]
        if workers.pays(len(unread)):
            readings = workers.map(read_chunk, unread, cache is not None)
    found = iter(readings)
    return [probe(t, cache, next(found) if readings and t.text is None else None) for t in tasks]


def _start_worker() -> None:
    # As in the main process (cli.main): analysis frees its objects by reference counting. The
    # rules load with the first file analysed: a cold run's workers read files before that.
    gc.disable()


def _second_look(
    tasks: list[FileTask], results: list[FileResult], cache: Cache | None, enabled: frozenset[str], workers: Workers
) -> None:
    """Analyse the skipped files that the first pass shows to matter (see `prefilter.SecondLook`).

    `app.config_from_object("proj.conf")` may point at a module holding nothing but lowercase
    settings (`worker_prefetch_multiplier = 4`): no rule word, yet the settings model needs it.
    A module found so may star-import another: look again until nothing new turns up.
    """
    look = prefilter.second_look(enabled, [r.facts for r in results if r.facts is not None])
    fallback = look.settings_modules
    seen: frozenset[str] = frozenset()
    skipped = [
        i for i, (task, result) in enumerate(zip(tasks, results))
        if not (result.parsed or result.findings or task.kind != "python" or task.words is None)
    ]
    leaves = {i: _module_leaf(tasks[i].path) for i in skipped}
    modules: dict[int, str | None] = {}  # module names, found only for files whose leaf is named

    def module_of(i: int) -> str | None:
        if i not in modules:
            modules[i] = module_name(tasks[i].path)[0]
        return modules[i]

    for _ in range(10):
        if not look:
            return
        open_ = [i for i in skipped if not (results[i].parsed or results[i].findings)]
        named = look.leaves()
        wanted = [i for i in open_ if leaves[i] in named and look.names(module_of(i))]
        readings: dict[int, Reading | None] = {}  # files kept for their text, as read to look
        if look.reads():
            chosen = set(wanted)
            readings = _kept_by_text(look, tasks, results, [i for i in open_ if i not in chosen], cache, workers)
            wanted += readings
        if not wanted:
            return
        wanted.sort()
        unfiltered = [replace(tasks[i], words=None) for i in wanted]
        probed = [probe(t, cache, readings.get(i)) for i, t in zip(wanted, unfiltered)]
        for i, result in zip(wanted, _analyze_all(unfiltered, probed, workers, None, cache)):
            results[i] = result
        # Later rounds look only for newly named modules: task names come from the first pass.
        seen |= look.modules
        found = prefilter.named_modules([r.facts for r in results if r.facts is not None], fallback)
        look = prefilter.SecondLook(frozenset(found - seen), (), {}, False)


def _module_leaf(path: str) -> str:
    """The last part of the file's module name: its stem, or its directory's name for a package."""
    directory, filename = os.path.split(path)
    return os.path.basename(directory) if filename == "__init__.py" else os.path.splitext(filename)[0]


def _kept_by_text(
    look: prefilter.SecondLook, tasks: list[FileTask], results: list[FileResult], ids: list[int],
    cache: Cache | None, workers: Workers,
) -> dict[int, Reading | None]:
    """The skipped files of `ids` the second look keeps for their text, each with the reading its
    text was judged on (None: the cache answered), for its analysis. A warm run asks the cache,
    which remembers each file's answer (by content and name) for the same task names and rules; a
    cold run reads many files in the workers."""
    decided = cache.text_decisions(look.text_key()) if cache is not None else {}
    answers: dict[int, bool | None] = {i: decided.get(results[i].fingerprint) for i in ids}
    unknown = [i for i, answer in answers.items() if answer is None]
    unread = [tasks[i] for i in unknown]
    stamped = cache is not None
    if workers.pays(len(unread)):
        found = workers.map(keeps_text_chunk, unread, look, stamped)
    else:
        found = keeps_text_chunk(unread, look, stamped)
    # Each answer is kept under the fingerprint of the bytes it was drawn from: a file saved since
    # the probe is answered for what it holds now, and never under its former content's name.
    fresh = {name: answer for name, answer, _ in found if name is not None}
    answers.update((i, answer) for i, (_, answer, _) in zip(unknown, found))
    if cache is not None and fresh:
        cache.store_text_decisions(look.text_key(), fresh, {results[i].fingerprint for i in ids})
    read = {i: reading for i, (_, _, reading) in zip(unknown, found)}
    return {i: read.get(i) for i in ids if answers[i]}


def _ticked(result: FileResult, progress: Callable[[], None] | None) -> FileResult:
    if progress is not None:
        progress()
    return result


def run(
    files: list[SourceFile],
    config: Config,
    enabled: frozenset[str],
    jobs: int | None = None,
    overrides: dict[str, str] | None = None,
    progress: Callable[[], None] | None = None,  # called once per file analysed
    cache: Cache | None = None,  # per-file results kept between runs
) -> RunResult:
    overrides = overrides or {}
    snapshot = None
    rescan_packages()
    if cache is not None:
        cache.begin_run()
    if cache is not None and not overrides:
        snapshot = cache.snapshot([(str(f.path), f.display, f.kind) for f in files], enabled, config)
        stored = cache.run_for(snapshot) if snapshot is not None else None
        if stored is not None:  # every file as it was in a stored run
            return _replayed(stored, len(files), progress)
    metas = cache.rules() if cache is not None else all_meta()
    file_codes = tuple(sorted(c for c in enabled if c in metas and c not in BUILTIN and metas[c].scope == "file"))
    words = cache.words(enabled, metas) if cache is not None else prefilter.words(enabled, metas)
    tasks = [
        FileTask(str(f.path), f.display, file_codes, words, overrides.get(f.display), f.kind)
        for f in files
    ]
    workers = Workers(jobs or os.cpu_count() or 1)
    try:
        probed = _probe_all(tasks, cache, workers)
        if cache is not None:
            cache.save_indexes()
        run_key = cache.run_key(_keys(probed), enabled, config) if cache is not None and not overrides else None
        stored = cache.load_run(run_key) if run_key is not None else None  # type: ignore[union-attr]
        if stored is not None:  # nothing changed since a run with this configuration: its findings stand
            if snapshot is not None:
                cache.point(snapshot, run_key)  # type: ignore[union-attr,arg-type]
            return _replayed(stored, len(tasks), progress)
        results = _analyze_all(tasks, probed, workers, progress, cache)
        del probed  # and the bytes it carried
        _second_look(tasks, results, cache, enabled, workers)
    finally:
        workers.close()
    findings = [f for r in results for f in r.findings]
    tests = test_files(files, config.root)
    for r in results:
        if r.facts is not None:
            r.facts.is_test = r.display in tests  # decided here, for every file, before the models read it
    quoted = {id(f) for r in results for f in r.findings if f.path == r.display}  # analysis gave their line
    from .project import build

    project = build(
        [r.facts for r in results if r.facts is not None],
        config.settings.extra_settings,
        config.settings.known_tasks,
        tuple(t.path for t, r in zip(tasks, results) if r.facts is None and t.kind == "python"),
    )
    findings += project_findings(project, enabled)

    by_display = {r.display: r for r in results}
    findings = _filter(findings, enabled, config, files, by_display, tests)
    findings = _attach_lines(findings, quoted, by_display, files, overrides)
    outcome = RunResult(
        findings=findings,
        files=len(tasks),
        parsed=sum(r.parsed for r in results),
        skipped=sum(1 for r in results if not r.parsed and not r.findings),
        results=by_display,
    )
    if run_key is not None and cache is not None:
        cache.store_run(run_key, (outcome.findings, outcome.files, outcome.parsed, outcome.skipped), snapshot)
    return outcome


def _replayed(stored: StoredRun, files: int, progress: Callable[[], None] | None) -> RunResult:
    for _ in range(files) if progress is not None else ():
        progress()  # type: ignore[misc]
    return RunResult(*stored)


def project_findings(project: Project, enabled: frozenset[str]) -> list[Finding]:
    from .analysis import to_finding

    out: list[Finding] = []
    for code, rule in sorted(all_rules().items()):
        if rule.scope != "project" or code not in enabled:
            continue
        try:
            reports = list(rule.check(project))
        except Exception as exc:  # noqa: BLE001 - one rule's crash must not stop the run
            where = traceback.extract_tb(exc.__traceback__)[-1]
            meta = BUILTIN["JL002"]
            out.append(
                Finding(
                    "JL002", meta.name, meta.severity, project.files[0].path if project.files else ".", Span.point(1),
                    f"rule {code} crashed: {type(exc).__name__}: {exc} ({Path(where.filename).name}:{where.lineno})",
                )
            )
            continue
        out.extend(to_finding(rule.meta, r, r.path or "") for r in reports)
    return out


def _filter(
    findings: list[Finding],
    enabled: frozenset[str],
    config: Config,
    files: list[SourceFile],
    results: dict[str, FileResult],
    tests: frozenset[str],
) -> list[Finding]:
    import pathspec

    metas = all_meta()
    quiet_in_tests = frozenset(code for code, meta in metas.items() if not meta.in_tests)
    per_file = [
        (
            pathspec.GitIgnoreSpec.from_lines([pattern]),
            frozenset(c for sel in selectors for c in expand(sel, metas, str(config.source))),
        )
        for pattern, selectors in config.settings.per_file_ignores.items()
    ]
    rel = {f.display: _relative(f.path, config.root) for f in files} if per_file else {}
    seen: set[tuple[str, str, Span, str]] = set()
    kept: list[Finding] = []
    for finding in findings:
        if finding.code not in enabled:
            continue
        if finding.code in quiet_in_tests and finding.path in tests:
            continue  # the finding's own file decides: a project rule reports where the harm is written
        suppressions = results[finding.path].suppressions if finding.path in results else None
        if suppressions is not None and suppressions.suppresses(finding.code, finding.span.line):
            continue
        path = rel.get(finding.path, finding.path)
        if any(finding.code in codes and spec.match_file(path) for spec, codes in per_file):
            continue
        key = (finding.code, finding.path, finding.span, finding.message)
        if key in seen:
            continue
        seen.add(key)
        kept.append(finding)
    kept.sort(key=lambda f: f.sort_key)
    return kept


def test_files(files: list[SourceFile], root: Path) -> frozenset[str]:
    """The displayed paths of the files that are test code (`source.is_test_path`), judged by
    their path inside the project: directories above the project root (`/home/test/proj`) do not
    count. A file outside the root is judged by its displayed path."""
    tests = set()
    for f in files:
        inside = _inside(f.path, root)
        if is_test_path(inside if inside is not None else f.display):
            tests.add(f.display)
    return frozenset(tests)


def _inside(path: Path, root: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        pass
    try:  # the root is a real path; the file's directory may be reached through a symbolic link
        return (Path(os.path.realpath(path.parent)) / path.name).relative_to(root).as_posix()
    except ValueError:
        return None


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _attach_lines(
    findings: list[Finding],
    quoted: set[int],
    results: dict[str, FileResult],
    files: list[SourceFile],
    overrides: dict[str, str],
) -> list[Finding]:
    """Give each finding the text of its first line, for code frames and baseline fingerprints.

    A file's own findings carry it from its analysis (or its cache entry): `quoted`, by id. Project
    findings take it from the lines the analysis kept of the file they are in (`FileResult.lines`,
    the lines its facts point at); only a file answered from the cache, or a line no fact points
    at, is read again."""
    paths = {f.display: f.path for f in files}
    read: dict[str, list[str]] = {}
    out = []
    for finding in findings:
        if id(finding) in quoted:
            out.append(finding)
            continue
        number = finding.span.line
        result = results.get(finding.path)
        kept = result.lines if result is not None else None
        if kept is not None and number in kept:
            line = kept[number]
        else:
            if finding.path not in read:
                read[finding.path] = _read_lines(finding.path, paths, overrides)
            lines = read[finding.path]
            line = lines[number - 1] if 0 < number <= len(lines) else ""
        out.append(replace(finding, source_line=line))
    return out


def _read_lines(display: str, paths: dict[str, Path], overrides: dict[str, str]) -> list[str]:
    from .source import Source, source_lines

    if display in overrides:
        return source_lines(overrides[display])
    path = paths.get(display)
    if path is None:
        return []
    try:
        return source_lines(Source.decode(read_regular(path, SOURCE_LIMIT)).text)
    except (OSError, SyntaxError, UnicodeDecodeError, LookupError):
        return []
