"""TMP2: Temporal activities: heartbeats, blocking the worker's event loop, retries."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from ..context import FileContext
from ..facts.names import ImportMap
from ..facts.temporal import ActivityDef, ApiCall
from ..findings import Severity, Span
from ..project import Project
from . import Report, rule
from ._blocking import blocking
from .temporal_workflows import WORDS, has_option, imports_of, io_call, is_none, keyword_node

SLEEPS = {"time.sleep", "asyncio.sleep"}


# -- TMP201 ------------------------------------------------------------------------------------

def _busy_loop(ctx: FileContext, activity: ActivityDef) -> cst.CSTNode | None:
    """The first loop in the activity whose body does blocking I/O, sleeps or awaits."""
    assert activity.node is not None
    imports = imports_of(ctx)
    found: list[cst.CSTNode] = []

    def busy(body: cst.CSTNode) -> bool:
        hit = [False]

        class Work(cst.CSTVisitor):
            def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
                return False

            def visit_Lambda(self, node: cst.Lambda) -> bool:
                return False

            def visit_Await(self, node: cst.Await) -> None:
                hit[0] = True

            def visit_Call(self, node: cst.Call) -> None:
                name = imports.qualify(node.func) or ""
                if name in SLEEPS or blocking(name) or io_call(name, builtin_ok=False):
                    hit[0] = True

        body.visit(Work())
        return hit[0]

    class Loops(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is activity.node

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_For(self, node: cst.For) -> bool:
            if not found and (node.asynchronous is not None or busy(node.body)):
                found.append(node)
            return not found

        def visit_While(self, node: cst.While) -> bool:
            if not found and busy(node.body):
                found.append(node)
            return not found

    activity.node.visit(Loops())
    return found[0] if found else None


@rule(
    code="TMP201",
    name="long-activity-without-heartbeat",
    severity=Severity.WARNING,
    summary="An activity loops over slow work and never heartbeats.",
    scope="file",
    words=WORDS,
)
def long_activity_without_heartbeat(ctx: FileContext) -> Iterator[Report]:
    for activity in ctx.facts.temporal.activities:
        if activity.heartbeats or activity.node is None:
            continue
        loop = _busy_loop(ctx, activity)
        if loop is None:
            continue
        start = ctx.span(loop)
        keyword = "async for" if isinstance(loop, cst.For) and loop.asynchronous is not None else (
            "for" if isinstance(loop, cst.For) else "while"
        )
        yield Report(
            Span(start.line, start.col, start.line, start.col + len(keyword)),
            f"activity {activity.function} loops over slow work without activity.heartbeat(): if its worker dies, "
            "Temporal notices only at start_to_close_timeout, and cancellation never reaches it; call "
            "activity.heartbeat(progress) in the loop and schedule it with heartbeat_timeout=",
        )


# -- TMP202 ------------------------------------------------------------------------------------

def _resolve(call: ApiCall, by_target: dict[str, ActivityDef], by_name: dict[str, list[ActivityDef]]) -> ActivityDef | None:
    if call.target is not None:
        return by_target.get(call.target)
    if call.target_name is not None:
        named = by_name.get(call.target_name, [])
        return named[0] if len(named) == 1 else None
    return None


@rule(
    code="TMP202",
    name="heartbeat-timeout-without-heartbeat",
    severity=Severity.ERROR,
    summary="heartbeat_timeout= set for an activity that never heartbeats.",
    scope="project",
    words=WORDS,
)
def heartbeat_timeout_without_heartbeat(project: Project) -> Iterator[Report]:
    by_target: dict[str, ActivityDef] = {}
    by_name: dict[str, list[ActivityDef]] = {}
    for facts in project.files:
        for activity in facts.temporal.activities:
            by_target[activity.target] = activity
            by_name.setdefault(activity.name, []).append(activity)
    if not by_target:
        return
    for facts in project.files:
        for call in facts.temporal.api_calls:
            if call.kind != "activity" or not has_option(call, "heartbeat_timeout"):
                continue
            activity = _resolve(call, by_target, by_name)
            if activity is None or activity.heartbeats:
                continue
            timeout = call.keyword("heartbeat_timeout")
            assert timeout is not None
            yield Report(
                timeout.span,
                f"heartbeat_timeout is set but activity {activity.function} never calls activity.heartbeat(): the "
                "server fails every attempt once the timeout passes without a heartbeat, and retries it; heartbeat "
                "more often than the timeout, or drop heartbeat_timeout",
                path=facts.path,
            )


# -- TMP203 ------------------------------------------------------------------------------------

@rule(
    code="TMP203",
    name="blocking-call-in-async-activity",
    severity=Severity.ERROR,
    summary="A blocking call in an async def activity stalls the worker's event loop.",
    scope="file",
    words=WORDS,
)
def blocking_call_in_async_activity(ctx: FileContext) -> Iterator[Report]:
    async_activities = {a.qualname for a in ctx.facts.temporal.activities if a.is_async}
    for call in ctx.facts.temporal.calls:
        if call.unit not in async_activities or not call.direct or call.awaited or call.node is None:
            continue
        if not blocking(call.name):
            continue
        yield Report(
            ctx.span(call.node),
            f"{call.name}() blocks the event loop this async activity runs on: every other activity and workflow on "
            "the worker stalls, heartbeats stop, timeouts fire; use an async library, `await asyncio.to_thread(...)`, "
            "or make the activity a plain `def` (run in the worker's thread pool)",
        )


# -- TMP204 ------------------------------------------------------------------------------------

RETRY_POLICY = {"temporalio.common.RetryPolicy"}


def _bounded_retries(call: ApiCall, imports: ImportMap) -> bool | None:
    """True when the retry policy bounds attempts, False when it does not, None when unknown."""
    assert call.node is not None
    policy = keyword_node(call.node, "retry_policy")
    if policy is None or is_none(policy):
        return False
    if not isinstance(policy, cst.Call) or imports.qualify(policy.func) not in RETRY_POLICY:
        return None
    if any(a.star == "**" for a in policy.args):
        return None
    attempts = keyword_node(policy, "maximum_attempts")
    if attempts is None:
        return False
    return not (isinstance(attempts, cst.Integer) and attempts.evaluated_value == 0)


@rule(
    code="TMP204",
    name="unbounded-activity-retries",
    severity=Severity.INFO,
    summary="An activity retried forever: no schedule_to_close_timeout and no maximum_attempts.",
    scope="file",
    opt_in=True,
    words=WORDS,
)
def unbounded_activity_retries(ctx: FileContext) -> Iterator[Report]:
    for call in ctx.facts.temporal.api_calls:
        if call.kind != "activity" or call.star_kwargs or call.node is None:
            continue
        if has_option(call, "schedule_to_close_timeout") or _bounded_retries(call, imports_of(ctx)) is not False:
            continue
        yield Report(
            call.span,
            f"workflow.{call.method}() uses Temporal's default retry policy, which retries a failing activity forever "
            "(maximum_attempts=0); a bug then retries until someone notices; pass "
            "retry_policy=RetryPolicy(maximum_attempts=...) or a schedule_to_close_timeout",
        )
