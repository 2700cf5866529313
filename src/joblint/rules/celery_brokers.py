"""CEL1: Celery configuration — brokers and result backends: a visibility timeout shorter than a
task can stay unacknowledged, the first broker connection under Celery 6, and passwords in
committed broker and backend URLs."""

from __future__ import annotations

from collections.abc import Iterator

from ..facts.values import Value
from ..findings import Applicability, Severity
from ..project import Project, SettingsModel, known_number
from ..settings.urls import masked_credential
from . import Report, all_of, fix, rule
from ._celery import CONFIG_WORDS, DISPATCH_WORDS, TASK_WORDS, app_tasks, production_apps, seconds
from ._settings_edits import add_to_app

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
    in_tests=False,
    name="visibility-timeout-too-short",
    severity=Severity.WARNING,
    summary="A time limit or countdown longer than the Redis/SQS visibility timeout: the task is delivered twice.",
    scope="project",
    words=(
        *CONFIG_WORDS, *TASK_WORDS, "broker_url", "broker_transport_options", "visibility_timeout",
        *all_of(("countdown", "eta"), DISPATCH_WORDS),
    ),
    settings=("broker_url", "broker_transport_options", "task_acks_late", "task_time_limit"),
)
def visibility_timeout_too_short(project: Project) -> Iterator[Report]:
    def message(what: str, length: float, kind: str, timeout: float) -> str:
        return (
            f"{what} ({seconds(length)}) is longer than the {kind} visibility timeout ({seconds(timeout)}): an "
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
            text = message("task_time_limit", known_number(hard), kind, timeout)  # type: ignore[arg-type]
            yield Report(hard.value.span, text, path=hard.path)  # type: ignore[union-attr]
        for task in app_tasks(project, model):
            own = task.task.option("time_limit")
            acks = task.task.option("acks_late")
            task_late = acks.data is True if acks is not None else app_late
            if task_late and own is not None and own.number() is not None and own.number() > timeout:  # type: ignore[operator]
                what = f"time_limit of task {task.task.function}"
                yield Report(own.span, message(what, own.number(), kind, timeout), path=task.path)  # type: ignore[arg-type]
    for facts in project.files:
        for call in facts.tasks.dispatches:
            countdown = call.options.get("countdown")
            if countdown is None or countdown.number() is None:
                continue
            candidates = project.tasks_named(call.target)
            if len(candidates) == 1:
                models = project.models_for(candidates[0])
            else:
                models = project.apps if len(project.apps) == 1 else []
            for model in models[:1]:
                found = _visibility(model)
                if found is not None and countdown.number() > found[1]:  # type: ignore[operator]
                    text = message("countdown", countdown.number(), *found)  # type: ignore[arg-type]
                    yield Report(countdown.span, text, path=facts.path)


# -- CEL111 ------------------------------------------------------------------------------------


@rule(
    code="CEL111",
    in_tests=False,
    name="broker-retry-on-startup-unset",
    severity=Severity.INFO,
    summary="broker_connection_retry_on_startup is unset: Celery 6 changes what the first connection does.",
    scope="project",
    fix=Applicability.SAFE,
    opt_in=True,
    words=CONFIG_WORDS,
    settings=("broker_connection_retry_on_startup", "broker_connection_retry"),
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
    in_tests=False,
    name="credentials-in-broker-url",
    severity=Severity.ERROR,
    summary="A password in a committed broker or result-backend URL.",
    scope="project",
    words=(*CONFIG_WORDS, "broker_url", "result_backend", "database_url", "cache_backend"),
    settings=URL_SETTINGS,
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
                        "that service; read the URL from the environment or a secrets store, with no credential in "
                        "the default",
                        path=write.path,
                    )
