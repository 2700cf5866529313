"""Language-level facts every framework reads: module-level assignments and classes."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from ..findings import Span
from ..settings import canonical
from .names import dotted
from .traverse import children
from .values import Value
from .walker import WalkContext

# Roots of qualified base-class names that make a class interesting to some rule.
FRAMEWORKS = {"celery", "temporalio", "arq", "kombu"}


@dataclass(frozen=True)
class Assignment:
    """`NAME = value` at module level or in a class body."""

    name: str
    value: Value
    span: Span  # the target name
    conditional: bool = False  # under an `if`/`match`: set in some configurations only


@dataclass(frozen=True)
class ClassFacts:
    name: str
    qualname: str
    span: Span  # the class name
    bases: tuple[str, ...]  # qualified when imported, else as written
    attributes: tuple[Assignment, ...]
    methods: tuple[str, ...]
    node: cst.ClassDef | None = field(default=None, compare=False, repr=False)


@dataclass
class CoreFacts:
    assignments: list[Assignment] = field(default_factory=list)
    classes: list[ClassFacts] = field(default_factory=list)
    star_imports: list[str] = field(default_factory=list)  # absolute modules of `from x import *`
    # Names that module-level assignments read (`CELERY_RESULT_BACKEND = BROKER_URL`): renaming one
    # of them breaks the module.
    names_read: set[str] = field(default_factory=set)


def _names_in(expr: cst.CSTNode) -> set[str]:
    """Every name an expression reads (attribute roots included)."""
    found: set[str] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            found.add(node.value)
        elif isinstance(node, cst.Attribute):
            stack.append(node.value)  # `settings.X`: X is an attribute, not a name read here
            continue
        stack.extend(children(node))
    return found


class CoreCollector:
    def __init__(self, ctx: WalkContext) -> None:
        self.ctx = ctx
        self.facts = CoreFacts()
        # Class-body assignments wait here until the class is known to matter.
        self._class_attrs: list[list[tuple[str, cst.Name, cst.BaseExpression]]] = []

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            from .names import absolute_module

            target = dotted(node.module) if node.module is not None else None
            imports = self.ctx.imports
            module = absolute_module(imports.module, len(node.relative), target, imports.is_package)
            if module:
                self.facts.star_imports.append(module)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._class_attrs.append([])

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        attrs = self._class_attrs.pop()
        bases = tuple(
            self.ctx.imports.qualify(arg.value) or dotted(arg.value) or ""
            for arg in node.bases
            if arg.keyword is None
        )
        if not self._may_matter(bases, attrs):
            return
        attributes = tuple(
            Assignment(name, self.ctx.value(value), self.ctx.span(target)) for name, target, value in attrs
        )
        methods = tuple(
            stmt.name.value for stmt in node.body.body if isinstance(stmt, cst.FunctionDef)
        )
        qual = ".".join([*(s.name for s in self.ctx.scopes), node.name.value])
        self.facts.classes.append(
            ClassFacts(node.name.value, qual, self.ctx.span(node.name), bases, attributes, methods, node)
        )

    def _may_matter(self, bases: tuple[str, ...], attrs: list[tuple[str, cst.Name, cst.BaseExpression]]) -> bool:
        """Keep classes a rule may read: framework subclasses and config classes. Recording
        every class would cost positions for whole test classes."""
        if any(b.split(".")[0] in FRAMEWORKS or b.endswith("Task") for b in bases):
            return True
        return any(name.startswith("CELERY") or canonical(name).setting is not None for name, _, _ in attrs)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._record(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._record(node.target, node.value)

    def _record(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if not isinstance(target, cst.Name):
            return
        scopes = self.ctx.scopes
        if not scopes:
            self.facts.assignments.append(
                Assignment(target.value, self.ctx.value(value), self.ctx.span(target), self.ctx.branches > 0)
            )
            self.facts.names_read.update(_names_in(value))
        elif scopes[-1].kind == "class" and self._class_attrs:
            self._class_attrs[-1].append((target.value, target, value))
