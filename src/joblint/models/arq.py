"""ARQ's project model: the WorkerSettings, the jobs they register, the job functions, every enqueue.

ARQ registers a job under a name (see facts/arq.py): `name=` or the import string when the code
says it, else the function's name, `cron:<name>` for a cron job. A job whose entry names a
variable (a `Function` or `CronJob` built elsewhere) or a WorkerSettings with entries joblint
cannot read makes the set of registered names unknowable: `registered` is then None.

Built once from the facts of every file, in path order; plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ..facts import ModuleFacts
from ..facts.arq import EnqueueCall, JobEntry, ModuleFunction, WorkerSettingsDef


@dataclass(frozen=True)
class ArqFunction:
    """A module-level function: a job candidate."""

    path: str
    function: ModuleFunction
    imports_arq: bool  # its module imports arq
    listed: bool  # a WorkerSettings lists it in `functions` or `cron_jobs`

    @property
    def likely_job(self) -> bool:
        """Listed by a WorkerSettings, or taking `ctx` in a module that imports arq."""
        return self.listed or (self.imports_arq and self.function.first_param == "ctx")


@dataclass(frozen=True)
class ArqJob:
    """One entry of a WorkerSettings' `functions` or `cron_jobs`."""

    path: str
    settings: str  # the WorkerSettings' name
    entry: JobEntry
    function: ArqFunction | None  # the project function `entry.ref` names, when there is one
    variable: bool  # `entry.ref` names a module-level variable: a Function/CronJob built elsewhere

    @property
    def name(self) -> str | None:
        """The name ARQ registers the job under; None when it is not in sight."""
        if self.entry.name is not None:
            return self.entry.name
        if self.entry.ref is None or self.variable:
            return None
        return self.function.function.name if self.function is not None else self.entry.ref.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class ArqWorkerSettings:
    path: str
    settings: WorkerSettingsDef
    jobs: tuple[ArqJob, ...]

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def complete(self) -> bool:
        return self.settings.complete


@dataclass(frozen=True)
class ArqEnqueue:
    """`enqueue_job("name", ...)` with a literal name."""

    path: str
    call: EnqueueCall

    @property
    def name(self) -> str:
        return self.call.name


@dataclass
class ArqModel:
    worker_settings: list[ArqWorkerSettings] = field(default_factory=list)
    functions: list[ArqFunction] = field(default_factory=list)  # every module-level function, in file order
    enqueues: list[ArqEnqueue] = field(default_factory=list)
    # Every job name the WorkerSettings register; None when one of them cannot be known.
    registered: frozenset[str] | None = frozenset()

    @property
    def jobs(self) -> list[ArqJob]:
        return [job for settings in self.worker_settings for job in settings.jobs]

    def function(self, target: str) -> ArqFunction | None:
        """The function `module.name` names (the last file's, should two files share a module name)."""
        return self._by_target.get(target)

    @cached_property
    def _by_target(self) -> dict[str, ArqFunction]:
        return {fn.function.target: fn for fn in self.functions}


def build(files: list[ModuleFacts]) -> ArqModel:
    """The ARQ model of the project's files (sorted by path)."""
    listed = {entry.ref for f in files for s in f.arq.settings for entry in s.entries if entry.ref}
    functions = [
        ArqFunction(f.path, fn, f.arq.imports_arq, fn.target in listed) for f in files for fn in f.arq.functions
    ]
    by_target = {fn.function.target: fn for fn in functions}
    variables = {f"{f.module or f.path}.{a.name}" for f in files for a in f.core.assignments}
    worker_settings = [
        ArqWorkerSettings(
            f.path,
            s,
            tuple(
                ArqJob(f.path, s.name, e, by_target.get(e.ref or ""), e.ref is not None and e.ref in variables)
                for e in s.entries
            ),
        )
        for f in files
        for s in f.arq.settings
    ]
    enqueues = [ArqEnqueue(f.path, call) for f in files for call in f.arq.enqueues]
    return ArqModel(worker_settings, functions, enqueues, _registered(worker_settings))


def _registered(worker_settings: list[ArqWorkerSettings]) -> frozenset[str] | None:
    names: set[str] = set()
    for settings in worker_settings:
        if not settings.complete:
            return None
        for job in settings.jobs:
            name = job.name
            if name is None:
                return None
            names.add(name)
    return frozenset(names)
