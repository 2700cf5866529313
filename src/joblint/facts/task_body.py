"""What a task body does, as plain data: the calls it makes, its `retry` calls, what it returns.

The project stage cannot see libcst nodes, yet rules such as non-idempotent-retry need both the
body (file) and the task's effective options (project). So each task body is summarised once,
at the end of the module's traversal, into `TaskBody`; the judgement (which call is a side
effect, which a guard) stays with the rules (`rules/_effects.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import libcst as cst

from ..findings import Span
from .names import dotted
from .traverse import walk
from .values import Value
from .walker import WalkContext, literal

HTTP_MODULES = ("requests", "httpx", "urllib3", "aiohttp")
DATAFRAME_MODULES = ("pandas", "polars")
LARGE_METHODS = {"read": "file contents", "readlines": "file contents", "getvalue": "a buffer's contents"}
FRAME_METHODS = {"to_dict", "to_json", "to_csv", "to_records"}
QUERYSET_METHODS = {"values", "values_list"}
BYTES_CALLS = {"base64.b64encode": "base64 bytes", "base64.b64decode": "bytes", "base64.encodebytes": "base64 bytes"}


@dataclass(frozen=True)
class CallSite:
    """A call in a task body, as text: `requests.post`, `Payment.objects.create`, `r.set`."""

    name: str  # the callee as a chain: `Payment.objects.filter().create`
    qualified: str | None  # when the chain's root is imported
    keywords: dict[str, Any]  # keyword -> literal value (UNKNOWN when not a literal)
    strings: tuple[str, ...]  # string literals among the arguments, and keys of dict arguments
    span: Span
    new_object: bool = False  # a method of an object constructed in this task (`obj = Payment(...)`; `obj.save()`)
    new_class: str = ""  # the class of that object, as written (`Payment`)
    # Where the call sits, by index of the `try` statement (numbered in the body's order): in the
    # body of these `try`s, in an `except` handler of these (innermost last).
    tries: tuple[int, ...] = ()
    handlers: tuple[int, ...] = ()
    # The `with transaction.atomic():` blocks around it (0: the task function is `@transaction.atomic`).
    atomic: tuple[int, ...] = ()
    arg_names: tuple[str, ...] = ()  # plain names its arguments read (`order_id` in `filter(pk=order_id)`)
    # The module the call goes into, by its top-level package: the import its chain starts from
    # (`requests` for `requests.get(u).raise_for_status`), or the one the object it is called on
    # was made by in this body (`client = httpx.Client()`, `with httpx.Client() as client`,
    # `resp = requests.get(u)`: `httpx`, `requests`); "" when not known.
    library: str = ""
    raised: bool = False  # the exception of a `raise` statement: `raise MailerError(...)` (or `raise MailerError`)
    clause: int = 0  # the innermost `except` clause it sits in: 1 + its index in `TaskBody.handlers`; 0 for none
    finally_of: tuple[int, ...] = ()  # the `try`s whose `finally:` it sits in


@dataclass(frozen=True)
class Handler:
    """An `except` clause of a `try` in a task body."""

    try_index: int  # the `try` it belongs to (as in `CallSite.tries`)
    names: tuple[str, ...]  # the classes it catches, qualified when imported; "?" for an expression
    catches_all: bool  # a bare `except:`, `except Exception`/`BaseException` (alone or in a tuple)
    escapes: bool  # its body raises (`raise`, `raise X`) or calls the task's retry: the failure leaves it


@dataclass(frozen=True)
class RetryCall:
    receiver: str  # `self`, or the task's name
    span: Span  # the call
    bare: bool  # an expression statement: neither raised nor returned
    countdown: Value | None = None
    keywords: tuple[str, ...] = ()
    followed: bool = False  # another statement (not `pass`) follows it in its block: code written to run after it
    may_return: bool = False  # `throw=` other than a literal True, or `**kwargs`: the call may return


@dataclass(frozen=True)
class LargeReturn:
    what: str  # "file contents", "a HTTP response body", ...
    span: Span  # the returned expression


@dataclass(frozen=True)
class TaskBody:
    calls: tuple[CallSite, ...] = ()
    retries: tuple[RetryCall, ...] = ()
    returns: tuple[LargeReturn, ...] = ()
    handlers: tuple[Handler, ...] = ()  # the `except` clauses of the body's `try`s, in the body's order
    module_classes: tuple[str, ...] = ()  # the classes the task's module defines at its top level


def chain_text(expr: cst.BaseExpression) -> str:
    """`a.b().c[0].d` as text, calls marked with `()`; `?` for anything else."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return f"{chain_text(expr.value)}.{expr.attr.value}"
    if isinstance(expr, cst.Call):
        return f"{chain_text(expr.func)}()"
    if isinstance(expr, cst.Subscript):
        return f"{chain_text(expr.value)}[]"
    return "?"


