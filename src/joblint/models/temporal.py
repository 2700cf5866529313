"""Temporal's project model: workflow and activity definitions, every place an activity is scheduled
or a workflow started, what workflow code calls and raises, and what workers let workflows fail with.

Each item keeps the file it comes from. Lookups by reference (`module.func`) take the last file's
definition, should two files share a module name, as a dict built over the files in path order does.

Built once from the facts of every file, in path order; plain data. Which workflows and activities a
`Worker(...)` registers is not in the facts (facts/temporal.py records only its
`workflow_failure_exception_types`), so it is not here either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ..facts import ModuleFacts
from ..facts.temporal import ActivityDef, ApiCall, WorkflowCall, WorkflowClass, WorkflowRaise


@dataclass(frozen=True)
class TemporalWorkflow:
    path: str
    workflow: WorkflowClass


@dataclass(frozen=True)
class TemporalActivity:
    path: str
    activity: ActivityDef


@dataclass(frozen=True)
class TemporalApiCall:
    """An activity scheduled (`kind == "activity"`), a child workflow started (`"child"`), or a
    workflow started from a client (`"client"`)."""

    path: str
    call: ApiCall

    @property
    def kind(self) -> str:
        return self.call.kind


@dataclass(frozen=True)
class TemporalWorkflowCall:
    """A call in workflow code of something the project defines by name."""

    path: str
    call: WorkflowCall


@dataclass(frozen=True)
class TemporalRaise:
    """A `raise` in workflow code that can fail a workflow task."""

    path: str
    raised: WorkflowRaise


@dataclass(frozen=True)
class WorkerFailureTypes:
    """`Worker(workflow_failure_exception_types=[...])`: the names; None when not a literal list
    (or when `**options` may pass them)."""

    path: str
    types: tuple[str, ...] | None


@dataclass
class TemporalModel:
    workflows: list[TemporalWorkflow] = field(default_factory=list)
    activities: list[TemporalActivity] = field(default_factory=list)
    api_calls: list[TemporalApiCall] = field(default_factory=list)
    workflow_calls: list[TemporalWorkflowCall] = field(default_factory=list)
    raises: list[TemporalRaise] = field(default_factory=list)
    worker_failure_types: list[WorkerFailureTypes] = field(default_factory=list)
    # Module-level functions that heartbeat (`module.func`), for activities that call them.
    heartbeat_functions: frozenset[str] = frozenset()
    # `module.Class` -> its qualified bases, for the classes of Temporal modules (to tell exception kinds).
    classes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def activity_calls(self) -> list[TemporalApiCall]:
        """Every place an activity is scheduled (`workflow.execute_activity(...)` and friends)."""
        return [c for c in self.api_calls if c.kind == "activity"]

    @property
    def workflow_starts(self) -> list[TemporalApiCall]:
        """Every place a workflow is started: child workflows and client starts."""
        return [c for c in self.api_calls if c.kind in ("child", "client")]

    def activity(self, target: str) -> TemporalActivity | None:
        """The activity a reference (`module.func`) names."""
        return self._by_target.get(target)

    def activities_named(self, name: str) -> list[TemporalActivity]:
        """Activities registered under `name`."""
        return self._by_name.get(name, [])

    def scheduled(self, call: ApiCall) -> TemporalActivity | None:
        """The activity a schedule call refers to: by reference, else by a name only one activity has."""
        if call.target is not None:
            return self.activity(call.target)
        if call.target_name is not None:
            named = self.activities_named(call.target_name)
            return named[0] if len(named) == 1 else None
        return None

    def heartbeats(self, activity: ActivityDef) -> bool:
        """Whether an activity heartbeats: itself, through its module's helpers, or an imported one."""
        return activity.heartbeats or any(h in self.heartbeat_functions for h in activity.helpers)

    @cached_property
    def _by_target(self) -> dict[str, TemporalActivity]:
        return {a.activity.target: a for a in self.activities}

    @cached_property
    def _by_name(self) -> dict[str, list[TemporalActivity]]:
        named: dict[str, list[TemporalActivity]] = {}
        for a in self.activities:
            named.setdefault(a.activity.name, []).append(a)
        return named


def build(files: list[ModuleFacts]) -> TemporalModel:
    """The Temporal model of the project's files (sorted by path)."""
    return TemporalModel(
        workflows=[TemporalWorkflow(f.path, w) for f in files for w in f.temporal.workflows],
        activities=[TemporalActivity(f.path, a) for f in files for a in f.temporal.activities],
        api_calls=[TemporalApiCall(f.path, c) for f in files for c in f.temporal.api_calls],
        workflow_calls=[TemporalWorkflowCall(f.path, c) for f in files for c in f.temporal.workflow_calls],
        raises=[TemporalRaise(f.path, r) for f in files for r in f.temporal.raises],
        worker_failure_types=[WorkerFailureTypes(f.path, t) for f in files for t in f.temporal.worker_failure_types],
        heartbeat_functions=frozenset(name for f in files for name in f.temporal.heartbeat_functions),
        classes={target: bases for f in files for target, bases in f.temporal.classes},
    )
