"""CEL1: Celery configuration, read from the merged settings model."""

from __future__ import annotations

from typing import Iterator

from ..facts.core import ClassFacts
from ..facts.values import Value
from ..findings import Applicability, Edit, Severity, Span
from ..project import Project, ProjectTask, SettingsModel, known_number
from . import Report, fix, rule

PICKLE_NAMES = ("pickle", "application/x-python-serialize")
SERIALIZER_SETTINGS = ("task_serializer", "result_serializer", "event_serializer")
ACCEPT_SETTINGS = ("accept_content", "result_accept_content")
TASK_BASES = ("celery.Task", "celery.app.task.Task", "celery.task.Task")


def _is_pickle(value: Value) -> bool:
    return isinstance(value.data, str) and value.data.lower() in PICKLE_NAMES


def _json_token(raw: str) -> str:
    """`"pickle"` -> `"json"`, keeping the quotes and any prefix."""
    quote_at = min(i for i in (raw.find("'"), raw.find('"')) if i >= 0) if raw else -1
    if quote_at < 0:
        return '"json"'
    quote = raw[quote_at] * (3 if raw[quote_at:quote_at + 3] in ('"""', "'''") else 1)
    return f"{raw[:quote_at]}{quote}json{quote}"


def _replace_serializer(value: Value) -> Report:
    return Report(
        value.span,
        f"serializer {value.data!r} lets anyone who can publish to the broker run code on the workers; use 'json'",
        fix([Edit(value.span, _json_token(value.raw))], "Replace the pickle serializer with json", Applicability.UNSAFE),
    )


def _drop_pickle(value: Value, setting: str) -> Report | None:
    items = value.items
    pickled = [i for i, item in enumerate(items) if _is_pickle(item)]
    if not pickled:
        return None
    first = items[pickled[0]]
    message = (
        f"{setting} accepts pickle: a worker deserialises whatever a message carries, so anyone who can "
        "publish to the broker runs code on it; accept only json"
    )
    return Report(first.span, message, fix(_removal_edits(items, set(pickled)), "Remove pickle from the accepted content types", Applicability.UNSAFE))


def _removal_edits(items: tuple[Value, ...], removed: set[int]) -> list[Edit]:
    """Delete the removed elements with their commas; if nothing is left, keep json."""
    if len(removed) == len(items):
        edits = [Edit(items[0].span, _json_token(items[0].raw))]
        if len(items) > 1:
            edits.append(Edit(Span(items[0].span.end_line, items[0].span.end_col, items[-1].span.end_line, items[-1].span.end_col), ""))
        return edits
    edits: list[Edit] = []
    i = 0
    while i < len(items):
        if i not in removed:
            i += 1
            continue
        j = i
        while j + 1 < len(items) and j + 1 in removed:
            j += 1
        if j + 1 < len(items):
            start, end = items[i].span, items[j + 1].span
            edits.append(Edit(Span(start.line, start.col, end.line, end.col), ""))
        else:
            start, end = items[i - 1].span, items[j].span
            edits.append(Edit(Span(start.end_line, start.end_col, end.end_line, end.end_col), ""))
        i = j + 1
    return edits


def task_classes(project: Project) -> Iterator[tuple[str, ClassFacts]]:
    """Task subclasses defined in the project: `class T(Task)`, `class T(app.Task)`."""
    for facts in project.files:
        for cls in facts.core.classes:
            if any(b in TASK_BASES or b.endswith(".Task") for b in cls.bases):
                yield facts.path, cls


@rule(
    code="CEL101",
    name="pickle-serializer",
    severity=Severity.ERROR,
    summary="A serializer or accepted content type is pickle: anyone who can publish to the broker runs code on the workers.",
    scope="project",
    fix=Applicability.UNSAFE,
    words=("pickle", "x-python-serialize"),
)
def pickle_serializer(project: Project) -> Iterator[Report]:
    for model in project.models:
        for setting in SERIALIZER_SETTINGS:
            write = model.get(setting)
            if write is not None and _is_pickle(write.value):
                yield _with_path(_replace_serializer(write.value), write.path)
        for setting in ACCEPT_SETTINGS:
            write = model.get(setting)
            if write is not None:
                report = _drop_pickle(write.value, setting)
                if report is not None:
                    yield _with_path(report, write.path)
    for task in project.tasks:
        value = task.task.option("serializer")
        if value is not None and _is_pickle(value):
            yield _with_path(_replace_serializer(value), task.path)
    for path, cls in task_classes(project):
        for attr in cls.attributes:
            if attr.name == "serializer" and _is_pickle(attr.value):
                yield _with_path(_replace_serializer(attr.value), path)
    for facts in project.files:
        for call in facts.tasks.dispatches:
            value = call.options.get("serializer")
            if value is not None and _is_pickle(value):
                yield _with_path(_replace_serializer(value), facts.path)


