"""ARQ facts of one module: job functions, WorkerSettings, enqueue_job calls, awaited job results.

ARQ registers a job under a name: `coroutine.__qualname__` for a bare function, `name=` or the
import string itself for `func(...)`, and `cron:<qualname>` for `cron(...)` entries
(arq/worker.py `func`, arq/cron.py `cron`). A WorkerSettings is a class or dict with `functions`
or `cron_jobs` in a module that imports arq (or a class named `*WorkerSettings`), or the keyword
arguments of `Worker(...)` / `run_worker(...)` / `create_worker(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from ..findings import Span
from .blocking import blocking
from .names import dotted
from .walker import WalkContext

FUNC = {"arq.worker.func", "arq.func"}
CRON = {"arq.cron.cron", "arq.cron"}
WORKER_CALLS = {
    "arq.worker.Worker", "arq.Worker", "arq.worker.run_worker", "arq.run_worker",
    "arq.worker.create_worker", "arq.create_worker",
}
JOB_CLASS = {"arq.jobs.Job", "arq.Job"}
JOB_LISTS = ("functions", "cron_jobs")



@dataclass(frozen=True)
class JobEntry:
    """One element of `functions` or `cron_jobs`."""

    ref: str | None  # what the job function resolves to (`module.func`); None when unknown
    name: str | None  # the registered name when the code says it; None: derive it from `ref`
    span: Span  # the entry
    cron: bool
    via: str  # "name" (bare function) | "func" | "cron" | "string" (import string)

    @property
    def leaf(self) -> str | None:
        return self.ref.rsplit(".", 1)[-1] if self.ref else None


@dataclass(frozen=True)
class WorkerSettingsDef:
    name: str  # the class or variable name, or the called function for Worker(...)
    span: Span
    entries: tuple[JobEntry, ...]
    complete: bool  # every entry was understood (no `*spread`, no computed list)


@dataclass(frozen=True)
class BlockingCall:
    name: str  # qualified
    span: Span  # the call


@dataclass(frozen=True)
class ModuleFunction:
    """A function defined at module level (a job candidate)."""

    name: str
    target: str  # `module.name`
    is_async: bool
    first_param: str | None
    blocking: tuple[BlockingCall, ...] = ()  # direct, un-awaited blocking calls (async functions)


@dataclass(frozen=True)
class EnqueueCall:
    name: str  # the literal job name
    span: Span  # the name argument


@dataclass(frozen=True)
class ResultWait:
    """`await job.result()` on a job the same function enqueued (or built with `Job(...)`)."""

    function: str  # qualname of the enclosing module- or class-level function
    span: Span  # the await expression


@dataclass
class ArqFacts:
    imports_arq: bool = False
    functions: list[ModuleFunction] = field(default_factory=list)
    settings: list[WorkerSettingsDef] = field(default_factory=list)
    enqueues: list[EnqueueCall] = field(default_factory=list)
    result_waits: list[ResultWait] = field(default_factory=list)


@dataclass
class _Frame:
    name: str
    qualname: str  # of the module- or class-level function this frame belongs to
    is_async: bool
    module_level: bool
    nested: bool = False
    blocking: list[BlockingCall] = field(default_factory=list)
    job_vars: set[str] = field(default_factory=set)


class ArqCollector:
    def __init__(self, ctx: WalkContext) -> None:
        self.ctx = ctx
        self.facts = ArqFacts()
        self._frames: list[_Frame] = []
        self._awaited: set[int] = set()
        self._class_lists: list[dict[str, cst.BaseExpression]] = []

    @property
    def _module_key(self) -> str:
        return self.ctx.imports.module or self.ctx.path

    # -- functions -----------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        is_async = node.asynchronous is not None
        if self._frames:
            self._frames.append(_Frame(node.name.value, self._frames[-1].qualname, is_async, False, nested=True))
            return
        qualname = ".".join([*(s.name for s in self.ctx.scopes), node.name.value])
        self._frames.append(_Frame(node.name.value, qualname, is_async, not self.ctx.scopes))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        frame = self._frames.pop()
        if not frame.module_level:
            return
        params = [*node.params.posonly_params, *node.params.params]
        self.facts.functions.append(
            ModuleFunction(
                frame.name,
                f"{self._module_key}.{frame.name}",
                frame.is_async,
                params[0].name.value if params else None,
                tuple(frame.blocking),
            )
        )

    def visit_Lambda(self, node: cst.Lambda) -> None:
        if self._frames:
            self._frames.append(_Frame("<lambda>", self._frames[-1].qualname, False, False, nested=True))

    def leave_Lambda(self, node: cst.Lambda) -> None:
        if self._frames:
            self._frames.pop()

    # -- calls ---------------------------------------------------------------------------------
    def visit_Await(self, node: cst.Await) -> None:
        self._awaited.add(id(node.expression))
        frame = self._frames[-1] if self._frames else None
        if frame is None:
            return
        call = node.expression
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "result":
            owner = call.func.value
            if (isinstance(owner, cst.Name) and owner.value in frame.job_vars) or self._enqueued(owner):
                self.facts.result_waits.append(ResultWait(frame.qualname, self.ctx.span(node)))

    def _enqueued(self, expr: cst.BaseExpression) -> bool:
        """`await redis.enqueue_job(...)` or `Job(...)`: an expression that gives an arq job."""
        if isinstance(expr, cst.Await):
            expr = expr.expression
            return (
                isinstance(expr, cst.Call)
                and isinstance(expr.func, cst.Attribute)
                and expr.func.attr.value == "enqueue_job"
            )
        return isinstance(expr, cst.Call) and self.ctx.imports.qualify(expr.func) in JOB_CLASS

    def visit_Assign(self, node: cst.Assign) -> None:
        frame = self._frames[-1] if self._frames else None
        if frame is not None:
            if self._enqueued(node.value):
                frame.job_vars.update(t.target.value for t in node.targets if isinstance(t.target, cst.Name))
            return
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self._settings_value(node.targets[0].target.value, node.targets[0].target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if not self._frames and node.value is not None and isinstance(node.target, cst.Name):
            self._settings_value(node.target.value, node.target, node.value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "enqueue_job":
            first = node.args[0] if node.args else None
            if (
                first is not None
                and first.keyword is None
                and not first.star
                and isinstance(first.value, cst.SimpleString)
            ):
                name = first.value.evaluated_value
                if isinstance(name, str):
                    self.facts.enqueues.append(EnqueueCall(name, self.ctx.span(first.value)))
        qualified = self.ctx.imports.qualify(func)
        if qualified in WORKER_CALLS:
            lists = {
                a.keyword.value: a.value for a in node.args if a.keyword is not None and a.keyword.value in JOB_LISTS
            }
            if lists:
                self._settings(qualified.rsplit(".", 1)[-1], node, lists, True)
        frame = self._frames[-1] if self._frames else None
        if frame is None or frame.nested or not frame.is_async or not frame.module_level:
            return
        if id(node) not in self._awaited and blocking(qualified):
            assert qualified is not None
            frame.blocking.append(BlockingCall(qualified, self.ctx.span(node)))

    # -- WorkerSettings ------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._class_lists.append({})

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        lists = self._class_lists.pop()
        if lists and not self._frames:
            named = node.name.value.endswith("WorkerSettings")
            self._settings(node.name.value, node.name, lists, named)

    def _settings_value(self, name: str, target: cst.Name, value: cst.BaseExpression) -> None:
        scopes = self.ctx.scopes
        if scopes and scopes[-1].kind == "class" and self._class_lists:
            if name in JOB_LISTS:
                self._class_lists[-1][name] = value
            return
        if scopes:
            return
        lists = self._dict_lists(value)
        if lists:
            self._settings(name, target, lists, False)

    def _dict_lists(self, value: cst.BaseExpression) -> dict[str, cst.BaseExpression]:
        lists: dict[str, cst.BaseExpression] = {}
        if isinstance(value, cst.Dict):
            for el in value.elements:
                if isinstance(el, cst.DictElement) and isinstance(el.key, cst.SimpleString):
                    key = el.key.evaluated_value
                    if key in JOB_LISTS:
                        lists[key] = el.value
        elif isinstance(value, cst.Call) and dotted(value.func) == "dict":
            for arg in value.args:
                if arg.keyword is not None and arg.keyword.value in JOB_LISTS:
                    lists[arg.keyword.value] = arg.value
        return lists

    def _settings(self, name: str, where: cst.CSTNode, lists: dict[str, cst.BaseExpression], certain: bool) -> None:
        """Record a WorkerSettings now, while positions of this statement are cheap to ask for.

        A class or dict counts only in a module that imports arq (imports come first).
        """
        if not (certain or self.ctx.imports.imports_from("arq")):
            return
        entries: list[JobEntry] = []
        complete = True
        for key, expr in lists.items():
            found, ok = self._entries(expr, cron=key == "cron_jobs")
            entries += found
            complete = complete and ok
        self.facts.settings.append(WorkerSettingsDef(name, self.ctx.span(where), tuple(entries), complete))

    def leave_Module(self, node: cst.Module) -> None:
        self.facts.imports_arq = self.ctx.imports.imports_from("arq")

    def _entries(self, expr: cst.BaseExpression, cron: bool) -> tuple[list[JobEntry], bool]:
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            left, left_ok = self._entries(expr.left, cron)
            right, right_ok = self._entries(expr.right, cron)
            return left + right, left_ok and right_ok
        if isinstance(expr, cst.Name) and expr.value == "None":
            return [], True
        if not isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
            return [], False
        entries: list[JobEntry] = []
        complete = True
        for el in expr.elements:
            entry = self._entry(el.value, cron) if isinstance(el, cst.Element) else None
            if entry is None:
                complete = False
            else:
                entries.append(entry)
        return entries, complete

    def _entry(self, expr: cst.BaseExpression, cron: bool) -> JobEntry | None:
        span = self.ctx.span(expr)
        if isinstance(expr, cst.Call):
            wrapper = self.ctx.imports.qualify(expr.func)
            if wrapper not in (CRON if cron else FUNC):
                return None
            first = expr.args[0] if expr.args and expr.args[0].keyword is None and not expr.args[0].star else None
            explicit = None
            for arg in expr.args:
                if arg.keyword is not None and arg.keyword.value == "name":
                    if not isinstance(arg.value, cst.SimpleString):
                        return JobEntry(None, None, span, cron, "cron" if cron else "func")
                    explicit = arg.value.evaluated_value
            if first is None:
                return None
            inner = self._entry(first.value, cron=False)
            if inner is None:
                return None
            if explicit is None and inner.via == "string":
                explicit = f"cron:{inner.name}" if cron else inner.name
            elif explicit is None and cron:
                leaf = inner.leaf
                explicit = f"cron:{leaf}" if leaf else None
                if leaf is None:
                    return JobEntry(inner.ref, None, span, cron, "cron")
            return JobEntry(
                inner.ref, explicit if isinstance(explicit, str) else None, span, cron, "cron" if cron else "func"
            )
        if isinstance(expr, cst.SimpleString):
            path = expr.evaluated_value
            if not isinstance(path, str):
                return None
            return JobEntry(path, path, span, cron, "string")
        text = dotted(expr)
        if text is None:
            return None
        ref = self.ctx.imports.qualify_text(text) or f"{self._module_key}.{text}"
        return JobEntry(ref, None, span, cron, "name")
