"""Celery's project model: one settings model per app, merged from every file the way Celery merges them.

A `SettingsModel` is the configuration one app ends up with, built the way Celery builds it:

- the *config source* is the last `config_from_object(...)` (a module, a `module:Class`, a class,
  a dict, or Django's settings with `namespace="CELERY"`), read with its star imports and base
  classes;
- the *preconf* layer — `Celery(...)` keyword arguments, `app.conf.update(...)`,
  `app.conf.x = ...`, `app.conf["x"] = ...` — overrides the config source whatever the order,
  later writes winning among themselves;
- what neither sets keeps Celery's default.

Every value keeps the place that set it. Config sources no app can be tied to are checked as models
of their own, so a pickle serializer in `celeryconfig.py` is reported whoever loads it.

What joblint cannot see makes a model *incomplete* (`complete=False`: "never set" cannot be
concluded): a config source it cannot find (a DJANGO_SETTINGS_MODULE absent from the tree is never
replaced by a module guessed by name), a star import or base class from outside the project, a
`**spread` that is no literal dict of the project (and then every value written before it is
unknown too: the spread may override it).

Django settings that no DJANGO_SETTINGS_MODULE names, in a project that ships several settings
modules (`settings/dev.py` and `settings/production.py` over `settings/base.py`,
`settings_docker.py`, ...), are *variants*: every one may be the one the worker runs with. A
setting is unset only when no variant sets it; its value is known only when every variant sets
it to the same value (it is then read from the first variant), else it is UNKNOWN. Test settings
(`settings/test.py`, `test_settings.py`, anything under tests/) are never variants.

An app is a *worker* app (`SettingsModel.worker`) when a worker runs it: it has tasks, calls
`autodiscover_tasks()`, lists `include=` modules, starts a worker itself, is named by `-A` in a
worker command of a launch file, or sets worker-side settings. Settings a worker needs
(acks, time limits) are asked only of those. When launch files or code show which apps workers
run (`SettingsModel.launched`), shared tasks (`@shared_task`, and `@app.task` unless
`shared=False`) make only those worker apps: Celery adds a shared task to every app finalized in
the worker process, so an app that only decorates tasks (`app = Celery(broker=...)` in
`tasks.py`) while `celery -A proj worker` runs another is a sender.

`build` returns a `CeleryModel`: those settings models, the project's tasks, and which app each app
reference names. It reads facts and the settings table only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from pathlib import PurePosixPath
from typing import Any, Literal

from .. import settings as celery_settings
from ..facts import ModuleFacts
from ..facts.celery import (
    APP_KEYWORD_SETTINGS,
    APP_PARAMETERS,
    CELERY_CLASSES,
    UNRESOLVED_APP,
    ConfigSource,
    SettingWrite,
    Spread,
)
from ..facts.core import Assignment, ClassFacts
from ..facts.tasks import TaskDef
from ..facts.values import UNKNOWN, Value
from ..findings import Span
from . import literal_dicts


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
    layer: str = "preconf"  # "source" (the config source) or "preconf" (Celery(), app.conf)
    write: SettingWrite | None = field(default=None, compare=False, repr=False)

    @property
    def data(self) -> Any:
        return self.value.data

    @property
    def where(self) -> str:
        """`KEY at path:line`, or just the key for a value read from a loaded app (no line)."""
        return f"{self.key} at {self.path}:{self.span.line}" if self.span.line else self.key


@dataclass(frozen=True)
class IgnoredKey:
    """A key in a settings source that Celery does not read."""

    path: str
    write: SettingWrite
    layer: str
    namespace: str | None


@dataclass
class SettingsModel:
    name: str  # the app ref, or the config source's name
    path: str  # where to point when a needed value is never set
    span: Span
    is_app: bool
    namespace: str | None = None
    # The namespace is inferred from the names of a source no app is tied to (`CELERY_BROKER_URL`
    # in a Flask config), while no app of the project declares one: the source may as well be read
    # without it (`celery.conf.update(flask_app.config)`), so findings about names must hold either way.
    namespace_guessed: bool = False
    writes: list[SettingValue] = field(default_factory=list)  # in precedence order: the last wins
    ignored: list[IgnoredKey] = field(default_factory=list)
    complete: bool = True  # False when a config source could not be read: unset may mean "set there"
    source_name: str | None = None  # the config source that was merged, for messages
    django: bool = False  # the config source is a Django settings module (UPPERCASE names only)
    app: Any = None  # the AppDef of an app model
    # Several settings modules the worker may run with (see the module docstring): each one's
    # writes, in order. `writes` then holds each written place once, for rules about places.
    variants: list[list[SettingValue]] = field(default_factory=list)
    # Writes before this index may be overridden by a `**spread` joblint could not read.
    barrier: int | None = None
    worker: bool = False  # a worker runs this app (see the module docstring)
    worker_reason: str = ""  # why, for messages and tests
    launched: bool = False  # named by `-A` of a worker command, or started by worker_main()/Worker in code

    def get(self, setting: str) -> SettingValue | None:
        """The write in force for `setting`, or None when nothing the project shows sets it. Its
        value is UNKNOWN when the setting's variants disagree, or an unread spread may override it."""
        found = None
        at = -1
        for i, write in enumerate(self.writes):
            if write.setting == setting and not (self.variants and write.layer == "source"):
                found, at = write, i
        if found is None and self.variants:
            found, at = self._agreed(setting), 0
        if found is not None and self.barrier is not None and at < self.barrier and found.value.known:
            found = _unknown(found)
        return found

    def _agreed(self, setting: str) -> SettingValue | None:
        """The variants' write: the first variant's when all set the same known value."""
        last = []
        for writes in self.variants:
            found = None
            for write in writes:
                if write.setting == setting:
                    found = write
            last.append(found)
        present = [w for w in last if w is not None]
        if not present:
            return None
        first = present[0]
        if len(present) != len(last) or not all(_same(w.data, first.data) for w in present):
            return _unknown(first)
        return first

    def value(self, setting: str) -> Any:
        """The value in force: the last write, else Celery's default; UNKNOWN when not a literal
        or when it may be set in a source joblint could not read."""
        write = self.get(setting)
        if write is not None:
            return write.data
        return celery_settings.default(setting) if self.complete else UNKNOWN

    def unset(self, setting: str) -> bool:
        """True when the setting is certainly never set (so Celery's default is in force)."""
        return self.complete and self.get(setting) is None

    def add(self, path: str, write: SettingWrite, layer: str = "preconf", namespace: str | None = None) -> None:
        meaning = celery_settings.canonical(write.key, namespace)
        if meaning.setting is None:
            self.ignored.append(IgnoredKey(path, write, layer, namespace))
            return
        if write.via == "conf.setdefault" and any(
            w.setting == meaning.setting and w.layer == "preconf" for w in self.writes
        ):
            return  # setdefault writes only what Celery()/app.conf have not set
        self.writes.append(
            SettingValue(
                meaning.setting, write.key, meaning.spelling, write.value, path, write.span, write.via, layer, write
            )
        )

    def source_writes(self) -> list[SettingValue]:
        return [w for w in self.writes if w.layer == "source"]

    def add_variants(self, variants: list[_Source], namespace: str | None) -> None:
        """The config source is one of several settings modules (see the module docstring)."""
        seen: set[tuple[str, Span, str]] = set()
        ignored_seen: set[tuple[str, Span, str]] = set()
        for variant in variants:
            probe = SettingsModel(self.name, self.path, self.span, self.is_app, namespace)
            for path, write in variant.writes:
                probe.add(path, write, "source", namespace)
            self.variants.append(probe.writes)
            for value in probe.writes:
                if (value.path, value.span, value.key) not in seen:
                    seen.add((value.path, value.span, value.key))
                    self.writes.append(value)
            for ignored in probe.ignored:
                if (ignored.path, ignored.write.span, ignored.write.key) not in ignored_seen:
                    ignored_seen.add((ignored.path, ignored.write.span, ignored.write.key))
                    self.ignored.append(ignored)


