"""Result provenance: which expressions hold a Celery `AsyncResult`/`GroupResult`, and what reads them.

A small flow analysis inside each function, in source order: a name assigned from a producer
(`.delay(...)`, `.apply_async(...)`, `AsyncResult(...)`, `app.AsyncResult(...)`, `send_task(...)`,
`group(...)()`, `chord(...)(...)`, `chain(...)()`, `GroupResult.restore(...)`) holds a result until
it is assigned something else. A read is a call of a result method on such a name, or on a
producer inline (`add.delay(1).get()`). Everything else with a `.get` — dicts, QuerySets, queues,
redis clients, HTTP sessions, ContextVars — is never a result, because nothing made it one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from ..findings import Span
from .names import dotted
from .walker import WalkContext

CANVAS = {
    "celery.group": "group",
    "celery.canvas.group": "group",
    "celery.chord": "chord",
    "celery.canvas.chord": "chord",
    "celery.chain": "chain",
    "celery.canvas.chain": "chain",
}
RESULT_CLASSES = {
    "celery.result.AsyncResult": "AsyncResult",
    "celery.result.GroupResult": "GroupResult",
    "celery.result.ResultSet": "ResultSet",
    "celery.AsyncResult": "AsyncResult",
    "celery.GroupResult": "GroupResult",
}
ALLOW_JOIN = {"celery.result.allow_join_result"}
PRODUCER_METHODS = {"delay", "apply_async", "send_task", "AsyncResult"}
BLOCKING = {"get", "wait", "join", "join_native", "collect"}
READS = BLOCKING | {"ready", "successful", "failed"}
READ_ATTRIBUTES = {"result", "state", "status", "info", "traceback"}


@dataclass(frozen=True)
class ResultRead:
    """A read of a task result: `.get()`, `.wait()`, `.join()`, `.ready()`, `.result`, ..."""

    method: str
    span: Span  # the whole read expression
    producer: str  # how the result was made: "delay", "apply_async", "AsyncResult", "group", ...
    target: str | None  # dotted text of the task that produced it, when a task method made it
    qualified: str | None  # the target's qualified name when its root is imported
    functions: tuple[str, ...]  # qualnames of the enclosing functions, outermost first
    inline: bool = False  # read on the producer expression itself


@dataclass(frozen=True)
class JoinGuardBypass:
    """`allow_join_result()` or `disable_sync_subtasks=False`: Celery's deadlock guard switched off."""

    kind: str
    span: Span
    functions: tuple[str, ...]


@dataclass
class ResultFacts:
    reads: list[ResultRead] = field(default_factory=list)
    bypasses: list[JoinGuardBypass] = field(default_factory=list)


@dataclass(frozen=True)
class Producer:
    kind: str
    target: str | None = None
    qualified: str | None = None


class ResultCollector:
    def __init__(self, ctx: WalkContext) -> None:
        self.ctx = ctx
        self.facts = ResultFacts()
        # Per function (the module first): names that hold a result, and names that hold a canvas.
        self._results: list[dict[str, Producer]] = [{}]
        self._canvases: list[dict[str, str]] = [{}]
        self._functions: list[str] = []

    # -- scopes --------------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._results.append({})
        self._canvases.append({})
        self._functions.append(".".join([*(s.name for s in self.ctx.scopes), node.name.value]))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._results.pop()
        self._canvases.pop()
        self._functions.pop()

    # -- what an expression is -----------------------------------------------------------------
    def canvas(self, expr: cst.BaseExpression) -> str | None:
        """`group`/`chord`/`chain` when the expression builds that canvas (or names one built here)."""
        if isinstance(expr, cst.Call):
            return CANVAS.get(self.ctx.imports.qualify(expr.func) or "")
        if isinstance(expr, cst.Name):
            return self._canvases[-1].get(expr.value)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
            return "chain"
        return None

    def producer(self, expr: cst.BaseExpression) -> Producer | None:
        """How `expr` makes a result, or None when it is not (known to be) a result."""
        if isinstance(expr, cst.Name):
            return self._results[-1].get(expr.value)
        if not isinstance(expr, cst.Call):
            return None
        func = expr.func
        qualified = self.ctx.imports.qualify(func)
        if qualified in RESULT_CLASSES:
            return Producer(RESULT_CLASSES[qualified])
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in PRODUCER_METHODS:
                receiver = func.value
                target = dotted(receiver) if method in ("delay", "apply_async") else None
                qualified_target = self.ctx.imports.qualify(receiver) if target else None
                return Producer(method, target, qualified_target)
            if method == "restore" and self.ctx.imports.qualify(func.value) in RESULT_CLASSES:
                return Producer("GroupResult")
            if method == "restore" and isinstance(func.value, cst.Attribute) and func.value.attr.value == "GroupResult":
                return Producer("GroupResult")
        kind = self.canvas(func)
        if kind is not None:
            return Producer(kind)  # calling a group/chord/chain applies it asynchronously
        return None

    # -- bindings ------------------------------------------------------------------------------
    def leave_Assign(self, node: cst.Assign) -> None:
        # Bound after the value is visited, so `r = r.get()` reads the old binding first.
        for target in node.targets:
            self._bind(target.target, node.value)

    def leave_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind(node.target, node.value)

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if not isinstance(target, cst.Name):
            return
        name = target.value
        produced = self.producer(value)
        canvas = self.canvas(value) if produced is None else None
        self._results[-1].pop(name, None)
        self._canvases[-1].pop(name, None)
        if produced is not None:
            self._results[-1][name] = produced
        elif canvas is not None:
            self._canvases[-1][name] = canvas

    # -- reads ---------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self.ctx.imports.qualify(func) in ALLOW_JOIN:
            self._bypass("allow_join_result", node)
        for arg in node.args:
            keyword = arg.keyword.value if arg.keyword is not None else None
            if keyword == "disable_sync_subtasks" and isinstance(arg.value, cst.Name) and arg.value.value == "False":
                self._bypass("disable_sync_subtasks=False", node)
        if isinstance(func, cst.Attribute) and func.attr.value in READS:
            self._read(func.attr.value, func.value, node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in READ_ATTRIBUTES:
            self._read(node.attr.value, node.value, node)

    def _read(self, method: str, receiver: cst.BaseExpression, node: cst.CSTNode) -> None:
        produced = self.producer(receiver)
        if produced is None:
            return
        self.facts.reads.append(
            ResultRead(
                method,
                self.ctx.span(node),
                produced.kind,
                produced.target,
                produced.qualified,
                tuple(self._functions),
                inline=not isinstance(receiver, cst.Name),
            )
        )

    def _bypass(self, kind: str, node: cst.CSTNode) -> None:
        self.facts.bypasses.append(JoinGuardBypass(kind, self.ctx.span(node), tuple(self._functions)))
