"""Temporal facts of one module: workflows and the code they run, activities, and API calls.

"Workflow code" is what Temporal replays: the handlers of a `@workflow.defn` class (run, signal,
query, update, init, update validators), the methods of that class they call through `self`, and
the module's functions that only workflow code calls. It is computed once the whole module has
been seen, from the calls each function makes.

A *unit* is a function defined at module level or in a class body (not inside another function);
nested functions and lambdas belong to the unit that contains them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import libcst as cst

from ..findings import Span
from .blocking import blocking, io_call
from .names import dotted
from .traverse import walk
from .values import Value
from .walker import WalkContext

WORKFLOW = "temporalio.workflow"
ACTIVITY_DEFN = "temporalio.activity.defn"
HANDLER_DECORATORS = {f"{WORKFLOW}.{kind}": kind for kind in ("run", "signal", "query", "update", "init")}

# workflow.<name>(activity, arg, *, args=..., start_to_close_timeout=..., ...)
ACTIVITY_FUNCTIONS = frozenset(
    f"{verb}_{kind}activity{suffix}"
    for verb in ("execute", "start")
    for kind in ("", "local_")
    for suffix in ("", "_method", "_class")
)
CHILD_WORKFLOW_FUNCTIONS = frozenset({"execute_child_workflow", "start_child_workflow"})
CLIENT_START_METHODS = frozenset({"start_workflow", "execute_workflow"})
WITH_START_OPERATION = "temporalio.client.WithStartWorkflowOperation"
WORKER = {"temporalio.worker.Worker", "temporalio.worker._worker.Worker"}
SLEEPS = {"time.sleep", "asyncio.sleep"}
# `for _ in range(n)` with n at most this literal is a fixed, short loop (a retry loop, a few pages).
SMALL_RANGE = 10
# Calls that iterate what their first argument iterates.
_SAME_ITEMS = {"enumerate", "reversed", "sorted", "list", "tuple", "set"}
_GROWS = {"append", "extend", "insert", "add", "update", "__setitem__", "setdefault"}


@dataclass(frozen=True)
class Handler:
    kind: str  # run | signal | query | update | init | validator
    method: str
    is_async: bool
    span: Span  # the method name


@dataclass(frozen=True)
class WorkflowClass:
    name: str
    qualname: str
    span: Span  # the class name
    decorator_span: Span
    handlers: tuple[Handler, ...]
    # Names in `@workflow.defn(failure_exception_types=[...])`; None when not a literal list.
    failure_types: tuple[str, ...] | None
    node: cst.ClassDef | None = field(default=None, compare=False, repr=False)

    def handlers_of(self, kind: str) -> list[Handler]:
        return [h for h in self.handlers if h.kind == kind]


@dataclass(frozen=True)
class Unit:
    """A function at module level or in a class body, with what it is to Temporal."""

    key: str  # qualname: `helper`, `OrderWorkflow.run`
    name: str
    klass: str | None  # qualname of the enclosing class
    is_async: bool
    span: Span  # the function name
    activity: bool = False
    handler: str | None = None  # the handler kind for workflow class methods
    workflow: bool = False  # workflow code (filled in when the module has been seen)
    node: cst.FunctionDef | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class CallSite:
    """A call in workflow code or in an activity."""

    unit: str
    name: str  # qualified when the root is imported; a bare builtin name (`open`); else ""
    awaited: bool
    statement: bool  # the call is a whole expression statement: its result is dropped
    direct: bool  # not inside a nested function or lambda
    in_async: bool  # the innermost enclosing function is `async def`
    has_args: bool
    node: cst.Call | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class EnvironAccess:
    """`os.environ` read in workflow code (a subscript, `.get`, iteration...)."""

    unit: str
    node: cst.Attribute | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class BusyLoop:
    """A loop over slow work in an activity, unless it iterates a fixed collection written in the code."""

    span: Span  # the loop statement
    keyword: str  # for, async for, while
    # The function whose result the loop iterates (`module.func`, directly or through a local name
    # bound once): the loop is fixed when that function returns a literal list (see
    # TemporalFacts.literal_functions); None when the loop is over other data.
    source: str | None = None


@dataclass(frozen=True)
class ActivityDef:
    function: str
    qualname: str
    target: str  # `module.qualname`, what a reference to it resolves to
    name: str  # the registered activity name
    is_async: bool
    span: Span  # the function name
    heartbeats: bool  # calls a heartbeat, itself or through a helper of this module
    helpers: tuple[str, ...] = ()  # imported functions it (or a helper of this module) calls
    # Its loops over slow work (I/O, sleeps, awaits), outer loops first; not those over a literal
    # list/tuple/set/dict, `range(<= SMALL_RANGE)`, or a name bound once to one of those.
    busy_loops: tuple[BusyLoop, ...] = ()
    node: cst.FunctionDef | None = field(default=None, compare=False, repr=False)

    @property
    def busy_loop(self) -> Span | None:
        """Its first loop over slow work."""
        return self.busy_loops[0].span if self.busy_loops else None

    @property
    def busy_keyword(self) -> str:
        return self.busy_loops[0].keyword if self.busy_loops else ""


@dataclass(frozen=True)
class ApiCall:
    """`workflow.execute_activity(...)` and friends, child workflow starts, client starts."""

    kind: str  # activity | child | client
    method: str  # the called name's last part
    target: str | None  # what the first argument resolves to (`module.func`), when a name
    target_name: str | None  # the first argument when it is a string literal
    keywords: dict[str, Value]
    star_kwargs: bool  # `**options`: the keywords are not all known
    positional: int  # positional arguments after the activity/workflow (`*args` not counted)
    star_args: bool
    span: Span  # the whole call
    unit: str | None
    in_workflow: bool = False
    # Made in the module's `if __name__ == "__main__":` block, or in a module-level function that
    # only that block reaches (through the functions of the module): a script run by hand.
    script: bool = False
    node: cst.Call | None = field(default=None, compare=False, repr=False)

    def keyword(self, name: str) -> Value | None:
        return self.keywords.get(name)


@dataclass(frozen=True)
class WorkflowCall:
    """A call in workflow code of something defined by name elsewhere (for TMP105)."""

    target: str  # `module.func` or `module.Class.method`
    span: Span  # the whole call
    awaited: bool


@dataclass(frozen=True)
class WorkflowRaise:
    """`raise X(...)` in workflow code that can fail a workflow task (not in queries/validators)."""

    exception: str  # qualified when imported, `module.Name` when defined here, else as written
    span: Span  # the raised expression
    workflow: str | None  # qualname of the workflow class whose code raises, when known
    failure_types: tuple[str, ...] | None  # that class's failure_exception_types


@dataclass
class TemporalFacts:
    workflows: list[WorkflowClass] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)
    environ: list[EnvironAccess] = field(default_factory=list)
    activities: list[ActivityDef] = field(default_factory=list)
    api_calls: list[ApiCall] = field(default_factory=list)
    workflow_calls: list[WorkflowCall] = field(default_factory=list)
    raises: list[WorkflowRaise] = field(default_factory=list)
    # `Worker(workflow_failure_exception_types=...)`: the names, or None when not a literal list.
    worker_failure_types: list[tuple[str, ...] | None] = field(default_factory=list)
    # Module-level functions that heartbeat (`module.func`), for activities that call them.
    heartbeat_functions: list[str] = field(default_factory=list)
    # Module-level classes with bases: (`module.Class`, qualified bases), to tell exception kinds.
    classes: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    # Module-level functions (`module.func`) whose every return is a literal list/tuple/set: a loop
    # over their result is a loop over a fixed, short collection.
    literal_functions: list[str] = field(default_factory=list)

    def unit(self, key: str) -> Unit | None:
        for unit in self.units:
            if unit.key == key:
                return unit
        return None


@dataclass
class _Frame:
    unit: str  # the unit this function belongs to
    is_async: bool
    nested: bool  # a nested function or lambda inside the unit


@dataclass
class _UnitData:
    node: cst.FunctionDef
    klass: str | None
    activity: str | None  # the registered name when the unit is an activity
    handler: str | None
    callees: set[tuple[str, str]] = field(default_factory=set)  # ("func", f) | ("self", m)
    imported: set[str] = field(default_factory=set)  # qualified names of imported callees
    heartbeat: bool = False
    calls: list[tuple[cst.Call, str, _Frame]] = field(default_factory=list)
    environ: list[cst.Attribute] = field(default_factory=list)
    raises: list[tuple[cst.BaseExpression, bool]] = field(default_factory=list)  # (exc, caught)
    # Names bound inside the function (parameters, assignments, loop and with targets): they hide
    # module imports of the same name (`random = workflow.random()`).
    local_names: set[str] = field(default_factory=set)
    # Its own `return` statements (not those of nested functions): whether each returns a literal list.
    returns: list[bool] = field(default_factory=list)


class TemporalCollector:
    def __init__(self, ctx: WalkContext) -> None:
        self.ctx = ctx
        self.facts = TemporalFacts()
        self._frames: list[_Frame] = []
        self._units: dict[str, _UnitData] = {}
        self._module_callees: set[str] = set()  # functions called outside any unit
        self._awaited: set[int] = set()
        self._statements: set[int] = set()
        self._try_bodies: set[int] = set()
        self._try_depth = 0
        self._classes: dict[str, tuple[cst.ClassDef, str | None]] = {}  # workflow classes
        self._api: list[ApiCall] = []
        self._class_names: set[str] | None = None
        self._constants: dict[str, cst.BaseExpression] | None = None
        # The module's `if __name__ == "__main__":` block while it is walked; the names it uses, and
        # the names the rest of the module-level code uses; the API calls made in the block itself.
        self._main: cst.If | None = None
        self._main_names: set[str] = set()
        self._module_names: set[str] = set()
        self._main_calls: set[int] = set()

    # -- names ---------------------------------------------------------------------------------
    @property
    def _module_key(self) -> str:
        return self.ctx.imports.module or self.ctx.path

    def _qualified(self, expr: cst.BaseExpression) -> str | None:
        return self.ctx.imports.qualify(expr)

    def _decorator(self, expr: cst.BaseExpression) -> tuple[str | None, cst.Call | None]:
        call = expr if isinstance(expr, cst.Call) else None
        return self._qualified(call.func if call is not None else expr), call

    # -- classes -------------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if not self.ctx.scopes and node.bases:
            bases = tuple(self.exception_name(arg.value) or "" for arg in node.bases if arg.keyword is None)
            self.facts.classes.append((f"{self._module_key}.{node.name.value}", bases))
        for decorator in node.decorators:
            name, call = self._decorator(decorator.decorator)
            if name == f"{WORKFLOW}.defn" and not self._frames:
                qual = ".".join([*(s.name for s in self.ctx.scopes), node.name.value])
                self._classes[qual] = (node, None)
                failure_types: tuple[str, ...] | None = ()
                if call is not None:
                    for arg in call.args:
                        if arg.star == "**":
                            failure_types = None
                        elif arg.keyword is not None and arg.keyword.value == "failure_exception_types":
                            failure_types = self._names(arg.value)
                self.facts.workflows.append(
                    WorkflowClass(
                        node.name.value,
                        qual,
                        self.ctx.span(node.name),
                        self.ctx.span(decorator.decorator),
                        self._handlers(node),
                        failure_types,
                        node,
                    )
                )

    def _names(self, expr: cst.BaseExpression) -> tuple[str, ...] | None:
        if not isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
            return None
        names = []
        for el in expr.elements:
            if not isinstance(el, cst.Element):
                return None
            name = self.exception_name(el.value)
            if name is None:
                return None
            names.append(name)
        return tuple(names)

    def _handlers(self, node: cst.ClassDef) -> tuple[Handler, ...]:
        found = []
        for stmt in node.body.body:
            if isinstance(stmt, cst.FunctionDef):
                kind = self._handler_kind(stmt)
                if kind is not None:
                    found.append(
                        Handler(kind, stmt.name.value, stmt.asynchronous is not None, self.ctx.span(stmt.name))
                    )
        return tuple(found)

    def _handler_kind(self, node: cst.FunctionDef) -> str | None:
        for decorator in node.decorators:
            expr = decorator.decorator
            name, _ = self._decorator(expr)
            if name in HANDLER_DECORATORS:
                return HANDLER_DECORATORS[name]
            func = expr.func if isinstance(expr, cst.Call) else expr
            if isinstance(func, cst.Attribute) and func.attr.value == "validator":
                return "validator"
        return None

    # -- functions -----------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        is_async = node.asynchronous is not None
        if self._frames:
            self._frames.append(_Frame(self._frames[-1].unit, is_async, True))
            return
        klass = self.ctx.qualname() or None
        key = f"{klass}.{node.name.value}" if klass else node.name.value
        activity = None
        for decorator in node.decorators:
            name, call = self._decorator(decorator.decorator)
            if name == ACTIVITY_DEFN:
                activity = node.name.value
                if call is not None:
                    for arg in call.args:
                        if (
                            arg.keyword is not None
                            and arg.keyword.value == "name"
                            and isinstance(arg.value, cst.SimpleString)
                        ):
                            registered = arg.value.evaluated_value
                            if isinstance(registered, str):
                                activity = registered
        handler = self._handler_kind(node) if klass in self._classes else None
        self._units[key] = _UnitData(node, klass, activity, handler)
        self._frames.append(_Frame(key, is_async, False))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._frames.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        if self._frames:
            self._frames.append(_Frame(self._frames[-1].unit, False, True))

    def leave_Lambda(self, node: cst.Lambda) -> None:
        if self._frames:
            self._frames.pop()

    # -- expressions ---------------------------------------------------------------------------
    def visit_Await(self, node: cst.Await) -> None:
        self._awaited.add(id(node.expression))

    def visit_Expr(self, node: cst.Expr) -> None:
        self._statements.add(id(node.value))

    def visit_Try(self, node: cst.Try) -> None:
        if node.handlers:
            self._try_bodies.add(id(node.body))

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self._try_bodies.add(id(node.body))

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        if id(node) in self._try_bodies:
            self._try_depth += 1

    def leave_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        if id(node) in self._try_bodies:
            self._try_depth -= 1

    # -- the script entry point -----------------------------------------------------------------
    def visit_If(self, node: cst.If) -> None:
        if self._main is None and not self._frames and not self.ctx.scopes and _is_main_test(node.test):
            self._main = node

    def leave_If(self, node: cst.If) -> None:
        if node is self._main:
            self._main = None

    # -- local names ---------------------------------------------------------------------------
    def _bind(self, target: cst.BaseExpression | None) -> None:
        if not self._frames or target is None:
            return
        names = self._units[self._frames[-1].unit].local_names
        if isinstance(target, cst.Name):
            names.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._bind(el.value)

    def visit_Param(self, node: cst.Param) -> None:
        self._bind(node.name)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._bind(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name)

    def visit_Return(self, node: cst.Return) -> None:
        if self._frames and not self._frames[-1].nested:
            self._units[self._frames[-1].unit].returns.append(node.value is not None and _literal(node.value))

    def visit_Raise(self, node: cst.Raise) -> None:
        if self._frames and node.exc is not None:
            self._units[self._frames[-1].unit].raises.append((node.exc, self._try_depth > 0))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if not self._frames:
            return
        attr = node.attr.value
        if attr == "environ" and self._qualified(node) == "os.environ":
            self._units[self._frames[-1].unit].environ.append(node)
        elif _is_heartbeat(attr):
            self._units[self._frames[-1].unit].heartbeat = True

    def visit_Name(self, node: cst.Name) -> None:
        if not self._frames:
            (self._main_names if self._main is not None else self._module_names).add(node.value)
        if self._frames and _is_heartbeat(node.value):
            # A reference counts as much as a call: the heartbeat may be passed as a callback.
            self._units[self._frames[-1].unit].heartbeat = True

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        name = self._qualified(func)
        if name is None and isinstance(func, cst.Name) and func.value not in self.ctx.imports.aliases:
            name = func.value  # a builtin or a function of this module
        frame = self._frames[-1] if self._frames else None
        if frame is not None:
            unit = self._units[frame.unit]
            unit.calls.append((node, name or "", frame))
            if name is not None and name != getattr(func, "value", None):
                unit.imported.add(name)
            if isinstance(func, cst.Name):
                unit.callees.add(("func", func.value))
            elif (
                isinstance(func, cst.Attribute)
                and isinstance(func.value, cst.Name)
                and func.value.value in ("self", "cls")
            ):
                unit.callees.add(("self", func.attr.value))
        elif isinstance(func, cst.Name):
            self._module_callees.add(func.value)
        self._api_call(node, name)

    def _api_call(self, node: cst.Call, name: str | None) -> None:
        func = node.func
        leaf = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if name is not None and name.startswith(WORKFLOW + ".") and leaf in ACTIVITY_FUNCTIONS:
            kind = "activity"
        elif name is not None and name.startswith(WORKFLOW + ".") and leaf in CHILD_WORKFLOW_FUNCTIONS:
            kind = "child"
        elif name == WITH_START_OPERATION:
            kind = "client"
        elif name in WORKER:
            self._worker(node)
            return
        elif (
            leaf in CLIENT_START_METHODS
            and isinstance(func, cst.Attribute)
            and not (name or "").startswith(WORKFLOW + ".")
            and self.ctx.imports.imports_from("temporalio")
        ):
            kind = "client"
        else:
            return
        positional = [a for a in node.args if a.keyword is None and not a.star]
        keywords = {
            a.keyword.value: self.ctx.value(a.value) for a in node.args if a.keyword is not None and not a.star
        }
        first = positional[0].value if positional else None
        target = self.reference(first) if first is not None else None
        target_name = first.evaluated_value if isinstance(first, cst.SimpleString) else None
        api = ApiCall(
            kind=kind,
            method=leaf,
            target=target,
            target_name=target_name if isinstance(target_name, str) else None,
            keywords=keywords,
            star_kwargs=any(a.star == "**" for a in node.args),
            positional=max(len(positional) - 1, 0),
            star_args=any(a.star == "*" for a in node.args),
            span=self.ctx.span(node),
            unit=self._frames[-1].unit if self._frames else None,
            node=node,
        )
        if self._main is not None and not self._frames:
            self._main_calls.add(id(node))
        self._api.append(api)

    def _worker(self, node: cst.Call) -> None:
        for arg in node.args:
            if arg.star == "**":
                self.facts.worker_failure_types.append(None)
            elif arg.keyword is not None and arg.keyword.value == "workflow_failure_exception_types":
                self.facts.worker_failure_types.append(self._names(arg.value))

    # -- resolution ----------------------------------------------------------------------------
    def reference(self, expr: cst.BaseExpression) -> str | None:
        """What a name refers to: `module.func`, `module.Class.method`; None when not a plain name."""
        text = dotted(expr)
        if text is None or text.split(".")[0] in ("self", "cls"):
            return None
        qualified = self.ctx.imports.qualify_text(text)
        if qualified is not None:
            return qualified
        return f"{self._module_key}.{text}"

    def exception_name(self, expr: cst.BaseExpression) -> str | None:
        """The exception class a raise or a list names: qualified when imported or defined here."""
        text = dotted(expr)
        if text is None:
            return None
        qualified = self.ctx.imports.qualify_text(text)
        if qualified is not None:
            return qualified
        root = text.split(".")[0]
        if root in self._module_classes:
            return f"{self._module_key}.{text}"
        return text

    @property
    def _module_classes(self) -> set[str]:
        if self._class_names is None:
            self._class_names = {
                stmt.name.value for stmt in self.ctx.module.body if isinstance(stmt, cst.ClassDef)
            }
        return self._class_names

    # -- the module as a whole -----------------------------------------------------------------
    def leave_Module(self, node: cst.Module) -> None:
        heartbeats = self._heartbeat_units()
        self.facts.heartbeat_functions = sorted(
            f"{self._module_key}.{key}" for key in heartbeats if self._units[key].klass is None
        )
        self.facts.literal_functions = sorted(
            f"{self._module_key}.{key}" for key, data in self._units.items()
            if data.klass is None and data.returns and all(data.returns)
        )
        relevant = self.facts.workflows or self._api or any(u.activity is not None for u in self._units.values())
        if not relevant:
            return  # nothing Temporal here: no positions to compute, no units to keep
        workflow_units = self._workflow_code()
        raising_units = self._workflow_code(exclude=("query", "validator"))
        for key, data in self._units.items():
            is_workflow = key in workflow_units
            unit = Unit(
                key,
                data.node.name.value,
                data.klass,
                data.node.asynchronous is not None,
                self.ctx.span(data.node.name),
                activity=data.activity is not None,
                handler=data.handler,
                workflow=is_workflow,
                node=data.node,
            )
            self.facts.units.append(unit)
            if data.activity is not None:
                self.facts.activities.append(
                    ActivityDef(
                        data.node.name.value,
                        key,
                        f"{self._module_key}.{key}",
                        data.activity,
                        unit.is_async,
                        unit.span,
                        key in heartbeats,
                        self._helpers(key),
                        self._busy_loops(data.node),
                        node=data.node,
                    )
                )
            if is_workflow or data.activity is not None:
                for call, name, frame in data.calls:
                    self.facts.calls.append(
                        CallSite(
                            key,
                            "" if _root(call.func) in data.local_names else name,
                            awaited=id(call) in self._awaited,
                            statement=id(call) in self._statements,
                            direct=not frame.nested,
                            in_async=frame.is_async,
                            has_args=bool(call.args),
                            node=call,
                        )
                    )
            if is_workflow:
                self.facts.environ.extend(EnvironAccess(key, n) for n in data.environ)
                for call, _name, _frame in data.calls:
                    if _root(call.func) in data.local_names:
                        continue
                    target = self.reference(call.func)
                    if target is not None and not target.startswith(("temporalio.", "asyncio.")):
                        self.facts.workflow_calls.append(
                            WorkflowCall(target, self.ctx.span(call), id(call) in self._awaited)
                        )
            if key in raising_units:
                owner = self._owner_class(key)
                failure = None if owner is None else next(
                    (w.failure_types for w in self.facts.workflows if w.qualname == owner), None
                )
                for exc, caught in data.raises:
                    if caught:
                        continue
                    raised = exc.func if isinstance(exc, cst.Call) else exc
                    exception = self.exception_name(raised)
                    if exception is not None:
                        self.facts.raises.append(WorkflowRaise(exception, self.ctx.span(raised), owner, failure))
        script_units = self._script_units()
        for api in self._api:
            in_workflow = api.unit is not None and api.unit in workflow_units
            script = api.unit in script_units if api.unit is not None else id(api.node) in self._main_calls
            self.facts.api_calls.append(dataclasses.replace(api, in_workflow=in_workflow, script=script))

    def _script_units(self) -> set[str]:
        """Module-level functions the `__main__` block reaches and no other code of the module does.

        Reached means called by name (or named, as in `asyncio.run(main)`) there or in a function so
        reached. Every other function, method and module-level statement may be an entry point
        called from elsewhere, so what it reaches is not script-only; activities neither.
        """
        if not self._main_names:
            return set()
        script = self._reach_functions(
            {n for n in self._main_names if n in self._units and self._units[n].klass is None}
        )
        elsewhere = {key for key in self._units if key not in script or self._units[key].activity is not None}
        elsewhere |= {n for n in self._module_names if n in self._units}
        return script - self._reach_functions(elsewhere)

    def _reach_functions(self, roots: set[str]) -> set[str]:
        """`roots` and the module-level functions they call by name, transitively."""
        reach = set(roots)
        todo = list(roots)
        while todo:
            for kind, name in self._units[todo.pop()].callees:
                if kind == "func" and name not in reach and name in self._units and self._units[name].klass is None:
                    reach.add(name)
                    todo.append(name)
        return reach

    def _owner_class(self, key: str) -> str | None:
        klass = self._units[key].klass
        if klass in self._classes:
            return klass
        owners = {self._units[k].klass for k in self._callers_closure(key) if self._units[k].klass in self._classes}
        return owners.pop() if len(owners) == 1 else None

    def _callers_closure(self, key: str) -> set[str]:
        seen: set[str] = set()
        todo = [key]
        while todo:
            current = todo.pop()
            for caller in self._callers(current):
                if caller not in seen:
                    seen.add(caller)
                    todo.append(caller)
        return seen

    def _callers(self, key: str) -> list[str]:
        target = self._units[key]
        out = []
        for k, data in self._units.items():
            if (
                (target.klass is None and ("func", key) in data.callees)
                or (
                    target.klass is not None
                    and data.klass == target.klass
                    and ("self", target.node.name.value) in data.callees
                )
            ):
                out.append(k)
        return out

    def _workflow_code(self, exclude: tuple[str, ...] = ()) -> set[str]:
        """Units reachable from workflow handlers, minus module functions other code calls too."""
        # Temporal builds the workflow object in the sandbox too: __init__ is workflow code.
        roots = {
            key for key, data in self._units.items()
            if data.klass in self._classes
            and (data.handler is not None and data.handler not in exclude or data.node.name.value == "__init__")
        }
        blocked: set[str] = set()
        reach = self._reachable(roots, blocked)
        while True:
            shared = {
                key for key in reach
                if self._units[key].klass is None
                and (key in self._module_callees or any(c not in reach for c in self._callers(key)))
            }
            if not shared:
                return reach
            blocked |= shared
            reach = self._reachable(roots, blocked)

    def _reachable(self, roots: set[str], blocked: set[str]) -> set[str]:
        reach = set(roots)
        todo = list(roots)
        while todo:
            data = self._units[todo.pop()]
            for kind, name in data.callees:
                key = name if kind == "func" else f"{data.klass}.{name}" if data.klass else None
                if key is None or key in reach or key in blocked or key not in self._units:
                    continue
                callee = self._units[key]
                if callee.activity is not None or (kind == "func" and callee.klass is not None):
                    continue
                reach.add(key)
                todo.append(key)
        return reach

    def _helpers(self, key: str) -> tuple[str, ...]:
        """Imported functions a unit calls, itself or through the functions of this module it calls."""
        seen = {key}
        todo = [key]
        found: set[str] = set()
        while todo:
            data = self._units[todo.pop()]
            found |= data.imported
            for kind, name in data.callees:
                callee = name if kind == "func" else f"{data.klass}.{name}" if data.klass else None
                if callee in self._units and callee not in seen:
                    seen.add(callee)
                    todo.append(callee)
        return tuple(sorted(found))

    def _busy_loops(self, function: cst.FunctionDef) -> tuple[BusyLoop, ...]:
        """Loops whose body does I/O, sleeps or awaits (an `async for` awaits by itself), outer loops
        first, except those over a collection written in the code (see _fixed_iter)."""
        imports = self.ctx.imports
        found: list[BusyLoop] = []
        bindings = _Bindings()
        walk(function, bindings)

        def slow(body: cst.CSTNode) -> bool:
            hit = [False]

            class Work(cst.CSTVisitor):
                def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
                    return False

                def visit_Lambda(self, node: cst.Lambda) -> bool:
                    return False

                def visit_Await(self, node: cst.Await) -> None:
                    hit[0] = True

                def visit_Call(self, node: cst.Call) -> None:
                    name = imports.qualify(node.func) or ""
                    if name in SLEEPS or blocking(name) or io_call(name, builtin_ok=False):
                        hit[0] = True

            walk(body, Work())
            return hit[0]

        collector = self

        class Loops(cst.CSTVisitor):
            def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
                return node is function

            def visit_Lambda(self, node: cst.Lambda) -> bool:
                return False

            def visit_For(self, node: cst.For) -> None:
                if node.asynchronous is not None:
                    found.append(BusyLoop(collector.ctx.span(node), "async for"))
                elif slow(node.body):
                    fixed, source = collector._fixed_iter(node.iter, bindings)
                    if not fixed:
                        found.append(BusyLoop(collector.ctx.span(node), "for", source))

            def visit_While(self, node: cst.While) -> None:
                if slow(node.body):
                    found.append(BusyLoop(collector.ctx.span(node), "while"))

        walk(function, Loops())
        return tuple(found)

    def _fixed_iter(self, expr: cst.BaseExpression, bindings: _Bindings) -> tuple[bool, str | None]:
        """Whether a `for` iterates a fixed collection written in the code: a literal list, tuple,
        set or dict (or its .items()/.keys()/.values()), `range(n)` for a literal n <= SMALL_RANGE,
        enumerate()/sorted()/... of one, or a name bound once to one (in the function, else at
        module level). Else the project function whose result it iterates, when it is a call."""
        if _literal(expr) or (
            isinstance(expr, cst.Dict) and not any(isinstance(e, cst.StarredDictElement) for e in expr.elements)
        ):
            return True, None
        if isinstance(expr, cst.Name):
            bound = bindings.single(expr.value)
            if bound is None and expr.value not in bindings.names:
                bound = self._module_constants.get(expr.value)
            if bound is None:
                return False, None
            return self._fixed_iter(bound, bindings)
        if not isinstance(expr, cst.Call):
            return False, None
        func = expr.func
        args = [a for a in expr.args if a.keyword is None and not a.star]
        if isinstance(func, cst.Attribute) and func.attr.value in ("items", "keys", "values") and not expr.args:
            return self._fixed_iter(func.value, bindings)[0], None
        if isinstance(func, cst.Name) and func.value not in bindings.names and func.value not in self._units:
            if func.value == "range":
                return _small_range(args) and len(args) == len(expr.args), None
            if func.value in _SAME_ITEMS and args:
                return self._fixed_iter(args[0].value, bindings)[0], None
        if _root(func) in bindings.names:
            return False, None  # a method of a local value
        return False, self.reference(func)

    @property
    def _module_constants(self) -> dict[str, cst.BaseExpression]:
        """Module-level names assigned once, with that value (and not grown by a method call)."""
        if self._constants is None:
            counts: dict[str, int] = {}
            values: dict[str, cst.BaseExpression] = {}
            for stmt in self.ctx.module.body:
                if not isinstance(stmt, cst.SimpleStatementLine):
                    continue
                for small in stmt.body:
                    targets: list[cst.BaseExpression] = []
                    value: cst.BaseExpression | None = None
                    if isinstance(small, cst.Assign):
                        targets = [t.target for t in small.targets]
                        value = small.value if len(small.targets) == 1 else None
                    elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                        targets = [small.target]
                        value = small.value if isinstance(small, cst.AnnAssign) else None
                    for target in targets:
                        if isinstance(target, cst.Name):
                            counts[target.value] = counts.get(target.value, 0) + 1
                            if value is not None:
                                values[target.value] = value
            self._constants = {name: values[name] for name, n in counts.items() if n == 1 and name in values}
        return self._constants

    def _heartbeat_units(self) -> set[str]:
        beating = {key for key, data in self._units.items() if data.heartbeat}
        changed = True
        while changed:
            changed = False
            for key, data in self._units.items():
                if key in beating:
                    continue
                for kind, name in data.callees:
                    callee = name if kind == "func" else f"{data.klass}.{name}" if data.klass else None
                    if callee in beating:
                        beating.add(key)
                        changed = True
                        break
        return beating


def _is_heartbeat(name: str) -> bool:
    """`activity.heartbeat`, a project's `heartbeat()` / `send_heartbeat` helper; not `heartbeat_timeout`."""
    lowered = name.lower()
    return "heartbeat" in lowered and not lowered.endswith(("_timeout", "_details"))


