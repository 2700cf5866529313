"""ARQ: async jobs that must not block, registered functions, enqueued names, job results."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import FileContext
from ..facts.arq import JobEntry, ModuleFunction
from ..findings import Severity
from ..project import Project
from . import Report, rule
from ..facts.blocking import what_blocks


# ARQ facts need names imported from arq (`arq` alone is in every `parquet`).
ARQ_IMPORTS = ("from arq", "import arq", ", arq")


def _functions(project: Project) -> dict[str, ModuleFunction]:
    return {fn.target: fn for facts in project.files for fn in facts.arq.functions}


def _entries(project: Project) -> Iterator[tuple[str, JobEntry]]:
    for facts in project.files:
        for settings in facts.arq.settings:
            for entry in settings.entries:
                yield facts.path, entry


# -- ARQ101 ------------------------------------------------------------------------------------

@rule(
    code="ARQ101",
    in_tests=False,
    name="blocking-call-in-async-job",
    severity=Severity.ERROR,
    summary="A blocking call in an async ARQ job stalls every job on the worker.",
    scope="project",
    words=(*ARQ_IMPORTS, "WorkerSettings"),  # job modules named by WorkerSettings: a second look
)
def blocking_call_in_async_job(project: Project) -> Iterator[Report]:
    listed = {entry.ref for _, entry in _entries(project) if entry.ref}
    for facts in project.files:
        for fn in facts.arq.functions:
            if not fn.is_async or not fn.blocking:
                continue
            if fn.target not in listed and not (facts.arq.imports_arq and fn.first_param == "ctx"):
                continue
            for call in fn.blocking:
                yield Report(
                    call.span,
                    what_blocks(call.name, "this ARQ job runs on") + ": every other job on the worker stalls, "
                    "job_timeout cannot fire, and past job_timeout + 10s another worker starts the same job again; use "
                    "an async client (`await asyncio.sleep`, httpx.AsyncClient, redis.asyncio) or "
                    "`await loop.run_in_executor(None, ...)`",
                    path=facts.path,
                )


# -- ARQ102 ------------------------------------------------------------------------------------

@rule(
    code="ARQ102",
    name="sync-job-function",
    severity=Severity.ERROR,
    summary="A plain def registered as an ARQ job or cron job.",
    scope="project",
    words=(*ARQ_IMPORTS, "WorkerSettings"),  # job modules named by WorkerSettings: a second look
)
def sync_job_function(project: Project) -> Iterator[Report]:
    functions = _functions(project)
    for path, entry in _entries(project):
        fn = functions.get(entry.ref or "")
        if fn is None or fn.is_async:
            continue
        where = "cron_jobs" if entry.cron else "functions"
        yield Report(
            entry.span,
            f"{fn.name} is a plain def registered in {where}: ARQ only runs coroutine functions, and the worker "
            f"refuses to start (RuntimeError: '{fn.name} is not a coroutine function'); make it `async def` and run "
            "blocking work with `await loop.run_in_executor(None, ...)`",
            path=path,
        )


# -- ARQ103 ------------------------------------------------------------------------------------

def _registered_names(project: Project) -> set[str] | None:
    """Every job name the project's WorkerSettings register; None when one cannot be known."""
    functions = _functions(project)
    variables = {
        f"{facts.module or facts.path}.{a.name}" for facts in project.files for a in facts.core.assignments
    }
    names: set[str] = set()
    for facts in project.files:
        for settings in facts.arq.settings:
            if not settings.complete:
                return None
            for entry in settings.entries:
                if entry.name is not None:
                    names.add(entry.name)
                    continue
                if entry.ref is None or entry.ref in variables:
                    return None  # a Function/CronJob built elsewhere: its name is not in sight
                fn = functions.get(entry.ref)
                names.add(fn.name if fn is not None else entry.ref.rsplit(".", 1)[-1])
    return names


@rule(
    code="ARQ103",
    in_tests=False,
    name="enqueue-unknown-job",
    severity=Severity.ERROR,
    summary="enqueue_job with a name no WorkerSettings registers.",
    scope="project",
    words=(*ARQ_IMPORTS, "enqueue_job", "WorkerSettings"),
)
def enqueue_unknown_job(project: Project) -> Iterator[Report]:
    if not any(facts.arq.settings for facts in project.files):
        return
    names = _registered_names(project)
    if names is None:
        return
    for facts in project.files:
        for call in facts.arq.enqueues:
            if call.name in names:
                continue
            shown = sorted(names)
            known = ", ".join(shown[:8]) + (f" and {len(shown) - 8} more" if len(shown) > 8 else "") or "none"
            yield Report(
                call.span,
                f"no WorkerSettings registers a job named {call.name!r} (registered: {known}): the job is queued, then "
                "fails on the worker with \"function not found\"; enqueue a registered name (the function's name, "
                "or func(..., name=...))",
                path=facts.path,
            )


# -- ARQ104 ------------------------------------------------------------------------------------

@rule(
    code="ARQ104",
    in_tests=False,
    name="blocking-job-result-in-request",
    severity=Severity.WARNING,
    summary="A request handler awaits an ARQ job's result.",
    scope="file",
    words=("enqueue_job", *ARQ_IMPORTS),
)
def blocking_job_result_in_request(ctx: FileContext) -> Iterator[Report]:
    handlers = {h.qualname for h in ctx.facts.handlers.handlers}
    for wait in ctx.facts.arq.result_waits:
        if wait.function not in handlers:
            continue
        yield Report(
            wait.span,
            f"request handler {wait.function} awaits an ARQ job's result: the request stays open for the whole job "
            "(and for ever with the default timeout=None), tying up a connection and hitting proxy timeouts; return "
            "the job id and let the client poll, or push the result when the job ends",
        )
