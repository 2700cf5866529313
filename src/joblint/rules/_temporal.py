"""What the Temporal rules share: the pre-filter words of Temporal files, workflow code's calls,
resolving names through a file's imports, importing a module in a fix, and reading the keyword
arguments of workflow API calls.

A helper module: `all_rules()` does not load it, and it never imports a rule module.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from ..context import FileContext
from ..facts.names import ImportMap
from ..facts.temporal import ApiCall, CallSite
from ..findings import Edit, Span
from ..source import line_starts
from . import all_of

# Temporal facts need names imported from temporalio, and a workflow or activity definition, a
# client start, a helper starting activities or child workflows, a with-start operation, a
# Worker, or a heartbeat (a helper that activities call).
WORDS = all_of(
    ("temporalio",),
    (
        "defn", "start_workflow", "execute_workflow", "child_workflow(", "activity(", "activity_method(",
        "activity_class(", "workflowoperation", "worker(", "heartbeat(",
    ),
)
WORKFLOW = "temporalio.workflow"


def imports_of(ctx: FileContext) -> ImportMap:
    imports = ImportMap(ctx.facts.module, ctx.facts.is_package)
    imports.aliases = dict(ctx.facts.imports)
    return imports


def qualify(ctx: FileContext, expr: cst.BaseExpression) -> str | None:
    return imports_of(ctx).qualify(expr)


def workflow_calls(ctx: FileContext) -> Iterator[CallSite]:
    units = {u.key for u in ctx.facts.temporal.units if u.workflow}
    return (c for c in ctx.facts.temporal.calls if c.unit in units and c.node is not None)


def module_names(ctx: FileContext) -> set[str]:
    """Names bound at module level other than by imports: defs, classes, assignments."""
    names = {a.name for a in ctx.facts.core.assignments}
    for stmt in ctx.module.body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            names.add(stmt.name.value)
    return names


def module_alias(ctx: FileContext, module: str, default: str, statement: str) -> tuple[str, list[Edit]] | None:
    """The local name of `module`, and the edits that import it when the file does not.

    None when the name the import would bind is already taken by something else.
    """
    for local, full in sorted(ctx.facts.imports.items()):
        if full == module:
            return local, []
    if default in ctx.facts.imports or default in module_names(ctx):
        return None
    return default, [import_edit(ctx, statement)]


def workflow_alias(ctx: FileContext) -> tuple[str, list[Edit]] | None:
    return module_alias(ctx, WORKFLOW, "workflow", "from temporalio import workflow")


def import_edit(ctx: FileContext, statement: str) -> Edit:
    """Insert `statement` on its own line after the last top-level import (or the docstring)."""
    anchor: cst.CSTNode | None = None
    for i, stmt in enumerate(ctx.module.body):
        if isinstance(stmt, cst.SimpleStatementLine) and (
            any(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body)
            or (
                i == 0
                and len(stmt.body) == 1
                and isinstance(stmt.body[0], cst.Expr)
                and isinstance(stmt.body[0].value, cst.SimpleString)
            )
        ):
            anchor = stmt
    if anchor is None:
        return Edit(Span.point(1, 1), statement + "\n")
    end = ctx.span(anchor).end_line
    starts = line_starts(ctx.text)
    if end < len(starts):
        return Edit(Span.point(end + 1, 1), statement + "\n")
    last = ctx.text[starts[-1]:]
    return Edit(Span.point(end, len(last) + 1), "\n" + statement)


def keyword_node(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def is_none(expr: cst.BaseExpression | None) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def has_option(call: ApiCall, name: str) -> bool:
    """The call passes `name=` with something other than a literal None."""
    value = call.keyword(name)
    return value is not None and not (value.known and value.data is None)
