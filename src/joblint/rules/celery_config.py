"""CEL1: Celery configuration, read from the merged settings model."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Iterator

from .. import settings as celery_settings
from ..facts.core import ClassFacts
from ..facts.values import Value
from ..findings import Applicability, Edit, Fix, Severity, Span
from ..project import Project, ProjectTask, SettingsModel, SettingValue, known_number
from ..settings.urls import masked_credential
from . import Report, all_of, fix, rule
from ._settings_edits import add_sibling, add_to_app, rename, replace_value, spelling_for

PICKLE_NAMES = ("pickle", "application/x-python-serialize")
# Rules that read the settings model need the files that build apps and write settings ("celery"
# covers `from celery import Celery`, `proj.celery` imports and Django's CELERY_ names) besides
# the words of their own settings; a config module joblint skips leaves the model incomplete,
# and incomplete models keep rules quiet rather than wrong.
# `app.conf.x = ...` through an app imported from elsewhere; DJANGO_SETTINGS_MODULE names the
# settings module (manage.py, wsgi.py).
CONFIG_WORDS = ("celery", ".conf.", ".conf[", "config_from", "django_settings_module")
# Files that define tasks (`@app.task`, `app.task(fn)`, `@shared_task`) or Task classes, whose
# bases import from celery or name a class ending in Task (`class T(BaseTask)`, as written).
TASK_WORDS = (
    ".task(", ".task\n", ".task\r", "@&.task ", "@&.task\t", "shared_task",
    "=Task)", "=Task,", "=Task\n", "=Task\r", "=Task as",  # bases over several lines, or imported under another name
)
# Where a task is sent or a signature built (`add.delay()`, `add.s()`, `signature("add")` from
# celery: `inspect.signature(f)` alone is none).
DISPATCH_WORDS = (".delay(", "apply_async", ".s(", ".si(", ".signature(", "celery&signature(", "send_task")
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
    words=(*CONFIG_WORDS, *all_of(("pickle", "x-python-serialize"), (*TASK_WORDS, *DISPATCH_WORDS))),
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
    words=(*CONFIG_WORDS, "time_limit"),
)
def soft_time_limit_not_below_hard(project: Project) -> Iterator[Report]:
    for model in project.models:
        soft, hard = model.get(SOFT), model.get(HARD)
        s, h = known_number(soft), known_number(hard)
        if soft is not None and hard is not None and s is not None and h is not None and s >= h:
            where = hard.where
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
            return write.value, write.where
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


# -- shared ------------------------------------------------------------------------------------


def production_apps(project: Project) -> list[SettingsModel]:
    """Apps whose missing settings matter: an app built in a test module is a fixture."""
    return [m for m in project.apps if not _test_module(m.path)]


def _app_tasks(project: Project, model: SettingsModel) -> list[ProjectTask]:
    """The tasks an app runs: those bound to it, and shared tasks — all of them when the project
    has one app, else those in the app's directory and below it."""
    several = len(production_apps(project)) > 1
    home = model.path.rsplit("/", 1)[0] + "/" if "/" in model.path else ""
    return [
        t for t in project.tasks
        if any(m is model for m in project.models_for(t))
        and not (several and t.task.app in (None, "celery.current_app") and not t.path.startswith(home))
    ]


def _is_true(value: Value | None) -> bool:
    return value is not None and value.data is True


def _is_false(value: Value | None) -> bool:
    return value is not None and (value.data is False or value.data is None)


def _at(write, model: SettingsModel) -> tuple[Span, str]:  # type: ignore[no-untyped-def]
    """Where to point: at a write, or at the app construction when the value is never set."""
    if write is not None:
        return write.value.span, write.path
    return model.span, model.path


# -- CEL102 ------------------------------------------------------------------------------------


