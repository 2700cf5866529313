"""Django transactions, for CEL803 (a task sent inside `transaction.atomic`): which `atomic`
opens a transaction on the database the tasks read, and which calls in it may write.

A task sent inside a transaction races the commit only when the transaction holds something the
task may read: a write, a lock. Both questions are answered conservatively, so that only what is
clearly harmless is left out:

- `atomic(using="replica")` (a literal alias other than "default", or an expression that names a
  replica, `settings.DATABASE_REPLICA_NAME`) pins a connection for consistent reads; the task's
  rows are not written there.
- a call is a possible write unless it is clearly a read: a queryset read (`filter`, `get`,
  `exists`...), a builtin, a log line. A project function may write, so it counts as one.
"""

from __future__ import annotations

import re

import libcst as cst

from .names import ImportMap, dotted

TRANSACTION_ATOMIC = {"django.db.transaction.atomic"}
ON_COMMIT = {"django.db.transaction.on_commit"}

# Words of an alias expression that name a read-only connection.
REPLICA_WORDS = {"replica", "replicas", "reader", "read", "readonly", "slave", "follower", "standby"}

# Queryset and mapping methods that read (a write method of the same name, `update`, is not here).
READ_METHODS = {
    "filter", "exclude", "get", "all", "first", "last", "exists", "count", "values", "values_list",
    "order_by", "select_related", "prefetch_related", "only", "defer", "annotate", "aggregate",
    "distinct", "in_bulk", "iterator", "using", "none", "earliest", "latest", "keys", "items",
}
READ_FUNCTIONS = {"django.shortcuts.get_object_or_404", "django.shortcuts.get_list_or_404"}
BUILTINS = {
    "len", "list", "tuple", "set", "frozenset", "dict", "str", "int", "float", "bool", "isinstance",
    "getattr", "hasattr", "sorted", "min", "max", "sum", "any", "all", "enumerate", "zip", "range",
    "repr", "round", "abs",
}
LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical"}
_LOGGER = re.compile(r"(^|\.)(log|logger|logging|_log|_logger|LOG|LOGGER)$")


def is_atomic(expr: cst.BaseExpression, imports: ImportMap) -> bool:
    """`transaction.atomic` or `transaction.atomic(...)`."""
    func = expr.func if isinstance(expr, cst.Call) else expr
    return imports.qualify(func) in TRANSACTION_ATOMIC


def opens_transaction(expr: cst.BaseExpression, imports: ImportMap) -> bool:
    """An `atomic` on the database tasks read: not one pinned to a replica or another alias."""
    if not is_atomic(expr, imports):
        return False
    if not isinstance(expr, cst.Call):
        return True
    for index, arg in enumerate(expr.args):
        positional = index == 0 and arg.keyword is None and not arg.star
        if positional or (arg.keyword is not None and arg.keyword.value == "using"):
            return not _other_database(arg.value)
    return True


def _other_database(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.SimpleString):
        alias = expr.evaluated_value
        return isinstance(alias, str) and alias != "default"
    text = dotted(expr)
    if text is None:
        return False
    words = {w.lower() for w in re.split(r"[^A-Za-z0-9]+|_", text) if w}
    return bool(words & REPLICA_WORDS)


def may_write(call: cst.Call, imports: ImportMap) -> bool:
    """Whether a call inside a transaction may write (or lock) rows: anything not clearly a read."""
    func = call.func
    if isinstance(func, cst.Name) and func.value in BUILTINS and imports.qualify(func) is None:
        return False
    qualified = imports.qualify(func)
    if qualified in READ_FUNCTIONS or qualified in TRANSACTION_ATOMIC or qualified in ON_COMMIT:
        return False
    if isinstance(func, cst.Attribute):
        method = func.attr.value
        if method in READ_METHODS:
            return False
        receiver = dotted(func.value)
        if method in LOG_METHODS and receiver is not None and _LOGGER.search(receiver):
            return False
    return True
