"""TMP2: Temporal activities: heartbeats, blocking the worker's event loop, retries."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import libcst as cst

from ..context import FileContext
from ..facts.blocking import blocking, what_blocks
from ..facts.names import ImportMap
from ..facts.temporal import ActivityDef, ApiCall
from ..findings import Severity, Span
from ..project import Project
from . import Report, rule
from ._temporal import WORDS, has_option, imports_of, is_none, keyword_node

# -- TMP201 ------------------------------------------------------------------------------------

def heartbeating(project: Project) -> Callable[[ActivityDef], bool]:
    """Whether an activity heartbeats: itself, through its module's helpers, or an imported one."""
    beating = {name for facts in project.files for name in facts.temporal.heartbeat_functions}
    return lambda activity: activity.heartbeats or any(h in beating for h in activity.helpers)


@rule(
    code="TMP201",
    in_tests=False,
    name="long-activity-without-heartbeat",
    severity=Severity.WARNING,
    summary="An activity loops over slow work and never heartbeats.",
    scope="project",
    words=WORDS,
)
def long_activity_without_heartbeat(project: Project) -> Iterator[Report]:
    beats = heartbeating(project)
    fixed = {name for facts in project.files for name in facts.temporal.literal_functions}
    for facts in project.files:
        for activity in facts.temporal.activities:
            busy = next((b for b in activity.busy_loops if b.source is None or b.source not in fixed), None)
            if busy is None or beats(activity):
                continue
            loop = busy.span
            yield Report(
                Span(loop.line, loop.col, loop.line, loop.col + len(busy.keyword)),
                f"activity {activity.function} loops over slow work without activity.heartbeat(): if its worker dies, "
                "Temporal notices only at start_to_close_timeout, and cancellation never reaches it; call "
                "activity.heartbeat(progress) in the loop and schedule it with heartbeat_timeout=",
                path=facts.path,
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
    in_tests=False,
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
    beats = heartbeating(project)
    for facts in project.files:
        for call in facts.temporal.api_calls:
            if call.kind != "activity" or not has_option(call, "heartbeat_timeout"):
                continue
            scheduled = _resolve(call, by_target, by_name)
            if scheduled is None or beats(scheduled):
                continue
            timeout = call.keyword("heartbeat_timeout")
            assert timeout is not None
            yield Report(
                timeout.span,
                f"heartbeat_timeout is set but activity {scheduled.function} never calls activity.heartbeat(): the "
                "server fails every attempt once the timeout passes without a heartbeat, and retries it; heartbeat "
                "more often than the timeout, or drop heartbeat_timeout",
                path=facts.path,
            )


# -- TMP203 ------------------------------------------------------------------------------------

@rule(
    code="TMP203",
    in_tests=False,
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
            what_blocks(call.name, "this async activity runs on") + ": every other activity and workflow on "
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
    in_tests=False,
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
