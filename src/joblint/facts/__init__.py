"""Per-file facts: one parse, one traversal, plain data out.

`extract` runs every collector over a parsed module in a single traversal. The resulting
`ModuleFacts` keeps libcst nodes only while file rules run in the same process; `stripped()`
drops them before the facts cross a process boundary or reach the project analysis.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import libcst as cst

from .arq import ArqCollector, ArqFacts
from .celery import CeleryCollector, CeleryFacts
from .core import CoreCollector, CoreFacts
from .handlers import HandlerCollector, HandlerFacts
from .names import ImportMap
from .results import ResultCollector, ResultFacts
from .tasks import TaskCollector, TaskFacts
from .temporal import TemporalCollector, TemporalFacts
from .traverse import walk
from .walker import WalkContext, Walker


@dataclass
class ModuleFacts:
    path: str
    module: str | None  # dotted module name when the file sits in a package tree
    is_package: bool
    is_test: bool = False  # test code (source.is_test_path); the engine sets it for the whole run
    imports: dict[str, str] = field(default_factory=dict)
    core: CoreFacts = field(default_factory=CoreFacts)
    celery: CeleryFacts = field(default_factory=CeleryFacts)
    tasks: TaskFacts = field(default_factory=TaskFacts)
    arq: ArqFacts = field(default_factory=ArqFacts)
    temporal: TemporalFacts = field(default_factory=TemporalFacts)
    results: ResultFacts = field(default_factory=ResultFacts)
    handlers: HandlerFacts = field(default_factory=HandlerFacts)

    def stripped(self) -> ModuleFacts:
        """A copy without libcst nodes: plain data for the project stage and the cache."""
        copy = dataclasses.replace(self)
        for group_name in GROUPS:
            group = dataclasses.replace(getattr(self, group_name))
            for f in dataclasses.fields(group):
                items = getattr(group, f.name)
                if isinstance(items, list):
                    setattr(group, f.name, [_without_node(x) for x in items])
            setattr(copy, group_name, group)
        return copy


# The fact groups of ModuleFacts, each filled by one collector.
GROUPS = ("core", "celery", "tasks", "arq", "temporal", "results", "handlers")


def _without_node(item: object) -> object:
    if dataclasses.is_dataclass(item) and getattr(item, "node", None) is not None:
        return dataclasses.replace(item, node=None)  # type: ignore[type-var]
    return item


def extract(
    module: cst.Module, path: str, module_name: str | None, is_package: bool, text: str | None = None
) -> ModuleFacts:
    """The module's facts; `text`, the source `module` was parsed from, makes positions cheaper."""
    imports = ImportMap(module_name, is_package)
    ctx = WalkContext(module, imports, path)
    core = CoreCollector(ctx)
    celery = CeleryCollector(ctx)
    tasks = TaskCollector(ctx, celery)
    results = ResultCollector(ctx)
    handlers = HandlerCollector(ctx)
    arq = ArqCollector(ctx)
    temporal = TemporalCollector(ctx)
    walk(module, Walker(ctx, [core, celery, tasks, arq, temporal, results, handlers]))
    ctx.resolve_spans(text)
    return ModuleFacts(
        path=path,
        module=module_name,
        is_package=is_package,
        imports=dict(imports.aliases),
        core=core.facts,
        celery=celery.facts,
        tasks=tasks.facts,
        arq=arq.facts,
        temporal=temporal.facts,
        results=results.facts,
        handlers=handlers.facts,
    )