def _unknown(write: SettingValue) -> SettingValue:
    return _replace(write, value=Value(UNKNOWN, write.value.span))


def _same(a: Any, b: Any) -> bool:
    if a is UNKNOWN or b is UNKNOWN:
        return False
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # noqa: BLE001 - odd literals
        return False


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

    @property
    def shared(self) -> bool:
        """Whether Celery adds the task to every app finalized in the process (`@shared_task`, and
        `@app.task` unless `shared=False`: app.base.Celery.task); False when `shared=` is not a literal."""
        option = self.task.option("shared")
        return option is None or option.data is True


@dataclass
class CeleryModel:
    """The Celery apps' merged settings, the project's tasks, and the app every app reference names."""

    models: list[SettingsModel]  # the apps' models, then config sources no app is tied to
    tasks: list[ProjectTask]
    app_names: dict[str, str] = field(default_factory=dict)  # any app ref -> the app model's name

    @property
    def apps(self) -> list[SettingsModel]:
        return [m for m in self.models if m.is_app]

    @property
    def worker_apps(self) -> list[SettingsModel]:
        """Apps a worker runs (see the module docstring): the ones "never set" worker settings matter for."""
        return [m for m in self.apps if m.worker]

    def models_for(self, task: ProjectTask) -> list[SettingsModel]:
        """The settings a task runs under: its app's, or every app's for shared tasks.

        An app imported under a name the project cannot resolve (a re-export, a src layout) is
        the project's only app when there is exactly one.
        """
        ref = task.task.app
        apps = self.apps
        if ref is None or ref == "celery.current_app":
            return apps
        name = self.app_names.get(ref)
        if name is None:
            return apps if len(apps) == 1 else []
        return [m for m in apps if m.name == name]

    def tasks_named(self, target: str) -> list[ProjectTask]:
        """Tasks a dispatch target (`add`, `tasks.add`) may refer to, by function name."""
        leaf = target.rsplit(".", 1)[-1]
        return [t for t in self.tasks if t.task.function == leaf]


# -- config sources ----------------------------------------------------------------------------


