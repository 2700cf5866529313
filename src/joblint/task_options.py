"""What a task runs with: its options merged from every place Celery reads them, and task lookup.

Celery builds a task class from its decorator's keyword arguments on top of the `base=` class (or,
for a `Task` subclass, its own class attributes on top of its bases), and copies the app's
`task_*` settings onto whatever the class leaves unset (`Task.from_config`). `effective_option`
follows that order over the project's facts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .facts.values import Value
from .project import Project, ProjectTask, SettingsModel

# Base classes deeper than this are not followed (a cycle, or an unusual hierarchy).
MAX_BASE_DEPTH = 8


@dataclass(frozen=True)
class ProjectClass:
    """A class that tasks may inherit options from: a Task subclass, or any recorded class."""

    name: str
    qualname: str
    bases: tuple[str, ...]
    options: dict[str, Value]
    names: dict[str, tuple[str, ...]]  # options whose values are names (exception classes)
    path: str
    module: str | None
    methods: tuple[str, ...] = ()

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.qualname}" if self.module else self.qualname


@dataclass(frozen=True)
class OptionSource:
    """Where a task's option is set: its own decorator or class, or a class it inherits from."""

    value: Value
    names: tuple[str, ...]
    path: str
    where: str  # e.g. "option of task fetch", "base class RetryingTask"
    own: bool  # set on the task itself (decorator or its own class body)


_index_cache: dict[int, tuple[Project, dict[str, ProjectClass]]] = {}


def class_index(project: Project) -> dict[str, ProjectClass]:
    """Every known class of the project by qualified name (`module.Class`) and by `path:Class`."""
    cached = _index_cache.get(id(project))
    if cached is not None and cached[0] is project:
        return cached[1]
    index: dict[str, ProjectClass] = {}

    def add(found: ProjectClass) -> None:
        index.setdefault(found.qualified, found)
        index.setdefault(f"{found.path}:{found.qualname}", found)

    for facts in project.files:
        for cls in facts.tasks.task_classes:
            add(
                ProjectClass(
                    cls.name, cls.qualname, cls.bases, cls.options, cls.names, facts.path, facts.module, cls.methods
                )
            )
        for core in facts.core.classes:
            options = {a.name: a.value for a in core.attributes}
            add(ProjectClass(core.name, core.qualname, core.bases, options, {}, facts.path, facts.module, core.methods))
    _index_cache.clear()
    _index_cache[id(project)] = (project, index)
    return index


def find_class(project: Project, name: str, module: str | None, path: str) -> ProjectClass | None:
    """The project class `name` refers to from a file: qualified, or defined in that file."""
    index = class_index(project)
    return index.get(name) or (index.get(f"{module}.{name}") if module else None) or index.get(f"{path}:{name}")


def base_classes(project: Project, task: ProjectTask) -> Iterator[ProjectClass]:
    """The project classes a task inherits options from, nearest first."""
    if task.task.kind == "class":
        own = find_class(project, task.task.function, task.module, task.path)
        start = list(own.bases) if own is not None else []
    else:
        start = [task.task.base] if task.task.base else []
    seen: set[str] = set()
    queue = [(name, task.module, task.path, 0) for name in start]
    while queue:
        name, module, path, depth = queue.pop(0)
        found = find_class(project, name, module, path)
        if found is None or found.qualified in seen or depth > MAX_BASE_DEPTH:
            continue
        seen.add(found.qualified)
        yield found
        queue.extend((b, found.module, found.path, depth + 1) for b in found.bases)


def base_names(project: Project, task: ProjectTask) -> list[str]:
    """Every base class name of a task as written or qualified, project classes or not."""
    names = [task.task.base] if task.task.base else []
    for cls in base_classes(project, task):
        names.extend(cls.bases)
    return names


def find_option(project: Project, task: ProjectTask, option: str) -> OptionSource | None:
    """Where a task's option is set in its own options or the classes it inherits from.

    Its own options include the keys of the `**mapping`s in its decorator that the project resolves
    (models/literal_dicts.py); while one is unresolved, an option not written out is found with a
    value whose data is UNKNOWN: rules must not claim it unset."""
    own = task.task.option(option)  # UNKNOWN when a `**mapping` joblint cannot read may set it
    if own is not None:
        where = "class attribute" if task.task.kind == "class" else "option"
        via = task.task.via.get(option)
        return OptionSource(
            own,
            task.task.names.get(option, ()),
            task.path,
            f"{where} of task {task.task.function}" + (f" from {via}" if via else ""),
            True,
        )
    for cls in base_classes(project, task):
        value = cls.options.get(option)
        if value is not None:
            return OptionSource(value, cls.names.get(option, ()), cls.path, f"base class {cls.name}", False)
    return None


