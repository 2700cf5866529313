"""What the Celery rules share: the pre-filter words of config, task, dispatch and result files,
which apps and tasks count (production apps, an app's tasks, Task subclasses), and how results
and durations are named in messages.

A helper module: `all_rules()` does not load it, and it never imports a rule module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..facts.core import ClassFacts
from ..facts.results import ResultRead
from ..project import Project, ProjectTask, SettingsModel

# -- pre-filter words ------------------------------------------------------------------------------

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
# Where a task's result is produced. A canvas result needs `from celery import group`: `m.group(1)`
# alone is no producer.
PRODUCER_WORDS = (
    ".delay(", "apply_async", "asyncresult", "send_task", "groupresult", "celery&group(", "celery&chord(",
    "celery&chain(",
)

# -- apps and tasks --------------------------------------------------------------------------------

TASK_BASES = ("celery.Task", "celery.app.task.Task", "celery.task.Task")


def task_classes(project: Project) -> Iterator[tuple[str, ClassFacts]]:
    """Task subclasses defined in the project: `class T(Task)`, `class T(app.Task)`."""
    for facts in project.files:
        for cls in facts.core.classes:
            if any(b in TASK_BASES or b.endswith(".Task") for b in cls.bases):
                yield facts.path, cls


def production_apps(project: Project) -> list[SettingsModel]:
    """Apps whose missing settings matter: an app built in test code (`source.is_test_path`, as
    the engine marks each file's facts) is a fixture."""
    tests = {facts.path for facts in project.files if facts.is_test}
    return [m for m in project.apps if m.path not in tests]


def worker_apps(project: Project) -> list[SettingsModel]:
    """Production apps a worker runs (`SettingsModel.worker`: tasks, autodiscover_tasks(), a
    worker command naming it, worker settings): settings only a worker reads matter for those."""
    return [m for m in production_apps(project) if m.worker]


def app_tasks(project: Project, model: SettingsModel) -> list[ProjectTask]:
    """The tasks an app runs: those bound to it, and shared tasks — all of them when the project
    has one app, else those in the app's directory and below it. When the project shows which apps
    its workers run (`SettingsModel.launched`), a shared task of an app no worker runs (`@app.task`
    of a sender app: shared unless `shared=False`) counts for the launched app instead — the only
    one, else those whose directory holds the task."""
    if _grouped[0] is not project:
        _grouped[:] = [project, _tasks_by_app(project)]
    tasks: list[ProjectTask] = _grouped[1].get(id(model), [])
    return tasks


# The last project's tasks by app (the id of its model): several rules ask app by app, and asking
# each time cost apps x tasks x apps (a file of 1,000 apps took 30 s).
_grouped: list[Any] = [None, {}]


def _tasks_by_app(project: Project) -> dict[int, list[ProjectTask]]:
    production = production_apps(project)
    several = len(production) > 1
    launched = [m for m in production if m.launched]
    grouped: dict[int, list[ProjectTask]] = {}
    for task in project.tasks:
        shared = task.task.app in (None, "celery.current_app")
        models: list[SettingsModel] = []
        for model in project.models_for(task):
            home = _home(model)
            if any(m is model for m in models) or several and shared and not task.path.startswith(home):
                continue
            models.append(model)
        if launched and task.shared and any(not m.launched and not m.worker for m in models):
            runs = launched if len(launched) == 1 else [m for m in launched if task.path.startswith(_home(m))]
            models = [m for m in models if m.launched or m.worker]
            models += [m for m in runs if not any(m is k for k in models)]
        for model in models:
            grouped.setdefault(id(model), []).append(task)
    return grouped


def _home(model: SettingsModel) -> str:
    return model.path.rsplit("/", 1)[0] + "/" if "/" in model.path else ""


# -- in messages -----------------------------------------------------------------------------------


def seconds(value: float) -> str:
    """`30s`, `2.5s`."""
    return f"{int(value)}s" if float(value).is_integer() else f"{value:g}s"


def describe(read: ResultRead) -> str:
    """`add.delay(...)`, `group(...)()`, `AsyncResult(...)`: where the result came from."""
    if read.target:
        return f"{read.target}.{read.producer}(...)"
    if read.producer in ("group", "chain"):
        return f"{read.producer}(...)()"
    if read.producer == "chord":
        return "chord(...)(...)"
    return f"{read.producer}(...)"


def in_any(functions: tuple[str, ...], names: set[str]) -> str | None:
    """The innermost of `functions` (outermost first) that is one of `names`."""
    return next((f for f in reversed(functions) if f in names), None)
