"""TMP1: Temporal workflow code must replay the same way every time.

Most rules here read the calls the Temporal collector recorded in workflow code (the handlers of
`@workflow.defn` classes and the helpers only they call); activities and client code are never
workflow code, so the same calls there are not reported.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from functools import lru_cache

import libcst as cst

from ..source import line_starts
from ..context import FileContext
from ..facts.names import ImportMap, dotted
from ..facts.temporal import ApiCall, CallSite
from ..facts.traverse import walk
from ..findings import Applicability, Edit, Severity, Span
from ..project import Project
from . import Report, all_of, fix, rule
from ..facts.blocking import RANDOM_METHODS, io_call, nondeterministic

# Temporal facts need names imported from temporalio, and a workflow or activity definition, a
# client start, a helper starting activities or child workflows, a with-start operation, a
# Worker, or a heartbeat (a helper that activities call).
WORDS = all_of(
    ("temporalio",),
    (
        "defn", "start_workflow", "execute_workflow", "child_workflow(", "activity(", "activity_method(",
        "activity_class(", "workflowoperation", "worker(", "heartbeat(",
    ),
)
WORKFLOW = "temporalio.workflow"


# -- shared helpers (also used by the activity rules) -------------------------------------------

def imports_of(ctx: FileContext) -> ImportMap:
    imports = ImportMap(ctx.facts.module, ctx.facts.is_package)
    imports.aliases = dict(ctx.facts.imports)
    return imports


def qualify(ctx: FileContext, expr: cst.BaseExpression) -> str | None:
    return imports_of(ctx).qualify(expr)


def workflow_calls(ctx: FileContext) -> Iterator[CallSite]:
    units = {u.key for u in ctx.facts.temporal.units if u.workflow}
    return (c for c in ctx.facts.temporal.calls if c.unit in units and c.node is not None)


def _module_names(ctx: FileContext) -> set[str]:
    """Names bound at module level other than by imports: defs, classes, assignments."""
    names = {a.name for a in ctx.facts.core.assignments}
    for stmt in ctx.module.body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            names.add(stmt.name.value)
    return names


def module_alias(ctx: FileContext, module: str, default: str, statement: str) -> tuple[str, list[Edit]] | None:
    """The local name of `module`, and the edits that import it when the file does not.

    None when the name the import would bind is already taken by something else.
    """
    for local, full in sorted(ctx.facts.imports.items()):
        if full == module:
            return local, []
    if default in ctx.facts.imports or default in _module_names(ctx):
        return None
    return default, [import_edit(ctx, statement)]


def workflow_alias(ctx: FileContext) -> tuple[str, list[Edit]] | None:
    return module_alias(ctx, WORKFLOW, "workflow", "from temporalio import workflow")


def import_edit(ctx: FileContext, statement: str) -> Edit:
    """Insert `statement` on its own line after the last top-level import (or the docstring)."""
    anchor: cst.CSTNode | None = None
    for i, stmt in enumerate(ctx.module.body):
        if isinstance(stmt, cst.SimpleStatementLine) and (
            any(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body)
            or (i == 0 and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr) and isinstance(stmt.body[0].value, cst.SimpleString))
        ):
            anchor = stmt
    if anchor is None:
        return Edit(Span.point(1, 1), statement + "\n")
    end = ctx.span(anchor).end_line
    starts = line_starts(ctx.text)
    if end < len(starts):
        return Edit(Span.point(end + 1, 1), statement + "\n")
    last = ctx.text[starts[-1]:]
    return Edit(Span.point(end, len(last) + 1), "\n" + statement)


def keyword_node(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def is_none(expr: cst.BaseExpression | None) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def has_option(call: ApiCall, name: str) -> bool:
    """The call passes `name=` with something other than a literal None."""
    value = call.keyword(name)
    return value is not None and not (value.known and value.data is None)


# -- TMP101 ------------------------------------------------------------------------------------

_UTC = {"datetime.timezone.utc", "datetime.UTC", "pytz.utc", "pytz.UTC", "dateutil.tz.UTC"}
_REPLACEMENT = {
    "uuid.uuid4": "uuid4()",
    "time.time": "time()",
    "time.time_ns": "time_ns()",
}


def _nondeterminism_fix(ctx: FileContext, call: cst.Call, name: str):  # type: ignore[no-untyped-def]
    alias = workflow_alias(ctx)
    if alias is None:
        return None
    wf, edits = alias
    call_span = ctx.span(call)
    if name.startswith("random.") and name.split(".", 1)[1] in RANDOM_METHODS:
        method = name.split(".", 1)[1]
        edit = Edit(ctx.span(call.func), f"{wf}.random().{method}")
        return fix([edit, *edits], f"Use {wf}.random().{method}(...)", Applicability.SAFE)
    if name in ("uuid.uuid4", "time.time", "time.time_ns") and not call.args:
        return fix([Edit(call_span, f"{wf}.{_REPLACEMENT[name]}"), *edits], f"Use {wf}.{_REPLACEMENT[name]}", Applicability.SAFE)
    if name == "datetime.datetime.utcnow" and not call.args:
        return fix(
            [Edit(call_span, f"{wf}.now().replace(tzinfo=None)"), *edits],
            f"Use {wf}.now().replace(tzinfo=None)",
            Applicability.SAFE,
        )
    if name == "datetime.datetime.now":
        if not call.args:
            return fix([Edit(call_span, f"{wf}.now()"), *edits], f"Use {wf}.now() (aware UTC, not naive local time)", Applicability.UNSAFE)
        only = call.args[0] if len(call.args) == 1 else None
        if (
            only is not None
            and not only.star
            and (only.keyword is None or only.keyword.value == "tz")
            and qualify(ctx, only.value) in _UTC
        ):
            return fix([Edit(call_span, f"{wf}.now()"), *edits], f"Use {wf}.now()", Applicability.SAFE)
    return None


def _nondeterminism_message(name: str) -> str:
    short = name.removeprefix("datetime.")
    if name.startswith("datetime."):
        better = "workflow.now()"
    elif name.startswith("time."):
        better = "workflow.time() / workflow.time_ns()"
    elif name.startswith(("random.", "secrets.", "os.urandom")):
        better = "workflow.random()"
    else:
        better = "workflow.uuid4()"
    return (
        f"{short}() in workflow code gives a different value when Temporal replays the workflow, so the replay "
        f"takes other decisions than the original run (a nondeterminism error, or a sandbox failure of the "
        f"workflow task); use {better}, which is recorded and replayed"
    )


@rule(
    code="TMP101",
    name="nondeterministic-call-in-workflow",
    severity=Severity.ERROR,
    summary="A clock, random or uuid call in workflow code gives other values on replay.",
    scope="file",
    fix=Applicability.SAFE,
    words=WORDS,
)
def nondeterministic_call(ctx: FileContext) -> Iterator[Report]:
    for call in workflow_calls(ctx):
        if nondeterministic(call.name, call.has_args):
            assert call.node is not None
            yield Report(ctx.span(call.node), _nondeterminism_message(call.name), _nondeterminism_fix(ctx, call.node, call.name))


# -- TMP102 ------------------------------------------------------------------------------------

PATH_IO = frozenset(
    {
        "read_text", "read_bytes", "write_text", "write_bytes", "open", "exists", "is_file", "is_dir",
        "mkdir", "unlink", "rmdir", "iterdir", "glob", "rglob", "touch", "stat", "resolve",
    }
)
PATHS = {"pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath"}


def path_io(ctx: FileContext, call: cst.Call) -> bool:
    """`Path(...).read_text()` and friends on a freshly built path."""
    func = call.func
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value in PATH_IO
        and isinstance(func.value, cst.Call)
        and qualify(ctx, func.value.func) in PATHS
    )


def _builtin_free(ctx: FileContext, name: str) -> bool:
    """A bare builtin name that the module does not rebind."""
    return name not in _module_names(ctx)


@rule(
    code="TMP102",
    name="io-in-workflow",
    severity=Severity.ERROR,
    summary="Network, file, process or environment I/O in workflow code.",
    scope="file",
    words=WORDS,
)
def io_in_workflow(ctx: FileContext) -> Iterator[Report]:
    for call in workflow_calls(ctx):
        assert call.node is not None
        name = call.name
        if name.startswith("os.environ"):
            continue  # reported once, at the os.environ access below
        if io_call(name, builtin_ok=_builtin_free(ctx, name)) or path_io(ctx, call.node):
            what = name or dotted(call.node.func) or "this call"
            yield Report(ctx.span(call.node), _io_message(what))
    units = {u.key for u in ctx.facts.temporal.units if u.workflow}
    for access in ctx.facts.temporal.environ:
        if access.unit in units and access.node is not None:
            yield Report(ctx.span(access.node), _io_message("os.environ"))


def _io_message(what: str) -> str:
    return (
        f"{what} in workflow code does I/O: Temporal replays workflow code, so the result can differ on replay "
        "(and the sandbox fails the workflow task); move it into an @activity.defn and call it with "
        "workflow.execute_activity(..., start_to_close_timeout=...)"
        if what != "os.environ"
        else "os.environ in workflow code reads configuration that can differ between workers and replays; "
        "pass the value in as workflow input, or read it in an activity"
    )


# -- TMP103 ------------------------------------------------------------------------------------

@rule(
    code="TMP103",
    name="blocking-sleep-in-workflow",
    severity=Severity.ERROR,
    summary="time.sleep in workflow code blocks the workflow thread.",
    scope="file",
    fix=Applicability.UNSAFE,
    words=WORDS,
)
def blocking_sleep(ctx: FileContext) -> Iterator[Report]:
    for call in workflow_calls(ctx):
        if call.name != "time.sleep":
            continue
        assert call.node is not None
        message = (
            "time.sleep() blocks the workflow thread: the sandbox rejects it, and unsandboxed it trips the deadlock "
            "detector after 2s and is not a durable timer; use `await asyncio.sleep(...)` or "
            "`await workflow.sleep(...)`"
        )
        yield Report(ctx.span(call.node), message, _sleep_fix(ctx, call))


def _sleep_fix(ctx: FileContext, call: CallSite):  # type: ignore[no-untyped-def]
    if not (call.in_async and call.statement):  # in_async: the innermost function is an async def
        return None
    alias = module_alias(ctx, "asyncio", "asyncio", "import asyncio")
    if alias is None:
        return None
    name, edits = alias
    assert call.node is not None
    return fix(
        [Edit(ctx.span(call.node.func), f"await {name}.sleep"), *edits],
        "Replace time.sleep with await asyncio.sleep (a durable timer)",
        Applicability.UNSAFE,
    )


# -- TMP104 ------------------------------------------------------------------------------------

THREAD_MODULES = ("threading.", "concurrent.futures.", "multiprocessing.", "_thread.")


@rule(
    code="TMP104",
    name="threads-in-workflow",
    severity=Severity.ERROR,
    summary="Threads, processes or executors in workflow code.",
    scope="file",
    words=WORDS,
)
def threads_in_workflow(ctx: FileContext) -> Iterator[Report]:
    for call in workflow_calls(ctx):
        assert call.node is not None
        func = call.node.func
        executor = isinstance(func, cst.Attribute) and func.attr.value == "run_in_executor"
        if call.name.startswith(THREAD_MODULES) or call.name == "asyncio.to_thread" or executor:
            what = "run_in_executor" if executor else call.name
            yield Report(
                ctx.span(call.node),
                f"{what} in workflow code runs work outside the workflow's deterministic event loop: Temporal cannot "
                "record or replay it, and the sandbox forbids threads; move the work into an activity",
            )


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
    name="random-workflow-id",
    severity=Severity.WARNING,
    summary="A workflow started with a random or time-based id.",
    scope="file",
    words=WORDS,
)
def random_workflow_id(ctx: FileContext) -> Iterator[Report]:
    for call in ctx.facts.temporal.api_calls:
        if call.kind != "client" or call.node is None or call.in_workflow:
            continue
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
        if not (isinstance(s, cst.SimpleStatementLine) and all(isinstance(x, cst.Expr) and isinstance(x.value, cst.SimpleString) for x in s.body))
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
        *(f"{WORKFLOW}.{verb}_{kind}activity{suffix}" for verb in ("execute",) for kind in ("", "local_") for suffix in ("", "_method", "_class")),
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


# -- TMP112 ------------------------------------------------------------------------------------

LOG_METHODS = frozenset({"debug", "info", "warning", "error", "exception", "critical", "log"})


def _loggers(ctx: FileContext) -> set[str]:
    """Module-level names bound to `logging.getLogger(...)`."""
    return {a.name for a in ctx.facts.core.assignments if a.value.call == "logging.getLogger"}


@rule(
    code="TMP112",
    name="print-or-logging-in-workflow",
    severity=Severity.INFO,
    summary="print or stdlib logging in workflow code repeats on every replay.",
    scope="file",
    fix=Applicability.UNSAFE,
    words=WORDS,
)
def print_or_logging(ctx: FileContext) -> Iterator[Report]:
    loggers = _loggers(ctx)
    for call in workflow_calls(ctx):
        assert call.node is not None
        func = call.node.func
        if call.name == "print" and _builtin_free(ctx, "print"):
            yield Report(
                ctx.span(call.node),
                "print() in workflow code runs again on every replay, so output repeats; use workflow.logger, "
                "which skips replays and adds the workflow's context",
            )
            continue
        target = _logger_target(ctx, func, call.name, loggers)
        if target is None:
            continue
        node, method = target
        alias = workflow_alias(ctx)
        change = None
        if alias is not None and method in LOG_METHODS:
            wf, edits = alias
            replacement = f"{wf}.logger.{method}" if node is func else f"{wf}.logger"
            change = fix([Edit(ctx.span(node), replacement), *edits], "Log through workflow.logger", Applicability.UNSAFE)
        yield Report(
            ctx.span(call.node),
            "stdlib logging in workflow code logs again on every replay; use workflow.logger, which skips replays "
            "and adds the workflow's id and run id",
            change,
        )


def _logger_target(
    ctx: FileContext, func: cst.BaseExpression, name: str, loggers: set[str]
) -> tuple[cst.BaseExpression, str] | None:
    """The expression to replace by `workflow.logger` (or the whole `logging.info`), and the method."""
    if name.startswith("logging.") and name.count(".") == 1 and name.split(".")[1] in LOG_METHODS | {"warn"}:
        return func, name.split(".")[1]
    if not isinstance(func, cst.Attribute) or func.attr.value not in LOG_METHODS | {"warn"}:
        return None
    owner = func.value
    if isinstance(owner, cst.Call) and qualify(ctx, owner.func) == "logging.getLogger":
        return owner, func.attr.value
    if isinstance(owner, cst.Name) and owner.value in loggers and owner.value not in ctx.facts.imports:
        return owner, func.attr.value
    return None


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


def _ancestry(name: str, classes: dict[str, tuple[str, tuple[str, ...]]], seen: frozenset[str] = frozenset()) -> tuple[str, ...] | None:
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
    name="non-temporal-exception-in-workflow",
    severity=Severity.WARNING,
    summary="Workflow code raises an exception that is not a Temporal failure: the workflow task retries forever.",
    scope="project",
    words=WORDS,
)
def non_temporal_exception(project: Project) -> Iterator[Report]:
    worker_types = [t for f in project.files for t in f.temporal.worker_failure_types]
    if any(t is None for t in worker_types):
        return  # a worker lists failure types we cannot read
    allowed_everywhere = {name for types in worker_types for name in types or ()}
    classes = _project_classes(project)
    for facts in project.files:
        for raised in facts.temporal.raises:
            if raised.failure_types is None:
                continue
            ancestry = _ancestry(raised.exception, classes)
            if ancestry is None:
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