def effective_option(
    project: Project, task: ProjectTask, option: str, setting: str | None
) -> tuple[Value | None, str]:
    """The value a task runs with for `option`, and where it was set.

    Looks at the task's own options (decorator keywords, or a Task subclass's attributes), then the
    classes it inherits from (`base=`, Task subclass bases), then the app settings (`setting`, e.g.
    `task_acks_late`); (None, "") when nothing in the project sets it; a Value whose data is
    UNKNOWN when an unresolved `**mapping` in the decorator may set it (`find_option`).
    """
    found = find_option(project, task, option)
    if found is not None:
        return found.value, f"{option}= {found.where}"
    if setting is not None:
        for model in project.models_for(task):
            write = model.get(setting)
            if write is not None:
                return write.value, write.where
    return None, ""


# -- task lookup ---------------------------------------------------------------------------------


def resolve_task(project: Project, target: str, qualified: str | None, path: str) -> ProjectTask | None:
    """The project task a call names: `add` (defined in `path`), `tasks.add`, or an imported name.

    Only an unambiguous match counts: rules that reason about a task's options or signature must
    not guess between two functions with the same name.
    """
    if qualified is not None:
        exact = [t for t in project.tasks if t.module and f"{t.module}.{t.task.function}" == qualified]
        if len(exact) == 1:
            return exact[0]
        if exact:
            return None
    if "." not in target:
        local = [t for t in project.tasks if t.path == path and t.task.function == target]
        if len(local) == 1:
            return local[0]
        if local or qualified is None:
            return None
    if qualified is None:
        return None
    # An imported name whose module path differs from how the project's packages were found
    # (a source root without __init__.py): match the module by suffix, never a different module.
    module, _, leaf = qualified.rpartition(".")
    if module in project.module_names:
        return None
    named = [t for t in project.tasks if t.task.function == leaf and _same_module(t.module, module)]
    return named[0] if len(named) == 1 else None


def _same_module(found: str | None, imported: str) -> bool:
    if found is None or not imported:
        return found is None
    return found.endswith("." + imported) or imported.endswith("." + found) or found == imported


# -- backend and broker --------------------------------------------------------------------------

REDIS_SCHEMES = ("redis", "rediss", "sentinel", "redis+socket")
AMQP_SCHEMES = ("amqp", "amqps", "pyamqp", "librabbitmq")


def url_scheme(value: Value | None) -> str | None:
    """The scheme of a literal URL setting (`redis://...` -> `redis`); None when not a literal URL."""
    if value is None or not isinstance(value.data, str):
        return None
    scheme, sep, _ = value.data.partition("://")
    if sep:
        return scheme.lower()
    return value.data.lower() or None  # `django-db`, `rpc`


def backend_kind(model: SettingsModel) -> str:
    """`none`, `redis`, `rpc`, `other`, or `unknown` (not a literal) for an app's result backend."""
    write = model.get("result_backend")
    if write is None:
        # Never set where joblint can see; a config source it could not read may set it.
        return "none" if model.unset("result_backend") else "unknown"
    if write.value.data is None:
        return "none"
    scheme = url_scheme(write.value)
    if scheme is None:
        return "unknown"
    if scheme in REDIS_SCHEMES:
        return "redis"
    if scheme in ("rpc",):
        return "rpc"
    if scheme == "disabled":
        return "none"
    return "other"


def broker_kind(model: SettingsModel) -> str:
    """`redis`, `amqp`, `other` or `unknown` for an app's broker; `unknown` when it is never set."""
    write = model.get("broker_url")
    scheme = url_scheme(write.value) if write is not None else None
    if scheme is None:
        return "unknown"
    if scheme in REDIS_SCHEMES:
        return "redis"
    if scheme in AMQP_SCHEMES:
        return "amqp"
    return "other"
