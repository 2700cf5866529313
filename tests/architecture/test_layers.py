"""The layers of DESIGN.md and CONTRIBUTING.md, enforced: imports point one way, with no circles.

Every `import` and `from ... import` in src/joblint counts, at module level or inside a function
(a lazy import is still a dependency). An import of `a.b.c` is an edge to `a.b.c` (or to `a.b`
when `c` is a name, not a module)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "joblint"

# The pipeline: what drives a run. Rules are functions of facts and models, and never reach back.
PIPELINE = ("analysis", "engine", "pipeline", "cache", "cli", "discover", "report", "fix", "noqa", "audit", "runtime")


def module_of(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_of(path): path for path in PACKAGE.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The joblint modules `name` imports, anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target.startswith("joblint") and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports_of(name, path, known) for name, path in found.items()}


def _within(module: str, area: str) -> bool:
    return module == f"joblint.{area}" or module.startswith(f"joblint.{area}.")


def test_facts_never_import_rules():
    wrong = sorted((m, t) for m, ts in graph().items() if _within(m, "facts") for t in ts if _within(t, "rules"))
    assert wrong == []


def test_rules_never_import_the_pipeline():
    wrong = sorted(
        (m, t) for m, ts in graph().items() if _within(m, "rules") for t in ts if any(_within(t, p) for p in PIPELINE)
    )
    assert wrong == []


def test_facts_and_models_never_import_the_pipeline():
    wrong = sorted(
        (m, t)
        for m, ts in graph().items()
        if _within(m, "facts") or _within(m, "models")
        for t in ts
        if any(_within(t, p) for p in PIPELINE)
    )
    assert wrong == []


def test_no_import_circles():
    edges = graph()
    cycles = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert cycles == []


@pytest.mark.parametrize("check", [test_facts_never_import_rules, test_no_import_circles])
def test_the_checks_see_a_violation(check, monkeypatch):
    """The checks can fail: a planted edge of each kind is caught."""
    real = graph()
    planted = {k: set(v) for k, v in real.items()}
    planted["joblint.facts.core"].add("joblint.rules.celery_config")
    planted["joblint.rules.celery_config"].add("joblint.facts.core")
    monkeypatch.setitem(globals(), "graph", lambda: planted)
    with pytest.raises(AssertionError):
        check()
