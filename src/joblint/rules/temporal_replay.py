"""TMP1: Temporal workflows — replay: workflow code must replay the same way every time, so clocks,
random numbers and uuids, I/O, time.sleep and threads break it there, and print or stdlib logging
repeats on every replay.

These rules read the calls the Temporal collector recorded in workflow code (the handlers of
`@workflow.defn` classes and the helpers only they call); activities and client code are never
workflow code, so the same calls there are not reported. The rules on how workflows use
Temporal's API are in temporal_workflow_api.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from ..context import FileContext
from ..facts.blocking import RANDOM_METHODS, io_call, nondeterministic
from ..facts.names import dotted
from ..facts.temporal import CallSite
from ..findings import Applicability, Edit, Severity
from . import Report, fix, rule
from ._temporal import WORDS, module_alias, module_names, qualify, workflow_alias, workflow_calls

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
        replacement = f"{wf}.{_REPLACEMENT[name]}"
        return fix([Edit(call_span, replacement), *edits], f"Use {replacement}", Applicability.SAFE)
    if name == "datetime.datetime.utcnow" and not call.args:
        return fix(
            [Edit(call_span, f"{wf}.now().replace(tzinfo=None)"), *edits],
            f"Use {wf}.now().replace(tzinfo=None)",
            Applicability.SAFE,
        )
    if name == "datetime.datetime.now":
        if not call.args:
            return fix(
                [Edit(call_span, f"{wf}.now()"), *edits],
                f"Use {wf}.now() (aware UTC, not naive local time)",
                Applicability.UNSAFE,
            )
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
    in_tests=False,
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
            change = _nondeterminism_fix(ctx, call.node, call.name)
            yield Report(ctx.span(call.node), _nondeterminism_message(call.name), change)


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
    return name not in module_names(ctx)


@rule(
    code="TMP102",
    in_tests=False,
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
    in_tests=False,
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
    in_tests=False,
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


# -- TMP112 ------------------------------------------------------------------------------------

LOG_METHODS = frozenset({"debug", "info", "warning", "error", "exception", "critical", "log"})


def _loggers(ctx: FileContext) -> set[str]:
    """Module-level names bound to `logging.getLogger(...)`."""
    return {a.name for a in ctx.facts.core.assignments if a.value.call == "logging.getLogger"}


@rule(
    code="TMP112",
    in_tests=False,
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
            edits = [Edit(ctx.span(node), replacement), *edits]
            change = fix(edits, "Log through workflow.logger", Applicability.UNSAFE)
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
