"""One traversal per file, shared by every collector.

Collectors are small classes with libcst-style `visit_<Node>` / `leave_<Node>` methods. The walker
dispatches each node to the collectors that handle its type, tracks the enclosing classes and
functions, and keeps the import map. Positions are resolved once, after the traversal, and only
when some collector asked for a span: most parsed files record nothing.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from itertools import accumulate
from typing import Any, Callable

import libcst as cst
from libcst._nodes.internal import CodegenState

from ..findings import Span
from .names import ImportMap, dotted
from .values import UNKNOWN, Value

NEWLINE_RE = re.compile(r"\r\n?|\n")  # what libcst counts as a line end


class Scope:
    """An enclosing class or function."""

    __slots__ = ("kind", "name", "node")

    def __init__(self, kind: str, name: str, node: cst.CSTNode) -> None:
        self.kind = kind  # "class" | "function"
        self.name = name
        self.node = node


class WalkContext:
    """What collectors share during one traversal."""

    def __init__(self, module: cst.Module, imports: ImportMap, path: str) -> None:
        self.module = module
        self.imports = imports
        self.path = path
        self.scopes: list[Scope] = []
        # How many `if`/`match` statements enclose the node being visited: a setting written under
        # one is a choice the project makes per environment.
        self.branches = 0
        self.statement = 0  # index of the top-level statement being walked
        self._pending: list[tuple[Span, cst.CSTNode, int]] = []

    # -- positions -----------------------------------------------------------------------------
    def span(self, node: cst.CSTNode) -> Span:
        """A span for `node`; filled in by `resolve_spans` after the traversal."""
        span = Span(0, 0, 0, 0)
        self._pending.append((span, node, self.statement))
        return span

    def resolve_spans(self, text: str | None = None) -> None:
        """Fill the requested spans, generating code only for the statements that hold one.

        libcst's PositionProvider costs about twice the parse; `Positions` gives the same ranges
        for a fraction of that. With the source text at hand, only the top-level statements that
        hold a fact are generated (`StatementPositions`); otherwise everything up to the last one.
        """
        if not self._pending:
            return
        wanted = sorted({index for _, _, index in self._pending})
        positions: Positions | StatementPositions | None = None
        if text is not None:
            nodes: dict[int, set[cst.CSTNode]] = {}
            for _, node, index in self._pending:
                nodes.setdefault(index, set()).add(node)
            positions = StatementPositions.build(self.module, text, wanted, nodes)
        if positions is None:
            positions = Positions(self.module, wanted[-1], text)
        if any(node not in positions for _, node, _ in self._pending):
            # A span asked for after the traversal, or outside the statement being walked.
            positions = Positions(self.module, text=text)
        for span, node, _ in self._pending:
            rng = positions[node]
            # Spans are frozen for everyone else; this is their one-time initialisation.
            object.__setattr__(span, "line", rng.start.line)
            object.__setattr__(span, "col", rng.start.column + 1)
            object.__setattr__(span, "end_line", rng.end.line)
            object.__setattr__(span, "end_col", rng.end.column + 1)
        self._pending.clear()

    # -- scopes --------------------------------------------------------------------------------
    @property
    def at_module_level(self) -> bool:
        return not self.scopes

    @property
    def function(self) -> Scope | None:
        for scope in reversed(self.scopes):
            if scope.kind == "function":
                return scope
        return None

    @property
    def klass(self) -> Scope | None:
        return self.scopes[-1] if self.scopes and self.scopes[-1].kind == "class" else None

    def qualname(self) -> str:
        return ".".join(s.name for s in self.scopes)

    # -- values --------------------------------------------------------------------------------
    def value(self, expr: cst.BaseExpression) -> Value:
        """The plain-data image of an expression (see `values.Value`)."""
        call = ""
        args: tuple[tuple[str, Value], ...] = ()
        if isinstance(expr, cst.Call):
            call = self.imports.qualify(expr.func) or dotted(expr.func) or ""
            args = tuple(
                (arg.keyword.value if arg.keyword is not None else "", self.value(arg.value))
                for arg in expr.args
                if not arg.star
            )
        return Value(
            literal(expr, self.imports),
            self.span(expr),
            items=self._items(expr),
            raw=string_source(expr),
            call=call,
            entries=self._entries(expr, call),
            args=args,
        )

    def _entries(self, expr: cst.BaseExpression, call: str) -> tuple[tuple[Value, Value], ...]:
        if isinstance(expr, cst.Dict):
            return tuple(
                (self.value(el.key), self.value(el.value)) for el in expr.elements if isinstance(el, cst.DictElement)
            )
        if isinstance(expr, cst.Call) and call == "dict":
            return tuple(
                (Value(arg.keyword.value, self.span(arg.keyword)), self.value(arg.value))
                for arg in expr.args
                if arg.keyword is not None
            )
        return ()

    def _items(self, expr: cst.BaseExpression) -> tuple[Value, ...]:
        if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
            return tuple(
                self.value(el.value) for el in expr.elements if isinstance(el, cst.Element)
            )
        return ()


class _Enough(Exception):
    """Every node asked for has its range: the rest of the statement need not be generated."""


class _TokenIndexState(CodegenState):
    """Plain code generation that notes, for every node, the token indices where it starts and ends.

    libcst's PositionProvidingCodegenState computes a line and column after every token (a regex
    split each time) and builds two position objects per node; noting token indices and turning
    only the wanted ones into lines and columns afterwards gives the same ranges about five
    times faster. Given the nodes wanted, generation stops once they all have their ranges.
    """

    def __init__(self, module: cst.Module, wanted: set[cst.CSTNode] | None = None) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.ranges: dict[cst.CSTNode, tuple[int, int]] = {}
        self._starts: list[int] = []
        self._wanted = set(wanted) if wanted else None
        self.stopped = False

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._starts.append(len(self.tokens))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._starts.pop()
        if node not in self.ranges:  # a syntactic position recorded inside the node wins
            self.ranges[node] = (start, len(self.tokens))
        if self._wanted is not None and node in self._wanted:
            self._wanted.discard(node)
            if not self._wanted:
                self.stopped = True
                raise _Enough

    def record_syntactic_position(  # type: ignore[override]
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
    ) -> _SyntacticPosition:
        return _SyntacticPosition(self, node, start_node, end_node)


class _SyntacticPosition:
    """The range of a node's own syntax (`record_syntactic_position`), as a plain context manager."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(
        self, state: _TokenIndexState, node: cst.CSTNode, start_node: cst.CSTNode | None, end_node: cst.CSTNode | None
    ) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = len(self.state.tokens)

    def __exit__(self, *exc: object) -> None:
        state = self.state
        if state.stopped:
            return  # generation was cut short: this node is not complete
        start, end = self.start, len(state.tokens)
        if self.start_node is not None:
            start = state.ranges[self.start_node][0]
        if self.end_node is not None:
            end = state.ranges[self.end_node][1]
        state.ranges[self.node] = (start, end)


