"""Names: dotted text of expressions and what imported names resolve to.

An import-alias map is all the name resolution the rules need (`from celery import Celery as C`,
`import celery`, `from .celery import app`); libcst's scope and qualified-name providers would
cost several parses per file.
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
