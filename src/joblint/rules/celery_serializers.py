"""CEL1: Celery configuration — serializers: pickle as a serializer or an accepted content type,
in the settings, on tasks and Task classes, and where a task is sent."""

from __future__ import annotations

from collections.abc import Iterator

from ..facts.values import Value
from ..findings import Applicability, Edit, Severity, Span
from ..project import Project, SettingsModel
from ..task_options import backend_kind
from . import Report, all_of, fix, rule
from ._celery import CONFIG_WORDS, DISPATCH_WORDS, TASK_WORDS

PICKLE_NAMES = ("pickle", "application/x-python-serialize")
SERIALIZER_SETTINGS = ("task_serializer", "result_serializer", "event_serializer")
ACCEPT_SETTINGS = ("accept_content", "result_accept_content")


def _is_pickle(value: Value) -> bool:
    return isinstance(value.data, str) and value.data.lower() in PICKLE_NAMES


def _json_token(raw: str) -> str:
    """`"pickle"` -> `"json"`, keeping the quotes and any prefix."""
    quote_at = min(i for i in (raw.find("'"), raw.find('"')) if i >= 0) if raw else -1
    if quote_at < 0:
        return '"json"'
    quote = raw[quote_at] * (3 if raw[quote_at:quote_at + 3] in ('"""', "'''") else 1)
    return f"{raw[:quote_at]}{quote}json{quote}"


# Settings of the result side (celery/backends/base.py BaseBackend.__init__): results are stored
# with result_serializer and loaded with result_accept_content (else accept_content).
RESULT_SETTINGS = ("result_serializer", "result_accept_content")


def _no_backend(model: SettingsModel) -> bool:
    """Whether the app stores no results (result_backend None or "disabled": Celery's
    DisabledBackend stores nothing and loads nothing). A config source no app is tied to says so
    only when it sets the backend itself: the app that loads it may pass `backend=`."""
    if not model.is_app and model.get("result_backend") is None:
        return False
    return backend_kind(model) == "none"


def _replace_serializer(value: Value, setting: str = "") -> Report:
    message = f"serializer {value.data!r} lets anyone who can publish to the broker run code on the workers; use 'json'"
    if setting == "result_serializer":
        message = (
            f"result_serializer {value.data!r} stores task results pickled: a client reading a result from the "
            "backend unpickles what is stored there, so anyone who can write to the result backend runs code in "
            "that client; use 'json'"
        )
    return Report(
        value.span,
        message,
        fix(
            [Edit(value.span, _json_token(value.raw))], "Replace the pickle serializer with json", Applicability.UNSAFE
        ),
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
    if setting == "result_accept_content":
        message = (
            "result_accept_content accepts pickle: a client reading a result unpickles whatever the result "
            "backend holds, so anyone who can write to the backend runs code in that client; accept only json"
        )
    edits = _removal_edits(items, set(pickled))
    removal = fix(edits, "Remove pickle from the accepted content types", Applicability.UNSAFE)
    return Report(first.span, message, removal)


def _removal_edits(items: tuple[Value, ...], removed: set[int]) -> list[Edit]:
    """Delete the removed elements with their commas; if nothing is left, keep json."""
    edits: list[Edit]
    if len(removed) == len(items):
        edits = [Edit(items[0].span, _json_token(items[0].raw))]
        if len(items) > 1:
            first, last = items[0].span, items[-1].span
            edits.append(Edit(Span(first.end_line, first.end_col, last.end_line, last.end_col), ""))
        return edits
    edits = []
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


@rule(
    code="CEL101",
    in_tests=False,
    name="pickle-serializer",
    severity=Severity.ERROR,
    summary=(
        "A serializer or accepted content type is pickle: anyone who can publish to the broker runs code on the "
        "workers."
    ),
    scope="project",
    fix=Applicability.UNSAFE,
    words=(*CONFIG_WORDS, *all_of(("pickle", "x-python-serialize"), (*TASK_WORDS, *DISPATCH_WORDS))),
    settings=(*SERIALIZER_SETTINGS, *ACCEPT_SETTINGS, "result_backend"),
)
def pickle_serializer(project: Project) -> Iterator[Report]:
    for model in project.models:
        # Without a result backend nothing is stored or loaded with the result-side settings.
        skipped = RESULT_SETTINGS if _no_backend(model) else ()
        for setting in SERIALIZER_SETTINGS:
            write = model.get(setting)
            if write is not None and _is_pickle(write.value) and setting not in skipped:
                yield _with_path(_replace_serializer(write.value, setting), write.path)
        for setting in ACCEPT_SETTINGS:
            if setting in skipped:
                continue
            write = model.get(setting)
            if write is not None:
                report = _drop_pickle(write.value, setting)
                if report is not None:
                    yield _with_path(report, write.path)
    for task in project.tasks:
        value = task.task.option("serializer")
        if value is not None and _is_pickle(value):
            report = _replace_serializer(value)
            if not task.task.written("serializer"):  # from a `**mapping`: the value is not at the span
                report = Report(report.span, f"{report.message} (set through {task.task.via['serializer']})")
            yield _with_path(report, task.path)
    for facts in project.files:
        for task_class in facts.tasks.task_classes:  # Task subclasses, abstract bases included
            value = task_class.options.get("serializer")
            if value is not None and _is_pickle(value):
                yield _with_path(_replace_serializer(value), facts.path)
    for facts in project.files:
        for call in facts.tasks.dispatches:
            value = call.options.get("serializer")
            if value is not None and _is_pickle(value):
                yield _with_path(_replace_serializer(value), facts.path)


def _with_path(report: Report, path: str) -> Report:
    return Report(report.span, report.message, report.fix, path, report.severity)
