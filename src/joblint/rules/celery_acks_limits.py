"""CEL1: Celery configuration — acknowledgement and time limits: early acks, late acks without
reject-on-worker-lost or with a prefetch above 1, soft limits at or above the hard one, and tasks
with no hard limit at all."""

from __future__ import annotations

from collections.abc import Iterator

from ..facts.values import Value
from ..findings import Applicability, Edit, Fix, Severity, Span
from ..project import Project, ProjectTask, SettingsModel, SettingValue, known_number
from . import Report, fix, rule
from ._celery import CONFIG_WORDS, TASK_WORDS, app_tasks, production_apps, seconds, worker_apps
from ._settings_edits import add_sibling, add_to_app, replace_value

SOFT, HARD = "task_soft_time_limit", "task_time_limit"
# The task options, and the settings behind them, that redeliver the task of a lost worker.
WORKER_LOST = (
    ("reject_on_worker_lost", "task_reject_on_worker_lost"),
    ("retry_on_worker_lost", "task_retry_on_worker_lost"),
)


def _is_true(value: Value | None) -> bool:
    return value is not None and value.data is True


def _maybe_true(value: Value | None) -> bool:
    return value is not None and (value.data is True or not value.known)


def _at(write, model: SettingsModel) -> tuple[Span, str]:  # type: ignore[no-untyped-def]
    """Where to point: at a write, or at the app construction when the value is never set."""
    if write is not None:
        return write.value.span, write.path
    return model.span, model.path


# -- CEL102 ------------------------------------------------------------------------------------


@rule(
    code="CEL102",
    in_tests=False,
    name="acks-late-disabled",
    severity=Severity.WARNING,
    summary="Tasks are acknowledged before they run (early acks): a worker crash or deploy loses them.",
    scope="project",
    fix=Applicability.UNSAFE,
    words=(*CONFIG_WORDS, *TASK_WORDS),
    settings=("task_acks_late",),
)
def acks_late_disabled(project: Project) -> Iterator[Report]:
    from ..task_options import effective_option

    why = (
        "with early acks a message is acknowledged before the task runs, so a worker crash, OOM kill or "
        "deploy loses the task; set task_acks_late=True (and make tasks idempotent: they may run twice)"
    )
    for model in production_apps(project):
        write = model.get("task_acks_late")
        if write is not None:
            if write.data is False:
                yield Report(write.value.span, f"task_acks_late is False: {why}", _true_fix(write), path=write.path)
            continue
        if not model.complete or not model.worker:
            continue  # an app no worker runs only sends tasks: acks are the workers' business
        tasks = app_tasks(project, model)
        # A task whose acks_late a `**mapping` joblint cannot read may set counts as late.
        if tasks and all(_maybe_true(effective_option(project, t, "acks_late", None)[0]) for t in tasks):
            continue
        edit = _add_to_app(model, "task_acks_late", "True")
        message = f"task_acks_late is never set (Celery's default is False): {why}"
        yield Report(model.span, message, edit, path=model.path)
    for task in project.tasks:
        own = task.task.option("acks_late")
        if own is not None and own.data is False:
            yield Report(own.span, f"acks_late=False on task {task.task.function}: {why}", path=task.path)


def _true_fix(write: SettingValue) -> Fix:
    return fix([replace_value(write, "True")], f"Set {write.key} to True", Applicability.UNSAFE)


def _add_to_app(model: SettingsModel, setting: str, value: str) -> Fix | None:
    edit = add_to_app(model, setting, value)
    return fix([edit], f"Set {setting}={value} on the app", Applicability.UNSAFE) if edit else None


# -- CEL103 ------------------------------------------------------------------------------------


def _protected(model: SettingsModel | None, task: ProjectTask | None, project: Project) -> bool | None:
    """Whether a lost worker's task is redelivered: reject_on_worker_lost or retry_on_worker_lost.
    None when unknown."""
    from ..task_options import effective_option

    for option, setting in WORKER_LOST:
        if task is not None:
            value, _ = effective_option(project, task, option, setting)
        else:
            write = model.get(setting) if model is not None else None
            value = write.value if write is not None else None
        if value is not None and not value.known:
            return None
        if _is_true(value):
            return True
    if model is not None and not model.complete:
        return None
    return False


