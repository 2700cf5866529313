"""TMP1: Temporal workflows — Temporal's API used the way it requires: activities called directly or
without a timeout, the shape of @workflow.run, random workflow ids, arg together with args=,
queries that return nothing, workflow coroutines not awaited, and exceptions that are not Temporal
failures.

The rules on calls that break replay in workflow code are in temporal_replay.py.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from functools import lru_cache

import libcst as cst

from ..context import FileContext
from ..facts.names import dotted
from ..facts.traverse import walk
from ..findings import Applicability, Edit, Severity, Span
from ..project import Project
from . import Report, fix, rule
from ._temporal import WORDS, WORKFLOW, has_option, imports_of, is_none, keyword_node, workflow_calls

# -- TMP105 ------------------------------------------------------------------------------------

@rule(
    code="TMP105",
    name="activity-called-directly",
    severity=Severity.ERROR,
    summary="An @activity.defn function called directly from workflow code.",
    scope="project",
    words=WORDS,
)
def activity_called_directly(project: Project) -> Iterator[Report]:
    activities = {a.target: a for f in project.files for a in f.temporal.activities}
    if not activities:
        return
    for facts in project.files:
        for call in facts.temporal.workflow_calls:
            activity = activities.get(call.target)
            if activity is None:
                continue
            yield Report(
                call.span,
                f"activity {activity.function} is called directly from workflow code: its body runs inside the "
                "workflow, with no retries, timeouts or history event; use "
                f"`await workflow.execute_activity({activity.function}, ..., start_to_close_timeout=...)`",
                path=facts.path,
            )


# -- TMP106 ------------------------------------------------------------------------------------

@rule(
    code="TMP106",
    name="activity-without-timeout",
    severity=Severity.ERROR,
    summary="An activity started without start_to_close_timeout or schedule_to_close_timeout.",
    scope="file",
    words=WORDS,
)
def activity_without_timeout(ctx: FileContext) -> Iterator[Report]:
    for call in ctx.facts.temporal.api_calls:
        if call.kind != "activity" or call.star_kwargs:
            continue
        if has_option(call, "start_to_close_timeout") or has_option(call, "schedule_to_close_timeout"):
            continue
        yield Report(
            call.span,
            f"workflow.{call.method}() without start_to_close_timeout or schedule_to_close_timeout raises "
            "ValueError when the workflow reaches it, and the workflow task is retried until someone fixes the "
            "code; pass start_to_close_timeout=timedelta(...) (slightly above the activity's longest run)",
        )


# -- TMP107 ------------------------------------------------------------------------------------

@rule(
    code="TMP107",
    name="workflow-run-shape",
    severity=Severity.ERROR,
    summary="A @workflow.defn class without exactly one async @workflow.run method.",
    scope="file",
    words=WORDS,
)
def workflow_run_shape(ctx: FileContext) -> Iterator[Report]:
    for wf in ctx.facts.temporal.workflows:
        runs = wf.handlers_of("run")
        if not runs:
            if wf.node is not None and _maybe_wrapped_run(wf.node):
                continue
            yield Report(
                wf.span,
                f"workflow class {wf.name} has no @workflow.run method: @workflow.defn raises ValueError "
                "(\"Missing @workflow.run method\") when the class is defined; decorate its entry point "
                "`@workflow.run async def run(self, ...)` on this class",
            )
            continue
        for extra in runs[1:]:
            yield Report(
                extra.span,
                f"workflow class {wf.name} has more than one @workflow.run method ({runs[0].method} and "
                f"{extra.method}): @workflow.defn raises ValueError; keep exactly one",
            )
        for run in runs:
            if not run.is_async:
                yield Report(
                    run.span,
                    f"@workflow.run method {run.method} is not async: @workflow.run raises ValueError (\"Workflow "
                    "run method must be an async function\"); make it `async def`",
                )


def _maybe_wrapped_run(node: cst.ClassDef) -> bool:
    """A method decorated with something ending in `run` that we could not resolve."""
    for stmt in node.body.body:
        if isinstance(stmt, cst.FunctionDef):
            for decorator in stmt.decorators:
                expr = decorator.decorator
                text = dotted(expr.func if isinstance(expr, cst.Call) else expr) or ""
                if text.endswith("run"):
                    return True
    return False


# -- TMP108 ------------------------------------------------------------------------------------

_RANDOM_ID = {"uuid.uuid1", "uuid.uuid4", "uuid.uuid7", "time.time", "time.time_ns",
              "datetime.datetime.now", "datetime.datetime.utcnow", "datetime.datetime.today"}


def _random_source(ctx: FileContext, expr: cst.BaseExpression) -> str | None:
    imports = imports_of(ctx)
    found: list[str] = []

    class Calls(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            name = imports.qualify(node.func) or ""
            if name in _RANDOM_ID or name.startswith(("random.", "secrets.")):
                found.append(name)

    walk(expr, Calls())
    return found[0] if found else None


@rule(
    code="TMP108",
    in_tests=False,
    name="random-workflow-id",
    severity=Severity.WARNING,
    summary="A workflow started with a random or time-based id.",
    scope="file",
    words=WORDS,
)
def random_workflow_id(ctx: FileContext) -> Iterator[Report]:
    # Request handlers and tasks are retried by their callers whatever calls them.
    entry_points = {h.qualname for h in ctx.facts.handlers.handlers} | {t.qualname for t in ctx.facts.tasks.tasks}
    for call in ctx.facts.temporal.api_calls:
        if call.kind != "client" or call.node is None or call.in_workflow:
            continue
        if call.script and call.unit not in entry_points:
            continue  # a script run by hand: each run means a new workflow
        id_expr = keyword_node(call.node, "id")
        if id_expr is None:
            continue
        source = _random_source(ctx, id_expr)
        if source is None:
            continue
        yield Report(
            ctx.span(id_expr),
            f"workflow id built from {source.removeprefix('datetime.')}(): Temporal allows one open workflow per id, "
            "so a business id makes a retried or duplicated start request harmless; a random id starts a second "
            "workflow instead; derive the id from the business entity (e.g. f\"order-{order_id}\")",
        )


# -- TMP109 ------------------------------------------------------------------------------------

@rule(
    code="TMP109",
    name="arg-and-args",
    severity=Severity.ERROR,
    summary="An activity or workflow started with both a positional argument and args=.",
    scope="file",
    words=WORDS,
)
def arg_and_args(ctx: FileContext) -> Iterator[Report]:
    for call in ctx.facts.temporal.api_calls:
        args = call.keyword("args")
        if args is None or call.node is None:
            continue
        if not (call.positional or "arg" in call.keywords):
            continue
        node = keyword_node(call.node, "args")
        if not (isinstance(node, (cst.List, cst.Tuple)) and node.elements):
            continue  # a variable may well be empty: forwarding wrappers pass `arg, args=args`
        yield Report(
            args.span,
            f"{call.method}() gets both a single argument and args=: Temporal raises ValueError(\"Cannot have arg "
            "and args\"); pass every argument in args=[...] (or one dataclass argument)",
        )


# -- TMP110 ------------------------------------------------------------------------------------

def _returns_value(node: cst.FunctionDef) -> bool:
    found = [False]

    class Returns(cst.CSTVisitor):
        def visit_FunctionDef(self, inner: cst.FunctionDef) -> bool:
            return inner is node

        def visit_Lambda(self, inner: cst.Lambda) -> bool:
            return False

        def visit_ClassDef(self, inner: cst.ClassDef) -> bool:
            return False

        def visit_Return(self, ret: cst.Return) -> None:
            if ret.value is not None and not is_none(ret.value):
                found[0] = True

        def visit_Yield(self, y: cst.Yield) -> None:
            found[0] = True

    walk(node, Returns())
    return found[0]


def _only_raises(node: cst.FunctionDef) -> bool:
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else (node.body,)
    statements = [
        s for s in body
        if not (
            isinstance(s, cst.SimpleStatementLine)
            and all(isinstance(x, cst.Expr) and isinstance(x.value, cst.SimpleString) for x in s.body)
        )
    ]
    return bool(statements) and all(
        isinstance(s, cst.SimpleStatementLine) and all(isinstance(x, cst.Raise) for x in s.body) for s in statements
    )


@rule(
    code="TMP110",
    name="query-without-return",
    severity=Severity.ERROR,
    summary="A @workflow.query method that returns nothing.",
    scope="file",
    words=WORDS,
)
def query_without_return(ctx: FileContext) -> Iterator[Report]:
    for wf in ctx.facts.temporal.workflows:
        for handler in wf.handlers_of("query"):
            unit = ctx.facts.temporal.unit(f"{wf.qualname}.{handler.method}")
            node = unit.node if unit is not None else None
            if node is None or _returns_value(node) or _only_raises(node):
                continue
            if node.returns is not None and is_none(node.returns.annotation):
                continue  # declared to return None: deliberate
            yield Report(
                handler.span,
                f"query {handler.method} returns nothing, so every query gets None: a query exists to report workflow "
                "state; return the value (queries must not change state, so compute it from the workflow's fields)",
            )


# -- TMP111 ------------------------------------------------------------------------------------

AWAITABLE_API = frozenset(
    {
        *(
            f"{WORKFLOW}.{verb}_{kind}activity{suffix}"
            for verb in ("execute",)
            for kind in ("", "local_")
            for suffix in ("", "_method", "_class")
        ),
        f"{WORKFLOW}.execute_child_workflow",
        f"{WORKFLOW}.start_child_workflow",
        f"{WORKFLOW}.sleep",
        f"{WORKFLOW}.wait_condition",
        f"{WORKFLOW}.wait",
        "asyncio.sleep",
    }
)


@rule(
    code="TMP111",
    name="workflow-api-not-awaited",
    severity=Severity.ERROR,
    summary="A workflow coroutine (execute_activity, sleep, wait_condition...) called without await.",
    scope="file",
    fix=Applicability.SAFE,
    words=WORDS,
)
def workflow_api_not_awaited(ctx: FileContext) -> Iterator[Report]:
    for call in workflow_calls(ctx):
        if call.name not in AWAITABLE_API or call.awaited or not call.statement:
            continue
        assert call.node is not None
        span = ctx.span(call.node)
        short = call.name.replace(WORKFLOW + ".", "workflow.")
        message = (
            f"{short}() is a coroutine and its result is dropped without await: nothing is scheduled and the "
            "workflow goes on as if it had run (Python only warns 'coroutine was never awaited'); write "
            f"`await {short}(...)`"
        )
        edit = fix([Edit(Span.point(span.line, span.col), "await ")], "Add the missing await", Applicability.SAFE)
        yield Report(span, message, edit if call.in_async else None)


# -- TMP113 ------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _builtin_exceptions() -> dict[str, tuple[str, ...]]:
    """Builtin Exception subclasses and the names of their ancestors."""
    out = {}
    for name in dir(builtins):
        value = getattr(builtins, name)
        if isinstance(value, type) and issubclass(value, Exception):
            out[name] = tuple(c.__name__ for c in value.__mro__ if c is not object)
    return out


# Exceptions that do fail a workflow (asyncio.TimeoutError is the builtin TimeoutError since 3.11).
_FAILING = {"TimeoutError", "asyncio.TimeoutError", "asyncio.CancelledError", "asyncio.exceptions.TimeoutError",
            "asyncio.exceptions.CancelledError", "concurrent.futures.TimeoutError"}


# Exceptions that say "this is a bug" (`raise AssertionError("unreachable")`): retrying the workflow
# task until a fix is deployed is what Temporal means for bugs.
_BUGS = {"AssertionError", "NotImplementedError"}


def _ancestry(
    name: str, classes: dict[str, tuple[str, tuple[str, ...]]], seen: frozenset[str] = frozenset()
) -> tuple[str, ...] | None:
    """Names of `name` and its ancestors when they end in a builtin exception; None when unknown or Temporal."""
    if name in _FAILING or name.startswith("temporalio.") or name in seen:
        return None
    builtin = _builtin_exceptions().get(name)
    if builtin is not None:
        return builtin
    found = classes.get(name)
    if found is None:
        return None
    short, bases = found
    if not bases:
        return None
    out = [name, short]
    for base in bases:
        chain = _ancestry(base, classes, seen | {name})
        if chain is None:
            return None
        out += chain
    return tuple(out)


def _project_classes(project: Project) -> dict[str, tuple[str, tuple[str, ...]]]:
    """`module.Class` -> (name, qualified bases) for the classes of the Temporal modules."""
    return {
        target: (target.rsplit(".", 1)[-1], bases)
        for facts in project.files
        for target, bases in facts.temporal.classes
    }


@rule(
    code="TMP113",
    in_tests=False,
    name="non-temporal-exception-in-workflow",
    severity=Severity.WARNING,
    summary="Workflow code raises an exception that is not a Temporal failure: the workflow task retries forever.",
    scope="project",
    words=WORDS,
)
def non_temporal_exception(project: Project) -> Iterator[Report]:
    # Workers built in test code (test helpers that forward **options) do not run production workflows.
    worker_types = [t for f in project.files if not f.is_test for t in f.temporal.worker_failure_types]
    if any(t is None for t in worker_types):
        return  # a worker lists failure types we cannot read
    allowed_everywhere = {name for types in worker_types for name in types or ()}
    classes = _project_classes(project)
    for facts in project.files:
        for raised in facts.temporal.raises:
            if raised.failure_types is None:
                continue
            ancestry = _ancestry(raised.exception, classes)
            if ancestry is None or _BUGS.intersection(ancestry):
                continue
            allowed = allowed_everywhere | set(raised.failure_types)
            if any(name in ancestry or name.rsplit(".", 1)[-1] in ancestry for name in allowed):
                continue
            short = raised.exception.rsplit(".", 1)[-1]
            yield Report(
                raised.span,
                f"workflow code raises {short}, which is not a Temporal failure: instead of failing the workflow, "
                "Temporal fails the workflow task and retries it forever; raise "
                f"temporalio.exceptions.ApplicationError(..., non_retryable=True), or list {short} in "
                "@workflow.defn(failure_exception_types=[...])",
                path=facts.path,
            )
