"""Language-level facts every framework reads: module-level assignments and classes."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from ..findings import Span
from ..settings import canonical
from .names import dotted
from .traverse import children
from .values import Value
from .walker import WalkContext, literal

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
    # Module-level classes `classes` leaves out (no setting-like attribute): qualname -> bases, so
    # a config class's project base is known to be the project's and to add nothing.
    class_bases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Module-level names written at run time: class-based settings (`Prod.load_settings(__name__)`
    # exports the class's UPPERCASE attributes), django-split-settings `include(...)`.
    exports: list[Export] = field(default_factory=list)
    includes: list[Include] = field(default_factory=list)
    # The module's names are also written in a way joblint cannot read (`globals().update(...)`,
    # django-configurations classes, an `include()` of a computed path): its settings are not all known.
    dynamic_names: bool = False


@dataclass(frozen=True)
class Export:
    """`Prod.load_settings(__name__)`: a class whose attributes become the module's names."""

    cls: str  # qualified when imported, else as written
    index: int  # how many module-level assignments come before it


@dataclass(frozen=True)
class Include:
    """One file of django-split-settings' `include("base.py", optional("local.py"))`, run in the module."""

    pattern: str  # relative to the module's directory; may be a glob
    optional: bool
    index: int  # how many module-level assignments come before it


SPLIT_INCLUDE = {"split_settings.tools.include", "split_settings.include"}
SPLIT_OPTIONAL = {"split_settings.tools.optional", "split_settings.optional"}


def _module_namespace(expr: cst.BaseExpression) -> bool:
    """`__name__`, `globals()`, `vars()`, `locals()`, `sys.modules[__name__]`: the module itself."""
    if isinstance(expr, cst.Name):
        return expr.value == "__name__"
    if isinstance(expr, cst.Call):
        return dotted(expr.func) in ("globals", "vars", "locals") and not expr.args
    if isinstance(expr, cst.Subscript):
        return dotted(expr.value) == "sys.modules"
    return False


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

    def visit_Expr(self, node: cst.Expr) -> None:
        """Module-level calls that write the module's names (class-based settings, split settings)."""
        call = node.value
        if self.ctx.scopes or not isinstance(call, cst.Call):
            return
        index = len(self.facts.assignments)
        qualified = self.ctx.imports.qualify(call.func) or ""
        if qualified in SPLIT_INCLUDE:
            for arg in call.args:
                self._include(arg, index)
            return
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "update":
            inner = func.value
            if isinstance(inner, cst.Call) and dotted(inner.func) in ("globals", "vars", "locals"):
                self.facts.dynamic_names = True  # globals().update(...)
                return
        if not any(_module_namespace(arg.value) for arg in call.args):
            return
        # `Prod.load_settings(__name__)`, `Settings.export(globals())`: the attribute's owner is the class.
        owner = func.value if isinstance(func, cst.Attribute) else None
        name = dotted(owner) if owner is not None else None
        if name is not None and "." not in name:
            self.facts.exports.append(Export(self.ctx.imports.qualify(owner) or name, index))  # type: ignore[arg-type]
        else:
            self.facts.dynamic_names = True  # `load(__name__)`, `setup(globals())`: unknown names

    def _include(self, arg: cst.Arg, index: int) -> None:
        value = arg.value
        optional = False
        if isinstance(value, cst.Call) and (self.ctx.imports.qualify(value.func) or "") in SPLIT_OPTIONAL:
            optional = True
            value = value.args[0].value if value.args else value
        if arg.keyword is not None:
            return  # `scope=globals()`
        pattern = literal(value)
        if isinstance(pattern, str) and not arg.star:
            self.facts.includes.append(Include(pattern, optional, index))
        else:
            self.facts.dynamic_names = True

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        attrs = self._class_attrs.pop()
        bases = tuple(
            self.ctx.imports.qualify(arg.value) or dotted(arg.value) or ""
            for arg in node.bases
            if arg.keyword is None
        )
        if any(b.split(".")[0] == "configurations" for b in bases):
            # django-configurations: DJANGO_CONFIGURATION picks the class whose attributes are settings.
            self.facts.dynamic_names = self.facts.dynamic_names or not self.ctx.scopes
        if not self._may_matter(bases, attrs):
            if not self.ctx.scopes:
                self.facts.class_bases[node.name.value] = bases
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