@rule(
    code="CEL103",
    in_tests=False,
    name="reject-on-worker-lost-missing",
    severity=Severity.WARNING,
    summary="Late acks without task_reject_on_worker_lost: a task whose worker is killed is acknowledged anyway.",
    scope="project",
    fix=Applicability.UNSAFE,
    words=(*CONFIG_WORDS, "acks_late"),
    settings=("task_acks_late", *(setting for _, setting in WORKER_LOST)),
)
def reject_on_worker_lost_missing(project: Project) -> Iterator[Report]:
    why = (
        "with late acks but task_reject_on_worker_lost unset, a task whose worker process is killed (OOM, "
        "SIGKILL) is acknowledged and marked failed, so late acks do not protect against the commonest loss; "
        "set task_reject_on_worker_lost=True (or, on Celery 5.7+, task_retry_on_worker_lost=True)"
    )
    for model in project.models:
        acks = model.get("task_acks_late")
        if acks is None or acks.data is not True or _protected(model, None, project) is not False:
            continue
        present = model.get("task_reject_on_worker_lost")
        edit = (
            replace_value(present, "True")
            if present is not None
            else add_sibling(acks, "task_reject_on_worker_lost", "True", model.namespace)
        )
        fixed = fix([edit], "Set task_reject_on_worker_lost=True", Applicability.UNSAFE) if edit else None
        yield Report(acks.value.span, why, fixed, path=acks.path)
    for task in project.tasks:
        own = task.task.option("acks_late")
        if own is None or own.data is not True:
            continue
        models: list[SettingsModel | None] = [*project.models_for(task)] or [None]
        if all(_protected(m, task, project) is False for m in models):
            own_reject = task.task.option("reject_on_worker_lost")
            end = own.span
            edit = (
                Edit(own_reject.span, "True")
                if own_reject is not None
                else Edit(Span.point(end.end_line, end.end_col), ", reject_on_worker_lost=True")
            )
            # A value from a `**mapping` sits at the spread, and a keyword added beside `*args` /
            # `**options` may already be in it: no edit in either case.
            spread = not task.task.written("acks_late") or (
                own_reject is not None and not task.task.written("reject_on_worker_lost")
            )
            fixed = (
                fix([edit], "Set reject_on_worker_lost=True", Applicability.UNSAFE)
                if task.task.kind != "class" and not spread and (own_reject is not None or not task.task.open_options)
                else None
            )
            yield Report(own.span, f"acks_late=True on task {task.task.function}: {why}", fixed, path=task.path)


# -- CEL104 ------------------------------------------------------------------------------------


def _limit_message(soft: float, hard: float, hard_where: str) -> str:
    relation = "equal to" if soft == hard else "above"
    suggestion = seconds(hard * 0.9)
    return (
        f"soft time limit {seconds(soft)} is {relation} the hard limit {seconds(hard)} ({hard_where}): the worker "
        f"kills the task before SoftTimeLimitExceeded can fire, so it never gets to clean up; set the soft limit "
        f"below the hard one (e.g. {suggestion})"
    )


def _limit(value: Value | SettingValue | None) -> float | None:
    """A time limit in seconds; None when unset, unknown or 0. Celery reads 0 as *no limit*: the
    worker passes `time_limit or task.time_limit` to the pool, and billiard sets no timer for a
    falsy timeout (celery/worker/request.py, celery/concurrency/asynpool.py)."""
    number = known_number(value)
    return number if number else None


def _given(value: Value | None) -> Value | None:
    """A limit passed to `apply_async`: 0 there falls back to the task's own (`time_limit or
    task.time_limit`), so it counts as not given."""
    return None if value is not None and value.known and value.number() == 0 else value


@rule(
    code="CEL104",
    in_tests=False,
    name="soft-time-limit-not-below-hard",
    severity=Severity.ERROR,
    summary="A soft time limit at or above the hard time limit never fires: the task is killed first.",
    scope="project",
    words=(*CONFIG_WORDS, "time_limit"),
    settings=(SOFT, HARD),
)
def soft_time_limit_not_below_hard(project: Project) -> Iterator[Report]:
    for model in project.models:
        soft, hard = model.get(SOFT), model.get(HARD)
        s, h = _limit(soft), _limit(hard)
        if soft is not None and hard is not None and s is not None and h is not None and s >= h:
            where = hard.where
            yield Report(soft.value.span, _limit_message(s, h, where), path=soft.path)
    for task in project.tasks:
        yield from _task_limits(project, task)
    yield from _dispatch_limits(project)


def _effective(
    task: ProjectTask, model: SettingsModel | None, option: str, setting: str
) -> tuple[Value | None, str]:
    """A task's limit: its own option, else its app's setting; with a description of where it is set."""
    own = task.task.option(option)
    if own is not None:
        return own, f"{option}= on task {task.task.function}"
    if model is not None:
        write = model.get(setting)
        if write is not None:
            return write.value, write.where
    return None, ""