class _Position:
    __slots__ = ("line", "column")

    def __init__(self, line: int, column: int) -> None:
        self.line = line  # 1-based
        self.column = column  # 0-based, in characters


class _Range:
    __slots__ = ("start", "end")

    def __init__(self, start: _Position, end: _Position) -> None:
        self.start = start
        self.end = end


class Positions:
    """The ranges libcst's PositionProvider gives (`positions[node].start.line`, `.column`, ...)."""

    def __init__(self, module: cst.Module, through: int | None = None, text: str | None = None) -> None:
        state = _TokenIndexState(module)
        if through is None:
            module._codegen(state)
        else:  # the header and the top-level statements up to `through`: later text moves nothing before it
            for line in module.header:
                line._codegen(state)
            for statement in module.body[: through + 1]:
                statement._codegen(state)
        self._ranges = state.ranges
        self._offsets = [0, *accumulate(len(token) for token in state.tokens)]
        code = "".join(state.tokens)
        self._line_starts = [0, *(m.end() for m in NEWLINE_RE.finditer(code))]
        self._shifts = _column_shifts(code, text) if text is not None and not text.startswith(code) else {}

    def __contains__(self, node: cst.CSTNode) -> bool:
        return node in self._ranges

    def __getitem__(self, node: cst.CSTNode) -> _Range:
        start, end = self._ranges[node]
        return _Range(self._position(start), self._position(end))

    def _position(self, token_index: int) -> _Position:
        offset = self._offsets[token_index]
        line = bisect_right(self._line_starts, offset)
        column = offset - self._line_starts[line - 1]
        shift = self._shifts.get(line)
        if shift is not None and column >= shift[0]:
            column += shift[1]
        return _Position(line, column)


_LEADING_WHITESPACE = re.compile(r"[ \t\f]*")


