"""Project analysis: the facts of every file, and the per-framework models built from them once.

`Project` is what project rules read. It holds each framework's model (models/):

- Celery: one settings model per app, merged the way Celery merges them (`models`, `apps`,
  `models_for`), and the project's tasks (`tasks`, `tasks_named`) — models/celery.py;
- ARQ: WorkerSettings, their jobs, job functions, every enqueue (`arq`) — models/arq.py;
- Temporal: workflow and activity definitions, schedules and starts (`temporal`) — models/temporal.py.

The names rules import from here (`SettingsModel`, `SettingValue`, `ProjectTask`, `known_number`...)
are the models' and are re-exported as this module's API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from .facts import ModuleFacts
from .models import arq as arq_model
from .models import celery as celery_model
from .models import temporal as temporal_model
from .models.arq import ArqModel
from .models.celery import (
    CONFIG_NAME,
    DJANGO_SETTINGS,
    CeleryModel,
    IgnoredKey,
    ProjectTask,
    SettingsModel,
    SettingValue,
    evident,
    holds_configuration,
    known_number,
    looks_like_config,
    resolve_source,
)
from .models.temporal import TemporalModel

__all__ = [
    "CONFIG_NAME", "DJANGO_SETTINGS", "ArqModel", "CeleryModel", "IgnoredKey", "Project", "ProjectTask",
    "SettingValue", "SettingsModel", "TemporalModel", "build", "evident", "holds_configuration", "known_number",
    "looks_like_config", "resolve_source",
]


@dataclass
class Project:
    files: list[ModuleFacts]
    models: list[SettingsModel]  # Celery: the apps' settings, then config sources no app is tied to
    tasks: list[ProjectTask]  # Celery tasks
    app_names: dict[str, str] = field(default_factory=dict)  # any app ref -> the app model's name
    extra_settings: frozenset[str] = frozenset()  # [tool.joblint] extra-settings
    known_tasks: frozenset[str] = frozenset()  # [tool.joblint] known-tasks
    unread: tuple[str, ...] = ()  # paths of the run's Python files that were not analysed
    arq: ArqModel = field(default_factory=ArqModel)
    temporal: TemporalModel = field(default_factory=TemporalModel)

    @cached_property
    def celery(self) -> CeleryModel:
        """The Celery model: the settings models, tasks and app names above."""
        return CeleryModel(self.models, self.tasks, self.app_names)

    @property
    def apps(self) -> list[SettingsModel]:
        return self.celery.apps

    @cached_property
    def module_names(self) -> frozenset[str]:
        """Every module of the run, analysed or not: whether a module exists must not depend on
        whether the pre-filter skipped it."""
        from .source import module_name

        unread = (module_name(path)[0] for path in self.unread)
        return frozenset(f.module for f in self.files if f.module) | {m for m in unread if m}

    def models_for(self, task: ProjectTask) -> list[SettingsModel]:
        """The settings a task runs under: its app's, or every app's for shared tasks."""
        return self.celery.models_for(task)

    def tasks_named(self, target: str) -> list[ProjectTask]:
        """Tasks a dispatch target (`add`, `tasks.add`) may refer to, by function name."""
        return self.celery.tasks_named(target)


def build(
    files: list[ModuleFacts],
    extra_settings: list[str] = (),  # type: ignore[assignment]
    known_tasks: list[str] = (),  # type: ignore[assignment]
    unread: tuple[str, ...] = (),
) -> Project:
    files = sorted(files, key=lambda f: f.path)
    celery = celery_model.build(files)
    return Project(
        files, celery.models, celery.tasks, celery.app_names, frozenset(extra_settings), frozenset(known_tasks), unread,
        arq=arq_model.build(files), temporal=temporal_model.build(files),
    )
