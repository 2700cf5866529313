"""A read-only traversal of libcst trees, in libcst's order, without rebuilding them.

`node.visit(visitor)` rebuilds every node it passes (each `_visit_and_replace_children` constructs
a new node and calls the attribute hooks for every field), which cost joblint more than the parse
itself. Collectors only read the tree, so `walk` calls the same `on_visit`/`on_leave` in the same
order and skips whitespace and punctuation, which no collector reads.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Protocol

import libcst as cst

# Whitespace, comments, commas, brackets and operators: their subtrees hold nothing but each
# other, and no visitor in joblint handles them (tests/test_traverse.py checks both).
TRIVIAL_MODULES = ("libcst._nodes.whitespace", "libcst._nodes.op")


class Visitor(Protocol):
    def on_visit(self, node: cst.CSTNode) -> bool: ...
    def on_leave(self, original_node: cst.CSTNode) -> None: ...


class _FieldOrder(cst.CSTVisitor):
    """Notes the order in which libcst visits a node's fields, without descending."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if attribute not in self.fields:
            self.fields.append(attribute)


_FIELDS: dict[type, tuple[str, ...]] = {}
_TRIVIAL: dict[type, bool] = {}


def _fields(node: cst.CSTNode) -> tuple[str, ...]:
    """The node type's fields that can hold code, in libcst's visiting order, then any others.

    A field declared to hold only whitespace or punctuation (`lpar`, `whitespace_after_func`,
    `comma`) or plain values (`Name.value`) is left out: reading it would find nothing to visit.
    """
    kind = type(node)
    order = _FieldOrder()
    node._visit_and_replace_children(order)
    declared = {f.name: f.type for f in dataclasses.fields(node)}
    rest = [name for name in declared if name not in order.fields]
    _FIELDS[kind] = found = tuple(
        name for name in (*order.fields, *rest) if name not in declared or _may_hold_code(declared[name])
    )
    return found


def _may_hold_code(annotation: Any) -> bool:
    """Whether a field so declared can hold a node that is not whitespace or punctuation."""
    if isinstance(annotation, type):
        if issubclass(annotation, cst.CSTNode):
            return annotation.__module__ not in TRIVIAL_MODULES
        return False  # str, bool, MaybeSentinel, ...
    arguments = typing.get_args(annotation)
    if arguments:
        return any(_may_hold_code(argument) for argument in arguments)
    return True  # a forward reference or anything unusual: look at it


def _is_trivial(kind: type) -> bool:
    trivial = _TRIVIAL.get(kind)
    if trivial is None:
        trivial = _TRIVIAL[kind] = kind.__module__ in TRIVIAL_MODULES
    return trivial


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node's children that carry code, in source order."""
    out: list[cst.CSTNode] = []
    for name in _FIELDS.get(type(node)) or _fields(node):
        value: Any = getattr(node, name)
        for item in value if type(value) is tuple or type(value) is list else (value,):
            if isinstance(item, cst.CSTNode) and not _is_trivial(type(item)):
                out.append(item)
    return out


_LEAVE = object()


def walk(root: cst.CSTNode, visitor: Visitor) -> None:
    """`root.visit(visitor)` for a visitor that changes nothing: the same calls, in the same order."""
    on_visit, on_leave = visitor.on_visit, visitor.on_leave
    stack: list[Any] = [root]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        node = pop()
        if node is _LEAVE:
            on_leave(pop())
            continue
        if on_visit(node):
            push(node)
            push(_LEAVE)
            kids = children(node)
            kids.reverse()
            extend(kids)
        else:
            on_leave(node)
