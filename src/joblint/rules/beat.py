"""CEL5: scheduling — beat inside workers, and the `beat_schedule` entries."""

from __future__ import annotations

import re
from typing import Iterator

from ..facts.values import UNKNOWN, Value
from ..findings import Severity, Span
from ..project import Project, ProjectTask, SettingValue
from . import Report, rule
from ._celery import CONFIG_WORDS, TASK_WORDS
from ._task_names import judgeable

SCHEDULE_WORDS = (*CONFIG_WORDS, *TASK_WORDS, "beat_schedule", "celerybeat_schedule")

CRONTAB = ("celery.schedules.crontab", "celery.crontab")
SCHEDULE = ("celery.schedules.schedule", "celery.schedule")


@rule(
    code="CEL501",
    in_tests=False,
    name="embedded-beat",
    severity=Severity.WARNING,
    summary="A worker started with -B/--beat runs the scheduler inside it: more than one such worker runs every periodic task more than once.",
    scope="project",
    words=("celery", "worker_main", ".worker("),  # `app.worker_main([... "-B"])` on an imported app
)
def embedded_beat(project: Project) -> Iterator[Report]:
    for facts in project.files:
        for span in facts.celery.embedded_beat:
            yield Report(
                span,
                "the worker runs beat inside it (-B): with more than one such worker every periodic task runs once "
                "per worker, and scheduling stops whenever that worker restarts; run exactly one `celery beat` "
                "process of its own",
                path=facts.path,
            )


def _entries(project: Project) -> Iterator[tuple[SettingValue, Value, Value]]:
    """(the beat_schedule write, entry name, entry) for each literal entry, once per write."""
    seen: set[tuple[str, Span]] = set()
    for model in project.models:
        write = model.get("beat_schedule")
        if write is None or (write.path, write.span) in seen:
            continue
        seen.add((write.path, write.span))
        for name, entry in write.value.entries:
            if entry.entries:
                yield write, name, entry


def _task_names(project: Project) -> dict[str, ProjectTask]:
    return {t.name: t for t in project.tasks}


def _find_task(names: dict[str, ProjectTask], wanted: str) -> ProjectTask | None:
    """The task registered as `wanted`. A module outside any package (no __init__.py) is named
    here by its file alone, while Celery may know it by a longer dotted path: match the end."""
    if wanted in names:
        return names[wanted]
    found = [t for name, t in names.items() if t.module is not None and "." not in t.module and wanted.endswith("." + name)]
    return found[0] if len(found) == 1 else None


@rule(
    code="CEL502",
    in_tests=False,
    name="beat-schedules-unknown-task",
    severity=Severity.ERROR,
    summary="A beat_schedule entry names a task the project does not define: its messages are never run.",
    scope="project",
    words=SCHEDULE_WORDS,
    settings=("beat_schedule",),
)
def beat_schedules_unknown_task(project: Project) -> Iterator[Report]:
    if not project.tasks:
        return
    names = _task_names(project)
    for write, _, entry in _entries(project):
        task = entry.entry("task")
        if task is None or not isinstance(task.data, str):
            continue
        if _find_task(names, task.data) or task.data in project.known_tasks or task.data.startswith("celery."):
            continue
        if not judgeable(project, task.data):
            continue  # a task of an installed package (or a name joblint cannot place): unknown, not missing
        close = [n for n in names if n.rsplit(".", 1)[-1] == task.data.rsplit(".", 1)[-1]]
        hint = f"; did you mean {close[0]!r}?" if len(close) == 1 else ""
        yield Report(
            task.span,
            f"beat sends {task.data!r}, but no task in the project is registered under that name: workers reject "
            f"every message as an unregistered task{hint} (a task registered outside this tree goes in "
            "[tool.joblint] known-tasks)",
            path=write.path,
        )


@rule(
    code="CEL503",
    in_tests=False,
    name="periodic-task-without-expiry",
    severity=Severity.INFO,
    summary="A periodic task without an expiry: runs pile up while workers are down and all run at once.",
    scope="project",
    opt_in=True,
    words=SCHEDULE_WORDS,
    settings=("beat_schedule",),
)
def periodic_task_without_expiry(project: Project) -> Iterator[Report]:
    for write, name, entry in _entries(project):
        options = entry.entry("options")
        if options is not None and (options.entry("expires") is not None or not options.entries and not options.known):
            continue
        yield Report(
            name.span,
            f"periodic task {name.data!r} has no expiry: while workers are down its messages pile up and all run at "
            "once when they come back; add options={'expires': <a bit less than the period>}",
            path=write.path,
        )


