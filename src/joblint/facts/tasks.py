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
from typing import Any

import libcst as cst

from ..findings import Span
from .celery import SHARED_TASK, CeleryCollector
from .names import dotted, module_bindings
from .task_body import TaskBody, summarise
from .transactions import ON_COMMIT, may_write, opens_transaction
from .traverse import children
from .values import UNKNOWN, Value
from .walker import WalkContext, literal

TASK_CLASSES = {"celery.Task", "celery.app.task.Task", "celery.task.Task", "celery.task.base.Task"}
CANVAS_KINDS = {
    "celery.group": "group",
    "celery.canvas.group": "group",
    "celery.chord": "chord",
    "celery.canvas.chord": "chord",
    "celery.chain": "chain",
    "celery.canvas.chain": "chain",
}
QUEUE_CLASSES = {"kombu.Queue", "kombu.entity.Queue"}
CANVAS_FACTORIES = {"celery.signature", "celery.canvas.signature", "celery.subtask", "celery.canvas.Signature"}

# Keys that make a module-level dict worth recording as a possible source of task or execution
# options (`RETRY_OPTIONS = dict(max_retries=5, retry_backoff=True)`, spread as `**RETRY_OPTIONS`).
OPTION_KEYS = frozenset({
    "acks_late", "acks_on_failure_or_timeout", "autoretry_for", "base", "bind", "compression", "countdown",
    "default_retry_delay", "dont_autoretry_for", "eta", "exchange", "expires", "headers", "ignore_result",
    "immutable", "link", "link_error", "max_retries", "name", "priority", "queue", "rate_limit",
    "reject_on_worker_lost", "retry", "retry_backoff", "retry_backoff_max", "retry_jitter", "retry_kwargs",
    "retry_on_worker_lost", "retry_policy", "routing_key", "serializer", "shadow", "soft_time_limit",
    "store_errors_even_if_ignored", "throws", "time_limit", "track_started", "typing",
})


@dataclass(frozen=True)
class Spread:
    """A `**mapping` argument, or a mapping merged into a dict display (`{**BASE, ...}`,
    `dict(BASE, ...)`, `A = B`): the mapping's name, qualified when its root is imported, else as
    written. `name` is None when the mapping is not a plain name (a call, a subscript, a name the
    enclosing function binds): its keys cannot be known."""

    name: str | None
    imported: bool = False
    span: Span | None = None  # the `**NAME` argument of a call; None inside a dict display
    resolved: bool = False  # set by the project model when the mapping's keys are known

    @property
    def shown(self) -> str:
        """How a message names it: `**RETRY_OPTIONS`, `**<expression>`."""
        return f"**{self.name.rsplit('.', 1)[-1]}" if self.name else "**<expression>"


@dataclass(frozen=True)
class DictEntry:
    """`"key": value` or `key=value` in a literal dict; `names` as for a task option."""

    key: str
    value: Value
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiteralDict:
    """A module-level name bound once, to a dict display or `dict(...)` that may hold task or
    execution options, to another name (`OPTIONS = BASE_OPTIONS`), or to a call with exactly one
    literal dict among its arguments, taken as its value (`get_setting("X", dict(...))`,
    `getattr(settings, "X", {...})`). `parts` in order: later keys win."""

    name: str
    parts: tuple[DictEntry | Spread, ...]
    span: Span  # the assigned name


def option_of(options: dict[str, Value], spreads: tuple[Spread, ...], name: str, span: Span) -> Value | None:
    """An option as written, else UNKNOWN when a `**mapping` whose keys are not known may hold it,
    else None (certainly not set here)."""
    found = options.get(name)
    if found is not None:
        return found
    unresolved = next((s for s in spreads if not s.resolved), None)
    if unresolved is not None:
        return Value(UNKNOWN, unresolved.span or span)
    return None


