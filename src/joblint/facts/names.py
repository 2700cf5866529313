"""Names: dotted text of expressions and what imported names resolve to.

An import-alias map is all the name resolution the rules need (`from celery import Celery as C`,
`import celery`, `from .celery import app`, and a module-level `Celery = celery.Celery` that binds
its name once); libcst's scope and qualified-name providers would cost several parses per file.
"""

from __future__ import annotations

import libcst as cst


def dotted(expr: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if not isinstance(expr, cst.Name):
        return None
    parts.append(expr.value)
    return ".".join(reversed(parts))


def call_name(call: cst.Call) -> str | None:
    return dotted(call.func)


def absolute_module(module: str | None, level: int, target: str | None, is_package: bool) -> str | None:
    """Resolve `from ..x import y` relative to the importing module's dotted name."""
    if level == 0:
        return target
    if module is None:
        return None
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)] if level > 1 else parts
    if target:
        base = base + target.split(".")
    return ".".join(base) or None


class ImportMap:
    """Local name -> fully qualified name, built from the module's import statements."""

    def __init__(self, module: str | None = None, is_package: bool = False) -> None:
        self.module = module
        self.is_package = is_package
        self.aliases: dict[str, str] = {}
        self._bound: dict[str, int] | None = None  # module-level bindings per name, counted when first needed

    def add(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted(alias.name)
                if full is None:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.aliases[alias.asname.name.value] = full
                else:
                    root = full.split(".")[0]
                    self.aliases[root] = root
            return
        target = dotted(node.module) if node.module is not None else None
        level = len(node.relative)
        base = absolute_module(self.module, level, target, self.is_package)
        if base is None or isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = dotted(alias.name)
            if name is None:
                continue
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.aliases[local] = f"{base}.{name}"

    def bind(self, stmt: cst.SimpleStatementLine, module: cst.Module) -> None:
        """A module-level `Name = <imported name>` (`Celery = celery.Celery`, `C = Celery`) makes
        `Name` an alias of what it names, when nothing else in the module binds `Name` at module
        level (another assignment, an import, a def, a loop target, a star import...): a name
        bound twice may be either."""
        if len(stmt.body) != 1 or not isinstance(stmt.body[0], cst.Assign):
            return
        assign = stmt.body[0]
        if len(assign.targets) != 1 or not isinstance(assign.targets[0].target, cst.Name):
            return
        full = self.qualify(assign.value)
        if full is None:
            return
        if self._bound is None:
            self._bound = module_bindings(module)
        name = assign.targets[0].target.value
        if self._bound.get(name) == 1 and "*" not in self._bound:
            self.aliases[name] = full

    def qualify(self, expr: cst.BaseExpression) -> str | None:
        """Fully qualified name of a Name/Attribute chain whose root is imported, else None."""
        text = dotted(expr)
        if text is None:
            return None
        return self.qualify_text(text)

    def qualify_text(self, text: str) -> str | None:
        root, _, rest = text.partition(".")
        full = self.aliases.get(root)
        if full is None:
            return None
        return f"{full}.{rest}" if rest else full

    def imports_from(self, *packages: str) -> bool:
        return any(
            v == p or v.startswith(p + ".") for v in self.aliases.values() for p in packages
        )


def module_bindings(module: cst.Module) -> dict[str, int]:
    """How many statements bind each name at module level: in the module's body and the blocks of
    its if/try/with/for/while/match statements, not inside functions or classes. `*` counts star
    imports (they may bind any name)."""
    counts: dict[str, int] = {}

    def bound(target: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            counts[target.value] = counts.get(target.value, 0) + 1
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                bound(element.value)
        elif isinstance(target, cst.StarredElement):
            bound(target.value)

    def small(node: cst.BaseSmallStatement) -> None:
        if isinstance(node, cst.Assign):
            for target in node.targets:
                bound(target.target)
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
            bound(node.target)
        elif isinstance(node, cst.Del):
            bound(node.target)
        elif isinstance(node, cst.ImportFrom) and isinstance(node.names, cst.ImportStar):
            counts["*"] = counts.get("*", 0) + 1
        elif isinstance(node, (cst.Import, cst.ImportFrom)):
            for alias in node.names:  # type: ignore[union-attr]
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    bound(alias.asname.name)
                else:
                    name = dotted(alias.name)
                    if name is not None:
                        bound(cst.Name(name.split(".")[0]))

    stack: list[cst.CSTNode] = list(reversed(module.body))
    while stack:
        node = stack.pop()
        if isinstance(node, cst.SimpleStatementLine):
            for item in node.body:
                small(item)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            bound(node.name)
        elif isinstance(node, cst.BaseSuite):
            if isinstance(node, cst.SimpleStatementSuite):
                for line in node.body:
                    small(line)
            else:
                stack.extend(reversed(node.body))
        else:  # a compound statement, or its else/except/finally/case part
            if isinstance(node, cst.For):
                bound(node.target)
            elif isinstance(node, cst.With):
                for with_item in node.items:
                    if with_item.asname is not None:
                        bound(with_item.asname.name)
            elif isinstance(node, (cst.ExceptHandler, cst.ExceptStarHandler)) and node.name is not None:
                bound(node.name.name)
            stack.extend(child for child in reversed(node.children) if isinstance(child, _BLOCKS))
    return counts



# The parts of a compound statement that hold statements (an `elif` is an If in `orelse`).
_BLOCKS = (
    cst.BaseSuite, cst.BaseCompoundStatement, cst.Else, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally,
    cst.MatchCase,
)