# -- CEL504 ------------------------------------------------------------------------------------


def _field(spec: object, low: int, high: int) -> set[int] | None:
    """The values a crontab field fires on: "*", "*/15", "0,30", "1-5", "1-10/2", ints, lists."""
    if isinstance(spec, bool):
        return None
    if isinstance(spec, int):
        return {spec} if low <= spec <= high else None
    if isinstance(spec, (list, tuple, set)):
        out: set[int] = set()
        for part in spec:
            values = _field(part, low, high)
            if values is None:
                return None
            out |= values
        return out
    if not isinstance(spec, str):
        return None
    out = set()
    for part in spec.replace(" ", "").split(","):
        match = re.fullmatch(r"(\*|\d+)(?:-(\d+))?(?:/(\d+))?", part)
        if match is None:
            return None
        start = low if match.group(1) == "*" else int(match.group(1))
        end = high if match.group(1) == "*" else int(match.group(2) or match.group(1))
        if match.group(1) != "*" and match.group(3) and not match.group(2):
            end = high  # "5/15": from 5 every 15
        step = int(match.group(3) or 1)
        if step < 1 or start < low or end > high:
            return None
        out |= set(range(start, end + 1, step))
    return out or None


def crontab_interval(value: Value) -> float | None:
    """The shortest time between two runs of a crontab(...) within a day, in seconds."""
    minute = _field(_arg(value, "minute", 0, "*"), 0, 59)
    hour = _field(_arg(value, "hour", 1, "*"), 0, 23)
    if minute is None or hour is None:
        return None
    times = sorted(h * 60 + m for h in hour for m in minute)
    gaps = [b - a for a, b in zip(times, times[1:])] + [1440 - times[-1] + times[0]]
    return float(min(gaps) * 60)


def _arg(value: Value, keyword: str, position: int, default: object) -> object:
    found = value.arg(keyword, position)
    if found is None:
        return default
    return found.data if found.data is not UNKNOWN else None


def period(schedule: Value) -> float | None:
    """Seconds between runs of a schedule: a number, a timedelta, schedule(...), crontab(...)."""
    number = schedule.number()
    if number is not None:
        return number
    if schedule.call.endswith(CRONTAB) or schedule.call == "crontab":
        return crontab_interval(schedule)
    if schedule.call.endswith(SCHEDULE) or schedule.call == "schedule":
        run_every = schedule.arg("run_every", 0)
        return run_every.number() if run_every is not None else None
    return None


# Guards that keep two runs from overlapping (an idempotent write does not).
LOCKS = ("select_for_update", "a lock", "cache.add", "SET NX")


def _takes_lock(task: ProjectTask) -> bool:
    from ._effects import DEDUPLICATING_BASES, GUARDS, classify

    base = (task.task.base or "").rsplit(".", 1)[-1]
    if base in DEDUPLICATING_BASES:
        return True
    locks = [(what, predicate) for what, predicate in GUARDS if what in LOCKS]
    return any(classify(site, locks) for site in task.task.body.calls)


@rule(
    code="CEL504",
    in_tests=False,
    name="schedule-faster-than-time-limit",
    severity=Severity.WARNING,
    summary="A periodic task scheduled more often than its time limit allows: two runs can overlap.",
    scope="project",
    words=SCHEDULE_WORDS,
    settings=("beat_schedule",),
)
def schedule_faster_than_time_limit(project: Project) -> Iterator[Report]:
    from ..task_options import effective_option

    names = _task_names(project)
    for write, name, entry in _entries(project):
        task_name, schedule = entry.entry("task"), entry.entry("schedule")
        task = _find_task(names, task_name.data) if task_name is not None and isinstance(task_name.data, str) else None
        if task is None or schedule is None or task_name is None:
            continue
        every = period(schedule)
        # Only a limit set for this task (its option or base class) says how long it may run; an
        # app-wide task_time_limit is a cap for every task (often sized for the slowest), and
        # judging a one-second cleanup by it flagged every short beat entry of such a project.
        limit, where = effective_option(project, task, "time_limit", None)
        hard = limit.number() if limit is not None else None
        if every is None or hard is None or every > hard or _takes_lock(task):
            continue
        yield Report(
            schedule.span,
            f"{name.data!r} runs every {every:g}s but {task_name.data} may run for {hard:g}s ({where}): beat does not "
            "wait for the previous run, so two can run at once; lengthen the period, shorten the limit, or take a "
            "lock in the task",
            path=write.path,
        )