def _root(expr: cst.BaseExpression) -> str | None:
    text = dotted(expr)
    return text.split(".")[0] if text else None


def _literal(expr: cst.BaseExpression) -> bool:
    """A list, tuple or set display without `*spread` elements."""
    return isinstance(expr, (cst.List, cst.Tuple, cst.Set)) and not any(
        isinstance(e, cst.StarredElement) for e in expr.elements
    )


def _small_range(args: list[cst.Arg]) -> bool:
    """`range(n)` or `range(a, b)` with integer literals, at most SMALL_RANGE steps."""
    values = [a.value.evaluated_value if isinstance(a.value, cst.Integer) else None for a in args]
    if not values or len(values) > 2 or any(v is None for v in values):
        return False
    bounds = [v for v in values if v is not None]
    return (bounds[-1] - (bounds[0] if len(bounds) == 2 else 0)) <= SMALL_RANGE


def _is_main_test(test: cst.BaseExpression) -> bool:
    """`__name__ == "__main__"`, either way round."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal):
        return False
    sides = (test.left, target.comparator)
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [s for s in sides if isinstance(s, cst.SimpleString) and s.evaluated_value == "__main__"]
    return len(names) == 1 and len(strings) == 1


class _Bindings(cst.CSTVisitor):
    """The names a function binds, and for each the value when it is bound once by a plain
    assignment and never grown in place (`name.append(...)`, `name += ...`, `name[k] = ...`)."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self._values: dict[str, list[cst.BaseExpression | None]] = {}
        self._grown: set[str] = set()

    def single(self, name: str) -> cst.BaseExpression | None:
        values = self._values.get(name, [])
        return values[0] if len(values) == 1 and name not in self._grown else None

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            self.names.add(target.value)
            self._values.setdefault(target.value, []).append(value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._bind(el.value, None)
        elif isinstance(target, cst.StarredElement):
            self._bind(target.value, None)
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            self._grown.add(target.value.value)

    def visit_Param(self, node: cst.Param) -> None:
        self._bind(node.name, None)

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._bind(t.target, node.value if len(node.targets) == 1 else None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target, None)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target, None)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, None)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _GROWS and isinstance(func.value, cst.Name):
            self._grown.add(func.value.value)