def _task_limits(project: Project, task: ProjectTask) -> Iterator[Report]:
    own_soft, own_hard = task.task.option("soft_time_limit"), task.task.option("time_limit")
    if own_soft is None and own_hard is None:
        return
    models: list[SettingsModel | None] = [*project.models_for(task)] or [None]
    for model in models:
        soft, _ = _effective(task, model, "soft_time_limit", SOFT)
        hard, hard_where = _effective(task, model, "time_limit", HARD)
        s, h = _limit(soft), _limit(hard)
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
            # UNKNOWN when `**options` may hold it: then the task's own limit is not the one in force.
            soft, hard = _given(call.option("soft_time_limit")), _given(call.option("time_limit"))
            if soft is None and hard is None:
                continue
            hard_where = "time_limit= in this call"
            if soft is None or hard is None:
                candidates = project.tasks_named(call.target)
                if len(candidates) != 1:
                    continue
                task = candidates[0]
                models: list[SettingsModel | None] = [*project.models_for(task)] or [None]
                if soft is None:
                    soft, _ = _effective(task, models[0], "soft_time_limit", SOFT)
                else:
                    hard, hard_where = _effective(task, models[0], "time_limit", HARD)
            s, h = _limit(soft), _limit(hard)
            if soft is None or hard is None or s is None or h is None or s < h:
                continue
            point = _given(call.options.get("soft_time_limit")) or call.options["time_limit"]
            yield Report(point.span, _limit_message(s, h, hard_where), path=facts.path)


# -- CEL105 ------------------------------------------------------------------------------------


def _unlimited(value: Value | None) -> bool:
    """No hard limit: unset, None, or 0 (Celery's "no limit"). A value joblint cannot know
    (an expression, an unresolved `**spread`) may be a limit: not unlimited."""
    return value is None or value.known and (value.data is None or value.data == 0)


@rule(
    code="CEL105",
    in_tests=False,
    name="no-time-limit",
    severity=Severity.WARNING,
    summary="No hard time limit: a hung task holds a worker slot forever.",
    scope="project",
    words=(*CONFIG_WORDS, *TASK_WORDS),
    settings=(HARD,),
)
def no_time_limit(project: Project) -> Iterator[Report]:
    from ..task_options import effective_option

    for model in worker_apps(project):
        write = model.get("task_time_limit")
        if write is not None and not _unlimited(write.value):
            continue  # a limit, or a value joblint cannot know (possibly a limit)
        if write is None and not model.complete:
            continue
        tasks = app_tasks(project, model)
        unlimited = [
            t for t in tasks if _unlimited(effective_option(project, t, "time_limit", None)[0])
        ]
        if tasks and not unlimited:
            continue
        names = ", ".join(t.task.function for t in unlimited[:3]) + (", ..." if len(unlimited) > 3 else "")
        what = (
            f"{len(unlimited)} task{'s' if len(unlimited) != 1 else ''} ({names})"
            if unlimited
            else "the tasks of this worker app"
        )
        span, path = _at(write, model)
        yield Report(
            span,
            f"no hard time limit for {what}: a task stuck "
            "on a socket without a timeout holds its worker slot forever; set task_time_limit (and a lower "
            "task_soft_time_limit) on the app, and time_limit= on tasks that need longer",
            path=path,
        )


# -- CEL106 ------------------------------------------------------------------------------------


@rule(
    code="CEL106",
    in_tests=False,
    name="prefetch-with-late-ack",
    severity=Severity.INFO,
    summary="Late acks with a prefetch multiplier above 1: long tasks wait behind a busy process while others idle.",
    scope="project",
    fix=Applicability.UNSAFE,
    words=(*CONFIG_WORDS, "acks_late"),
    settings=("task_acks_late", "worker_prefetch_multiplier"),
)
def prefetch_with_late_ack(project: Project) -> Iterator[Report]:
    for model in project.models:
        acks = model.get("task_acks_late")
        if acks is None or acks.data is not True:
            continue
        prefetch = model.get("worker_prefetch_multiplier")
        if prefetch is None and not model.complete:
            continue
        if prefetch is not None:
            number = known_number(prefetch)
            if number is None or number == 1:
                continue
            message = f"worker_prefetch_multiplier is {prefetch.data!r} with late acks"
            edit: Edit | None = replace_value(prefetch, "1")
            span, path = prefetch.value.span, prefetch.path
        else:
            message = "worker_prefetch_multiplier is unset (default 4) with late acks"
            edit = add_sibling(acks, "worker_prefetch_multiplier", "1", model.namespace)
            span, path = acks.value.span, acks.path
        message += (
            ": each worker process reserves that many messages, so long tasks wait behind a busy process while "
            "others idle; set worker_prefetch_multiplier=1"
        )
        fixed = fix([edit], "Set worker_prefetch_multiplier=1", Applicability.UNSAFE) if edit else None
        yield Report(span, message, fixed, path=path)
