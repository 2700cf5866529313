"""Module-level literal dicts across the project, and the keys a `**mapping` argument holds.

`@shared_task(autoretry_for=(RequestException,), **RETRY_OPTIONS)` takes options from a dict that
another module defines once (`RETRY_OPTIONS = dict(max_retries=5, retry_backoff=True)`). The
`Resolver` follows a spread to such a dict: written in the same module or imported from a project
module (`from .conf import RETRY_OPTIONS`, `from app import conf; **conf.RETRY`, re-exported by a
package), through `{**OTHER, "k": v}`, `dict(OTHER, k=v)` and `A = B`, and through a settings
lookup whose default is a literal dict (`get_setting("X", dict(...))`, `getattr(settings, "X", {...})`:
the default is taken as the value). Anything else, and a name bound more than once at module level,
is unresolved: the task's options that are not written out are then unknown (`TaskDef.option`).

It reads facts only (facts/tasks.py: `LiteralDict`, `Spread`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..facts import ModuleFacts
from ..facts.tasks import DictEntry, LiteralDict, Spread, TaskDef
from ..facts.values import Value
from ..findings import Span

MAX_DEPTH = 10  # spreads of spreads, and re-exports, followed at most this deep


@dataclass(frozen=True)
class Resolved:
    """The keys a mapping is known to hold, with each key's value, option names and origin."""

    options: dict[str, Value]
    names: dict[str, tuple[str, ...]]
    origin: dict[str, str]  # key -> `path:line` of the dict that sets it


class Resolver:
    def __init__(self, files: list[ModuleFacts]) -> None:
        self.modules: dict[str, ModuleFacts] = {}
        for facts in files:
            if facts.module:
                self.modules.setdefault(facts.module, facts)
        self.dicts: dict[tuple[str, str], LiteralDict] = {
            (facts.path, found.name): found for facts in files for found in facts.tasks.dicts
        }
        self._cache: dict[tuple[str, str], Resolved | None] = {}

    def module(self, name: str) -> ModuleFacts | None:
        """A project module by dotted name, or by an unambiguous dotted suffix either way (as the
        Celery model finds configuration modules)."""
        found = self.modules.get(name)
        if found is not None:
            return found
        matches = [f for m, f in self.modules.items() if m.endswith("." + name) or name.endswith("." + m)]
        return matches[0] if len(matches) == 1 else None

    # -- lookups ---------------------------------------------------------------------------------
    def _find(self, spread: Spread, facts: ModuleFacts, depth: int) -> tuple[ModuleFacts, LiteralDict] | None:
        if spread.name is None or depth > MAX_DEPTH:
            return None
        if spread.imported:
            return self._qualified(spread.name, depth)
        if "." in spread.name:
            return None  # `self.options`, `Config.OPTIONS`: not a module-level name
        local = self.dicts.get((facts.path, spread.name))
        return (facts, local) if local is not None else None

    def _qualified(self, qualified: str, depth: int) -> tuple[ModuleFacts, LiteralDict] | None:
        """`proj.conf.RETRY`: the dict RETRY of module proj.conf, also when proj.conf imports it
        from another project module."""
        module, _, name = qualified.rpartition(".")
        facts = self.module(module) if module else None
        if facts is None or depth > MAX_DEPTH:
            return None
        found = self.dicts.get((facts.path, name))
        if found is not None:
            return facts, found
        again = facts.imports.get(name)  # a re-export: `from .defaults import RETRY`
        return self._qualified(again, depth + 1) if again and again != qualified else None

    # -- resolution ------------------------------------------------------------------------------
    def resolve(self, spread: Spread, facts: ModuleFacts, depth: int = 0) -> Resolved | None:
        """The keys `**spread` holds, written in `facts`' module; None when they are not known."""
        found = self._find(spread, facts, depth)
        if found is None:
            return None
        return self._dict(*found, depth)

    def _dict(self, facts: ModuleFacts, found: LiteralDict, depth: int) -> Resolved | None:
        key = (facts.path, found.name)
        if key in self._cache:
            return self._cache[key]
        self._cache[key] = None  # a cycle (`A = {**B}`, `B = {**A}`) resolves to nothing
        options: dict[str, Value] = {}
        names: dict[str, tuple[str, ...]] = {}
        origin: dict[str, str] = {}
        here = f"{facts.path}:{found.span.line}"
        resolved: Resolved | None = Resolved(options, names, origin)
        for part in found.parts:
            if isinstance(part, DictEntry):
                _set(options, names, origin, part.key, part.value, part.names, here)
                continue
            inner = self.resolve(part, facts, depth + 1)
            if inner is None:
                resolved = None
                break
            for name, value in inner.options.items():
                _set(options, names, origin, name, value, inner.names.get(name, ()), inner.origin[name])
        self._cache[key] = resolved
        return resolved

    def task(self, task: TaskDef, facts: ModuleFacts) -> TaskDef:
        """The task with the keys of its resolved spreads among its options (each value placed at
        its `**NAME` argument, so that findings point at the task), the spreads marked resolved.
        Keywords written out win (both at once is a TypeError when the decorator runs)."""
        if not task.spreads:
            return task
        options: dict[str, Value] = {}
        names: dict[str, tuple[str, ...]] = {}
        via: dict[str, str] = {}
        spreads: list[Spread] = []
        for spread in task.spreads:
            found = self.resolve(spread, facts)
            if found is None:
                spreads.append(spread)
                continue
            spreads.append(dataclasses.replace(spread, resolved=True))
            at = spread.span or task.decorator_span
            for name, value in found.options.items():
                _set(options, names, via, name, _moved(value, at), found.names.get(name, ()),
                     f"{spread.shown} at {found.origin[name]}")
        for name in task.options:
            names.pop(name, None)
            via.pop(name, None)
        options.update(task.options)
        names.update(task.names)
        return dataclasses.replace(task, options=options, names=names, via=via, spreads=tuple(spreads))


def spread_modules(files: list[ModuleFacts]) -> set[str]:
    """The modules that `**mapping`s of the analysed files may be defined in, for the pre-filter's
    second look (a `conf.py` of option dicts names no task): the modules an imported spread names,
    and, when such a module is analysed and imports the name from elsewhere (a package re-exporting
    it), that module too. Each round of the second look follows one more step."""
    modules = {facts.module: facts for facts in files if facts.module}
    found: set[str] = set()
    for facts in files:
        for name in facts.tasks.spread_names():
            found.update(_prefixes(name))
            module, _, leaf = name.rpartition(".")
            holder = modules.get(module)
            again = holder.imports.get(leaf) if holder is not None else None
            if again:
                found.update(_prefixes(again))
    return found


def _prefixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _set(
    options: dict[str, Value], names: dict[str, tuple[str, ...]], origin: dict[str, str],
    key: str, value: Value, found: tuple[str, ...], where: str,
) -> None:
    options[key] = value
    origin[key] = where
    if found:
        names[key] = found
    else:
        names.pop(key, None)


def _moved(value: Value, span: Span) -> Value:
    """The value with every span (its elements' too) at `span`: a value from another module must
    not point into the task's file at its own line and column."""
    return dataclasses.replace(
        value,
        span=span,
        items=tuple(_moved(item, span) for item in value.items),
        entries=tuple((_moved(k, span), _moved(v, span)) for k, v in value.entries),
        args=tuple((k, _moved(v, span)) for k, v in value.args),
    )
