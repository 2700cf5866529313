"""joblint's results as plain data and back: what the cache stores, and nothing that can run code.

`encode` turns a value built of joblint's dataclasses and enums, literal Python values and
containers into a tree of tuples, strings and numbers that `marshal` writes. `decode` rebuilds it,
checking every field of every dataclass against its annotation: a tree that does not fit (a wrong
type, a class that is not one of joblint's result classes, an unknown tag) raises `Malformed`, and
the cache treats the entry as a miss. Unlike pickle, decoding never imports a module a value names
(only the fixed modules below), never calls a constructor with arbitrary arguments, and never
builds anything but the types annotated.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import sys
import types
import typing
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, TypeVar

# The modules whose dataclasses and enums may appear in a cache entry: joblint's own, fixed here.
# A class is rebuilt only when it is defined in one of them, at its top level.
RESULT_MODULES = frozenset(
    {
        "joblint.cache",
        "joblint.files",
        "joblint.findings",
        "joblint.rules",
        "joblint.suppress",
        "joblint.facts",
        # Every module of joblint's facts package, as installed (never a name found in an entry).
        *(f"joblint.facts.{path.stem}" for path in (Path(__file__).parent / "facts").glob("*.py")),
    }
)

# Tags of the encoded tree: every container is a tuple whose first item says what it was.
_TUPLE, _LIST, _SET, _FROZENSET, _DICT, _DATACLASS, _ENUM, _UNKNOWN, _ELLIPSIS = range(9)
_SCALARS = (str, int, float, bool, bytes, complex, type(None))


class Malformed(ValueError):
    """An encoded tree that is not a value joblint wrote."""


def encode(value: Any) -> Any:
    """The plain tree of `value`; TypeError for anything that is not plain data or a result class."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is tuple:
        return (_TUPLE, *map(encode, value))
    if kind is list:
        return (_LIST, *map(encode, value))
    if kind is dict:
        return (_DICT, *(part for k, v in value.items() for part in (encode(k), encode(v))))
    if kind is set or kind is frozenset:
        return (_SET if kind is set else _FROZENSET, *map(encode, value))
    if value is _unknown(imported_only=True):
        return (_UNKNOWN,)
    if value is Ellipsis:
        return (_ELLIPSIS,)
    if isinstance(value, enum.Enum):
        return (_ENUM, _class_name(kind), value.value)
    if dataclasses.is_dataclass(value):
        return (_DATACLASS, _class_name(kind), *(encode(getattr(value, name)) for name in _field_names(kind)))
    raise TypeError(f"not plain data: {kind.__name__}")


def decode(tree: Any, hint: Any = Any, budget: int = 1 << 40) -> Any:
    """The value `tree` encodes, checked against the type `hint`; `Malformed` when it does not fit.

    `budget`: how many containers and instances decoding may build. marshal shares repeated
    objects, so a small payload can hold a tree of exponential size; the cache passes the
    payload's length, since a tree joblint wrote holds at most one container per byte."""
    _budget[0] = budget
    try:
        return _decoder(hint)(tree)
    except Malformed:
        raise
    except (TypeError, ValueError, AttributeError, IndexError, KeyError, RecursionError) as error:
        raise Malformed(str(error)) from None


_budget = [0]  # containers decoding may still build (`decode`)


def _spend() -> None:
    _budget[0] -= 1
    if _budget[0] < 0:
        raise Malformed("more containers than the payload can hold")


def _class_name(cls: type) -> str:
    name = f"{cls.__module__}:{cls.__qualname__}"
    if cls.__module__ not in RESULT_MODULES or "." in cls.__qualname__:
        raise TypeError(f"not a result class: {name}")
    return name


_T = TypeVar("_T")


def _per_class(function: Callable[[type], _T]) -> Callable[[type], _T]:
    """`function`, computed once per class (lru_cache's types do not take classes as keys)."""
    found: dict[type, _T] = {}

    def cached(cls: type) -> _T:
        if cls not in found:
            found[cls] = function(cls)
        return found[cls]

    return cached


@_per_class
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


@lru_cache(maxsize=None)
def _result_class(name: str) -> type:
    """The dataclass or enum `module:Name` names, when the module is one of `RESULT_MODULES`."""
    module_name, _, qualname = name.partition(":")
    if module_name not in RESULT_MODULES or not qualname.isidentifier():
        raise Malformed(f"not a result class: {name}")
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    cls = module.__dict__.get(qualname)
    if not isinstance(cls, type) or cls.__module__ != module_name:
        raise Malformed(f"not a result class: {name}")
    if not (dataclasses.is_dataclass(cls) or issubclass(cls, enum.Enum)):
        raise Malformed(f"not a result class: {name}")
    return cls