def _column_shifts(code: str, text: str) -> dict[int, tuple[int, int]]:
    """Where libcst's generated code and the source text differ, per line: (the generated line's
    indentation, how many more characters the text's has). libcst drops the form feeds (and the
    blanks around them) that start a statement's line, `\\fx = 1` generating `x = 1`: a column in
    the generated line past its indentation is that many characters further right in the text,
    where the edits made from it are applied. Lines that differ otherwise are left as they are."""
    shifts: dict[int, tuple[int, int]] = {}
    for number, (generated, actual) in enumerate(zip(NEWLINE_RE.split(code), NEWLINE_RE.split(text)), 1):
        if generated == actual or len(actual) <= len(generated):
            continue
        indent = _LEADING_WHITESPACE.match(generated).end()  # type: ignore[union-attr]
        text_indent = _LEADING_WHITESPACE.match(actual).end()  # type: ignore[union-attr]
        if generated[indent:] == actual[text_indent:]:
            shifts[number] = (indent, text_indent - indent)
    return shifts


class StatementPositions:
    """`Positions` for the nodes of some top-level statements, each generated on its own and placed
    where its text starts a line of the source, or, when that text starts several lines, where
    `ast` says the statement starts (checked against the source)."""

    def __init__(self) -> None:
        self._ranges: dict[cst.CSTNode, tuple[int, int, int]] = {}  # node -> (piece, start, end)
        self._pieces: list[tuple[int, list[int], list[int]]] = []  # first line, token offsets, line starts

    @classmethod
    def build(
        cls, module: cst.Module, text: str, wanted: list[int], nodes: dict[int, set[cst.CSTNode]] | None = None
    ) -> StatementPositions | None:
        """None when the statements cannot be placed (ast refuses the file, or a check fails).
        `nodes`: the nodes wanted in each statement; its code is generated only up to the last."""
        if not module.has_trailing_newline and wanted and wanted[-1] == len(module.body) - 1:
            return None  # its generated code ends in a newline the text lacks: it could be placed wrongly
        firsts: list[int] | None = None
        self = cls()
        for index in wanted:
            statement = module.body[index]
            state = _TokenIndexState(module, (nodes or {}).get(index))
            try:
                statement._codegen(state)
            except _Enough:
                pass
            code = "".join(state.tokens)  # the statement's code, or its beginning
            start = _only_line_start_match(text, code)
            if start is None:  # the statement's text also appears elsewhere: ask ast where it is
                firsts = firsts or _first_lines(module, text)
                if firsts is None:
                    return None
                start = _line_offset(text, firsts[index] - _leading_line_count(statement))
                if start is None or not text.startswith(code, start):
                    return None
            first = text.count("\n", 0, start) + 1 if "\r" not in text else len(NEWLINE_RE.findall(text, 0, start)) + 1
            piece = len(self._pieces)
            self._pieces.append((
                first,
                [0, *accumulate(len(token) for token in state.tokens)],
                [0, *(m.end() for m in NEWLINE_RE.finditer(code))],
            ))
            for node, (start, end) in state.ranges.items():
                self._ranges[node] = (piece, start, end)
        return self

    def __contains__(self, node: cst.CSTNode) -> bool:
        return node in self._ranges

    def __getitem__(self, node: cst.CSTNode) -> _Range:
        piece, start, end = self._ranges[node]
        return _Range(self._position(piece, start), self._position(piece, end))

    def _position(self, piece: int, token_index: int) -> _Position:
        first, offsets, line_starts = self._pieces[piece]
        offset = offsets[token_index]
        line = bisect_right(line_starts, offset)
        return _Position(first + line - 1, offset - line_starts[line - 1])


def _only_line_start_match(text: str, code: str) -> int | None:
    """Where `code` starts a line in `text`, when it does so exactly once. A top-level statement's
    generated code starts a line at its true place, so a single such match is that place."""
    found = None
    position = text.find(code)
    while position != -1:
        before = text[position - 1] if position else "\n"
        if before == "\n" or (before == "\r" and text[position] != "\n"):
            if found is not None:
                return None
            found = position
        position = text.find(code, position + 1)
    return found


def _line_offset(text: str, line: int) -> int | None:
    starts = [0, *(m.end() for m in NEWLINE_RE.finditer(text))]
    return starts[line - 1] if 1 <= line <= len(starts) else None