@rule(
    code="CEL102",
    name="acks-late-disabled",
    severity=Severity.WARNING,
    summary="Tasks are acknowledged before they run (early acks): a worker crash or deploy loses them.",
    scope="project",
    fix=Applicability.UNSAFE,
    words=(*CONFIG_WORDS, *TASK_WORDS),
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
        if not model.complete:
            continue
        tasks = _app_tasks(project, model)
        # An app with no tasks in the project only sends them: acks are the workers' business.
        if all(_is_true(effective_option(project, t, "acks_late", None)[0]) for t in tasks):
            continue
        edit = _add_to_app(model, "task_acks_late", "True")
        yield Report(model.span, f"task_acks_late is never set (Celery's default is False): {why}", edit, path=model.path)
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

    for option, setting in (("reject_on_worker_lost", "task_reject_on_worker_lost"), ("retry_on_worker_lost", "task_retry_on_worker_lost")):
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
    name="reject-on-worker-lost-missing",
    severity=Severity.WARNING,
    summary="Late acks without task_reject_on_worker_lost: a task whose worker is killed is acknowledged anyway.",
    scope="project",
    fix=Applicability.UNSAFE,
    words=(*CONFIG_WORDS, "acks_late"),
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
        models = project.models_for(task) or [None]
        if all(_protected(m, task, project) is False for m in models):
            present = task.task.option("reject_on_worker_lost")
            end = own.span
            edit = (
                Edit(present.span, "True")
                if present is not None
                else Edit(Span(end.end_line, end.end_col, end.end_line, end.end_col), ", reject_on_worker_lost=True")
            )
            fixed = fix([edit], "Set reject_on_worker_lost=True", Applicability.UNSAFE) if task.task.kind != "class" else None
            yield Report(own.span, f"acks_late=True on task {task.task.function}: {why}", fixed, path=task.path)


# -- CEL105 ------------------------------------------------------------------------------------


@rule(
    code="CEL105",
    name="no-time-limit",
    severity=Severity.WARNING,
    summary="No hard time limit: a hung task holds a worker slot forever.",
    scope="project",
    words=(*CONFIG_WORDS, *TASK_WORDS),
)
def no_time_limit(project: Project) -> Iterator[Report]:
    from ..task_options import effective_option

    for model in production_apps(project):
        write = model.get("task_time_limit")
        if write is not None and (write.value.known and write.data is not None):
            continue
        if write is None and not model.complete or write is not None and not write.value.known:
            continue
        unlimited = [
            t for t in _app_tasks(project, model)
            if (lambda v: v is None or v.data is None)(effective_option(project, t, "time_limit", None)[0])
        ]
        if not unlimited:
            continue
        names = ", ".join(t.task.function for t in unlimited[:3]) + (", ..." if len(unlimited) > 3 else "")
        span, path = _at(write, model)
        yield Report(
            span,
            f"no hard time limit for {len(unlimited)} task{'s' if len(unlimited) != 1 else ''} ({names}): a task stuck "
            "on a socket without a timeout holds its worker slot forever; set task_time_limit (and a lower "
            "task_soft_time_limit) on the app, and time_limit= on tasks that need longer",
            path=path,
        )


# -- CEL106 ------------------------------------------------------------------------------------


@rule(
    code="CEL106",
    name="prefetch-with-late-ack",
    severity=Severity.INFO,
    summary="Late acks with a prefetch multiplier above 1: long tasks wait behind a busy process while others idle.",
    scope="project",
    fix=Applicability.UNSAFE,
    words=(*CONFIG_WORDS, "acks_late"),
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
            edit = replace_value(prefetch, "1")
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


# -- CEL107 ------------------------------------------------------------------------------------

UTC_NAMES = ("UTC", "Etc/UTC", "utc", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT")


@rule(
    code="CEL107",
    name="non-utc-timezone",
    severity=Severity.INFO,
    summary="Celery runs on local time: schedules jump at DST changes and ETAs are ambiguous.",
    scope="project",
    words=(*CONFIG_WORDS, "enable_utc"),  # Django's TIME_ZONE: the settings module, by a second look
)
def non_utc_timezone(project: Project) -> Iterator[Report]:
    why = "schedules jump or repeat at DST changes and ETAs become ambiguous; keep Celery on UTC and convert at the edges"
    for model in project.models:
        utc = model.get("enable_utc")
        if utc is not None and utc.data is False:
            yield Report(utc.value.span, f"enable_utc is False: {why}", path=utc.path)
        zone = model.get("timezone")
        if zone is None:
            zone = _django_time_zone(model)
        if zone is not None and isinstance(zone.data, str) and zone.data not in UTC_NAMES:
            source = "" if zone.setting == "timezone" else " (Django's TIME_ZONE, which Celery falls back to)"
            yield Report(zone.value.span, f"timezone is {zone.data!r}{source}: {why}", path=zone.path)


def _django_time_zone(model: SettingsModel) -> SettingValue | None:
    """Celery's `timezone` falls back to TIME_ZONE (CELERY_TIME_ZONE under the namespace)."""
    names = {"TIME_ZONE", f"{model.namespace.upper()}_TIME_ZONE" if model.namespace else "TIME_ZONE"}
    for ignored in reversed(model.ignored):
        if ignored.write.key in names and ignored.layer == "source":
            w = ignored.write
            return SettingValue("TIME_ZONE", w.key, "new", w.value, ignored.path, w.span, w.via, "source", w)
    return None


# -- CEL108 ------------------------------------------------------------------------------------


def _mixed(writes: list[SettingValue]) -> bool:
    """Celery's ImproperlyConfigured check (celery/app/utils.py detect_settings): a source with old
    and new names is read in the style of the majority, and fails when a minority key has no
    spelling of the majority style beside it."""
    new = {w.setting for w in writes if w.spelling == "new"}
    old = {w.setting for w in writes if w.spelling == "old"}
    if not new or not old:
        return False
    minority, majority = (new, old) if len(old) > len(new) else (old, new)
    return any(setting not in majority for setting in minority)


@rule(
    code="CEL108",
    name="deprecated-setting-name",
    severity=Severity.INFO,
    summary="An old uppercase setting name: deprecated, removed in Celery 6; mixed with new names it is an error.",
    scope="project",
    fix=Applicability.SAFE,
    words=(*CONFIG_WORDS, "broker_url"),
)
def deprecated_setting_name(project: Project) -> Iterator[Report]:
    names_read = {f.path: f.core.names_read for f in project.files}
    for model in project.models:
        for layer in ("source", "preconf"):
            writes = [w for w in model.writes if w.layer == layer]
            # Celery's mix check reads the config source, or, when there is none, the keys written
            # through app.conf (keyword arguments of Celery() are left out of it).
            checked = writes if layer == "source" else [w for w in writes if w.via != "Celery()"]
            mixed = (layer == "source" or not model.source_writes()) and not model.namespace and _mixed(checked)
            renames = _renames(model, writes, names_read)
            for write in writes:
                if write.spelling != "old":
                    continue
                target = _new_spelling(write, model)
                message = f"{write.key} is the old name of {target}: old names are deprecated and removed in Celery 6"
                severity = None
                if mixed:
                    severity = Severity.ERROR
                    message = (
                        f"{write.key} is an old setting name in a source that also uses new names: Celery raises "
                        f"ImproperlyConfigured at start-up; rename it to {target}"
                    )
                yield Report(write.span, message, renames, path=write.path, severity=severity)


def _new_spelling(write: SettingValue, model: SettingsModel) -> str:
    return spelling_for(write.setting, "namespaced" if model.namespace else "new", model.namespace)


def _renames(model: SettingsModel, writes: list[SettingValue], names_read: dict[str, set[str]]) -> Fix | None:
    """One fix renaming every old name of a source at once, so no fix leaves old and new names
    mixed (which Celery refuses), even when some of the findings are suppressed."""
    if model.django and not model.namespace:
        return None  # Django settings are UPPERCASE: the new names need namespace="CELERY" first
    new_settings = {w.setting for w in writes if w.spelling != "old"}
    edits = []
    for write in writes:
        if write.spelling != "old" or write.setting in new_settings:
            continue  # both spellings given: Celery accepts that; renaming would duplicate the key
        if write.write is not None and write.write.form == "name" and write.key in names_read.get(write.path, ()):
            return None  # the module reads the old name (`X = CELERYD_TASK_TIME_LIMIT - 30`)
        edit = rename(write, _new_spelling(write, model))
        if edit is None:
            return None
        edits.append(edit)
    return fix(edits, "Rename the old setting names of this source", Applicability.SAFE) if edits else None


# -- CEL109 ------------------------------------------------------------------------------------

SETTING_PREFIXES = (
    "task_", "worker_", "broker_", "result_", "beat_", "event_", "control_", "redis_", "database_",
    "cassandra_", "s3_", "azureblockblob_", "couchbase_", "arangodb_", "cosmosdbsql_", "elasticsearch_",
    "security_", "cache_", "mongodb_", "accept_content", "enable_utc", "timezone", "imports", "include",
    "celery", "celeryd", "celerybeat", "celerymon", "broker", "gcs_", "consul_", "filesystem_",
)
EXTENSION_PREFIXES = (
    "redbeat_", "CELERY_REDBEAT_", "CELERY_ONCE", "ONCE", "CELERY_SINGLETON", "singleton_", "CELERY_EMAIL_",
    "CELERY_RESULTS_", "CELERY_BEAT_SCHEDULER_", "CELERY_FLOWER_", "FLOWER_",
)


# The daemonization options of `celery worker/beat/events` fall back to `<command>_<option>` in
# app.conf (celery/bin/base.py DaemonOption.daemon_setting); they are not in Celery's table.
DAEMON_SETTINGS = {
    f"{command}_{option}"
    for command in ("worker", "beat", "events")
    for option in ("logfile", "pidfile", "uid", "gid", "umask", "executable")
}


def _plausible_typo(key: str, suggestion: str) -> bool:
    """A misspelling, not another setting: the same words but one, and that one close."""
    import difflib

    a, b = key.lower().split("_"), suggestion.lower().split("_")
    if len(a) != len(b):
        return abs(len(a) - len(b)) == 1 and difflib.SequenceMatcher(None, key.lower(), suggestion.lower()).ratio() > 0.9
    different = [(x, y) for x, y in zip(a, b) if x != y]
    return len(different) <= 1 and all(difflib.SequenceMatcher(None, x, y).ratio() >= 0.75 for x, y in different)


def _setting_like(key: str, layer: str, model: SettingsModel) -> bool:
    """Keys that were meant as Celery settings: every key passed to Celery()/app.conf, and keys of
    config modules that look like one (a module also holds helpers such as REDIS_HOST)."""
    if key.startswith(EXTENSION_PREFIXES):
        return False
    if layer == "preconf":
        return True
    if model.namespace:
        return key.startswith(model.namespace.upper() + "_")
    if model.django:
        return key.startswith(("CELERY", "BROKER_"))
    if key.isupper():  # old-style names; other constants (REDIS_HOST) are the module's own
        return key.startswith(("CELERY", "BROKER_"))
    return key.islower() and key.startswith(SETTING_PREFIXES)


def _suggestion(key: str, namespace: str | None, uppercase: bool) -> str | None:
    """The setting `key` was probably meant to be, spelled the way its source can hold it:
    new lowercase names unless the source only takes UPPERCASE names (Django settings, old-style
    config modules), where a new name would be ignored or mixed."""
    import difflib

    table = celery_settings.table()
    if namespace:
        prefix = namespace.upper() + "_"
        choices = [prefix + s.upper() for s in table] + list(celery_settings.old_to_new())
        found = difflib.get_close_matches(key, choices, n=1, cutoff=0.8)
        return found[0] if found else None
    # A Django-style name in a source read without the namespace: Celery ignores it.
    if key.startswith("CELERY_") and key[7:].lower() in table:
        new = key[7:].lower()
        old = table[new].old_names
        return (old[0] if old else None) if uppercase else new
    choices = list(celery_settings.old_to_new()) if uppercase else list(table)
    found = difflib.get_close_matches(key if uppercase else key.lower(), choices, n=1, cutoff=0.8)
    return found[0] if found else None


def _uppercase_source(model: SettingsModel, layer: str) -> bool:
    """Whether a source's names must stay UPPERCASE: Django settings, or an old-style module."""
    if layer == "preconf":
        return False
    if model.django:
        return True
    spellings = {w.spelling for w in model.writes if w.layer == layer}
    return "old" in spellings and "new" not in spellings


@rule(
    code="CEL109",
    name="unknown-setting",
    severity=Severity.WARNING,
    summary="A setting Celery does not know: it is silently ignored and the default stays in force.",
    scope="project",
    fix=Applicability.UNSAFE,
    words=CONFIG_WORDS,
)
def unknown_setting(project: Project) -> Iterator[Report]:
    names_read = {f.path: f.core.names_read for f in project.files}
    for model in project.models:
        for ignored in model.ignored:
            key = ignored.write.key
            if key in project.extra_settings or not _setting_like(key, ignored.layer, model):
                continue
            bare = key[len(model.namespace) + 1:] if model.namespace and key.startswith(model.namespace.upper() + "_") else key
            if bare.lower() in DAEMON_SETTINGS:
                continue
            if ignored.write.form == "name" and key in names_read.get(ignored.path, ()):
                continue  # a helper the module reads (`broker_url = redis_url`), not a setting
            if model.namespace and key == f"{model.namespace.upper()}_TIME_ZONE":
                continue  # Celery's timezone falls back to (CELERY_)TIME_ZONE
            namespace = ignored.namespace
            suggestion = _suggestion(key, namespace, _uppercase_source(model, ignored.layer))
            if suggestion is not None and not (
                _plausible_typo(key, suggestion) or key[len("CELERY_"):].lower() in celery_settings.table()
            ):
                suggestion = None
            message = f"{key} is not a Celery setting: Celery ignores it silently, so its default stays in force"
            if namespace is None and key.startswith("CELERY_") and suggestion and key[7:].lower() in celery_settings.table():
                message = (
                    f"{key} is ignored: this source is read without namespace='CELERY', where the name is "
                    f"{suggestion}; rename it, or load the source with namespace='CELERY'"
                )
            elif suggestion:
                message += f"; did you mean {suggestion}?"
            else:
                message += "; if it belongs to an extension, list it in [tool.joblint] extra-settings"
            setting = SettingValue("", key, "unknown", ignored.write.value, ignored.path, ignored.write.span, ignored.write.via, ignored.layer, ignored.write)
            taken = suggestion is not None and any(
                w.key == suggestion and w.layer == ignored.layer and w.path == ignored.path for w in model.writes
            )
            edit = rename(setting, suggestion) if suggestion and not taken else None
            fixed = fix([edit], f"Rename {key} to {suggestion}", Applicability.UNSAFE) if edit else None
            yield Report(ignored.write.span, message, fixed, path=ignored.path)


# -- CEL110 ------------------------------------------------------------------------------------

VISIBILITY_DEFAULTS = {"redis": 3600.0, "sqs": 1800.0}


def _visibility(model: SettingsModel) -> tuple[str, float] | None:
    from ..task_options import url_scheme

    broker = model.get("broker_url")
    scheme = url_scheme(broker.value) if broker is not None else None
    kind = "redis" if scheme in ("redis", "rediss", "sentinel", "redis+socket") else "sqs" if scheme == "sqs" else None
    if kind is None:
        return None
    options = model.get("broker_transport_options")
    if options is None:
        return kind, VISIBILITY_DEFAULTS[kind]
    if not options.value.entries and not isinstance(options.data, dict):
        return None
    timeout = options.value.entry("visibility_timeout")
    if timeout is None:
        return kind, VISIBILITY_DEFAULTS[kind]
    number = timeout.number()
    return (kind, number) if number is not None else None


@rule(
    code="CEL110",
    name="visibility-timeout-too-short",
    severity=Severity.WARNING,
    summary="A time limit or countdown longer than the Redis/SQS visibility timeout: the task is delivered twice.",
    scope="project",
    words=(
        *CONFIG_WORDS, *TASK_WORDS, "broker_url", "broker_transport_options", "visibility_timeout",
        *all_of(("countdown", "eta"), DISPATCH_WORDS),
    ),
)
def visibility_timeout_too_short(project: Project) -> Iterator[Report]:
    def message(what: str, seconds: float, kind: str, timeout: float) -> str:
        return (
            f"{what} ({_seconds(seconds)}) is longer than the {kind} visibility timeout ({_seconds(timeout)}): an "
            "unacknowledged message is delivered again after that, so the task runs twice; raise "
            "broker_transport_options['visibility_timeout'] above the longest time limit and countdown"
        )

    for model in project.apps:
        found = _visibility(model)
        if found is None:
            continue
        kind, timeout = found
        # A running task's message stays unacknowledged only with late acks; with early acks a long
        # run is never redelivered. A countdown/ETA message is held unacknowledged either way.
        late = model.get("task_acks_late")
        app_late = late is not None and late.data is True
        hard = model.get("task_time_limit")
        if app_late and known_number(hard) is not None and known_number(hard) > timeout:  # type: ignore[operator]
            yield Report(hard.value.span, message("task_time_limit", known_number(hard), kind, timeout), path=hard.path)  # type: ignore[union-attr, arg-type]
        for task in _app_tasks(project, model):
            own = task.task.option("time_limit")
            acks = task.task.option("acks_late")
            task_late = acks.data is True if acks is not None else app_late
            if task_late and own is not None and own.number() is not None and own.number() > timeout:  # type: ignore[operator]
                yield Report(own.span, message(f"time_limit of task {task.task.function}", own.number(), kind, timeout), path=task.path)  # type: ignore[arg-type]
    for facts in project.files:
        for call in facts.tasks.dispatches:
            countdown = call.options.get("countdown")
            if countdown is None or countdown.number() is None:
                continue
            candidates = project.tasks_named(call.target)
            models = project.models_for(candidates[0]) if len(candidates) == 1 else project.apps if len(project.apps) == 1 else []
            for model in models[:1]:
                found = _visibility(model)
                if found is not None and countdown.number() > found[1]:  # type: ignore[operator]
                    yield Report(countdown.span, message("countdown", countdown.number(), *found), path=facts.path)  # type: ignore[arg-type]


# -- CEL111 ------------------------------------------------------------------------------------


@rule(
    code="CEL111",
    name="broker-retry-on-startup-unset",
    severity=Severity.INFO,
    summary="broker_connection_retry_on_startup is unset: Celery 6 changes what the first connection does.",
    scope="project",
    fix=Applicability.SAFE,
    opt_in=True,
    words=CONFIG_WORDS,
)
def broker_retry_on_startup_unset(project: Project) -> Iterator[Report]:
    for model in production_apps(project):
        if not model.unset("broker_connection_retry_on_startup"):
            continue
        retry = model.get("broker_connection_retry")
        if retry is not None and not retry.value.known:
            continue
        value = "False" if retry is not None and retry.data is False else "True"
        edit = add_to_app(model, "broker_connection_retry_on_startup", value)
        fixed = fix([edit], f"Set broker_connection_retry_on_startup={value}", Applicability.SAFE) if edit else None
        yield Report(
            model.span,
            "broker_connection_retry_on_startup is unset: today whether a worker retries its first broker connection "
            "follows broker_connection_retry (with a deprecation warning when that is False), and Celery 6 reads only "
            f"the new setting; set broker_connection_retry_on_startup={value} explicitly",
            fixed,
            path=model.path,
        )


# -- CEL112 ------------------------------------------------------------------------------------

URL_SETTINGS = (
    "broker_url", "broker_read_url", "broker_write_url", "result_backend", "database_url", "cache_backend",
    "redis_backend_use_ssl", "mongodb_backend_settings",
)
ENV_LOOKUPS = ("getenv", "environ.get", "env", "env.str", "config", "get_env", "environ.setdefault")


def _url_literals(value: Value) -> Iterator[Value]:
    """String literals a setting's value may hold: the string, list members, an env lookup's default."""
    if isinstance(value.data, str):
        yield value
    for item in value.items:
        yield from _url_literals(item)
    if value.call and value.call.endswith(ENV_LOOKUPS):
        default = value.arg("default", 1)
        if default is not None:
            yield from _url_literals(default)


@rule(
    code="CEL112",
    name="credentials-in-broker-url",
    severity=Severity.ERROR,
    summary="A password in a committed broker or result-backend URL.",
    scope="project",
    words=(*CONFIG_WORDS, "broker_url", "result_backend", "database_url", "cache_backend"),
)
def credentials_in_broker_url(project: Project) -> Iterator[Report]:
    for model in project.models:
        for write in model.writes:
            if write.setting not in URL_SETTINGS:
                continue
            for literal in _url_literals(write.value):
                masked = masked_credential(literal.data)
                if masked is not None:
                    yield Report(
                        literal.span,
                        f"{write.key} holds a password ({masked}): anyone who can read the repository can reach "
                        "that service; read the URL from the environment or a secrets store, with no credential in the default",
                        path=write.path,
                    )


# -- CEL113 ------------------------------------------------------------------------------------


NON_PRODUCTION_STEMS = ("local", "dev", "development", "ci", "testing")


def _test_module(path: str) -> bool:
    from ..source import is_test_path

    stem = PurePosixPath(path).stem
    return (
        is_test_path(path)
        or stem.startswith("test")
        or stem.endswith(("_test", "_tests", "_testing"))
    )


def _non_production(write: SettingValue) -> bool:
    """Test modules, local/CI settings modules, and config classes named for tests."""
    stem = PurePosixPath(write.path).stem
    owner = write.write.owner if write.write is not None else ""
    klass = owner.rsplit(".", 1)[-1] if owner.startswith("class:") else ""
    return _test_module(write.path) or stem in NON_PRODUCTION_STEMS or stem.endswith(("_local", "_dev")) or "Test" in klass


@rule(
    code="CEL113",
    name="always-eager-in-production",
    severity=Severity.WARNING,
    summary="task_always_eager=True outside tests: tasks run inline, with no queue, retries or time limits.",
    scope="project",
    words=(*CONFIG_WORDS, "always_eager"),
)
def always_eager_in_production(project: Project) -> Iterator[Report]:
    for model in project.models:
        for write in model.writes:
            if write.setting == "task_always_eager" and write.data is True and not _non_production(write):
                yield Report(
                    write.value.span,
                    f"{write.key}=True outside tests: tasks run inline in the caller, with no queue, no retries and no "
                    "time limits, and a slow task blocks the request that sent it; set it only in test settings",
                    path=write.path,
                )