def _with_path(report: Report, path: str) -> Report:
    return Report(report.span, report.message, report.fix, path, report.severity)


# -- CEL104 ------------------------------------------------------------------------------------

SOFT, HARD = "task_soft_time_limit", "task_time_limit"


def _limit_message(soft: float, hard: float, hard_where: str) -> str:
    relation = "equal to" if soft == hard else "above"
    suggestion = _seconds(hard * 0.9)
    return (
        f"soft time limit {_seconds(soft)} is {relation} the hard limit {_seconds(hard)} ({hard_where}): the worker "
        f"kills the task before SoftTimeLimitExceeded can fire, so it never gets to clean up; set the soft limit "
        f"below the hard one (e.g. {suggestion})"
    )


def _seconds(value: float) -> str:
    return f"{int(value)}s" if float(value).is_integer() else f"{value:g}s"


@rule(
    code="CEL104",
    name="soft-time-limit-not-below-hard",
    severity=Severity.ERROR,
    summary="A soft time limit at or above the hard time limit never fires: the task is killed first.",
    scope="project",
    words=("time_limit",),
)
def soft_time_limit_not_below_hard(project: Project) -> Iterator[Report]:
    for model in project.models:
        soft, hard = model.get(SOFT), model.get(HARD)
        s, h = known_number(soft), known_number(hard)
        if soft is not None and hard is not None and s is not None and h is not None and s >= h:
            where = f"{hard.key} at {hard.path}:{hard.span.line}"
            yield Report(soft.value.span, _limit_message(s, h, where), path=soft.path)
    for task in project.tasks:
        yield from _task_limits(project, task)
    yield from _dispatch_limits(project)


def _effective(task: ProjectTask, model: SettingsModel | None, option: str, setting: str) -> tuple[Value | None, str]:
    """A task's limit: its own option, else its app's setting; with a description of where it is set."""
    own = task.task.option(option)
    if own is not None:
        return own, f"{option}= on task {task.task.function}"
    if model is not None:
        write = model.get(setting)
        if write is not None:
            return write.value, f"{write.key} at {write.path}:{write.span.line}"
    return None, ""


def _task_limits(project: Project, task: ProjectTask) -> Iterator[Report]:
    own_soft, own_hard = task.task.option("soft_time_limit"), task.task.option("time_limit")
    if own_soft is None and own_hard is None:
        return
    for model in project.models_for(task) or [None]:
        soft, _ = _effective(task, model, "soft_time_limit", SOFT)
        hard, hard_where = _effective(task, model, "time_limit", HARD)
        s, h = known_number(soft), known_number(hard)
        if soft is None or hard is None or s is None or h is None or s < h:
            continue
        if own_soft is not None:
            yield Report(own_soft.span, _limit_message(s, h, hard_where), path=task.path)
        else:
            assert own_hard is not None
            yield Report(own_hard.span, _limit_message(s, h, hard_where), path=task.path)
        return


def _dispatch_limits(project: Project) -> Iterator[Report]:
    for facts in project.files:
        for call in facts.tasks.dispatches:
            soft, hard = call.options.get("soft_time_limit"), call.options.get("time_limit")
            if soft is None and hard is None:
                continue
            hard_where = "time_limit= in this call"
            if soft is None or hard is None:
                candidates = project.tasks_named(call.target)
                if len(candidates) != 1:
                    continue
                task = candidates[0]
                models = project.models_for(task) or [None]
                if soft is None:
                    soft, _ = _effective(task, models[0], "soft_time_limit", SOFT)
                else:
                    hard, hard_where = _effective(task, models[0], "time_limit", HARD)
            s, h = known_number(soft), known_number(hard)
            if soft is None or hard is None or s is None or h is None or s < h:
                continue
            point = call.options.get("soft_time_limit") or call.options["time_limit"]
            yield Report(point.span, _limit_message(s, h, hard_where), path=facts.path)
