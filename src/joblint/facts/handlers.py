"""Request handlers: the functions a web framework calls for a request.

- Django function views: module-level functions of `views.py` (or a module under `views/`) whose
  first parameter is `request`, and DRF `@api_view` functions;
- class-based views: the HTTP and DRF action methods of classes deriving from Django, DRF or
  Ninja views (or, in a views module, from a class whose name ends in View/ViewSet);
- Flask/Quart/Sanic and FastAPI/Starlette/Litestar routes: functions decorated with
  `@<app or router>.route(...)`, `.get(...)`, `.post(...)`, ... in a module importing that framework.

Calls made inside handlers that may run a task inline (`task(...)`, `task.run(...)`) are
recorded here too, with whether the handler uses the value the call returns (`ok = task(...)`,
`return task(...)`, `if task(...):`) or discards it (a statement of its own); the project stage
decides which name a task. `task.apply(...)` is not: it is
Celery's explicit API for running a task synchronously, a choice rather than a slip. A call in one
arm of an if/else or a try/except whose other arm sends the same callee
(`.delay()`, `.apply_async()`) is marked as that send's alternative: a feature-flag or
broker-down fallback (`if settings.USE_QUEUE: notify.delay(pk) else: notify(pk)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from ..findings import Span
from .names import dotted
from .walker import WalkContext

ROUTE_FRAMEWORKS = ("flask", "fastapi", "starlette", "quart", "sanic", "litestar", "aiohttp", "bottle")
VIEW_FRAMEWORKS = ("django", "rest_framework", "ninja")
ROUTE_METHODS = {"route", "api_route", "get", "post", "put", "patch", "delete", "head", "options", "websocket"}
HANDLER_METHODS = {
    "get", "post", "put", "patch", "delete", "head", "options",
    "list", "create", "retrieve", "update", "partial_update", "destroy",
    "form_valid", "perform_create", "perform_update", "perform_destroy",
}
VIEW_BASE_SUFFIXES = ("View", "ViewSet", "APIView", "ViewSetMixin")
DRF_DECORATORS = {"rest_framework.decorators.api_view", "rest_framework.decorators.action"}
INLINE_METHODS = {"run"}
SEND_METHODS = {"delay", "apply_async", "delay_on_commit", "apply_async_on_commit"}


@dataclass(frozen=True)
class Handler:
    qualname: str
    framework: str  # "django" | "drf" | "flask" | "fastapi" | ...
    span: Span  # the function name


@dataclass(frozen=True)
class HandlerCall:
    """A call in a handler that runs a task inline if its callee is a task."""

    target: str  # dotted text of the callee (without `.run`/`.apply`)
    qualified: str | None
    method: str  # "call" | "run"
    span: Span
    handler: str  # qualname of the handler
    # Whether the value the call returns is used (anything but a statement of its own, `await`ed
    # or not): the handler needs the result now, which `.delay()` would not give it.
    value_used: bool = True
    # In an arm of an if/else or try/except whose other arm sends the same callee with
    # `.delay()`/`.apply_async()`: the deliberate synchronous alternative of a queued send.
    alternative: bool = False


@dataclass
class HandlerFacts:
    handlers: list[Handler] = field(default_factory=list)
    calls: list[HandlerCall] = field(default_factory=list)


def is_views_module(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    return parts[-1] in ("views.py", "api.py", "viewsets.py") or "views" in parts[:-1]


class HandlerCollector:
    def __init__(self, ctx: WalkContext) -> None:
        self.ctx = ctx
        self.facts = HandlerFacts()
        self._stack: list[Handler | None] = []
        self._discarded: set[int] = set()  # ids of calls that are statements of their own
        self._alternatives: set[int] = set()  # ids of calls whose other arm sends the same callee

    def visit_Expr(self, node: cst.Expr) -> None:
        value = node.value
        if isinstance(value, cst.Await):
            value = value.expression
        if isinstance(value, cst.Call) and self._stack and self._stack[-1] is not None:
            self._discarded.add(id(value))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        outer = self._stack[-1] if self._stack else None
        # A function nested in a handler runs (if at all) during the request too.
        self._stack.append(outer or self._handler(node))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._stack.pop()

    def _handler(self, node: cst.FunctionDef) -> Handler | None:
        framework = self._framework(node)
        if framework is None:
            return None
        handler = Handler(
            ".".join([*(s.name for s in self.ctx.scopes), node.name.value]), framework, self.ctx.span(node.name)
        )
        self.facts.handlers.append(handler)
        return handler

    def _framework(self, node: cst.FunctionDef) -> str | None:
        imports = self.ctx.imports
        for decorator in node.decorators:
            expr = decorator.decorator
            func = expr.func if isinstance(expr, cst.Call) else expr
            qualified = imports.qualify(func) or ""
            if qualified in DRF_DECORATORS:
                return "drf"
            if (
                isinstance(expr, cst.Call)
                and isinstance(func, cst.Attribute)
                and func.attr.value in ROUTE_METHODS
                and imports.imports_from(*ROUTE_FRAMEWORKS)
                and self._route_path(expr)
            ):
                return next(f for f in ROUTE_FRAMEWORKS if imports.imports_from(f))
        if self.ctx.at_module_level:
            params = [*node.params.posonly_params, *node.params.params]
            if params and params[0].name.value == "request" and is_views_module(self.ctx.path):
                return "django"
            return None
        klass = self.ctx.klass
        if klass is not None and node.name.value in HANDLER_METHODS and self._is_view_class(klass.node):
            return "django"
        return None

    @staticmethod
    def _route_path(call: cst.Call) -> bool:
        """A route decorator names a path: a string first argument or `path=`/`rule=`."""
        for i, arg in enumerate(call.args):
            if arg.keyword is not None and arg.keyword.value in ("path", "rule"):
                return True
            if (
                i == 0
                and arg.keyword is None
                and isinstance(arg.value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString))
            ):
                return True
        return False

    def _is_view_class(self, node: cst.CSTNode) -> bool:
        assert isinstance(node, cst.ClassDef)
        imports = self.ctx.imports
        for arg in node.bases:
            text = dotted(arg.value)
            if text is None or arg.keyword is not None:
                continue
            qualified = imports.qualify(arg.value) or ""
            if qualified.split(".")[0] in VIEW_FRAMEWORKS and text.endswith(VIEW_BASE_SUFFIXES):
                return True
            if text.endswith(VIEW_BASE_SUFFIXES) and (
                is_views_module(self.ctx.path) or imports.imports_from(*VIEW_FRAMEWORKS)
            ):
                return True
        return False

    # -- calls inside handlers -----------------------------------------------------------------
    def visit_If(self, node: cst.If) -> None:
        if node.orelse is not None:
            self._arms([node.body, node.orelse])

    def visit_Try(self, node: cst.Try) -> None:
        if node.handlers:
            self._arms([node.body, *node.handlers])

    def _arms(self, arms: list[cst.CSTNode]) -> None:
        """Mark the calls of each arm whose callee another arm sends to a worker."""
        if not self._stack or self._stack[-1] is None:
            return
        scans = [_ArmCalls() for _ in arms]
        for arm, scan in zip(arms, scans):
            arm.visit(scan)
        if not any(scan.sent for scan in scans):
            return
        for i, scan in enumerate(scans):
            others = set().union(*(other.sent for j, other in enumerate(scans) if j != i))
            self._alternatives.update(id(call) for call, target in scan.calls if target in others)

    def visit_Call(self, node: cst.Call) -> None:
        handler = self._stack[-1] if self._stack else None
        if handler is None:
            return
        func = node.func
        method = "call"
        if isinstance(func, cst.Attribute) and func.attr.value == "apply":
            return  # `task.apply(...)`: run synchronously on purpose
        if isinstance(func, cst.Attribute) and func.attr.value in INLINE_METHODS:
            method = func.attr.value
            func = func.value
        target = dotted(func)
        if target is None:
            return
        qualified = self.ctx.imports.qualify(func)
        if qualified is None and "." in target:
            return  # `obj.method(...)` on a local object: not a task named by the project
        used = id(node) not in self._discarded
        alternative = id(node) in self._alternatives
        self.facts.calls.append(
            HandlerCall(target, qualified, method, self.ctx.span(node), handler.qualname, used, alternative)
        )


class _ArmCalls(cst.CSTVisitor):
    """The callees an arm sends (`x.delay()`: `x`) and its calls with their callee (`x(...)`,
    `x.run(...)`: `x`)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: set[str] = set()
        self.calls: list[tuple[cst.Call, str]] = []

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in SEND_METHODS:
            target = dotted(func.value)
            if target is not None:
                self.sent.add(target)
            return
        if isinstance(func, cst.Attribute) and func.attr.value in INLINE_METHODS:
            func = func.value
        target = dotted(func)
        if target is not None:
            self.calls.append((node, target))