class _Index:
    """Modules and classes of the project by name."""

    def __init__(self, files: list[ModuleFacts]) -> None:
        self.files = files
        self.modules: dict[str, ModuleFacts] = {}
        self.paths = {f.path: f for f in files}
        for facts in files:
            if facts.module:
                self.modules.setdefault(facts.module, facts)

    def module(self, name: str) -> ModuleFacts | None:
        found = self.modules.get(name)
        if found is not None:
            return found
        # A module path from the project's import root when discovery saw a deeper package root
        # (or the reverse): match on a dotted suffix, only when unambiguous.
        matches = [f for m, f in self.modules.items() if m.endswith("." + name) or name.endswith("." + m)]
        return matches[0] if len(matches) == 1 else None

    def klass(self, qualified: str) -> tuple[ModuleFacts, ClassFacts] | None:
        module, _, name = qualified.rpartition(".")
        facts = self.module(module) if module else None
        if facts is None:
            return None
        return next(((facts, c) for c in facts.core.classes if c.qualname == name), None)

    def local_class(self, facts: ModuleFacts, name: str) -> ClassFacts | None:
        found = next((c for c in facts.core.classes if c.qualname == name), None)
        if found is None and name in facts.core.class_bases:
            # A class with no setting-like attribute: its bases only.
            found = ClassFacts(name, name, Span.point(1), facts.core.class_bases[name], (), ())
        return found

    def lookup_class(self, facts: ModuleFacts, name: str) -> tuple[ModuleFacts, ClassFacts] | None:
        """A class of the project a name in `facts` refers to (a local name, or qualified)."""
        local = self.local_class(facts, name) if "." not in name else None
        if local is not None:
            return facts, local
        if "." not in name:
            return None
        module, _, leaf = name.rpartition(".")
        found = self.module(module)
        cls = self.local_class(found, leaf) if found is not None else None
        return (found, cls) if found is not None and cls is not None else None

    def included(self, facts: ModuleFacts, pattern: str) -> list[ModuleFacts]:
        """The project files django-split-settings' `include(pattern)` runs: relative to the
        including module's directory, a glob pattern matched in sorted order."""
        import fnmatch
        import posixpath

        directory = posixpath.dirname(facts.path)
        wanted = posixpath.normpath(posixpath.join(directory, pattern))
        if not _is_glob(pattern):
            found = self.paths.get(wanted)
            return [found] if found is not None else []
        return [self.paths[p] for p in sorted(self.paths) if fnmatch.fnmatchcase(p, wanted)]

    def django_settings(self) -> list[ModuleFacts] | None:
        """The Django settings modules the worker may run with: the one DJANGO_SETTINGS_MODULE
        names in the project; else, when none is named, every production settings module (see
        `_settings_variants`). None when a named module is not in the tree, or none is found:
        joblint never guesses one by its name."""
        # The hint beside `config_from_object("django.conf:settings")` is the one the worker runs
        # with; others may belong to build or test entry points (`pretix._build_settings`).
        production = [f for f in self.files if not f.is_test]
        beside = {
            m for f in production if any(s.target in DJANGO_SETTINGS for s in f.celery.sources)
            for m in f.celery.django_settings
        }
        hinted = {m for f in production for m in f.celery.django_settings}
        for name in [*sorted(beside), *sorted(hinted - beside)]:
            found = self.module(name)
            if found is not None and not found.is_test:
                return [found]
        if beside or hinted:
            return None  # named, but not in the tree (or a test module): never guess
        return self._settings_variants() or None

    def _settings_variants(self) -> list[ModuleFacts]:
        """Production Django settings modules that no other one star-imports (`settings/dev.py`
        and `settings/prod.py`, not the `settings/base.py` both import)."""
        found = [f for f in self.files if not f.is_test and self._is_django_settings(f)]
        imported = {
            id(self.module(star)) for f in found for star in f.core.star_imports if self.module(star) is not None
        }
        return [f for f in found if id(f) not in imported]

    def _is_django_settings(self, facts: ModuleFacts, depth: int = 0) -> bool:
        """A module that defines Django settings (INSTALLED_APPS, DATABASES, ...), or extends one
        by a star import; a module named settings counts when it assigns CELERY names."""
        names = {a.name for a in facts.core.assignments}
        if names & DJANGO_MARKERS:
            return True
        stem = (facts.module or PurePosixPath(facts.path).stem).rsplit(".", 1)[-1]
        if "settings" in stem and any(n.startswith("CELERY") for n in names):
            return True
        if depth < 4:
            for star in facts.core.star_imports:
                imported = self.module(star)
                if imported is not None and imported is not facts and self._is_django_settings(imported, depth + 1):
                    return True
        return False


DJANGO_MARKERS = {"INSTALLED_APPS", "ROOT_URLCONF", "DATABASES", "MIDDLEWARE", "SECRET_KEY", "WSGI_APPLICATION"}




DJANGO_SETTINGS = ("django.conf:settings", "django.conf.settings")


