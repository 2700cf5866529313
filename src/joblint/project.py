"""Project analysis: merge the facts of every file into one settings model per Celery app.

A `SettingsModel` is the configuration one app ends up with: every recognised write, the value
in force for each setting (later writes win, as in Celery), and where each came from. Config
modules that no app can be tied to yet are checked as models of their own, so a pickle
serializer in `celeryconfig.py` is reported whoever loads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from . import settings as celery_settings
from .facts import ModuleFacts
from .facts.celery import SettingWrite
from .facts.tasks import TaskDef
from .facts.values import UNKNOWN, Value
from .findings import Span


@dataclass(frozen=True)
class SettingValue:
    """A setting as written in one source."""

    setting: str  # the new name
    key: str  # as written
    spelling: str  # "new" | "old" | "namespaced"
    value: Value
    path: str
    span: Span  # the key
    via: str

    @property
    def data(self) -> Any:
        return self.value.data


@dataclass
class SettingsModel:
    name: str  # the app ref, or the config source's name
    path: str  # where to point when a needed value is never set
    span: Span
    is_app: bool
    namespace: str | None = None
    writes: list[SettingValue] = field(default_factory=list)
    ignored: list[tuple[str, SettingWrite]] = field(default_factory=list)  # (path, write) Celery ignores

    def get(self, setting: str) -> SettingValue | None:
        """The write in force for `setting`, or None when it is never set."""
        found = None
        for write in self.writes:
            if write.setting == setting:
                found = write
        return found

    def value(self, setting: str) -> Any:
        """The value in force: the last write, else Celery's default; UNKNOWN when not a literal."""
        write = self.get(setting)
        return write.data if write is not None else celery_settings.default(setting)

    def add(self, path: str, write: SettingWrite) -> None:
        meaning = celery_settings.canonical(write.key, self.namespace)
        if meaning.setting is None:
            self.ignored.append((path, write))
            return
        self.writes.append(
            SettingValue(meaning.setting, write.key, meaning.spelling, write.value, path, write.span, write.via)
        )


@dataclass(frozen=True)
class ProjectTask:
    task: TaskDef
    path: str
    module: str | None

    @property
    def name(self) -> str:
        """The registered name: `name=` when given, else module.function, as Celery derives it."""
        explicit = self.task.option("name")
        if explicit is not None and isinstance(explicit.data, str):
            return explicit.data
        return f"{self.module}.{self.task.function}" if self.module else self.task.function


@dataclass
class Project:
    files: list[ModuleFacts]
    models: list[SettingsModel]
    tasks: list[ProjectTask]
    app_names: dict[str, str] = field(default_factory=dict)  # any app ref -> the app model's name

    @property
    def apps(self) -> list[SettingsModel]:
        return [m for m in self.models if m.is_app]

    def models_for(self, task: ProjectTask) -> list[SettingsModel]:
        """The settings a task runs under: its app's, or every app's for shared tasks."""
        ref = task.task.app
        if ref is None or ref == "celery.current_app":
            return self.apps
        return [m for m in self.apps if m.name == self.app_names.get(ref, ref)]

    def tasks_named(self, target: str) -> list[ProjectTask]:
        """Tasks a dispatch target (`add`, `tasks.add`) may refer to, by function name."""
        leaf = target.rsplit(".", 1)[-1]
        return [t for t in self.tasks if t.task.function == leaf]


# Settings whose lowercase name is specific enough to mark a module as Celery configuration.
_GENERIC_NAMES = {"timezone", "include", "imports", "enable_utc"}


def _config_source_namespace(facts: ModuleFacts) -> str | None | bool:
    """Whether a module's top-level names make it a Celery config source, and its namespace.

    Returns False when it is not one, None for a plain source, "CELERY" for Django-style names.
    """
    keys = [a.name for a in facts.core.assignments]
    namespaced = [
        k for k in keys
        if k.startswith("CELERY_") and celery_settings.canonical(k, "CELERY").spelling == "namespaced"
        and celery_settings.canonical(k).spelling != "old"
    ]
    if namespaced:
        return "CELERY"
    for key in keys:
        meaning = celery_settings.canonical(key)
        if meaning.spelling == "old" or (meaning.spelling == "new" and key not in _GENERIC_NAMES):
            return None
    return False


def build(files: list[ModuleFacts]) -> Project:
    models: list[SettingsModel] = []
    by_ref: dict[str, SettingsModel] = {}
    by_qualified: dict[str, list[SettingsModel]] = {}
    for facts in files:
        for app in facts.celery.apps:
            model = SettingsModel(app.ref, facts.path, app.span, True, app.namespace)
            models.append(model)
            by_ref[app.ref] = model
            if app.qualified:
                by_qualified.setdefault(app.qualified, []).append(model)
    # An imported app resolves when exactly one app in the project has that qualified name.
    by_ref.update({q: ms[0] for q, ms in by_qualified.items() if len(ms) == 1 and q not in by_ref})
    for facts in files:
        for write in facts.celery.settings:
            target = by_ref.get(write.owner)
            if target is None and write.owner == "celery.current_app":
                for model in [m for m in models if m.is_app]:
                    model.add(facts.path, write)
                continue
            if target is not None:
                target.add(facts.path, write)
        namespace = _config_source_namespace(facts)
        if namespace is not False:
            model = SettingsModel(f"module:{facts.module or facts.path}", facts.path, Span.point(1), False, namespace or None)
            for assignment in facts.core.assignments:
                key_meaning = celery_settings.canonical(assignment.name, model.namespace)
                if key_meaning.setting is not None:
                    model.add(
                        facts.path,
                        SettingWrite(assignment.name, assignment.value, assignment.span, model.name, "module"),
                    )
            models.append(model)
    tasks = [ProjectTask(t, f.path, f.module) for f in files for t in f.tasks.tasks]
    return Project(files, models, tasks, {ref: m.name for ref, m in by_ref.items()})


def iter_values(model: SettingsModel, setting: str) -> Iterator[SettingValue]:
    """Every write of `setting` in a model, in order."""
    return (w for w in model.writes if w.setting == setting)


def known_number(value: Value | SettingValue | None) -> float | None:
    if value is None:
        return None
    v = value.value if isinstance(value, SettingValue) else value
    if v.data is UNKNOWN:
        return None
    return v.number()
