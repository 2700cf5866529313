"""Literal values as far as static analysis can know them.

A `Value` is the plain-data image of an expression: its Python value when the expression is a
literal (strings, numbers, booleans, None, containers of those, `timedelta(...)`), else `UNKNOWN`.
Rules compare `.data` and stay quiet on `UNKNOWN`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..findings import Span


class _Unknown:
    """The value of an expression that is not a literal (an env lookup, a call, a name)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __reduce__(self) -> str:
        return "UNKNOWN"  # unpickles to the module-level singleton

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("UNKNOWN has no truth value; compare with `is UNKNOWN` first")


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class Value:
    data: Any
    span: Span
    items: tuple[Value, ...] = ()  # elements of a list/tuple/set literal, in order
    raw: str = ""  # the source token of a simple string literal, quotes included
    call: str = ""  # qualified name of the callee when the expression is a call
    # Keys and values of a dict literal (or `dict(k=v)`), in order; keyword keys are strings.
    entries: tuple[tuple[Value, Value], ...] = ()
    # Arguments of a call: (keyword or "" for positional, value).
    args: tuple[tuple[str, Value], ...] = ()

    def entry(self, key: str) -> Value | None:
        """The value under a string key of a dict literal."""
        for k, v in self.entries:
            if k.data == key:
                return v
        return None

    def arg(self, keyword: str, position: int | None = None) -> Value | None:
        """A call argument by keyword, or by position."""
        positional = [v for k, v in self.args if not k]
        for k, v in self.args:
            if k == keyword:
                return v
        if position is not None and position < len(positional):
            return positional[position]
        return None

    @property
    def known(self) -> bool:
        return self.data is not UNKNOWN

    def is_str(self, *options: str) -> bool:
        return isinstance(self.data, str) and (not options or self.data in options)

    def number(self) -> float | None:
        """The value as a number of seconds/units, or None when it is not a plain number."""
        if isinstance(self.data, bool) or not isinstance(self.data, (int, float)):
            return None
        return float(self.data)

    def strings(self) -> list[str]:
        """Strings in a literal container (or the string itself)."""
        if isinstance(self.data, str):
            return [self.data]
        if isinstance(self.data, (list, tuple, set, frozenset)):
            return [x for x in self.data if isinstance(x, str)]
        return []
