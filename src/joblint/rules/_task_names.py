"""Which task names joblint can judge: a name in a beat entry or a route is only "unknown" when
joblint could have seen the task that should carry it.

A name under a top-level package the project does not contain (`django_celery_beat.tasks.x`,
`myplugin.tasks.y`) belongs to an installed package — in INSTALLED_APPS, in the requirements, or
simply elsewhere — whose tasks joblint never reads: it is unknown, not missing. A name under one
of the project's own top-level packages or modules is missing when no task carries it, and so is
a bare name (no dots) that a project task's function carries (`"cleanup"` for the task
registered as `proj.tasks.cleanup`).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from ..project import Project


def own_top_levels(project: Project) -> frozenset[str]:
    """The project's top-level packages and modules (analysed by this run or not), its top-level
    directories (a directory without `__init__.py` that Celery may still import as a namespace
    package), and the first part of the names its own tasks are registered under (`name="billing.x"`)."""
    paths = [*(f.path for f in project.files), *project.unread]
    directories = {PurePosixPath(path.replace("\\", "/")).parts[0].removesuffix(".py") for path in paths if path}
    registered = {task.name.split(".")[0] for task in project.tasks if task.name}
    return frozenset(name.split(".")[0] for name in project.module_names) | directories | registered


def judgeable(project: Project, name: str) -> bool:
    """Whether a task name that matches no project task is wrong, rather than out of sight."""
    if "." in name:
        return name.split(".")[0] in own_top_levels(project)
    return any(task.task.function == name for task in project.tasks)