def _strings(call: cst.Call) -> tuple[str, ...]:
    found: list[str] = []
    for arg in call.args:
        value = arg.value
        if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
            text = literal(value)
            if isinstance(text, str):
                found.append(text)
        elif isinstance(value, cst.Dict):
            for element in value.elements:
                if isinstance(element, cst.DictElement):
                    key = literal(element.key)
                    if isinstance(key, str):
                        found.append(key)
    return tuple(found)


class BodySummariser(cst.CSTVisitor):
    """Walks one task body (nested functions included: they run as part of the task)."""

    def __init__(self, ctx: WalkContext, bound_name: str | None, task_names: set[str], atomic: bool = False) -> None:
        super().__init__()
        self.ctx = ctx
        self.retry_receivers = ({bound_name} if bound_name else set()) | task_names | {"self"}
        self.calls: list[CallSite] = []
        self.retries: list[RetryCall] = []
        self.returns: list[LargeReturn] = []
        self._bare: set[int] = set()
        self._new_objects: dict[str, str] = {}  # name -> the class it was constructed from
        self._assigned: dict[str, str] = {}  # name -> what a large value assigned to it is
        self._sources: dict[str, str] = {}  # name -> "http" | "frame" | "queryset"
        self._depth = 0
        self._followed: set[int] = set()  # ids of expression-statement values with code after them
        # id(node) -> the regions it opens: ("try" | "handler" | "atomic" | "finally", index of its
        # statement) and ("clause", 1 + index of its `except` clause in `handlers`)
        self._regions: dict[int, list[tuple[str, int]]] = {}
        self._open: dict[str, list[int]] = {"try": [], "handler": [], "atomic": [], "clause": [], "finally": []}
        self._count = 0
        self.handlers: list[Handler] = []
        self._raised: set[int] = set()  # ids of the calls a `raise` statement raises
        self._origins: dict[str, str] = {}  # name -> the package the object bound to it came from
        self._arg_names: dict[int, tuple[str, ...]] = {}
        if atomic:
            self._open["atomic"].append(0)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.Try, cst.TryStar)):
            self._count += 1
            self._regions[id(node.body)] = [("try", self._count)]
            for handler in node.handlers:
                self.handlers.append(self._handler(handler, self._count))
                self._regions[id(handler)] = [("handler", self._count), ("clause", len(self.handlers))]
            if node.finalbody is not None:
                self._regions[id(node.finalbody)] = [("finally", self._count)]
        elif isinstance(node, cst.With):
            if any(_is_atomic(self.ctx, item.item) for item in node.items):
                self._count += 1
                self._regions[id(node.body)] = [("atomic", self._count)]
            for item in node.items:
                if item.asname is not None and isinstance(item.asname.name, cst.Name):
                    self._bind_origin(item.asname.name.value, item.item)
        elif isinstance(node, (cst.IndentedBlock, cst.SimpleStatementSuite, cst.Module)):
            self._note_followed(node.body)
        for kind, index in self._regions.get(id(node), ()):
            self._open[kind].append(index)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        for kind, _ in self._regions.get(id(original_node), ()):
            self._open[kind].pop()

    def _handler(self, handler: cst.ExceptHandler | cst.ExceptStarHandler, index: int) -> Handler:
        kind = handler.type
        elements = (
            [] if kind is None
            else [e.value for e in kind.elements] if isinstance(kind, cst.Tuple)
            else [kind]
        )
        names = tuple(self.ctx.imports.qualify(e) or dotted(e) or "?" for e in elements)
        catches_all = kind is None or any(n.rsplit(".", 1)[-1] in ("Exception", "BaseException") for n in names)
        return Handler(index, names, catches_all, _escapes(handler.body, self.retry_receivers))

    def _library(self, text: str) -> str:
        """The package a call chain (`requests.get().json`) goes into: its imported root, or the
        package the object its root name is bound to came from."""
        root = text.split(".", 1)[0].split("(", 1)[0].split("[", 1)[0]
        qualified = self.ctx.imports.qualify_text(root)
        if qualified:
            return qualified.split(".", 1)[0]
        return self._origins.get(root, "")

    def _bind_origin(self, name: str, value: cst.BaseExpression) -> None:
        self._origins.pop(name, None)
        if isinstance(value, cst.Await):
            value = value.expression
        if isinstance(value, cst.Call):
            library = self._library(chain_text(value.func))
            if library:
                self._origins[name] = library

    def _note_followed(self, body: Any) -> None:
        statements = list(body)
        for i, statement in enumerate(statements):
            smalls = list(statement.body) if isinstance(statement, cst.SimpleStatementLine) else [statement]
            later = [*smalls, *statements[i + 1:]]
            for j, small in enumerate(smalls):
                if isinstance(small, cst.Expr) and any(not _is_pass(x) for x in later[j + 1:]):
                    self._followed.add(id(small.value))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth += 1

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth -= 1

    def visit_Expr(self, node: cst.Expr) -> None:
        self._bare.add(id(node.value))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if not isinstance(target.target, cst.Name):
                continue
            name = target.target.value
            value = node.value
            self._new_objects.pop(name, None)
            self._assigned.pop(name, None)
            self._sources.pop(name, None)
            self._bind_origin(name, value)
            if isinstance(value, cst.Call):
                callee = dotted(value.func) or ""
                if callee[:1].isupper() and "." not in callee:
                    self._new_objects[name] = callee  # `obj = Payment(...)`
                source = self._source(value)
                if source is not None:
                    self._sources[name] = source
            what = self.large(value)
            if what is not None:
                self._assigned[name] = what

    def _source(self, call: cst.Call) -> str | None:
        qualified = self.ctx.imports.qualify(call.func) or ""
        root = qualified.split(".")[0]
        text = chain_text(call.func)
        if root in HTTP_MODULES:
            return "http"
        method = text.rsplit(".", 1)[-1]
        receiver = text.rsplit(".", 1)[0].lower() if "." in text else ""
        if method in ("get", "post", "request") and any(w in receiver for w in ("session", "client", "http")):
            return "http"
        if root in DATAFRAME_MODULES:
            return "frame"
        if ".objects." in f"{text}." and method not in ("get", "first", "last", "count", "exists", "create"):
            return "queryset"
        return None

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        keywords = {a.keyword.value: literal(a.value, self.ctx.imports) for a in node.args if a.keyword is not None}
        if isinstance(func, cst.Attribute) and func.attr.value == "retry":
            receiver = dotted(func.value)
            if receiver in self.retry_receivers:
                countdown = next(
                    (
                        self.ctx.value(a.value)
                        for a in node.args
                        if a.keyword is not None and a.keyword.value == "countdown"
                    ),
                    None,
                )
                throw = keywords.get("throw", True)
                may_return = throw is not True or any(a.star == "**" for a in node.args)
                self.retries.append(
                    RetryCall(
                        receiver or "", self.ctx.span(node), id(node) in self._bare, countdown, tuple(keywords),
                        id(node) in self._followed, may_return,
                    )
                )
        text = chain_text(func)
        new_class = (
            self._new_objects.get(func.value.value, "")
            if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
            else ""
        )
        new_object = bool(new_class)
        self.calls.append(
            CallSite(
                text, self.ctx.imports.qualify(func), keywords, _strings(node), self.ctx.span(node), new_object,
                new_class, *self._where(), _names_read(node), self._library(text), id(node) in self._raised,
                self._open["clause"][-1] if self._open["clause"] else 0, tuple(self._open["finally"]),
            )
        )

    def _where(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        return tuple(self._open["try"]), tuple(self._open["handler"]), tuple(self._open["atomic"])

    def visit_Raise(self, node: cst.Raise) -> None:
        exc = node.exc
        if isinstance(exc, cst.Call):
            self._raised.add(id(exc))
            return
        text = dotted(exc) if exc is not None else None
        if text is None or not text.rsplit(".", 1)[-1][:1].isupper():
            return  # a re-raise (`raise`, `raise exc`): the failure of a step already recorded
        self.calls.append(  # `raise MailerError`: a step that fails, as if the class were called
            CallSite(
                text, self.ctx.imports.qualify(exc) if exc is not None else None, {}, (), self.ctx.span(node),
                tries=self._where()[0], handlers=self._where()[1], atomic=self._where()[2],
                library=self._library(text), raised=True,
                clause=self._open["clause"][-1] if self._open["clause"] else 0,
                finally_of=tuple(self._open["finally"]),
            )
        )

    def visit_Return(self, node: cst.Return) -> None:
        if self._depth or node.value is None:
            return
        what = self.large(node.value)
        if what is not None:
            self.returns.append(LargeReturn(what, self.ctx.span(node.value)))

    def large(self, expr: cst.BaseExpression) -> str | None:
        """What makes a returned value large, or None."""
        if isinstance(expr, cst.Name):
            return self._assigned.get(expr.value)
        if isinstance(expr, cst.Attribute) and expr.attr.value == "content":
            if isinstance(expr.value, cst.Name) and self._sources.get(expr.value.value) == "http":
                return "an HTTP response body"
            return None
        if not isinstance(expr, cst.Call):
            return None
        func = expr.func
        qualified = self.ctx.imports.qualify(func) or ""
        if qualified in BYTES_CALLS:
            return BYTES_CALLS[qualified]
        if isinstance(func, cst.Name) and func.value in ("list", "bytes", "bytearray") and expr.args:
            inner = expr.args[0].value
            if func.value == "list" and self._is_queryset(inner):
                return "a whole queryset"
            if func.value != "list" and isinstance(inner, cst.Name) and inner.value in self._assigned:
                return self._assigned[inner.value]
            return None
        if not isinstance(func, cst.Attribute):
            return None
        method = func.attr.value
        if method in LARGE_METHODS:
            return LARGE_METHODS[method]
        if method in FRAME_METHODS and self._is_frame(func.value):
            return "a serialised data frame"
        if method in QUERYSET_METHODS and self._is_queryset(func.value):
            return "a whole queryset"
        return None

    def _is_frame(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Name):
            return self._sources.get(expr.value) == "frame" or expr.value == "df" or expr.value.endswith("_df")
        return (
            isinstance(expr, cst.Call)
            and (self.ctx.imports.qualify(expr.func) or "").split(".")[0] in DATAFRAME_MODULES
        )

    def _is_queryset(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Name):
            return self._sources.get(expr.value) == "queryset"
        text = chain_text(expr)
        if "[]" in text:
            return False  # sliced: bounded
        return ".objects." in f"{text}." and not text.endswith(
            (".get()", ".first()", ".last()", ".count()", ".exists()")
        )


def _is_atomic(ctx: WalkContext, expr: cst.BaseExpression) -> bool:
    """`transaction.atomic()` / `atomic(using=...)` (Django) as a context manager or decorator."""
    func = expr.func if isinstance(expr, cst.Call) else expr
    name = ctx.imports.qualify(func) or dotted(func) or ""
    return name.endswith("transaction.atomic")


def _escapes(body: cst.BaseSuite, receivers: set[str]) -> bool:
    """An `except` clause's body raises or retries (outside functions defined in it)."""
    stack: list[cst.CSTNode] = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Raise):
            return True
        if (
            isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "retry"
            and dotted(node.func.value) in receivers
        ):
            return True
        if not isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            stack.extend(node.children)
    return False