@dataclass
class _Source:
    name: str
    path: str
    writes: list[tuple[str, SettingWrite]]  # (path, write), in order
    complete: bool = True  # False when a star import or a base class could not be read
    variants: list[_Source] = field(default_factory=list)  # several settings modules (see SettingsModel)
    # The exported classes, base classes and included files read into it: never checked on their own.
    parts: set[str] = field(default_factory=set)

    @property
    def django(self) -> bool:
        return any(w.key == "INSTALLED_APPS" for _, w in self.writes)


def _name_write(path: str, owner: str, assignment: Assignment, via: str) -> tuple[str, SettingWrite]:
    return (
        path,
        SettingWrite(
            assignment.name, assignment.value, assignment.span, owner, via, form="name", anchor=assignment.span,
            conditional=assignment.conditional,
        ),
    )


def _module_source(index: _Index, facts: ModuleFacts, seen: set[str] | None = None) -> _Source:
    """A module's top-level names, after those it star-imports (as Python evaluates them), with
    the names written at run time in their places: the attributes of a class it exports
    (`Prod.load_settings(__name__)`) and the files django-split-settings' `include()` runs in it."""
    seen = seen if seen is not None else set()
    seen.add(facts.path)
    writes: list[tuple[str, SettingWrite]] = []
    complete = not facts.core.dynamic_names  # globals().update(...), django-configurations
    parts: set[str] = set()
    for star in facts.core.star_imports:
        imported = index.module(star)
        if imported is None:
            complete = False  # `from company_defaults import *`, `from .local_settings import *`
        elif imported.path not in seen:
            inner = _module_source(index, imported, seen)
            writes += inner.writes
            complete = complete and inner.complete
            parts |= {inner.name, *inner.parts}  # `from .base import *`: base is read as part of this module
    owner = f"module:{facts.module or facts.path}"
    own = [_name_write(facts.path, owner, a, "module") for a in facts.core.assignments]
    inserted: dict[int, list[tuple[str, SettingWrite]]] = {}
    for export in facts.core.exports:
        found = index.lookup_class(facts, export.cls)
        if found is None:
            complete = False  # not a class of the project: its names are unknown
            continue
        inner = _class_source(index, *found)
        inserted.setdefault(export.index, []).extend(inner.writes)
        complete = complete and inner.complete
        parts |= {inner.name, *inner.parts}
    for include in facts.core.includes:
        files = index.included(facts, include.pattern)
        if not files and (include.optional or not _is_glob(include.pattern)):
            complete = False  # `optional("local_settings.py")` kept out of the repository, or not read
        for included in files:
            if included.path in seen:
                continue
            inner = _module_source(index, included, seen)
            inserted.setdefault(include.index, []).extend(inner.writes)
            complete = complete and inner.complete
            parts |= {inner.name, *inner.parts}
    for i in range(len(own) + 1):
        writes += inserted.get(i, [])
        if i < len(own):
            writes.append(own[i])
    return _Source(owner, facts.path, writes, complete, parts=parts)


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


# Names of a class's UPPERCASE methods that may be properties exporting a setting.
def _setting_method(name: str) -> bool:
    return name.startswith(("CELERY", "BROKER")) or celery_settings.canonical(name).setting is not None


def _class_source(index: _Index, facts: ModuleFacts, cls: ClassFacts, depth: int = 0) -> _Source:
    """A config class's attributes, after those of its project base classes."""
    writes: list[tuple[str, SettingWrite]] = []
    complete = not any(_setting_method(m) for m in cls.methods)  # a property computes it
    parts: set[str] = set()
    for base in cls.bases if depth < 8 else ():
        found = index.lookup_class(facts, base)
        if found is not None and found[1] is not cls:
            inner = _class_source(index, found[0], found[1], depth + 1)
            writes += inner.writes
            complete = complete and inner.complete
            parts |= {inner.name, *inner.parts}
        elif found is None and base not in ("object", ""):
            complete = False  # a base from an installed package: its attributes are unknown
    # An attribute of the class replaces its bases' one: theirs is never in force for it.
    own = {a.name for a in cls.attributes}
    writes = [w for w in writes if w[1].key not in own]
    owner = f"class:{facts.module or facts.path}.{cls.qualname}"
    writes += [_name_write(facts.path, owner, a, "class") for a in cls.attributes]
    return _Source(owner, facts.path, writes, complete, parts=parts)


def _dict_source(facts: ModuleFacts, assignment: Assignment) -> _Source | None:
    if not assignment.value.entries or assignment.name in facts.celery.open_dicts:
        return None
    owner = f"dict:{facts.module or facts.path}.{assignment.name}"
    return _Source(owner, facts.path, _dict_writes(facts.path, assignment.value, owner, "dict"))


def _dict_writes(path: str, value: Value, owner: str, via: str) -> list[tuple[str, SettingWrite]]:
    """The string keys of a dict literal (`{"k": v}`) or `dict(k=v)` as setting writes."""
    # `dict(k=v)` keys are keywords; a dict literal's are strings, also when joblint has no source
    # token for one (`"CELERY_" "ACKS_LATE"`): then a rename is not offered (no raw to requote).
    form = "keyword" if value.call == "dict" else "string"
    return [
        (path, SettingWrite(k.data, v, k.span, owner, via, form=form, raw=k.raw, anchor=v.span))
        for k, v in value.entries
        if isinstance(k.data, str)
    ]


