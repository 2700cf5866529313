"""CEL8: request handlers and dispatch sites — waiting on tasks, running them inline, racing commits."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import FileContext
from ..facts.handlers import ROUTE_FRAMEWORKS, VIEW_FRAMEWORKS, HandlerCall
from ..facts.results import BLOCKING
from ..facts.tasks import DispatchCall
from ..findings import Applicability, Edit, Severity
from ..project import Project, ProjectTask
from ..task_options import base_classes, resolve_task
from . import Report, all_of, fix, rule
from ._celery import PRODUCER_WORDS, TASK_WORDS, describe, in_any

# What makes a function a request handler (facts/handlers.py): a route framework or a view
# framework imported, a `request` parameter, a view class.
HANDLER_WORDS = (*ROUTE_FRAMEWORKS, *VIEW_FRAMEWORKS, "request", "view")


@rule(
    code="CEL801",
    in_tests=False,
    name="blocking-result-in-request",
    severity=Severity.ERROR,
    summary="A request handler waits for a task's result: web workers block on the queue.",
    scope="file",
    words=PRODUCER_WORDS,
)
def blocking_result_in_request(ctx: FileContext) -> Iterator[Report]:
    handlers = {h.qualname: h for h in ctx.facts.handlers.handlers}
    if not handlers:
        return
    for read in ctx.facts.results.reads:
        handler = in_any(read.functions, set(handlers))
        if handler is None or read.method not in BLOCKING:
            continue
        yield Report(
            read.span,
            f"request handler {handler} calls .{read.method}() on the result of {describe(read)}: the web worker "
            "waits for the queue, so a backlog turns into request timeouts and exhausted workers; return the task "
            "id (e.g. 202 Accepted) and let the client poll or be notified",
        )


@rule(
    code="CEL802",
    in_tests=False,
    name="task-run-inline-in-request",
    severity=Severity.WARNING,
    summary="A request handler calls a task like a function (`task()`, `.run()`): the work runs in the request.",
    scope="project",
    words=TASK_WORDS,
    task_name_words=HANDLER_WORDS,  # a handler file is read when it names a task
)
def task_run_inline_in_request(project: Project) -> Iterator[Report]:
    inline: list[tuple[str, HandlerCall, ProjectTask]] = []
    for facts in project.files:
        for call in facts.handlers.calls:
            task = resolve_task(project, call.target, call.qualified, facts.path)
            if task is None or (call.method == "call" and task.task.kind == "class"):
                continue  # `SendTask()` builds a task object; it does not run it
            if call.alternative:
                continue  # `if settings.USE_QUEUE: t.delay(pk)` / `else: t(pk)`: inline on purpose
            inline.append((facts.path, call, task))
    # A task whose result some handler uses (`ok = task(...)`, `return task(...)`) is called as a
    # function on purpose: `.delay()` returns an AsyncResult, not the value. Its other inline calls
    # in handlers, value discarded, are then that function called too, not a forgotten `.delay()`.
    wanted = {(task.path, task.task.qualname) for _, call, task in inline if call.value_used}
    for path, call, task in inline:
        if (task.path, task.task.qualname) in wanted:
            continue
        how = {"call": f"{call.target}(...)", "run": f"{call.target}.run(...)"}
        yield Report(
            call.span,
            f"request handler {call.handler} runs task {task.task.function} inline with {how[call.method]}: "
            "the work happens inside the request, with no queue, retries or time limits; send it to a worker "
            f"with {call.target}.delay(...) and return",
            path=path,
        )


@rule(
    code="CEL803",
    in_tests=False,
    name="dispatch-in-transaction",
    severity=Severity.WARNING,
    summary="A task is sent inside a database transaction: a worker can run it before the data is committed.",
    scope="project",
    fix=Applicability.UNSAFE,
    words=(*all_of(("atomic",), (".delay(", "apply_async")), *TASK_WORDS),
)
def dispatch_in_transaction(project: Project) -> Iterator[Report]:
    for facts in project.files:
        for call in facts.tasks.dispatches:
            if call.method not in ("delay", "apply_async") or not call.in_transaction or call.in_on_commit:
                continue
            if call.per_locked_row or _delayed(call):
                continue  # claim-and-dispatch under select_for_update; a run delayed on purpose
            if not call.after_write:
                continue  # the transaction clearly only reads so far: nothing for the task to miss
            task = resolve_task(project, call.target, call.qualified, facts.path)
            if task is not None and _sends_itself(project, task):
                continue
            replacement = f"{call.method}_on_commit"
            edits = [Edit(call.method_span, replacement)] if call.method_span is not None else []
            yield Report(
                call.span,
                f"{call.target}.{call.method}() inside transaction.atomic publishes the task before the transaction "
                "commits: a fast worker reads rows that do not exist yet (or that roll back); send it on commit with "
                f"{call.target}.{replacement}(...) (Celery 5.4+) or "
                f"transaction.on_commit(partial({call.target}.{call.method}, ...))",
                fix(edits, f"Send the task on commit with .{replacement}()", Applicability.UNSAFE) if edits else None,
                path=facts.path,
            )


def _delayed(call: DispatchCall) -> bool:
    """`countdown=` or `eta=` given, other than a literal `countdown=0` or `None`: a run delayed on purpose."""
    for option in ("countdown", "eta"):
        value = call.options.get(option)
        if value is not None and not (value.known and value.data in (None, 0)):
            return True
    return False


def _sends_itself(project: Project, task: ProjectTask) -> bool:
    """A task class that overrides how it is sent (often to wait for the commit itself)."""
    return any({"apply_async", "delay"} & set(cls.methods) for cls in base_classes(project, task))