def _leading_line_count(statement: cst.CSTNode) -> int:
    """Lines libcst generates before the statement's first token: its leading blank and comment
    lines and, for a decorated definition, the first decorator's."""
    count = len(getattr(statement, "leading_lines", ()))
    decorators = getattr(statement, "decorators", ())
    if decorators:
        count += len(decorators[0].leading_lines)
    return count


def _first_lines(module: cst.Module, text: str) -> list[int] | None:
    """The line of each top-level statement's first token (a decorator's `@` included), from ast."""
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes and the like: libcst has parsed the file
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # syntax newer than this Python's ast, or odd line ends
    statements = tree.body
    firsts: list[int] = []
    position = 0
    for statement in module.body:
        if position >= len(statements):
            return None
        node = statements[position]
        decorators = getattr(node, "decorator_list", None)
        firsts.append(min([node.lineno, *(d.lineno for d in decorators or ())]))
        position += len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
    return firsts if position == len(statements) else None


_TIMEDELTA_SECONDS = {
    "weeks": 604800.0,
    "days": 86400.0,
    "hours": 3600.0,
    "minutes": 60.0,
    "seconds": 1.0,
    "milliseconds": 0.001,
    "microseconds": 0.000001,
}


def literal(expr: cst.BaseExpression, imports: ImportMap | None = None) -> Any:
    """The Python value of a literal expression, or UNKNOWN."""
    if isinstance(expr, cst.SimpleString):
        try:
            return expr.evaluated_value
        except Exception:  # noqa: BLE001 - odd prefixes (b'', u'') evaluate fine; be safe anyway
            return UNKNOWN
    if isinstance(expr, cst.FormattedString):
        return _plain_fstring(expr)
    if isinstance(expr, cst.ConcatenatedString):
        left, right = literal(expr.left, imports), literal(expr.right, imports)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        return UNKNOWN
    if isinstance(expr, cst.Integer):
        return expr.evaluated_value
    if isinstance(expr, cst.Float):
        return expr.evaluated_value
    if isinstance(expr, cst.Name):
        return {"True": True, "False": False, "None": None}.get(expr.value, UNKNOWN)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        inner = literal(expr.expression, imports)
        return -inner if isinstance(inner, (int, float)) and not isinstance(inner, bool) else UNKNOWN
    if isinstance(expr, cst.BinaryOperation):
        return _arith(expr, imports)
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        out = []
        for el in expr.elements:
            if not isinstance(el, cst.Element):
                return UNKNOWN
            out.append(literal(el.value, imports))
        if any(v is UNKNOWN for v in out):
            # A container is known when its elements are; keep the known strings for rules that
            # look for one member (pickle in accept_content) via Value.items.
            return UNKNOWN
        if isinstance(expr, cst.List):
            return out
        if isinstance(expr, cst.Set):
            return set(out) if all(_hashable(v) for v in out) else UNKNOWN
        return tuple(out)
    if isinstance(expr, cst.Dict):
        result = {}
        for entry in expr.elements:
            if not isinstance(entry, cst.DictElement):
                return UNKNOWN
            key = literal(entry.key, imports)
            if key is UNKNOWN or not _hashable(key):
                return UNKNOWN
            result[key] = literal(entry.value, imports)
        return result
    if isinstance(expr, cst.Call) and imports is not None:
        return _known_call(expr, imports)
    return UNKNOWN


def _fstring_text(expr: cst.FormattedString) -> str | None:
    """The text of an f-string without replacement fields, as written; None when it has fields."""
    parts = []
    for part in expr.parts:
        if not isinstance(part, cst.FormattedStringText):
            return None
        parts.append(part.value)
    return "".join(parts)


def _plain_fstring(expr: cst.FormattedString) -> Any:
    """An f-string without replacement fields (`f"redis://:pw@host/0"`) is the string it spells;
    one with fields is UNKNOWN."""
    text = _fstring_text(expr)
    if text is None:
        return UNKNOWN
    # Without fields every brace is doubled (`{{`); the rest reads as a plain string literal.
    prefix = expr.start[: -len(expr.end)].replace("f", "").replace("F", "")
    body = text.replace("{{", "{").replace("}}", "}")
    try:
        return cst.SimpleString(f"{prefix}{expr.end}{body}{expr.end}").evaluated_value
    except Exception:  # noqa: BLE001 - as for a plain string: be safe
        return UNKNOWN