def _module_dict(index: _Index, origin: ModuleFacts, target: str) -> tuple[ModuleFacts, Assignment] | None:
    """A module-level literal dict (`{...}` or `dict(...)`, no `**` in it) that `target` names:
    a local name, or `module.NAME` of a project module."""
    if "." in target:
        module_name, _, name = target.rpartition(".")
        facts = index.module(module_name)
    else:
        facts, name = origin, target
    if facts is None or name in facts.celery.open_dicts:
        return None
    assigned = next((a for a in reversed(facts.core.assignments) if a.name == name), None)
    if assigned is None:
        return None
    value = assigned.value
    if not (value.entries or value.call == "dict" or isinstance(value.data, dict)):
        return None
    if any(not isinstance(k.data, str) for k, _ in value.entries):
        return None
    return facts, assigned


def resolve_spread(index: _Index, origin: ModuleFacts, spread: Spread) -> list[tuple[str, SettingWrite]] | None:
    """The settings a `**spread` carries, or None when joblint cannot read them."""
    if spread.target is None:
        return None
    found = _module_dict(index, origin, spread.target)
    if found is None:
        return None
    facts, assigned = found
    writes = []
    for path, write in _dict_writes(facts.path, assigned.value, spread.owner, spread.via):
        if spread.via == "Celery()":
            if write.key in ("namespace", "config_source", "task_cls", "loader", "changes"):
                return None  # the app's construction itself depends on it
            if write.key in APP_PARAMETERS:
                continue
            write = _replace(write, key=APP_KEYWORD_SETTINGS.get(write.key, write.key))
        writes.append((path, write))
    return writes


def resolve_source(index: _Index, source: ConfigSource, origin: ModuleFacts) -> _Source | None:
    """What a config_from_object target names, or None when joblint cannot read it."""
    if source.inline is not None:
        owner = f"dict:{origin.module or origin.path}:{source.span.line}"
        return _Source(owner, origin.path, _dict_writes(origin.path, source.inline, owner, "dict"))
    target = source.target
    if target is None:
        return None
    if target in DJANGO_SETTINGS:
        modules = index.django_settings()
        if modules is None:
            return None
        if len(modules) == 1:
            return _module_source(index, modules[0])
        variants = [_module_source(index, m) for m in modules]
        return _Source(
            "django-settings:" + ",".join(v.name for v in variants),
            modules[0].path,
            [],
            all(v.complete for v in variants),
            variants,
        )
    if source.is_string and ":" in target:
        module_part, _, attr = target.partition(":")
        found = index.klass(f"{module_part}.{attr}")
        return _class_source(index, *found) if found is not None else None
    module = index.module(target)
    if module is not None:
        return _module_source(index, module)
    found = index.klass(target)
    if found is not None:
        return _class_source(index, *found)
    if not source.is_string and "." not in target:
        local = index.local_class(origin, target)
        if local is not None:
            return _class_source(index, origin, local)
        assigned = next((a for a in reversed(origin.core.assignments) if a.name == target), None)
        if assigned is not None:
            return _dict_source(origin, assigned)
    if not source.is_string:
        named = _module_dict(index, origin, target)  # `from proj.conf import CONFIG`
        if named is not None:
            return _dict_source(*named)
    return None


# -- building the project ----------------------------------------------------------------------

# Settings whose lowercase name is specific enough to mark a module as Celery configuration.
_GENERIC_NAMES = {"timezone", "include", "imports", "enable_utc"}


def looks_like_config(names: list[str]) -> str | None | Literal[False]:
    """Whether a module's or class's names make it a Celery config source, and its namespace:
    False when it is not one, None for a plain source, "CELERY" for Django-style names."""
    namespaced = [
        k for k in names
        if k.startswith("CELERY_")
        and celery_settings.canonical(k, "CELERY").spelling == "namespaced"
        and celery_settings.canonical(k).spelling != "old"
    ]
    if namespaced:
        return "CELERY"
    for key in names:
        meaning = celery_settings.canonical(key)
        if meaning.spelling == "old" or (meaning.spelling == "new" and key not in _GENERIC_NAMES):
            return None
    return False


def _app_classes(files: list[ModuleFacts]) -> dict[str, bool]:
    """The project's Celery subclasses (through project bases too), and whether each may configure
    its apps itself (an `__init__`, `on_configure`, ... of it or of a project base)."""
    declared = {c.qualified: c for f in files for c in f.celery.app_classes}
    found: dict[str, bool] = {}
    changed = True
    while changed:
        changed = False
        for name, cls in declared.items():
            if name in found:
                continue
            if any(b in CELERY_CLASSES or b in found for b in cls.bases):
                found[name] = cls.configures or any(found.get(b, False) for b in cls.bases)
                changed = True
    return found


