"""Celery task facts of one module: task definitions and dispatch calls.

Tasks come in four shapes, all recorded as `TaskDef`:
- a decorated function: `@app.task(...)`, `@shared_task(...)`, `@<imported app>.task(...)`;
- a call: `name = app.task(fn, ...)` or `app.task(...)(fn)` for a module-level function;
- a `Task` subclass with a `run` method (`class T(Task)`, `class T(app.Task)`, or a subclass of a
  Task class defined earlier in the module): `run` is the body, class attributes are the options.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import libcst as cst

from ..findings import Span
from .celery import SHARED_TASK, CeleryCollector
from .names import dotted
from .task_body import TaskBody, summarise
from .values import Value
from .walker import WalkContext

TASK_CLASSES = {"celery.Task", "celery.app.task.Task", "celery.task.Task", "celery.task.base.Task"}
TRANSACTION_ATOMIC = {"django.db.transaction.atomic"}
ON_COMMIT = {"django.db.transaction.on_commit"}
CANVAS_FACTORIES = {"celery.signature", "celery.canvas.signature", "celery.subtask", "celery.canvas.Signature"}


@dataclass(frozen=True)
class TaskDef:
    function: str  # the function's name; the class's name for a Task subclass
    qualname: str  # of the body function (`send`, `SendTask.run`)
    span: Span  # the function (or class) name
    decorator_span: Span  # the decorator, the `app.task(...)` call, or the class name
    app: str | None  # app ref, None for shared tasks and Task subclasses
    options: dict[str, Value]
    params: tuple[str, ...]  # positional parameter names, `self` included
    is_async: bool = False
    node: cst.FunctionDef | None = field(default=None, compare=False, repr=False)
    kind: str = "function"  # "function" | "call" | "class"
    base: str | None = None  # the `base=` class or the Task subclass's first base, qualified when imported
    open_options: bool = False  # `**options` in the decorator: the options are not all known
    varargs: bool = False  # the body takes *args
    required: int = 0  # positional parameters without a default, `self` included
    body: TaskBody = field(default_factory=TaskBody)

    @property
    def bound(self) -> bool:
        """Whether the first parameter receives the task instance."""
        if self.kind == "class":
            return True
        bind = self.options.get("bind")
        return bind is not None and bind.data is True

    @property
    def first_param(self) -> str | None:
        return self.params[0] if self.params else None

    @property
    def input_params(self) -> tuple[str, ...]:
        """The positional parameters a caller fills (without the bound `self`)."""
        return self.params[1:] if self.bound else self.params

    def option(self, name: str) -> Value | None:
        return self.options.get(name)


@dataclass(frozen=True)
class DispatchCall:
    """`<task>.apply_async(...)`, `.delay(...)`, `.s(...)`, `.si(...)`, `.signature(...)`, `sig.set(...)`."""

    target: str  # dotted text of the task expression (`add`, `tasks.add`); `signature` for `signature("name")`
    method: str
    options: dict[str, Value]  # execution options (not the task's own keyword arguments)
    span: Span  # the whole call
    qualified: str | None = None  # the target's fully qualified name when its root is imported
    method_span: Span | None = None  # the method name, for fixes
    positional: int = 0  # positional task arguments given (`.s(1, 2)` -> 2)
    star: bool = False  # *args / **kwargs given: the arguments are not all known
    in_transaction: bool = False  # inside `with transaction.atomic():` or an `@transaction.atomic` function
    in_on_commit: bool = False  # inside a callback passed to `transaction.on_commit(...)`
    function: str | None = None  # qualname of the enclosing function


@dataclass
class TaskFacts:
    tasks: list[TaskDef] = field(default_factory=list)
    dispatches: list[DispatchCall] = field(default_factory=list)


DISPATCH_METHODS = {"apply_async", "delay", "s", "si", "signature", "delay_on_commit", "apply_async_on_commit"}
# Methods whose keyword arguments are the task's own, not execution options.
ARGUMENT_METHODS = {"delay", "s", "si", "delay_on_commit"}


def _positional(params: cst.Parameters) -> list[cst.Param]:
    return [*params.posonly_params, *params.params]


class TaskCollector:
    """Tasks and dispatch calls; reads the apps the Celery collector has seen so far."""

    def __init__(self, ctx: WalkContext, celery: CeleryCollector) -> None:
        self.ctx = ctx
        self.celery = celery
        self.facts = TaskFacts()
        self._task_classes: set[str] = set()  # local names of Task subclasses defined here
        self._module_functions: dict[str, cst.FunctionDef] = {}
        self._task_calls: list[tuple[str, cst.Call, tuple[str | None, dict[str, Value], str | None, bool]]] = []
        # One entry per function or lambda being visited: [transaction depth, inside on_commit]
        self._frames: list[list[int]] = [[0, 0]]
        self._on_commit_args: list[cst.CSTNode] = []

    # -- dispatch calls and transactions -------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in DISPATCH_METHODS:
            self._dispatch(node, func, func.attr.value)
        elif isinstance(func, cst.Attribute) and func.attr.value == "set" and self._is_signature(func.value):
            self._dispatch(node, func, "set")
        elif self.ctx.imports.qualify(func) in CANVAS_FACTORIES and node.args:
            self._signature_factory(node)
        elif self.ctx.imports.qualify(func) in ON_COMMIT:
            self._on_commit_args.extend(arg.value for arg in node.args)
        self._task_call(node)

    def _is_signature(self, expr: cst.BaseExpression) -> bool:
        return (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value in ("s", "si", "signature")
        )

    def visit_With(self, node: cst.With) -> None:
        if any(self._is_atomic(item.item) for item in node.items):
            self._frames[-1][0] += 1

    def leave_With(self, node: cst.With) -> None:
        if any(self._is_atomic(item.item) for item in node.items):
            self._frames[-1][0] -= 1

    def _is_atomic(self, expr: cst.BaseExpression) -> bool:
        func = expr.func if isinstance(expr, cst.Call) else expr
        return self.ctx.imports.qualify(func) in TRANSACTION_ATOMIC

    def _enter_callable(self, node: cst.CSTNode, atomic: bool) -> None:
        # A nested function or lambda runs when it is called, not where it is written.
        on_commit = self._frames[-1][1] or any(node is arg for arg in self._on_commit_args)
        self._frames.append([1 if atomic else 0, 1 if on_commit else 0])

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._enter_callable(node, False)

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self._frames.pop()

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._frames.pop()

    def _dispatch(self, call: cst.Call, func: cst.Attribute, method: str) -> None:
        receiver = func.value
        if method == "set":
            assert isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute)
            receiver = receiver.func.value
        target = dotted(receiver)
        if target is None:
            return
        keywords = {
            arg.keyword.value: self.ctx.value(arg.value)
            for arg in call.args
            if arg.keyword is not None and not arg.star
        }
        options = {} if method in ARGUMENT_METHODS else keywords
        if method == "signature":
            options = {k: v for k, v in keywords.items() if k not in ("args", "kwargs")}
        positional = sum(1 for arg in call.args if arg.keyword is None and not arg.star)
        if method == "signature" and call.args and call.args[0].keyword is None and not call.args[0].star:
            # `.signature(args, kwargs, **options)`: the task arguments are a tuple
            first = call.args[0].value
            positional = len(first.elements) if isinstance(first, (cst.Tuple, cst.List)) else -1
        elif method == "signature":
            args = keywords.get("args")
            positional = len(args.items) if args is not None and args.items else 0
        star = any(arg.star for arg in call.args) or positional < 0
        self._record(call, func, receiver, method, options, max(positional, 0), star)

    def _signature_factory(self, call: cst.Call) -> None:
        """`signature("proj.add", args=(1,), queue="q")`: a signature by task name."""
        keywords = {a.keyword.value: self.ctx.value(a.value) for a in call.args if a.keyword is not None and not a.star}
        options = {k: v for k, v in keywords.items() if k not in ("args", "kwargs", "varies", "subtask_type", "app")}
        self._record(call, None, None, "signature", options, 0, True)

    def _record(
        self,
        call: cst.Call,
        func: cst.Attribute | None,
        receiver: cst.BaseExpression | None,
        method: str,
        options: dict[str, Value],
        positional: int,
        star: bool,
    ) -> None:
        frame = self._frames[-1]
        function = self.ctx.function
        self.facts.dispatches.append(
            DispatchCall(
                target=(dotted(receiver) if receiver is not None else None) or "signature",
                method=method,
                options=options,
                span=self.ctx.span(call),
                qualified=self.ctx.imports.qualify(receiver) if receiver is not None else None,
                method_span=self.ctx.span(func.attr) if func is not None else None,
                positional=positional,
                star=star,
                in_transaction=frame[0] > 0,
                in_on_commit=bool(frame[1]),
                function=self.ctx.qualname() if function is not None else None,
            )
        )

    # -- decorated function tasks --------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        atomic = any(self._is_atomic(d.decorator) for d in node.decorators)
        self._enter_callable(node, atomic)
        if self.ctx.at_module_level:
            self._module_functions[node.name.value] = node
        for decorator in node.decorators:
            found = self._task_decorator(decorator.decorator)
            if found is None:
                continue
            self._add_function_task(node, found, self.ctx.span(decorator.decorator), "function")
            return

    def _add_function_task(
        self,
        node: cst.FunctionDef,
        found: tuple[str | None, dict[str, Value], str | None, bool],
        where: Span,
        kind: str,
    ) -> None:
        app, options, base, open_options = found
        scopes = [] if kind == "call" else [s.name for s in self.ctx.scopes]
        self.facts.tasks.append(
            TaskDef(
                function=node.name.value,
                qualname=".".join([*scopes, node.name.value]),
                span=self.ctx.span(node.name),
                decorator_span=where,
                app=app,
                options=options,
                is_async=node.asynchronous is not None,
                node=node,
                kind=kind,
                base=base,
                open_options=open_options,
                **self._signature(node),
            )
        )

    @staticmethod
    def _signature(node: cst.FunctionDef) -> dict:
        positional = _positional(node.params)
        return {
            "params": tuple(p.name.value for p in positional),
            "varargs": isinstance(node.params.star_arg, cst.Param),
            "required": sum(1 for p in positional if p.default is None),
        }

    def _task_decorator(
        self, expr: cst.BaseExpression
    ) -> tuple[str | None, dict[str, Value], str | None, bool] | None:
        """(app, options, base, open options) when `expr` is a task decorator (or `app.task`)."""
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
        base = None
        open_options = False
        if call is not None:
            for arg in call.args:
                if arg.star:
                    open_options = True
                elif arg.keyword is not None:
                    options[arg.keyword.value] = self.ctx.value(arg.value)
                    if arg.keyword.value == "base":
                        base = self.ctx.imports.qualify(arg.value) or dotted(arg.value)
        return app, options, base, open_options

    # -- app.task(fn, ...) ---------------------------------------------------------------------
    def _task_call(self, node: cst.Call) -> None:
        """`app.task(fn, ...)`, `shared_task(fn)` and `app.task(...)(fn)` for a module-level function."""
        if not node.args or node.args[0].keyword is not None or node.args[0].star:
            return
        first = node.args[0].value
        if not isinstance(first, cst.Name):
            return
        # `app.task(...)(fn)` carries its options in the inner call, `app.task(fn, ...)` in this one.
        found = self._task_decorator(node.func if isinstance(node.func, cst.Call) else node)
        if found is None:
            return
        self._task_calls.append((first.value, node, found))

    def leave_Module(self, node: cst.Module) -> None:
        decorated = {t.function for t in self.facts.tasks if t.kind == "function"}
        for name, call, found in self._task_calls:
            function = self._module_functions.get(name)
            if function is None or name in decorated:
                continue
            self._add_function_task(function, found, self.ctx.span(call), "call")
        names = {t.function for t in self.facts.tasks}
        self.facts.tasks = [
            dataclasses.replace(t, body=summarise(self.ctx, t.node, t.first_param if t.bound else None, names))
            if t.node is not None
            else t
            for t in self.facts.tasks
        ]

    # -- Task subclasses -----------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        base = self._task_base(node)
        if base is None:
            return
        self._task_classes.add(node.name.value)
        run = next(
            (s for s in node.body.body if isinstance(s, cst.FunctionDef) and s.name.value == "run"), None
        )
        if run is None:
            return  # an abstract base: its attributes reach tasks through base= or inheritance
        scopes = [s.name for s in self.ctx.scopes]
        self.facts.tasks.append(
            TaskDef(
                function=node.name.value,
                qualname=".".join([*scopes, node.name.value, "run"]),
                span=self.ctx.span(node.name),
                decorator_span=self.ctx.span(node.name),
                app=None,
                options=self._class_attributes(node),
                is_async=run.asynchronous is not None,
                node=run,
                kind="class",
                base=base,
                **self._signature(run),
            )
        )

    def _task_base(self, node: cst.ClassDef) -> str | None:
        """The base that makes this class a Celery Task, as written or qualified."""
        for arg in node.bases:
            if arg.keyword is not None:
                continue
            text = dotted(arg.value)
            if text is None:
                continue
            qualified = self.ctx.imports.qualify(arg.value)
            if qualified in TASK_CLASSES or text in self._task_classes:
                return qualified or text
            head, _, last = text.rpartition(".")
            if last == "Task" and head and self.celery.app_ref(cst.parse_expression(head)) is not None:
                return qualified or text
        return None

    def _class_attributes(self, node: cst.ClassDef) -> dict[str, Value]:
        attributes: dict[str, Value] = {}
        for statement in node.body.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        if isinstance(target.target, cst.Name):
                            attributes[target.target.value] = self.ctx.value(small.value)
                elif isinstance(small, cst.AnnAssign) and small.value is not None and isinstance(small.target, cst.Name):
                    attributes[small.target.value] = self.ctx.value(small.value)
        return attributes