# -- decoders, one per annotation, built once ------------------------------------------------------

Decoder = Callable[[Any], Any]


@lru_cache(maxsize=None)
def _decoder(hint: Any) -> Decoder:
    if hint is Any or hint is object:
        return _decode_any
    if hint is None or hint is type(None):
        return _exactly(type(None))
    if hint in (str, bytes, bool, complex):
        return _exactly(hint)
    if hint is int:
        return _exactly(int)  # bool is not an int here: a field annotated int never holds True
    if hint is float:
        return _number
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return _union(args)
    if origin is typing.Literal:
        return _literal(args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _sequence(_TUPLE, tuple, _decoder(args[0]))
        return _fixed_tuple(tuple(_decoder(a) for a in args))
    if origin is list:
        return _sequence(_LIST, list, _decoder(args[0] if args else Any))
    if origin is set or origin is frozenset:
        tag, build = (_SET, set) if origin is set else (_FROZENSET, frozenset)
        return _sequence(tag, build, _decoder(args[0] if args else Any))
    if origin is dict:
        key, value = args if args else (Any, Any)
        return _mapping(_decoder(key), _decoder(value))
    if isinstance(hint, type) and (dataclasses.is_dataclass(hint) or issubclass(hint, enum.Enum)):
        return _instance_of(hint)
    return _never(hint)  # a libcst node, a callable: nothing a cache entry holds


def _exactly(kind: type) -> Decoder:
    def check(tree: Any) -> Any:
        if type(tree) is not kind:
            raise Malformed(f"expected {kind.__name__}, found {type(tree).__name__}")
        return tree

    _PLAIN_DECODERS[check] = kind
    return check


_PLAIN_DECODERS: dict[Decoder, type] = {}  # the decoders `_exactly` made, and the type each checks


def _number(tree: Any) -> Any:
    if type(tree) is not float and type(tree) is not int:
        raise Malformed(f"expected a number, found {type(tree).__name__}")
    return tree


def _never(hint: Any) -> Decoder:
    def check(tree: Any) -> Any:
        raise Malformed(f"a cache entry never holds {hint!r}")

    return check


def _union(options: tuple[Any, ...]) -> Decoder:
    others = [_decoder(option) for option in options if option is not type(None)]
    optional = len(others) < len(options)
    if optional and len(others) == 1:  # `X | None`, most unions: no exception on the way
        only = others[0]
        return lambda tree: None if tree is None else only(tree)

    def check(tree: Any) -> Any:
        if optional and tree is None:
            return None
        for decoder in others:
            try:
                return decoder(tree)
            except Malformed:
                continue
        raise Malformed("no member of the union fits")

    return check


def _literal(allowed: tuple[Any, ...]) -> Decoder:
    def check(tree: Any) -> Any:
        if type(tree) not in _SCALARS or tree not in allowed:
            raise Malformed(f"{tree!r} is not one of {allowed!r}")
        return tree

    return check


def _tagged(tree: Any, tag: int) -> None:
    if type(tree) is not tuple or not tree or tree[0] != tag or type(tree[0]) is not int:
        raise Malformed(f"expected a container tagged {tag}")


def _sequence(tag: int, build: Callable[[Any], Any], item: Decoder) -> Decoder:
    def check(tree: Any) -> Any:
        _tagged(tree, tag)
        _spend()
        return build([item(part) for part in tree[1:]])

    return check


def _fixed_tuple(items: tuple[Decoder, ...]) -> Decoder:
    def check(tree: Any) -> Any:
        _tagged(tree, _TUPLE)
        _spend()
        if len(tree) != len(items) + 1:
            raise Malformed("a tuple of the wrong length")
        return tuple(decoder(part) for decoder, part in zip(items, tree[1:]))

    return check


def _mapping(key: Decoder, value: Decoder) -> Decoder:
    def check(tree: Any) -> Any:
        _tagged(tree, _DICT)
        _spend()
        if len(tree) % 2 != 1:
            raise Malformed("a dict with a key and no value")
        return {key(tree[i]): value(tree[i + 1]) for i in range(1, len(tree), 2)}

    return check


def _instance_of(expected: type) -> Decoder:
    builders: dict[str, Decoder] = {}  # by the class name a tree gives: resolved and checked once

    def check(tree: Any) -> Any:
        if type(tree) is not tuple or len(tree) < 2 or type(tree[1]) is not str:
            raise Malformed(f"expected {expected.__name__}")
        build = builders.get(tree[1])
        if build is None:
            cls = _result_class(tree[1])
            if not issubclass(cls, expected):
                raise Malformed(f"expected {expected.__name__}, found {cls.__name__}")
            build = builders[tree[1]] = _builder(cls)
        return build(tree)

    return check


def _build(cls: type, tree: tuple[Any, ...]) -> Any:
    return _builder(cls)(tree)


@_per_class
def _builder(cls: type) -> Decoder:
    """Rebuilds an instance of `cls` from its tree, field by field, each checked."""
    if issubclass(cls, enum.Enum):
        return _enum_builder(cls)
    fields = _field_decoders(cls)
    names = tuple(name for name, _ in fields)
    # Fields of a plain type are checked inline: most of a tree's leaves, and a call each otherwise.
    plain = tuple(_PLAIN_DECODERS.get(decoder) for _, decoder in fields)
    decoders = tuple(decoder for _, decoder in fields)
    length = len(fields) + 2
    new = object.__new__

    def build(tree: tuple[Any, ...]) -> Any:
        _spend()
        if tree[0] != _DATACLASS or len(tree) != length:
            raise Malformed(f"a malformed {cls.__name__}")
        values = {}
        for name, kind, decoder, part in zip(names, plain, decoders, tree[2:]):
            if kind is None:
                values[name] = decoder(part)
            elif type(part) is kind:
                values[name] = part
            else:
                raise Malformed(f"{cls.__name__}.{name}: expected {kind.__name__}, found {type(part).__name__}")
        instance = new(cls)
        instance.__dict__.update(values)  # what a frozen dataclass's __init__ does, without the checks
        return instance

    return build


def _enum_builder(cls: type) -> Decoder:
    def build(tree: tuple[Any, ...]) -> Any:
        if tree[0] != _ENUM or len(tree) != 3 or type(tree[2]) not in (str, int):
            raise Malformed(f"a malformed {cls.__name__}")
        return cls(tree[2])

    return build


@_per_class
def _field_decoders(cls: type) -> tuple[tuple[str, Decoder], ...]:
    try:
        hints = typing.get_type_hints(cls)
    except NameError:
        # An annotation names a class its module imports only for type checking (`ModuleFacts` in
        # files.py): every result class is offered by name.
        hints = typing.get_type_hints(cls, globalns={**_result_namespace(), **vars(sys.modules[cls.__module__])})
    return tuple((name, _decoder(hints[name])) for name in _field_names(cls))


def _unknown(imported_only: bool = False) -> Any:
    """`facts.values.UNKNOWN`, imported only when a value holds it: findings alone (a run the cache
    answers whole) never need the facts' modules, nor libcst through them."""
    module = sys.modules.get("joblint.facts.values")
    if module is None:
        if imported_only:
            return None  # no value can be UNKNOWN before its module is imported
        module = importlib.import_module("joblint.facts.values")
    return module.UNKNOWN


@lru_cache(maxsize=1)
def _result_namespace() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for module_name in sorted(RESULT_MODULES):
        module = sys.modules.get(module_name) or importlib.import_module(module_name)
        for name, value in vars(module).items():
            if isinstance(value, type) and value.__module__ == module_name:
                found.setdefault(name, value)
    return found


def _decode_any(tree: Any) -> Any:
    """A value annotated `Any`: literal data, or a result class its tag names."""
    kind = type(tree)
    if kind in _SCALARS:
        return tree
    if kind is not tuple or not tree or type(tree[0]) is not int:
        raise Malformed(f"unexpected {kind.__name__} in a cache entry")
    tag = tree[0]
    _spend()
    if tag == _TUPLE:
        return tuple(_decode_any(part) for part in tree[1:])
    if tag == _LIST:
        return [_decode_any(part) for part in tree[1:]]
    if tag == _SET:
        return {_decode_any(part) for part in tree[1:]}
    if tag == _FROZENSET:
        return frozenset(_decode_any(part) for part in tree[1:])
    if tag == _DICT:
        return _mapping(_decode_any, _decode_any)(tree)
    if tag == _UNKNOWN and len(tree) == 1:
        return _unknown()
    if tag == _ELLIPSIS and len(tree) == 1:
        return Ellipsis
    if tag in (_DATACLASS, _ENUM) and len(tree) >= 2 and type(tree[1]) is str:
        return _build(_result_class(tree[1]), tree)
    raise Malformed(f"unknown tag {tag!r}")
