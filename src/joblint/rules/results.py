"""CEL7: task results — waiting on them, storing large ones, keeping them forever, reading none."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import FileContext
from ..facts.results import BLOCKING
from ..facts.values import UNKNOWN
from ..findings import Severity
from ..project import Project, ProjectTask
from ..task_options import backend_kind, effective_option, resolve_task
from . import Report, rule
from ._celery import PRODUCER_WORDS, TASK_WORDS, describe, in_any

# -- CEL702 ------------------------------------------------------------------------------------


@rule(
    code="CEL702",
    in_tests=False,
    name="blocking-result-in-task",
    severity=Severity.ERROR,
    summary="A task waits for another task's result (`.get()`, `.join()`): the worker pool can deadlock.",
    scope="file",
    words=TASK_WORDS,
)
def blocking_result_in_task(ctx: FileContext) -> Iterator[Report]:
    tasks = {t.qualname: t.function for t in ctx.facts.tasks.tasks}
    if not tasks:
        return
    helpers = _helpers_called_by_tasks(ctx)
    for read in ctx.facts.results.reads:
        if read.method not in BLOCKING:
            continue
        task = in_any(read.functions, set(tasks))
        if task is not None:
            who = f"task {tasks[task]}"
        elif read.functions and read.functions[0] in helpers:
            who = f"{read.functions[0]}(), called by task {helpers[read.functions[0]]},"
        else:
            continue
        yield Report(
            read.span,
            f"{who} calls .{read.method}() on the result of {describe(read)}: it holds a worker slot "
            "while it waits for another task, which can deadlock the pool (Celery raises \"Never call result.get() "
            "within a task!\"); chain the work instead (`first.s() | second.s()`), use a chord, or self.replace()",
        )
    for bypass in ctx.facts.results.bypasses:
        task = in_any(bypass.functions, set(tasks))
        if task is None:
            continue
        yield Report(
            bypass.span,
            f"task {tasks[task]} switches off Celery's guard against waiting on subtasks ({bypass.kind}): a task "
            "that waits for another holds its worker slot and can deadlock the pool; restructure with a chain, "
            "a chord or self.replace()",
        )


def _helpers_called_by_tasks(ctx: FileContext) -> dict[str, str]:
    """Module-level functions of this file that a task body calls by name: they run inside the task."""
    tasks = {t.function for t in ctx.facts.tasks.tasks}
    helpers: dict[str, str] = {}
    for task in ctx.facts.tasks.tasks:
        for site in task.body.calls:
            if site.qualified is None and site.name.isidentifier() and site.name not in tasks:
                helpers.setdefault(site.name, task.function)
    return helpers


# -- CEL701 ------------------------------------------------------------------------------------


@rule(
    code="CEL701",
    in_tests=False,
    name="large-result-in-redis",
    severity=Severity.WARNING,
    summary="A task returns a large value (file contents, a response body, a queryset) into a Redis result backend.",
    scope="project",
    words=(*TASK_WORDS, "celery", "result_backend"),
    settings=("task_ignore_result", "result_backend"),
)
def large_result_in_redis(project: Project) -> Iterator[Report]:
    for task in project.tasks:
        returns = task.task.body.returns
        if not returns or not _stores_in_redis(project, task):
            continue
        for large in returns:
            yield Report(
                large.span,
                f"task {task.task.function} returns {large.what}, which the Redis result backend keeps in memory "
                "until result_expires (a day by default) and which can evict broker keys; store it in object "
                "storage or the database and return its key (or set ignore_result=True if nobody reads it)",
                path=task.path,
            )


def _stores_in_redis(project: Project, task: ProjectTask) -> bool:
    ignored, _ = effective_option(project, task, "ignore_result", "task_ignore_result")
    if ignored is not None and ignored.data is not False:
        return False  # the result is not stored, or we cannot know
    models = project.models_for(task)
    return bool(models) and all(backend_kind(m) == "redis" for m in models)


# -- CEL703 ------------------------------------------------------------------------------------

EXPIRING_BACKENDS = ("redis", "rediss", "sentinel", "cache", "memcache", "db", "django-db", "django-cache", "database")


@rule(
    code="CEL703",
    in_tests=False,
    name="results-never-expire",
    severity=Severity.WARNING,
    summary="result_expires is None or 0: every task result stays in the backend forever.",
    scope="project",
    words=("result_expires", "celery", "result_backend"),
    settings=("result_expires", "result_backend"),
)
def results_never_expire(project: Project) -> Iterator[Report]:
    for model in project.apps:
        write = model.get("result_expires")
        if write is None or write.data is UNKNOWN or write.data not in (None, 0):
            continue
        backend = model.get("result_backend")
        scheme = _scheme(backend.data if backend is not None else None)
        if scheme is None or not scheme.startswith(EXPIRING_BACKENDS):
            continue
        yield Report(
            write.value.span,
            f"{write.key}={write.data!r} keeps every task result in the {scheme} result backend forever: it grows "
            "until memory or disk runs out; set a finite expiry (e.g. 86400 seconds) and ignore results nobody reads",
            path=write.path,
        )


def _scheme(url: object) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    return url.split("://", 1)[0].lower()


# -- CEL704 ------------------------------------------------------------------------------------


@rule(
    code="CEL704",
    in_tests=False,
    name="result-read-without-backend",
    severity=Severity.ERROR,
    summary="Code reads a task's result, but the task's app has no result backend: the read fails or waits forever.",
    scope="project",
    words=(*PRODUCER_WORDS, *TASK_WORDS, "celery", "result_backend"),
    settings=("result_backend", "task_always_eager", "task_ignore_result"),
)
def result_read_without_backend(project: Project) -> Iterator[Report]:
    for facts in project.files:
        for read in facts.results.reads:
            if read.target is None:
                continue
            task = resolve_task(project, read.target, read.qualified, facts.path)
            if task is None or not _app_without_backend(project, task):
                continue
            yield Report(
                read.span,
                f".{read.method} reads the result of task {task.task.function}, but its app has no result_backend: "
                "the return value is dropped, so the read raises or waits forever; configure result_backend "
                "(e.g. redis://...) or stop reading the result",
                path=facts.path,
            )


def _app_without_backend(project: Project, task: ProjectTask) -> bool:
    models = project.models_for(task)
    if len(models) != 1 or backend_kind(models[0]) != "none":
        return False
    eager = models[0].get("task_always_eager")
    if eager is not None and eager.data is not False:
        return False
    ignored = models[0].get("task_ignore_result")
    return ignored is None or ignored.data is False