def _app_models(
    files: list[ModuleFacts], index: _Index
) -> tuple[list[SettingsModel], dict[str, SettingsModel], set[str]]:
    """The app models, each app ref's model, and the refs of objects that are no Celery app after
    all (built from a class named like one that the project does not derive from Celery)."""
    models: list[SettingsModel] = []
    by_ref: dict[str, SettingsModel] = {}
    by_qualified: dict[str, list[SettingsModel]] = {}
    classes = _app_classes(files)
    not_apps: set[str] = set()
    for facts in files:
        for app in facts.celery.apps:
            if app.cls is not None and app.cls not in classes:
                not_apps.add(app.ref)
                continue
            model = SettingsModel(app.ref, facts.path, app.span, True, app.namespace, app=app)
            if app.cls is not None and classes[app.cls]:
                model.complete = False  # the subclass may configure the app itself
            models.append(model)
            by_ref[app.ref] = model
            if app.qualified:
                by_qualified.setdefault(app.qualified, []).append(model)
    # An imported app resolves when exactly one app in the project has that qualified name.
    by_ref.update({q: ms[0] for q, ms in by_qualified.items() if len(ms) == 1 and q not in by_ref})
    return models, by_ref, not_apps


def _targets(ref: str, by_ref: dict[str, SettingsModel], apps: list[SettingsModel]) -> list[SettingsModel]:
    if ref == "celery.current_app":
        return apps
    model = by_ref.get(ref)
    if model is not None:
        return [model]
    return apps if len(apps) == 1 and "::" not in ref else []


def _opaque_targets(
    owner: str, facts: ModuleFacts, by_ref: dict[str, SettingsModel], apps: list[SettingsModel]
) -> list[SettingsModel]:
    """Apps that settings joblint cannot read may belong to. `.conf` of an app it cannot name
    (`def configure(app): app.conf.update(...)`) is the only app's, or one built in that file:
    in a repository with many apps, one helper must not silence the rules for all of them."""
    if owner != UNRESOLVED_APP:
        return _targets(owner, by_ref, apps)
    if len(apps) == 1:
        return apps
    return [m for m in apps if m.path == facts.path]


def _merge_apps(
    files: list[ModuleFacts], index: _Index, by_ref: dict[str, SettingsModel], apps: list[SettingsModel]
) -> set[str]:
    """Fill each app model: its config source, then its preconf writes. Returns the sources used."""
    used: set[str] = set()
    last_source: dict[str, tuple[ConfigSource, ModuleFacts]] = {}
    for facts in files:
        for source in facts.celery.sources:
            for model in _targets(source.owner, by_ref, apps):
                last_source[model.name] = (source, facts)
    for model in apps:
        if model.name in last_source:
            source, origin = last_source[model.name]
            model.namespace = source.namespace or model.namespace
            resolved = resolve_source(index, source, origin)
            if resolved is None:
                model.complete = False
            elif resolved.variants:
                used.update(v.name for v in resolved.variants)
                used.update(p for v in resolved.variants for p in v.parts)
                model.source_name = resolved.name
                model.django = any(v.django for v in resolved.variants)
                model.complete = model.complete and resolved.complete
                model.add_variants(resolved.variants, model.namespace)
            else:
                used.add(resolved.name)
                used.update(resolved.parts)
                model.source_name = resolved.name
                model.django = resolved.django
                model.complete = model.complete and resolved.complete
                for path, write in resolved.writes:
                    model.add(path, write, "source", model.namespace)
    # Preconf: the app's own file first, then the others in path order, each in source order.
    ordered = sorted(files, key=lambda f: f.path)
    for facts in files:
        for owner in facts.celery.opaque:
            for model in _opaque_targets(owner, facts, by_ref, apps):
                model.complete = False
    for model in apps:
        home = [f for f in ordered if f.path == model.path]
        for facts in home + [f for f in ordered if f.path != model.path]:
            spreads: dict[int, list[Spread]] = {}
            for spread in facts.celery.spreads:
                spreads.setdefault(spread.index, []).append(spread)
            for i in range(len(facts.celery.settings) + 1):
                for spread in spreads.get(i, ()):
                    if model in _opaque_targets(spread.owner, facts, by_ref, apps):
                        _merge_spread(model, index, facts, spread)
                if i == len(facts.celery.settings):
                    break
                write = facts.celery.settings[i]
                if model in _targets(write.owner, by_ref, apps):
                    # Celery looks keys up with the app's namespace in every layer.
                    model.add(facts.path, write, "preconf", model.namespace)
    return used


def _merge_spread(model: SettingsModel, index: _Index, facts: ModuleFacts, spread: Spread) -> None:
    """A `**spread` in its place among the app's writes: its dict's keys, or, when joblint cannot
    read it, a barrier: the model is incomplete and what came before may be overridden."""
    writes = resolve_spread(index, facts, spread)
    if writes is None:
        model.complete = False
        model.barrier = len(model.writes)
        return
    for path, write in writes:
        model.add(path, write, "preconf", model.namespace)


CONFIG_NAME = re.compile(r"celery|config|settings|conf", re.IGNORECASE)


