"""CEL6: monitoring — whether anyone hears about a failed task."""

from __future__ import annotations

from typing import Iterator

from ..findings import Severity
from ..project import Project
from . import Report, rule
from ._celery import production_apps, task_classes

# sentry_sdk.init() turns its Celery integration on by itself when celery is installed; ddtrace and
# OpenTelemetry instrument Celery too.
ERROR_TRACKERS = (
    "sentry_sdk", "rollbar.contrib.celery", "bugsnag.celery", "newrelic", "ddtrace", "honeybadger.contrib.celery",
    "opentelemetry.instrumentation.celery", "elasticapm",
)


@rule(
    code="CEL601",
    in_tests=False,
    name="task-failures-unobserved",
    severity=Severity.INFO,
    summary="No task_failure handler, on_failure hook or error-tracking integration: failed tasks go unnoticed.",
    scope="project",
    opt_in=True,
    words=("celery", "sentry_sdk", "ddtrace", "opentelemetry", "newrelic", "rollbar", "bugsnag", "elasticapm"),
)
def task_failures_unobserved(project: Project) -> Iterator[Report]:
    apps = production_apps(project)
    if not apps:
        return
    for facts in project.files:
        if "celery.signals.task_failure" in facts.celery.signals:
            return
        if any(value.startswith(ERROR_TRACKERS) for value in facts.imports.values()):
            return
    if any("on_failure" in cls.methods for _, cls in task_classes(project)):
        return
    app = next((a for a in apps if a.app is not None and a.app.module_level), apps[0])
    yield Report(
        app.span,
        "nothing in the project observes failed tasks (no task_failure signal handler, no on_failure on a base "
        "Task, no error-tracking integration such as sentry_sdk's CeleryIntegration): a task that fails is only "
        "in the worker log; connect a handler or an integration",
        path=app.path,
    )
