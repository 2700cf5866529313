"""Celery task facts of one module: task definitions and dispatch calls."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from ..findings import Span
from .celery import SHARED_TASK, CeleryCollector
from .names import dotted
from .values import Value
from .walker import WalkContext


@dataclass(frozen=True)
class TaskDef:
    function: str
    qualname: str
    span: Span  # the function name
    decorator_span: Span
    app: str | None  # app ref, None for shared tasks
    options: dict[str, Value]
    params: tuple[str, ...]
    is_async: bool = False
    node: cst.FunctionDef | None = field(default=None, compare=False, repr=False)

    @property
    def bound(self) -> bool:
        bind = self.options.get("bind")
        return bind is not None and bind.data is True

    def option(self, name: str) -> Value | None:
        return self.options.get(name)


@dataclass(frozen=True)
class DispatchCall:
    """`<task>.apply_async(...)` and friends, with their keyword options."""

    target: str  # dotted text of the task expression (`add`, `tasks.add`)
    method: str
    options: dict[str, Value]
    span: Span  # the whole call


@dataclass
class TaskFacts:
    tasks: list[TaskDef] = field(default_factory=list)
    dispatches: list[DispatchCall] = field(default_factory=list)


DISPATCH_METHODS = {"apply_async"}


class TaskCollector:
    """Tasks and dispatch calls; reads the apps the Celery collector has seen so far."""

    def __init__(self, ctx: WalkContext, celery: CeleryCollector) -> None:
        self.ctx = ctx
        self.celery = celery
        self.facts = TaskFacts()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in DISPATCH_METHODS:
            self._dispatch(node, func, func.attr.value)

    # -- tasks ---------------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            found = self._task_decorator(decorator.decorator)
            if found is None:
                continue
            app, options = found
            params = tuple(p.name.value for p in (*node.params.posonly_params, *node.params.params))
            self.facts.tasks.append(
                TaskDef(
                    function=node.name.value,
                    qualname=".".join([*(s.name for s in self.ctx.scopes), node.name.value]),
                    span=self.ctx.span(node.name),
                    decorator_span=self.ctx.span(decorator.decorator),
                    app=app,
                    options=options,
                    params=params,
                    is_async=node.asynchronous is not None,
                    node=node,
                )
            )
            return

    def _task_decorator(self, expr: cst.BaseExpression) -> tuple[str | None, dict[str, Value]] | None:
        call = expr if isinstance(expr, cst.Call) else None
        func = call.func if call is not None else expr
        qualified = self.ctx.imports.qualify(func)
        if qualified in SHARED_TASK:
            app = None
        elif isinstance(func, cst.Attribute) and func.attr.value == "task":
            app = self.celery.app_ref(func.value)
            if app is None:
                return None
        else:
            return None
        options: dict[str, Value] = {}
        if call is not None:
            for arg in call.args:
                if arg.keyword is not None and not arg.star:
                    options[arg.keyword.value] = self.ctx.value(arg.value)
        return app, options

    # -- dispatch calls ------------------------------------------------------------------------
    def _dispatch(self, call: cst.Call, func: cst.Attribute, method: str) -> None:
        target = dotted(func.value)
        if target is None:
            return
        options = {
            arg.keyword.value: self.ctx.value(arg.value)
            for arg in call.args
            if arg.keyword is not None and not arg.star
        }
        self.facts.dispatches.append(DispatchCall(target, method, options, self.ctx.span(call)))