def evident(names: list[str], namespace: str | None, title: str) -> bool:
    """Enough evidence that an unlinked module or class is Celery configuration and not code that
    happens to use a setting's name (`broker_host = Column(...)` in a model): Django-style or old
    CELERY names, a name that says so, or several new setting names."""
    if namespace or any(n.startswith("CELERY") for n in names):
        return True
    known = sum(1 for n in names if celery_settings.canonical(n).setting is not None)
    return known >= 1 and bool(CONFIG_NAME.search(title)) or known >= 3


def holds_configuration(facts: ModuleFacts) -> bool:
    """Whether the module, or a class of it, may be checked as configuration of its own
    (`_standalone_models`), whatever namespace Django's settings turn out to use: what it
    star-imports or takes base classes from is then part of it."""
    names = [a.name for a in facts.core.assignments]
    namespace = looks_like_config(names)
    title = facts.path.rsplit("/", 1)[-1]
    if namespace is not False and ("INSTALLED_APPS" in names or evident(names, namespace, title)):
        return True
    for cls in facts.core.classes:
        names = [a.name for a in cls.attributes]
        namespace = looks_like_config(names)
        if namespace is not False and evident(names, namespace, cls.name):
            return True
    return False


def _standalone_models(files: list[ModuleFacts], index: _Index, used: set[str]) -> list[SettingsModel]:
    """Config modules and classes no app is tied to, checked on their own. A class is not, when
    another class of the project derives from it (the subclass may override what it sets), when
    a module exports it or includes its file (it is part of that module), or when it is no plain
    config class (`_config_class`)."""
    models = []
    # Django settings that no app could be tied to are still read the way the project's apps
    # read Django settings.
    django_namespace = next(
        (s.namespace for f in files for s in f.celery.sources if s.target in DJANGO_SETTINGS and s.namespace), None
    )
    # The namespaces the project's apps read their settings with: a namespace the names of an
    # unlinked source suggest is only a guess unless one of them is it.
    declared = {s.namespace.upper() for f in files for s in f.celery.sources if s.namespace} | {
        a.namespace.upper() for f in files for a in f.celery.apps if a.namespace
    }
    skipped = set(used) | _project_bases(files, index)
    module_sources = {}
    for facts in files:
        if facts.core.exports or facts.core.includes:
            source = _module_source(index, facts)
            module_sources[facts.path] = source
            skipped |= source.parts
    for facts in files:
        sources: list[tuple[_Source, str | None]] = []
        names = [a.name for a in facts.core.assignments]
        module_source = module_sources.get(facts.path)
        if module_source is not None:
            names = [w.key for _, w in module_source.writes]
        namespace = looks_like_config(names)
        if namespace is not False and "INSTALLED_APPS" in names and django_namespace:
            namespace = django_namespace
        if namespace is not False and evident(names, namespace, facts.path.rsplit("/", 1)[-1]):
            sources.append((module_source or _module_source(index, facts), namespace or None))
        for cls in facts.core.classes:
            names = [a.name for a in cls.attributes]
            cls_namespace = looks_like_config(names)
            if (
                cls_namespace is not False
                and evident(names, cls_namespace, cls.name)
                and _config_class(index, facts, cls)
            ):
                sources.append((_class_source(index, facts, cls), cls_namespace or None))
        for source, ns in sources:
            if source.name in skipped:
                continue
            model = SettingsModel(source.name, facts.path, Span.point(1), False, ns, django=source.django)
            model.namespace_guessed = ns is not None and ns.upper() not in declared
            for path, write in source.writes:
                model.add(path, write, "source", ns)
            models.append(model)
    return models


def _project_bases(files: list[ModuleFacts], index: _Index) -> set[str]:
    """The config sources (`class:module.Class`) of classes another class of the project derives
    from, checked through it; test settings classes do not count (the base is the production one)."""
    found: set[str] = set()
    for facts in files:
        if facts.is_test:
            continue
        classes = [*facts.core.classes, *(index.local_class(facts, n) for n in facts.core.class_bases)]
        for cls in classes:
            if cls is None or "Test" in cls.name:
                continue
            for base in cls.bases:
                hit = index.lookup_class(facts, base)
                if hit is not None and hit[1] is not cls:
                    found.add(f"class:{hit[0].module or hit[0].path}.{hit[1].qualname}")
    return found


def _constructed(value: Value) -> bool:
    """A value built by calling a class (`serializers.IntegerField(...)`, `Column(...)`)."""
    leaf = value.call.rsplit(".", 1)[-1]
    return leaf[:1].isupper()


def _config_class(index: _Index, facts: ModuleFacts, cls: ClassFacts, depth: int = 0) -> bool:
    """A plain class holding configuration, not a class of some library whose attributes only
    share names with settings (a DRF serializer's `task_time_limit = IntegerField()`): its bases
    are `object` or such classes of the project, and most of its values are not objects built
    from a class (fields, columns)."""
    if cls.attributes and sum(_constructed(a.value) for a in cls.attributes) * 2 > len(cls.attributes):
        return False
    for base in cls.bases:
        if base in ("object", ""):
            continue
        found = index.lookup_class(facts, base)
        if found is None or found[1] is cls or depth >= 8 or not _config_class(index, *found, depth + 1):
            return False
    return True


