"""CEL2: routing — queues nobody declared, priorities the broker ignores, routes to no task, implicit names."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from ..facts import ModuleFacts
from ..facts.values import Value
from ..findings import Severity
from ..project import Project, SettingsModel
from ..task_options import broker_kind, find_option, resolve_task
from . import Report, all_of, rule
from ._celery import CONFIG_WORDS, DISPATCH_WORDS, TASK_WORDS
from ._task_names import judgeable

QUEUE_CALLS = ("kombu.Queue", "kombu.entity.Queue")
GLOB = ("*", "?", "[")
REDIS_PRIORITIES = range(10)
AMQP_MAX_PRIORITY = 255
# Routing rules read the app (and its config sources) and the tasks, not only the routing values.
APP_WORDS = (*CONFIG_WORDS, *TASK_WORDS)


# -- where routing values are written -------------------------------------------------------------


class RoutingUse:
    """A `queue=` or `priority=` value and the apps it applies to."""

    def __init__(self, value: Value, path: str, models: list[SettingsModel], what: str) -> None:
        self.value = value
        self.path = path
        self.models = models
        self.what = what  # "option of task x", "apply_async(...)", "task_routes"


def routing_uses(project: Project, option: str) -> Iterator[RoutingUse]:
    """Every literal `option` (queue/priority) a task is sent with: task options, calls, routes."""
    sole = project.apps if len(project.apps) == 1 else []
    for task in project.tasks:
        source = find_option(project, task, option)
        if source is not None and source.own:
            yield RoutingUse(source.value, source.path, project.models_for(task), source.where)
    for facts in project.files:
        for call in facts.tasks.dispatches:
            value = call.options.get(option)
            if value is None:
                continue
            target = resolve_task(project, call.target, call.qualified, facts.path)
            models = project.models_for(target) if target is not None else sole
            yield RoutingUse(value, facts.path, models, f"{call.target}.{call.method}(...)")
    for model in project.apps:
        write = model.get("task_routes")
        if write is None:
            continue
        for _, route in _routes(write.data):
            found = route.get(option) if isinstance(route, dict) else (route if option == "queue" else None)
            if found is not None:
                yield RoutingUse(Value(found, write.value.span), write.path, [model], f"{write.key} at {write.path}")


def _routes(data: Any) -> Iterator[tuple[str, Any]]:
    """(pattern, route) pairs of a literal task_routes: a dict, or a list/tuple of dicts."""
    if isinstance(data, dict):
        for key, route in data.items():
            if isinstance(key, str):
                yield key, route
    elif isinstance(data, (list, tuple)):
        for item in data:
            yield from _routes(item)


def _facts_of(project: Project, path: str) -> ModuleFacts | None:
    return next((f for f in project.files if f.path == path), None)


def declared_queues(project: Project, model: SettingsModel) -> set[str] | None:
    """The queue names of a literal task_queues (with the default queue); None when not known."""
    write = model.get("task_queues")
    if write is None:
        return None
    value = write.value
    names: set[str] = set()
    if isinstance(value.data, dict):
        names = {k for k in value.data if isinstance(k, str)}
    elif value.items:
        facts = _facts_of(project, write.path)
        if facts is None:
            return None
        queues = {q.span: q for q in facts.tasks.queues}
        for item in value.items:
            queue = queues.get(item.span) if item.call in QUEUE_CALLS else None
            if queue is None or queue.name is None:
                return None  # a queue built some other way: the list is not known
            names.add(queue.name)
    else:
        return None
    default = model.get("task_default_queue")
    names.add(default.data if default is not None and isinstance(default.data, str) else "celery")
    return names


# -- CEL201 ------------------------------------------------------------------------------------


@rule(
    code="CEL201",
    in_tests=False,
    name="route-to-undeclared-queue",
    severity=Severity.WARNING,
    summary="A task is routed to a queue missing from the app's declared task_queues.",
    scope="project",
    words=(*all_of(("queue",), DISPATCH_WORDS), *APP_WORDS),
    settings=("task_routes", "task_queues", "task_default_queue"),
)
def route_to_undeclared_queue(project: Project) -> Iterator[Report]:
    for use in routing_uses(project, "queue"):
        if not isinstance(use.value.data, str):
            continue
        for model in use.models:
            declared = declared_queues(project, model)
            if declared is None or use.value.data in declared:
                continue
            close = difflib.get_close_matches(use.value.data, sorted(declared), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            yield Report(
                use.value.span,
                f"queue {use.value.data!r} ({use.what}) is not in the app's task_queues "
                f"({', '.join(sorted(declared))}): workers consume the declared queues, so messages routed here "
                f"pile up unconsumed (or fail to publish when task_create_missing_queues is False); {hint}declare "
                "the queue or route to a declared one",
                path=use.path,
            )
            break


# -- CEL202 ------------------------------------------------------------------------------------


def _max_priority(project: Project, model: SettingsModel) -> int | None | str:
    """The highest priority the app's queues accept on RabbitMQ; None when none is configured,
    "unknown" when it cannot be known."""
    write = model.get("task_queue_max_priority")
    if write is not None:
        return write.data if isinstance(write.data, int) else "unknown"
    queues = model.get("task_queues")
    if queues is not None:
        facts = _facts_of(project, queues.path)
        spans = {item.span for item in queues.value.items}
        found = [q.max_priority for q in (facts.tasks.queues if facts else []) if q.span in spans and q.max_priority]
        if found:
            return max(found)
        if not spans:
            return "unknown"
    return None if model.unset("task_queue_max_priority") else "unknown"


@rule(
    code="CEL202",
    in_tests=False,
    name="priority-out-of-range",
    severity=Severity.WARNING,
    summary="A task priority the broker clamps or ignores (outside 0-9 on Redis, unconfigured or too high on RabbitMQ).",
    scope="project",
    words=(*all_of(("priority",), DISPATCH_WORDS), *APP_WORDS),
    settings=("task_routes", "task_default_priority", "broker_url", "task_queue_max_priority", "task_queues"),
)
def priority_out_of_range(project: Project) -> Iterator[Report]:
    uses = list(routing_uses(project, "priority"))
    for model in project.apps:
        write = model.get("task_default_priority")
        if write is not None:
            uses.append(RoutingUse(write.value, write.path, [model], write.key))
    for use in uses:
        priority = use.value.data
        if isinstance(priority, bool) or not isinstance(priority, int):
            continue
        for model in use.models:
            message = _priority_problem(project, model, priority)
            if message is not None:
                yield Report(use.value.span, f"priority={priority} ({use.what}): {message}", path=use.path)
                break


def _priority_problem(project: Project, model: SettingsModel, priority: int) -> str | None:
    broker = broker_kind(model)
    if broker == "redis" and priority not in REDIS_PRIORITIES:
        return (
            "Redis supports priorities 0-9 and clamps anything else, so this task is not prioritised as written "
            "(note that on Redis 0 is the highest); use a value from 0 to 9"
        )
    if broker != "amqp":
        return None
    highest = _max_priority(project, model)
    if highest == "unknown":
        return None
    if highest is None:
        return (
            "RabbitMQ ignores priorities on queues declared without x-max-priority, and neither "
            "task_queue_max_priority nor the queues set one; set task_queue_max_priority (e.g. 10) and re-declare "
            "the queues"
        )
    assert isinstance(highest, int)
    if priority > min(highest, AMQP_MAX_PRIORITY):
        return (
            f"the queues accept priorities up to {highest}, so RabbitMQ treats this as {highest}; use a value "
            f"from 0 to {highest} or raise the maximum (re-declaring the queues)"
        )
    return None


# -- CEL203 ------------------------------------------------------------------------------------


@rule(
    code="CEL203",
    in_tests=False,
    name="route-to-unknown-task",
    severity=Severity.WARNING,
    summary="A task_routes key names no task in the project: it routes nothing.",
    scope="project",
    words=("task_routes", "celery_routes", "celery", *TASK_WORDS),
    settings=("task_routes",),
)
def route_to_unknown_task(project: Project) -> Iterator[Report]:
    if not project.tasks:
        return
    names = {t.name for t in project.tasks}
    for model in project.apps:
        write = model.get("task_routes")
        if write is None:
            continue
        for pattern, _ in _routes(write.data):
            if pattern in names or pattern in project.known_tasks or any(c in pattern for c in GLOB) or pattern.startswith("celery."):
                continue
            if not judgeable(project, pattern):
                continue  # a task of an installed package (or a name joblint cannot place): unknown, not missing
            close = difflib.get_close_matches(pattern, sorted(names), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            yield Report(
                write.value.span,
                f"task_routes names {pattern!r}, but no task in the project is registered under that name: the route "
                f"does nothing and the task it was meant for goes to the default queue; {hint}use the task's "
                "registered name (its name= or module.function)",
                path=write.path,
            )


# -- CEL204 ------------------------------------------------------------------------------------


@rule(
    code="CEL204",
    in_tests=False,
    name="implicit-task-name",
    severity=Severity.INFO,
    summary="A task without name= is registered under its module path: moving the code orphans queued messages.",
    scope="project",
    opt_in=True,
    words=TASK_WORDS,
)
def implicit_task_name(project: Project) -> Iterator[Report]:
    for task in project.tasks:
        if task.task.open_options or find_option(project, task, "name") is not None:
            continue
        yield Report(
            task.task.decorator_span,
            f"task {task.task.function} has no name=, so Celery registers it as {task.name!r}: renaming or moving "
            "the module changes the name, and messages already queued under the old one fail as unregistered; set "
            f"name={task.name!r} explicitly",
            path=task.path,
        )

