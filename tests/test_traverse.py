"""`traverse.walk` makes the same visitor calls as libcst's own `visit`, minus punctuation."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import libcst as cst
import pytest

import joblint
from joblint.facts import traverse

SAMPLES = [
    Path(joblint.__file__).parent / "facts" / "walker.py",
    Path(joblint.__file__).parent / "cli.py",
    Path(inspect.getfile(inspect)),  # the stdlib: decorators, f-strings, match-free old code
]

MODERN = '''
@decorator(arg)
async def f(a, /, b: int = 1, *args, c, **kw) -> dict[str, int]:
    async with x as (y, z), w:
        async for i in g():
            match i:
                case {"k": [1, *rest]} if rest: pass
                case Point(x=0) | None: pass
    try:
        pass
    except* (ValueError, TypeError) as e:
        raise
    lambda q=1: (yield q)
    return {k: v for k, v in kw.items() if v} | {**kw}
type Alias[T] = list[T]
class C[T](Base, metaclass=M):
    x: int = f"{a!r:>{width}}" "b" 'c'
    del a[1:2, ::3], b.c
    global g; nonlocal_ = not a or b and c < d <= e is not f
'''


class Recorder(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if type(node).__module__ not in traverse.TRIVIAL_MODULES:
            self.calls.append(("visit", type(node).__name__))
        # Prune like collectors do, to check on_leave still follows a refused descent.
        return not isinstance(node, cst.Lambda)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if type(original_node).__module__ not in traverse.TRIVIAL_MODULES:
            self.calls.append(("leave", type(original_node).__name__))


def _modules() -> list[cst.Module]:
    modules = [cst.parse_module(path.read_text(encoding="utf-8")) for path in SAMPLES]
    if sys.version_info >= (3, 12):
        modules.append(cst.parse_module(MODERN))
    else:
        modules.append(
            cst.parse_module(MODERN.replace("type Alias[T] = list[T]\n", "").replace("class C[T]", "class C"))
        )
    return modules


@pytest.mark.parametrize("module", _modules(), ids=lambda m: m.code.splitlines()[1][:30] if m.code else "")
def test_walk_calls_the_visitor_as_libcst_does(module: cst.Module) -> None:
    theirs, ours = Recorder(), Recorder()
    module.visit(theirs)
    traverse.walk(module, ours)
    assert ours.calls == theirs.calls
    assert len(ours.calls) > 100


def test_no_joblint_visitor_handles_a_skipped_node_type() -> None:
    trivial = {
        name
        for module_name in traverse.TRIVIAL_MODULES
        for name, kind in vars(sys.modules[module_name]).items()
        if isinstance(kind, type) and issubclass(kind, cst.CSTNode)
    }
    source_dir = Path(joblint.__file__).parent
    handled = {
        line.split("def ", 1)[1].split("(", 1)[0].split("_", 1)[1]
        for path in source_dir.rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.lstrip().startswith(("def visit_", "def leave_"))
    }
    assert "Call" in handled and "Comma" in trivial
    assert not handled & trivial