def string_source(expr: cst.BaseExpression) -> str:
    """The source of a string literal whose value is known, quotes and prefix included: a plain
    string, or an f-string without fields (whose `f` prefix a fix must keep)."""
    if isinstance(expr, cst.SimpleString):
        return expr.value
    if isinstance(expr, cst.FormattedString):
        text = _fstring_text(expr)
        return "" if text is None else f"{expr.start}{text}{expr.end}"
    return ""


def _hashable(v: Any) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


def _arith(expr: cst.BinaryOperation, imports: ImportMap | None) -> Any:
    left, right = literal(expr.left, imports), literal(expr.right, imports)
    numbers = (int, float)
    if not (isinstance(left, numbers) and isinstance(right, numbers)):
        return UNKNOWN
    if isinstance(left, bool) or isinstance(right, bool):
        return UNKNOWN
    op = expr.operator
    try:
        if isinstance(op, cst.Add):
            return left + right
        if isinstance(op, cst.Subtract):
            return left - right
        if isinstance(op, cst.Multiply):
            return left * right
        if isinstance(op, cst.Divide):
            return left / right
        if isinstance(op, cst.FloorDivide):
            return left // right
        if isinstance(op, cst.Power) and abs(right) <= 64:
            return left**right
    except (ArithmeticError, ValueError):
        return UNKNOWN
    return UNKNOWN


def _known_call(call: cst.Call, imports: ImportMap) -> Any:
    """`timedelta(...)` is a literal duration for the time-limit rules: its value is seconds."""
    name = imports.qualify(call.func)
    if name not in ("datetime.timedelta",):
        return UNKNOWN
    total = 0.0
    positional = ("days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks")
    for i, arg in enumerate(call.args):
        if arg.star:
            return UNKNOWN
        unit = arg.keyword.value if arg.keyword is not None else (
            positional[i] if i < len(positional) else None
        )
        value = literal(arg.value, imports)
        if unit not in _TIMEDELTA_SECONDS or isinstance(value, bool) or not isinstance(value, (int, float)):
            return UNKNOWN
        total += value * _TIMEDELTA_SECONDS[unit]
    return total


Handler = Callable[[cst.CSTNode], Any]


class Walker(cst.CSTVisitor):
    """Dispatches one traversal to many collectors."""

    def __init__(self, ctx: WalkContext, collectors: list[Any]) -> None:
        super().__init__()
        self.ctx = ctx
        self.collectors = collectors
        self._statements = {id(stmt): i for i, stmt in enumerate(ctx.module.body)}
        self._visit: dict[type, list[Handler]] = defaultdict(list)
        self._leave: dict[type, list[Handler]] = defaultdict(list)
        self._known: set[type] = set()

    def _handlers(self, node_type: type) -> None:
        name = node_type.__name__
        for c in self.collectors:
            v = getattr(c, f"visit_{name}", None)
            if v is not None:
                self._visit[node_type].append(v)
            leave = getattr(c, f"leave_{name}", None)
            if leave is not None:
                self._leave[node_type].append(leave)
        self._known.add(node_type)

    def on_visit(self, node: cst.CSTNode) -> bool:
        t = type(node)
        if t not in self._known:
            self._handlers(t)
        index = self._statements.get(id(node))
        if index is not None:
            self.ctx.statement = index
        if t is cst.Import or t is cst.ImportFrom:
            self.ctx.imports.add(node)  # type: ignore[arg-type]
        elif index is not None and t is cst.SimpleStatementLine:
            self.ctx.imports.bind(node, self.ctx.module)  # type: ignore[arg-type]  # `Celery = celery.Celery`
        descend = True
        for handler in self._visit[t]:
            if handler(node) is False:
                descend = False
        if t is cst.If or t is cst.Match:
            self.ctx.branches += 1
        if t is cst.ClassDef:
            self.ctx.scopes.append(Scope("class", node.name.value, node))  # type: ignore[attr-defined]
        elif t is cst.FunctionDef:
            self.ctx.scopes.append(Scope("function", node.name.value, node))  # type: ignore[attr-defined]
        return descend

    def on_leave(self, original_node: cst.CSTNode) -> None:
        t = type(original_node)
        if t is cst.ClassDef or t is cst.FunctionDef:
            self.ctx.scopes.pop()
        elif t is cst.If or t is cst.Match:
            self.ctx.branches -= 1
        for handler in self._leave[t]:
            handler(original_node)