def _is_pass(statement: cst.CSTNode) -> bool:
    if isinstance(statement, cst.SimpleStatementLine):
        return all(isinstance(small, cst.Pass) for small in statement.body)
    return isinstance(statement, cst.Pass)


def _names_read(call: cst.Call) -> tuple[str, ...]:
    """The plain names a call's arguments read, outside lambdas and comprehensions' own names."""
    found: list[str] = []
    stack: list[cst.CSTNode] = [arg.value for arg in call.args]
    while stack and len(found) < 64:
        node = stack.pop()
        if isinstance(node, cst.Name):
            found.append(node.value)
        elif isinstance(node, cst.Attribute):
            stack.append(node.value)  # `obj.pk` reads `obj`, not a name `pk`
        elif not isinstance(node, cst.Lambda):
            stack.extend(node.children)
    return tuple(dict.fromkeys(found))


def summarise(ctx: WalkContext, node: cst.FunctionDef, bound_name: str | None, task_names: set[str]) -> TaskBody:
    atomic = any(_is_atomic(ctx, d.decorator) for d in node.decorators)
    summariser = BodySummariser(ctx, bound_name, task_names, atomic)
    walk(node.body, summariser)
    classes = tuple(s.name.value for s in ctx.module.body if isinstance(s, cst.ClassDef))
    return TaskBody(
        tuple(summariser.calls), tuple(summariser.retries), tuple(summariser.returns), tuple(summariser.handlers),
        classes,
    )