# What a task decorator says: its app, options, base class, whether its options are open-ended
# (`*args`/`**opts`), the names options were given under, the spans of its arguments and its
# `**` spreads.
DecoratorOptions = tuple[
    str | None, dict[str, Value], str | None, bool, dict[str, tuple[str, ...]], dict[str, Span], tuple[Spread, ...]
]


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
    open_options: bool = False  # `*args` or `**options` in the decorator (even when the project resolves them)
    varargs: bool = False  # the body takes *args
    required: int = 0  # positional parameters without a default, `self` included
    body: TaskBody = field(default_factory=TaskBody)
    # Options whose values are names (`autoretry_for=(ConnectionError,)`): the names, qualified when imported.
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The whole `keyword=value` argument of each decorator option (a value's span leaves out its parentheses).
    arguments: dict[str, Span] = field(default_factory=dict)
    # The decorator's `**mapping` arguments. The project model resolves those naming a literal dict
    # (models/literal_dicts.py): their keys join `options`, each value placed at the spread.
    spreads: tuple[Spread, ...] = ()
    # Options that came from a resolved spread, and where: `**RETRY_OPTIONS at proj/conf.py:3`.
    via: dict[str, str] = field(default_factory=dict)

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
        """The option's value; a Value whose data is UNKNOWN when a `**mapping` whose keys are not
        known may set it; None when it is certainly not set on the task itself."""
        return option_of(self.options, self.spreads, name, self.decorator_span)

    def written(self, name: str) -> bool:
        """Whether the option is written on the task itself (a keyword or a class attribute) rather
        than taken from a `**mapping`: only then may a fix edit its value."""
        return name in self.options and name not in self.via


@dataclass(frozen=True)
class TaskClassDef:
    """A Task subclass, with or without `run`: its attributes reach tasks through `base=` and inheritance."""

    name: str
    qualname: str
    bases: tuple[str, ...]
    options: dict[str, Value]
    names: dict[str, tuple[str, ...]]
    methods: tuple[str, ...] = ()


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
    # Inside `for row in <queryset>.select_for_update(...)` (or a name assigned such a queryset in
    # the same function): a task sent per locked row, the claim-and-dispatch pattern.
    per_locked_row: bool = False
    # In a transaction: whether a call that may write (or lock) rows comes before it in the same
    # transaction (facts/transactions.py); False when the transaction clearly only reads so far.
    after_write: bool = True
    spreads: tuple[Spread, ...] = ()  # `**options` of apply_async / signature / set: execution options not all known

    def option(self, name: str) -> Value | None:
        """An execution option as written; UNKNOWN when a `**mapping` may hold it; else None."""
        return option_of(self.options, self.spreads, name, self.span)


@dataclass(frozen=True)
class SignatureRef:
    """A task signature in a canvas: `add.s(1)`, `add.si(1)`, `add.signature((1,), queue="q")`."""

    target: str
    qualified: str | None
    method: str  # "s" | "si" | "signature"
    positional: int  # positional task arguments given
    star: bool  # *args given, or arguments that are not a literal tuple
    immutable: bool  # `.si`, `immutable=True`, `.set(immutable=True)`
    options: dict[str, Value]  # `.set(...)` / `.signature(...)` execution options
    span: Span  # the whole signature expression
    method_span: Span  # the method name, for fixes
    spreads: tuple[Spread, ...] = ()  # `**options` of `.signature(...)` / `.set(...)`

    def option(self, name: str) -> Value | None:
        """An execution option as written; UNKNOWN when a `**mapping` may hold it; else None."""
        return option_of(self.options, self.spreads, name, self.span)


@dataclass(frozen=True)
class CanvasUse:
    """A chain (`chain(a, b)`, `a | b`) or a chord (`chord(header)(body)`, `chord(header, body)`).

    `steps` are the chain's steps in order, each the signatures it is made of (one for a task, the
    members for a group; empty when the step is not a literal signature). A chord is a header step
    followed by its body step. Every step after the first receives the previous step's result as
    its first argument.
    """

    kind: str  # "chain" | "chord"
    steps: tuple[tuple[SignatureRef, ...], ...]
    groups: tuple[bool, ...]  # whether each step is a group (a group followed by a step is a chord)
    span: Span


@dataclass(frozen=True)
class QueueDef:
    """`kombu.Queue("name", ..., max_priority=N / queue_arguments={"x-max-priority": N})`."""

    name: str | None  # None when not a literal
    span: Span  # the whole call
    max_priority: int | None = None


@dataclass
class TaskFacts:
    tasks: list[TaskDef] = field(default_factory=list)
    dispatches: list[DispatchCall] = field(default_factory=list)
    canvases: list[CanvasUse] = field(default_factory=list)
    task_classes: list[TaskClassDef] = field(default_factory=list)
    queues: list[QueueDef] = field(default_factory=list)
    # Module-level literal dicts that may be spread into task decorators or dispatch calls.
    dicts: list[LiteralDict] = field(default_factory=list)

    def spread_names(self) -> set[str]:
        """The qualified names of the imported `**mapping`s of this module (`proj.conf.RETRY` for
        `**conf.RETRY`, or for `from proj.conf import RETRY`)."""
        spreads = [
            *(s for t in self.tasks for s in t.spreads),
            *(s for d in self.dispatches for s in d.spreads),
            *(s for d in self.dicts for s in d.parts if isinstance(s, Spread)),
        ]
        return {s.name for s in spreads if s.imported and s.name}


DISPATCH_METHODS = {"apply_async", "delay", "s", "si", "signature", "delay_on_commit", "apply_async_on_commit"}
# Methods whose keyword arguments are the task's own, not execution options.
ARGUMENT_METHODS = {"delay", "s", "si", "delay_on_commit"}


# Queryset methods that return one row (or none), not rows to iterate over.
ONE_ROW = {"get", "first", "last", "earliest", "latest", "get_or_create", "update_or_create"}


def _positional(params: cst.Parameters) -> list[cst.Param]:
    return [*params.posonly_params, *params.params]


def _target_names(target: cst.BaseExpression | None) -> list[str]:
    """The names an assignment target binds (`a`, `a, (b, *c)`)."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for el in target.elements for n in _target_names(el.value)]
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []


def _bound_names(scope: cst.CSTNode) -> set[str]:
    """Every name a function or class (nested ones included, to err on the side of local) binds."""
    found: set[str] = set()
    stack: list[cst.CSTNode] = [scope]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Param):
            found.add(node.name.value)
        elif isinstance(node, cst.Assign):
            found.update(n for t in node.targets for n in _target_names(t.target))
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
            found.update(_target_names(node.target))
        elif isinstance(node, (cst.For, cst.CompFor)):
            found.update(_target_names(node.target))
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            found.update(_target_names(node.asname.name))
        elif isinstance(node, cst.NamedExpr):
            found.update(_target_names(node.target))
        elif isinstance(node, cst.ExceptHandler) and node.name is not None:
            found.update(_target_names(node.name.name))
        elif isinstance(node, (cst.Import, cst.ImportFrom)) and not isinstance(node.names, cst.ImportStar):
            found.update(_alias_names(node))
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)) and node is not scope:
            found.add(node.name.value)
        stack.extend(children(node))
    return found


def _alias_names(node: cst.Import | cst.ImportFrom) -> list[str]:
    """The local names an import binds."""
    if isinstance(node.names, cst.ImportStar):
        return []
    names = []
    for alias in node.names:
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            names.append(alias.asname.name.value)
        else:
            text = dotted(alias.name)
            if text:
                names.append(text.split(".")[0] if isinstance(node, cst.Import) else text)
    return names


def _is_dict_call(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "dict"


def _literal_dict(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Dict) or _is_dict_call(expr)


MUTATORS = frozenset({"update", "setdefault", "pop", "popitem", "clear", "__setitem__", "__delitem__"})


class TaskCollector:
    """Tasks and dispatch calls; reads the apps the Celery collector has seen so far."""

    def __init__(self, ctx: WalkContext, celery: CeleryCollector) -> None:
        self.ctx = ctx
        self.celery = celery
        self.facts = TaskFacts()
        self._task_classes: set[str] = set()  # local names of Task subclasses defined here
        self._module_functions: dict[str, cst.FunctionDef] = {}
        self._statement_of: dict[int, int] = {}  # id of a function node -> its top-level statement
        self._task_calls: list[tuple[str, cst.Call, DecoratorOptions]] = []
        # One entry per function or lambda being visited: [transaction depth, inside on_commit,
        # a possible write seen in the transaction]
        self._frames: list[list[int]] = [[0, 0, 0]]
        self._not_run_here = 0  # inside a decorator or a `raise`: calls that write nothing before a dispatch
        self._loops: list[tuple[list[int], list[int]]] = []  # loops being visited: (frame, dispatches sent in it)
        # Per function or lambda: the names assigned a `select_for_update` queryset, and the
        # `for` loops over locked rows being visited.
        self._locked_names: list[set[str]] = [set()]
        # Module-level names bound to a task decorator (`task = app.task`, `job = shared_task`,
        # `retrying = shared_task(...)`): the name -> its app ref (None for shared_task) and the
        # options call it is bound to.
        self._decorator_aliases: dict[str, tuple[str | None, cst.Call | None]] = {}
        self._claim_loops: list[list[cst.For]] = [[]]
        self._on_commit_args: list[cst.CSTNode] = []
        self._consumed: set[int] = set()  # `a | b` operations already read as part of a longer chain
        # Module-level literal dicts, and the module-level names changed after their literal
        # (`OPTIONS["queue"] = ...`, `OPTIONS.update(...)`, `OPTIONS |= ...`).
        self._dicts: list[LiteralDict] = []
        self._mutated: set[str] = set()
        self._local_names: dict[int, set[str]] = {}  # id of a function or class -> the names it binds

    # -- module-level literal dicts -------------------------------------------------------------
    def _module_assign(self, node: cst.Assign) -> None:
        if not self.ctx.at_module_level:
            return
        for target in node.targets:
            self._mutated.update(self._changed(target.target))
        self._literal_dict([t.target for t in node.targets], node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self.ctx.at_module_level and node.value is not None:
            self._mutated.update(self._changed(node.target))
            self._literal_dict([node.target], node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if self.ctx.at_module_level:
            self._mutated.update(self._changed(node.target) or _target_names(node.target))

    @staticmethod
    def _changed(target: cst.BaseExpression) -> list[str]:
        """`OPTIONS["queue"] = ...`: the mapping changed after its literal."""
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            return [target.value.value]
        return []

    def _literal_dict(self, targets: list[cst.BaseExpression], value: cst.BaseExpression) -> None:
        names = [t for t in targets if isinstance(t, cst.Name)]
        if not names:
            return
        parts = self._dict_parts(value, wrapper=True)
        if parts is None:
            return
        if parts and not any(isinstance(p, Spread) or p.key in OPTION_KEYS for p in parts):
            return  # a dict of something else (LOGGING, DATABASES): never task options
        for name in names:
            self._dicts.append(LiteralDict(name.value, parts, self.ctx.span(name)))

    def _dict_parts(self, expr: cst.BaseExpression, wrapper: bool = False) -> tuple[DictEntry | Spread, ...] | None:
        """The entries and spreads of a literal dict, in order; a name for `A = B`; the one literal
        dict among a call's arguments (a settings lookup's default) when `wrapper`; else None."""
        if isinstance(expr, cst.Dict):
            parts: list[DictEntry | Spread] = []
            for element in expr.elements:
                if not isinstance(element, cst.DictElement):  # `**OTHER`
                    parts.append(self._spread(element.value, None))
                    continue
                key = literal(element.key)
                if not isinstance(key, str):
                    return (Spread(None),)  # a key no keyword argument can have
                parts.append(DictEntry(key, self.ctx.value(element.value), self._names(element.value)))
            return tuple(parts)
        if _is_dict_call(expr):
            assert isinstance(expr, cst.Call)
            parts = []
            for arg in expr.args:
                if arg.star == "**":
                    parts.append(self._spread(arg.value, None))
                elif arg.star:
                    return (Spread(None),)
                elif arg.keyword is None:
                    inner = self._dict_parts(arg.value) if _literal_dict(arg.value) else None
                    parts.extend(inner if inner is not None else (self._spread(arg.value, None),))
                else:
                    parts.append(DictEntry(arg.keyword.value, self.ctx.value(arg.value), self._names(arg.value)))
            return tuple(parts)
        if isinstance(expr, (cst.Name, cst.Attribute)):
            return (self._spread(expr, None),)
        if wrapper and isinstance(expr, cst.Call):
            found = [a.value for a in expr.args if not a.star and _literal_dict(a.value)]
            return self._dict_parts(found[0]) if len(found) == 1 else None
        return None

    # -- dispatch calls and transactions -------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            self.ctx.at_module_level
            and isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.attr.value in MUTATORS
        ):
            self._mutated.add(func.value.value)  # `OPTIONS.update(...)`: the literal is not the whole story
        if isinstance(func, cst.Attribute) and func.attr.value in DISPATCH_METHODS:
            self._dispatch(node, func, func.attr.value)
        elif isinstance(func, cst.Attribute) and func.attr.value == "set" and self._is_signature(func.value):
            self._dispatch(node, func, "set")
        elif self.ctx.imports.qualify(func) in CANVAS_FACTORIES and node.args:
            self._signature_factory(node)
        elif self.ctx.imports.qualify(func) in ON_COMMIT:
            self._on_commit_args.extend(arg.value for arg in node.args)
        elif self.ctx.imports.qualify(func) in QUEUE_CLASSES:
            self._queue(node)
        self._task_call(node)
        self._canvas_call(node)
        frame = self._frames[-1]
        if frame[0] and not frame[2] and not self._not_run_here and not self._is_dispatch(func):
            frame[2] = int(may_write(node, self.ctx.imports))

    @staticmethod
    def _is_dispatch(func: cst.BaseExpression) -> bool:
        return isinstance(func, cst.Attribute) and func.attr.value in DISPATCH_METHODS

    def visit_Decorator(self, node: cst.Decorator) -> None:
        self._not_run_here += 1  # runs when the function is defined, not in its transaction

    def leave_Decorator(self, node: cst.Decorator) -> None:
        self._not_run_here -= 1

    def visit_Raise(self, node: cst.Raise) -> None:
        self._not_run_here += 1  # what a `raise` builds: no dispatch follows it

    def leave_Raise(self, node: cst.Raise) -> None:
        self._not_run_here -= 1

    def _is_signature(self, expr: cst.BaseExpression) -> bool:
        return (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value in ("s", "si", "signature")
        )

    def visit_With(self, node: cst.With) -> None:
        if any(self._is_atomic(item.item) for item in node.items):
            frame = self._frames[-1]
            if not frame[0]:
                frame[2] = 0  # a new transaction: nothing written in it yet
            frame[0] += 1

    def leave_With(self, node: cst.With) -> None:
        if any(self._is_atomic(item.item) for item in node.items):
            self._frames[-1][0] -= 1

    def _is_atomic(self, expr: cst.BaseExpression) -> bool:
        """An `atomic` that opens a transaction tasks read (not one pinned to a replica)."""
        return opens_transaction(expr, self.ctx.imports)

    def _enter_callable(self, node: cst.CSTNode, atomic: bool) -> None:
        # A nested function or lambda runs when it is called, not where it is written.
        on_commit = self._frames[-1][1] or any(node is arg for arg in self._on_commit_args)
        self._frames.append([1 if atomic else 0, 1 if on_commit else 0, 0])
        self._locked_names.append(set())
        self._claim_loops.append([])

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._enter_callable(node, False)

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self._leave_callable()

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._leave_callable()

    def _leave_callable(self) -> None:
        self._frames.pop()
        self._locked_names.pop()
        self._claim_loops.pop()

    # -- rows locked with select_for_update ----------------------------------------------------
    def _locks_rows(self, expr: cst.BaseExpression) -> bool:
        """`Model.objects.filter(...).select_for_update(...).select_related(...)`, or a name assigned one."""
        while True:
            if isinstance(expr, cst.Call):
                expr = expr.func
            elif isinstance(expr, cst.Subscript):
                expr = expr.value  # a slice: `qs.select_for_update()[:100]`
            elif isinstance(expr, cst.Attribute):
                if expr.attr.value in ONE_ROW:
                    return False  # `select_for_update().get(...)`: one row, not rows to claim
                if expr.attr.value == "select_for_update":
                    return True
                expr = expr.value
            else:
                return isinstance(expr, cst.Name) and expr.value in self._locked_names[-1]

    def visit_Assign(self, node: cst.Assign) -> None:
        self._module_assign(node)
        if self.ctx.at_module_level:
            self._alias(node)
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                locked = self._locked_names[-1]
                name = target.target.value
                if self._locks_rows(node.value):
                    locked.add(name)
                else:
                    locked.discard(name)

    def visit_For(self, node: cst.For) -> None:
        if self._locks_rows(node.iter):
            self._claim_loops[-1].append(node)
        self._loops.append((self._frames[-1], []))

    def leave_For(self, node: cst.For) -> None:
        loops = self._claim_loops[-1]
        if loops and loops[-1] is node:
            loops.pop()
        self._leave_loop()

    def visit_While(self, node: cst.While) -> None:
        self._loops.append((self._frames[-1], []))

    def leave_While(self, node: cst.While) -> None:
        self._leave_loop()

    def _leave_loop(self) -> None:
        """A write later in a loop's body comes before a dispatch earlier in it, on the next turn."""
        frame, sent = self._loops.pop()
        if frame[2]:
            dispatches = self.facts.dispatches
            for index in sent:
                dispatches[index] = dataclasses.replace(dispatches[index], after_write=True)

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
        # `**x` of .delay/.s/.si holds the task's keyword arguments; elsewhere, execution options.
        spreads = () if method in ARGUMENT_METHODS else self._spreads(call)
        self._record(call, func, receiver, method, options, max(positional, 0), star, spreads)

    def _signature_factory(self, call: cst.Call) -> None:
        """`signature("proj.add", args=(1,), queue="q")`: a signature by task name."""
        keywords = {a.keyword.value: self.ctx.value(a.value) for a in call.args if a.keyword is not None and not a.star}
        options = {k: v for k, v in keywords.items() if k not in ("args", "kwargs", "varies", "subtask_type", "app")}
        self._record(call, None, None, "signature", options, 0, True, self._spreads(call))

    def _spreads(self, call: cst.Call) -> tuple[Spread, ...]:
        return tuple(self._spread(arg.value, self.ctx.span(arg)) for arg in call.args if arg.star == "**")

    def _spread(self, expr: cst.BaseExpression, span: Span | None) -> Spread:
        """What a `**expr` names: a module-level or imported name whose keys the project may know."""
        text = dotted(expr)
        if text is None or self._bound_locally(text.split(".")[0]):
            return Spread(None, False, span)
        qualified = self.ctx.imports.qualify(expr)
        if qualified is not None:
            return Spread(qualified, True, span)
        return Spread(text, False, span)

    def _bound_locally(self, name: str) -> bool:
        """Whether an enclosing function or class binds `name` (a parameter, an assignment, an
        import...): then `**name` is not the module-level mapping of that name."""
        for scope in self.ctx.scopes:
            names = self._local_names.get(id(scope.node))
            if names is None:
                names = self._local_names[id(scope.node)] = _bound_names(scope.node)
            if name in names:
                return True
        return False

    def _record(
        self,
        call: cst.Call,
        func: cst.Attribute | None,
        receiver: cst.BaseExpression | None,
        method: str,
        options: dict[str, Value],
        positional: int,
        star: bool,
        spreads: tuple[Spread, ...] = (),
    ) -> None:
        frame = self._frames[-1]
        function = self.ctx.function
        for _, sent in self._loops:
            sent.append(len(self.facts.dispatches))
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
                per_locked_row=bool(self._claim_loops[-1]),
                after_write=bool(frame[2]),
                spreads=spreads,
            )
        )

    # -- decorated function tasks --------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        atomic = any(self._is_atomic(d.decorator) for d in node.decorators)
        self._enter_callable(node, atomic)
        self._statement_of[id(node)] = self.ctx.statement
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
        found: DecoratorOptions,
        where: Span,
        kind: str,
    ) -> None:
        app, options, base, open_options, names, arguments, spreads = found
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
                names=names,
                arguments=arguments,
                spreads=spreads,
                **self._signature(node),
            )
        )

    @staticmethod
    def _signature(node: cst.FunctionDef) -> dict[str, Any]:
        positional = _positional(node.params)
        return {
            "params": tuple(p.name.value for p in positional),
            "varargs": isinstance(node.params.star_arg, cst.Param),
            "required": sum(1 for p in positional if p.default is None),
        }

    def _alias(self, node: cst.Assign) -> None:
        """`task = app.task`, `job = shared_task`, `retrying = shared_task(acks_late=True, ...)`:
        later `@task(...)` / `@retrying` decorates a task (with the bound call's options)."""
        value = node.value
        found: tuple[str | None, cst.Call | None] | None = None
        if isinstance(value, cst.Call):
            inner = self._decorator_of(value.func)
            # `shared_task(fn)` builds a task, and an alias of a call is called only once.
            if inner is not None and inner[1] is None and all(a.keyword is not None or a.star for a in value.args):
                found = (inner[0], value)
        else:
            found = self._decorator_of(value)
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                if found is None:
                    self._decorator_aliases.pop(target.target.value, None)  # bound to something else
                else:
                    self._decorator_aliases[target.target.value] = found

    def _decorator_of(self, func: cst.BaseExpression) -> tuple[str | None, cst.Call | None] | None:
        """(the app ref, the options call an alias is bound to) when `func` names a task decorator:
        `shared_task`, `<app>.task`, or a module-level alias of one."""
        if self.ctx.imports.qualify(func) in SHARED_TASK:
            return None, None
        if isinstance(func, cst.Name) and func.value in self._decorator_aliases:
            return self._decorator_aliases[func.value]
        if isinstance(func, cst.Attribute) and func.attr.value == "task":
            app = self.celery.app_ref(func.value)
            return (app, None) if app is not None else None
        return None

    def _task_decorator(self, expr: cst.BaseExpression) -> DecoratorOptions | None:
        """(app, options, base, open options, option names, option arguments, spreads) when `expr`
        is a task decorator (or `app.task`, or a name bound to one)."""
        call = expr if isinstance(expr, cst.Call) else None
        func = call.func if call is not None else expr
        decorator = self._decorator_of(func)
        if decorator is None:
            return None
        app, bound = decorator
        if bound is not None:
            if call is not None:
                return None  # `@retrying(...)` calls the task decorator shared_task(...) returned
            call = bound  # `@retrying`: the options are those of `retrying = shared_task(...)`
        options: dict[str, Value] = {}
        names: dict[str, tuple[str, ...]] = {}
        arguments: dict[str, Span] = {}
        base = None
        open_options = False
        spreads: list[Spread] = []
        if call is not None:
            for arg in call.args:
                if arg.star:
                    open_options = True
                    if arg.star == "**":
                        spreads.append(self._spread(arg.value, self.ctx.span(arg)))
                elif arg.keyword is not None:
                    options[arg.keyword.value] = self.ctx.value(arg.value)
                    arguments[arg.keyword.value] = self.ctx.span(arg)
                    found = self._names(arg.value)
                    if found:
                        names[arg.keyword.value] = found
                    if arg.keyword.value == "base":
                        base = self.ctx.imports.qualify(arg.value) or dotted(arg.value)
        return app, options, base, open_options, names, arguments, tuple(spreads)

    def _names(self, expr: cst.BaseExpression) -> tuple[str, ...]:
        """`(requests.Timeout, OSError)` -> ("requests.Timeout", "OSError"); () when not all names."""
        elements = [e.value for e in expr.elements] if isinstance(expr, (cst.Tuple, cst.List, cst.Set)) else [expr]
        names = [self.ctx.imports.qualify(e) or dotted(e) for e in elements]
        return tuple(n for n in names if n) if all(names) else ()

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
        self.facts.tasks = [self._with_body(t, names) for t in self.facts.tasks]
        # A name bound twice (or imported and assigned, or changed after) has no one literal value.
        if self._dicts:
            bound = module_bindings(self.ctx.module)
            self.facts.dicts = [d for d in self._dicts if bound.get(d.name) == 1 and d.name not in self._mutated]

    def _with_body(self, task: TaskDef, names: set[str]) -> TaskDef:
        if task.node is None:
            return task
        # Positions are generated per top-level statement: summarise as if walking the task's own.
        self.ctx.statement = self._statement_of.get(id(task.node), self.ctx.statement)
        return dataclasses.replace(
            task, body=summarise(self.ctx, task.node, task.first_param if task.bound else None, names)
        )

    # -- Task subclasses -----------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        base = self._task_base(node)
        if base is None:
            return
        self._task_classes.add(node.name.value)
        scopes = [s.name for s in self.ctx.scopes]
        options, names = self._class_attributes(node)
        bases = tuple(
            self.ctx.imports.qualify(a.value) or dotted(a.value) or "" for a in node.bases if a.keyword is None
        )
        methods = tuple(s.name.value for s in node.body.body if isinstance(s, cst.FunctionDef))
        self.facts.task_classes.append(
            TaskClassDef(node.name.value, ".".join([*scopes, node.name.value]), bases, options, names, methods)
        )
        run = next(
            (s for s in node.body.body if isinstance(s, cst.FunctionDef) and s.name.value == "run"), None
        )
        if run is None:
            return  # an abstract base: its attributes reach tasks through base= or inheritance
        self.facts.tasks.append(
            TaskDef(
                function=node.name.value,
                qualname=".".join([*scopes, node.name.value, "run"]),
                span=self.ctx.span(node.name),
                decorator_span=self.ctx.span(node.name),
                app=None,
                options=options,
                is_async=run.asynchronous is not None,
                node=run,
                kind="class",
                base=base,
                names=names,
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

    def _class_attributes(self, node: cst.ClassDef) -> tuple[dict[str, Value], dict[str, tuple[str, ...]]]:
        attributes: dict[str, Value] = {}
        names: dict[str, tuple[str, ...]] = {}
        for statement in node.body.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                pairs: list[tuple[cst.BaseExpression, cst.BaseExpression]] = []
                if isinstance(small, cst.Assign):
                    pairs = [(t.target, small.value) for t in small.targets]
                elif isinstance(small, cst.AnnAssign) and small.value is not None:
                    pairs = [(small.target, small.value)]
                for target, value in pairs:
                    if isinstance(target, cst.Name):
                        attributes[target.value] = self.ctx.value(value)
                        found = self._names(value)
                        if found:
                            names[target.value] = found
        return attributes, names

    # -- queues --------------------------------------------------------------------------------
    def _queue(self, call: cst.Call) -> None:
        name = None
        max_priority = None
        for i, arg in enumerate(call.args):
            keyword = arg.keyword.value if arg.keyword is not None else ("name" if i == 0 else None)
            value = literal(arg.value, self.ctx.imports)
            if keyword == "name" and isinstance(value, str):
                name = value
            elif keyword == "max_priority" and isinstance(value, int):
                max_priority = value
            elif keyword == "queue_arguments" and isinstance(value, dict):
                found = value.get("x-max-priority")
                max_priority = found if isinstance(found, int) else max_priority
        self.facts.queues.append(QueueDef(name, self.ctx.span(call), max_priority))

    # -- canvases ------------------------------------------------------------------------------
    def _canvas_kind(self, expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.Call):
            return CANVAS_KINDS.get(self.ctx.imports.qualify(expr.func) or "")
        return None

    def _canvas_call(self, node: cst.Call) -> None:
        kind = self._canvas_kind(node)
        if kind == "chain":
            items = self._chain_items(node)
            if len(items) >= 2:
                self._add_canvas("chain", items, node)
        elif kind == "chord":
            # chord(header, body) / chord(header, body=...); chord(header)(body) is read at the outer call
            header = node.args[0].value if node.args and node.args[0].keyword is None else None
            body = next((a.value for a in node.args[1:] if a.keyword is None or a.keyword.value == "body"), None)
            if header is not None and body is not None:
                self._add_chord(header, body, node)
        elif isinstance(node.func, cst.Call) and self._canvas_kind(node.func) == "chord" and node.args:
            inner = node.func
            if inner.args and inner.args[0].keyword is None and len(inner.args) == 1:
                self._add_chord(inner.args[0].value, node.args[0].value, node)

    def _chain_items(self, call: cst.Call) -> list[cst.BaseExpression]:
        values = [a.value for a in call.args if a.keyword is None and not a.star]
        if len(values) == 1 and isinstance(values[0], (cst.List, cst.Tuple)):
            values = [e.value for e in values[0].elements if isinstance(e, cst.Element)]
        return values

    def _add_chord(self, header: cst.BaseExpression, body: cst.BaseExpression, node: cst.CSTNode) -> None:
        self.facts.canvases.append(
            CanvasUse(
                "chord",
                (self._members(header), self._step(body)[0]),
                (True, False),
                self.ctx.span(node),
            )
        )

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if not isinstance(node.operator, cst.BitOr) or id(node) in self._consumed:
            return
        operands: list[cst.BaseExpression] = []
        self._flatten(node, operands)
        steps = [self._step(o) for o in operands]
        # Only a pipe of signatures and groups is a chain; `flags | other` is not.
        if any(not refs and not is_group for refs, is_group in steps):
            return
        self._add_canvas("chain", operands, node)

    def _flatten(self, expr: cst.BaseExpression, out: list[cst.BaseExpression]) -> None:
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
            self._consumed.add(id(expr))
            self._flatten(expr.left, out)
            self._flatten(expr.right, out)
        else:
            out.append(expr)

    def _add_canvas(self, kind: str, items: list[cst.BaseExpression], node: cst.CSTNode) -> None:
        steps = [self._step(item) for item in items]
        self.facts.canvases.append(
            CanvasUse(kind, tuple(refs for refs, _ in steps), tuple(g for _, g in steps), self.ctx.span(node))
        )

    def _step(self, expr: cst.BaseExpression) -> tuple[tuple[SignatureRef, ...], bool]:
        """The signatures a chain step is made of, and whether it is a group."""
        if self._canvas_kind(expr) == "group":
            return self._members(expr), True
        ref = self._signature_ref(expr)
        return ((ref,) if ref is not None else ()), False

    def _members(self, expr: cst.BaseExpression) -> tuple[SignatureRef, ...]:
        """Signatures in a group or chord header: `group(a.s(), b.s())`, `[a.s(x) for x in xs]`, ..."""
        if isinstance(expr, cst.Call) and self._canvas_kind(expr) == "group":
            found: list[SignatureRef] = []
            for arg in expr.args:
                if arg.keyword is None and not arg.star:
                    found.extend(self._members(arg.value))
            return tuple(found)
        if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
            found = []
            for element in expr.elements:
                if isinstance(element, cst.Element):
                    found.extend(self._members(element.value))
            return tuple(found)
        if isinstance(expr, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
            return self._members(expr.elt)
        ref = self._signature_ref(expr)
        return (ref,) if ref is not None else ()

    def _signature_ref(self, expr: cst.BaseExpression) -> SignatureRef | None:
        options: dict[str, Value] = {}
        spreads: list[Spread] = []
        immutable = False
        outer = expr
        # `.set(...)` and `.on_error(...)` return the signature they are called on.
        while (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value in ("set", "on_error", "set_immutable")
        ):
            if expr.func.attr.value == "set":
                spreads.extend(self._spreads(expr))
            for arg in expr.args:
                if arg.keyword is not None:
                    value = self.ctx.value(arg.value)
                    options.setdefault(arg.keyword.value, value)
                    immutable = immutable or (arg.keyword.value == "immutable" and value.data is True)
            expr = expr.func.value
        if not (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute)):
            return None
        method = expr.func.attr.value
        if method not in ("s", "si", "signature"):
            return None
        target = dotted(expr.func.value)
        if target is None:
            return None
        positional = sum(1 for a in expr.args if a.keyword is None and not a.star)
        star = any(a.star for a in expr.args)
        keywords = {a.keyword.value: self.ctx.value(a.value) for a in expr.args if a.keyword is not None}
        if method == "signature":
            first = expr.args[0].value if expr.args and expr.args[0].keyword is None else keywords.get("args")
            if isinstance(first, cst.BaseExpression):
                positional = len(first.elements) if isinstance(first, (cst.Tuple, cst.List)) else 0
                star = star or not isinstance(first, (cst.Tuple, cst.List))
            elif isinstance(first, Value):
                positional = len(first.items)
            else:
                positional = 0
            immutable = immutable or any(k == "immutable" and v.data is True for k, v in keywords.items())
            options.update({k: v for k, v in keywords.items() if k not in ("args", "kwargs")})
            spreads.extend(self._spreads(expr))
        return SignatureRef(
            target=target,
            qualified=self.ctx.imports.qualify(expr.func.value),
            method=method,
            positional=positional,
            star=star,
            immutable=immutable or method == "si",
            options=options,
            span=self.ctx.span(outer),
            method_span=self.ctx.span(expr.func.attr),
            spreads=tuple(spreads),
        )