def build(files: list[ModuleFacts]) -> CeleryModel:
    """The Celery model of the project's files (sorted by path)."""
    index = _Index(files)
    models, by_ref, not_apps = _app_models(files, index)
    used = _merge_apps(files, index, by_ref, list(models))
    models += _standalone_models(files, index, used)
    # Decorator options spread from a literal dict (`**RETRY_OPTIONS`) join the task's own.
    spreads = literal_dicts.Resolver(files)
    tasks = [ProjectTask(spreads.task(t, f), f.path, f.module) for f in files for t in f.tasks.tasks]
    tasks = [t for t in tasks if t.task.app not in not_apps]  # `@x.task` of an object that is no app
    model = CeleryModel(models, tasks, {ref: m.name for ref, m in by_ref.items()})
    _mark_workers(model, files, by_ref)
    return model


# Settings only a worker reads, besides every `worker_*` one: setting them says a worker runs the app.
WORKER_SETTINGS = {
    "task_acks_late", "task_reject_on_worker_lost", "task_time_limit", "task_soft_time_limit",
    "task_acks_on_failure_or_timeout", "imports", "include",
}


def _mark_workers(model: CeleryModel, files: list[ModuleFacts], by_ref: dict[str, SettingsModel]) -> None:
    """Which apps a worker runs (`SettingsModel.worker`, see the module docstring)."""
    apps = model.apps
    tests = {f.path for f in files if f.is_test}  # test settings: never what a production worker runs
    production = [m for m in apps if m.path not in tests]
    launches: list[tuple[SettingsModel, str]] = []
    for facts in files:
        for started in facts.celery.runs_worker:
            launches += [(app, "starts a worker") for app in _targets(started, by_ref, apps)]
        for name in facts.celery.launched:
            launches += [(app, f"-A {name} in {facts.path}") for app in _launched(name, apps)]
    for app, _ in launches:
        app.launched = True
    # When the project shows which apps its workers run, a shared task (`@app.task` is shared by
    # default) runs in those: the app that decorates it is not a worker app for that alone.
    launched = bool(launches)
    for task in model.tasks:
        ref = task.task.app
        if ref is not None and ref != "celery.current_app":
            for app in model.models_for(task):
                if not launched or app.launched or not task.shared:
                    _worker(app, f"task {task.task.function}")
            continue
        # A shared task: the only app's, else the app's whose directory holds it.
        for app in production:
            home = app.path.rsplit("/", 1)[0] + "/" if "/" in app.path else ""
            if (len(production) == 1 or task.path.startswith(home)) and (not launched or app.launched):
                _worker(app, f"task {task.task.function}")
    for facts in files:
        for ref in facts.celery.autodiscover:
            for app in _targets(ref, by_ref, apps):
                _worker(app, "autodiscover_tasks()")
    for app, reason in launches:
        _worker(app, reason)
    for app in apps:
        if app.app is not None and app.app.includes:
            _worker(app, "include=")
        written = next(
            (w for w in app.writes if w.setting.startswith("worker_") or w.setting in WORKER_SETTINGS), None
        )
        if written is not None:
            _worker(app, f"sets {written.setting}")
        # A misspelt worker setting says as much (and fixing its name must not change the answer).
        prefix = f"{app.namespace.lower()}_" if app.namespace else ""
        for ignored in app.ignored:
            key = ignored.write.key.lower()
            key = key[len(prefix):] if prefix and key.startswith(prefix) else key
            if key.startswith(("worker_", "celeryd_")):
                _worker(app, f"sets {ignored.write.key}")


def _worker(app: SettingsModel, reason: str) -> None:
    if not app.worker:
        app.worker, app.worker_reason = True, reason


def _launched(name: str, apps: list[SettingsModel]) -> list[SettingsModel]:
    """The apps `celery -A name worker` runs (celery.app.utils.find_app): `module:attr` or
    `module.attr`, or in module `name` (or `name.celery`) the `app`/`celery` attribute or its only app."""
    name = name.replace(":", ".")
    exact = {name, f"{name}.app", f"{name}.celery", f"{name}.celery.app", f"{name}.celery.celery"}

    def matches(qualified: str, candidates: set[str]) -> bool:
        return any(qualified == c or qualified.endswith("." + c) or c.endswith("." + qualified) for c in candidates)

    found = [a for a in apps if a.app is not None and a.app.qualified and matches(a.app.qualified, exact)]
    if found:
        return found
    modules = {name, f"{name}.celery"}
    return [
        a for a in apps
        if a.app is not None and a.app.qualified and a.app.module_level
        and matches(a.app.qualified.rpartition(".")[0], modules)
    ]


def known_number(value: Value | SettingValue | None) -> float | None:
    if value is None:
        return None
    v = value.value if isinstance(value, SettingValue) else value
    if v.data is UNKNOWN:
        return None
    return v.number()
