"""Runs in the child process of `joblint check-app`: import the user's app, write its final
configuration and its tasks' options as JSON to a file, and nothing else.

Only the standard library and celery are used here; this file is executed by path with the
project's interpreter, so it must not import joblint.
"""

import datetime
import importlib
import json
import os
import sys
from typing import Any

# Task attributes the rules read, with the app setting each one inherits from (Task.from_config).
TASK_OPTIONS = {
    "acks_late": "task_acks_late",
    "reject_on_worker_lost": "task_reject_on_worker_lost",
    "retry_on_worker_lost": "task_retry_on_worker_lost",
    "time_limit": "task_time_limit",
    "soft_time_limit": "task_soft_time_limit",
    "serializer": "task_serializer",
    "ignore_result": "task_ignore_result",
    "track_started": "task_track_started",
    "max_retries": None,
    "default_retry_delay": None,
    "rate_limit": "task_default_rate_limit",
    "autoretry_for": None,
    "retry_backoff": None,
    "retry_jitter": None,
    "queue": None,
    "priority": None,
    "expires": None,
}


# Keys Celery keeps in app.conf that are not settings.
NOT_SETTINGS = {"deprecated_settings"}
# Settings that celery.app.utils.Settings computes (environment variables, fallbacks).
PROPERTIES = {"broker_url", "broker_read_url", "broker_write_url", "result_backend", "timezone"}


def plain(value: Any) -> Any:
    """A JSON image of a setting's value; objects become {"repr": ...} (unknown to the rules)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, type):
        return {"repr": f"{value.__module__}.{value.__qualname__}"}
    return {"repr": repr(value)[:200]}


def load(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    if attr:
        obj = module
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj
    for name in ("app", "celery", "celery_app"):
        if hasattr(module, name):
            return getattr(module, name)
    raise LookupError(f"{module_name} has no attribute app, celery or celery_app; name it: {module_name}:NAME")


def main() -> None:
    target, out = sys.argv[1], sys.argv[2]
    sys.path[0] = os.getcwd()  # the project, not this file's directory
    try:
        from celery import Celery
    except ImportError:
        return report(out, error="celery is not installed in this interpreter")
    try:
        app = load(target)
    except BaseException as exc:  # the user's module may raise anything, SystemExit included
        return report(out, error=f"cannot import {target}: {type(exc).__name__}: {exc}".splitlines()[0])
    if not isinstance(app, Celery):
        return report(out, error=f"{target} is a {type(app).__name__}, not a Celery app")
    warnings = []
    try:
        app.loader.import_default_modules()
    except BaseException as exc:
        warnings.append(f"importing the app's task modules failed: {type(exc).__name__}: {exc}".splitlines()[0])
    app.finalize(auto=True)
    from celery.app.defaults import NAMESPACES, flatten

    conf = app.conf
    settings = {}
    # Every setting by its new name, whatever spelling the config used; `changes` adds keys
    # written through app.conf that Celery does not know (typos).
    keys = {key for key, _ in flatten(NAMESPACES)} | {
        k for k in conf.changes if isinstance(k, str) and k.islower() and k not in NOT_SETTINGS
    }
    for key in sorted(keys):
        try:
            # Properties first: broker_url, result_backend and timezone read the environment and
            # Django's TIME_ZONE on top of the stored value.
            value = getattr(conf, key) if key in PROPERTIES else conf.get(key)
            settings[key] = {"value": plain(value), "set": bool(conf.value_set_for(key)) or key in conf.changes}
        except Exception as exc:  # a lazy value that fails to evaluate
            settings[key] = {"value": {"repr": f"<error: {exc}>"}, "set": True}
    tasks = {}
    for name, task in sorted(app.tasks.items()):
        if name.startswith("celery."):
            continue
        options = {}
        for option, setting in TASK_OPTIONS.items():
            value = getattr(task, option, None)
            if setting is not None and setting in settings and plain(value) == settings[setting]["value"]:
                continue  # copied from the app's settings, not the task's own
            if value is None or (option == "autoretry_for" and not value):
                continue
            options[option] = plain(value)
        tasks[name] = options
    report(
        out, settings=settings, tasks=tasks, main=app.main, namespace=getattr(app, "namespace", None), warnings=warnings
    )


def report(out: str, **data: Any) -> None:
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(data, handle)


if __name__ == "__main__":
    main()
