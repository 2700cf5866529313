"""The rule registry.

A rule is a check function with its metadata next to it. File rules read one file's facts (and
the libcst nodes they point to); project rules read the merged project model. Checks yield
`Report`s; the engine turns them into findings with the rule's code, name and severity.

Rule modules in this package register themselves when imported; `all_rules()` imports them all.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Literal, TypeAlias, TypeVar, Union, overload

from .. import frameworks
from ..findings import Applicability, Edit, Fix, Severity, Span

if TYPE_CHECKING:  # what checks read; rules import these anyway, the registry needs only their names
    from ..context import FileContext
    from ..project import Project

Scope = Literal["file", "project"]


@dataclass(frozen=True)
class RuleMeta:
    code: str
    name: str
    severity: Severity
    summary: str  # one line: what the rule flags
    fix: Applicability | None = None  # the safety of its fix, when it has one
    opt_in: bool = False
    # Words (case-insensitive) a file must contain for this rule to need it; the pre-filter keeps
    # a file when it contains any word of any enabled rule. "a&b": both parts must appear;
    # "=Task)": matched as written, where other words ignore case.
    words: tuple[str, ...] = ()
    # Words that keep a skipped file after the first pass when it also calls (`task(`, `.run(`,
    # `.apply(`) or renames (`as`) a task found there and names its module (prefilter.SecondLook).
    task_name_words: tuple[str, ...] = ()
    scope: Scope = "file"
    # The Celery settings the rule reads (canonical names, `task_acks_late`): `check-app
    # --show-settings` shows every one of them, with its final value and where it came from.
    settings: tuple[str, ...] = ()
    # False: the rule's harm happens only in production (settings, deployment, operations), so it
    # is not reported in test code (`source.is_test_path`); the engine drops its findings there.
    in_tests: bool = True

    @property
    def framework(self) -> str:
        return frameworks.key_of(self.code)  # "celery": the key of the framework table's row

    @property
    def category(self) -> str:
        return self.code[:-2]  # CEL1, TMP2: the hundreds digit is the category


@dataclass(frozen=True)
class Report:
    """What a check yields: where, what, and optionally a fix."""

    span: Span
    message: str
    fix: Fix | None = None
    path: str | None = None  # project rules name the file; file rules leave it to the engine
    severity: Severity | None = None  # when a finding is more severe than the rule's default


# A file rule's check reads one file (`FileContext`); a project rule's, the merged `Project`.
FileCheck = Callable[["FileContext"], Iterable[Report]]
ProjectCheck = Callable[["Project"], Iterable[Report]]
_FileCheckT = TypeVar("_FileCheckT", bound=FileCheck)
_ProjectCheckT = TypeVar("_ProjectCheckT", bound=ProjectCheck)


@dataclass(frozen=True)
class FileRule:
    meta: RuleMeta
    check: FileCheck

    @property
    def scope(self) -> Literal["file"]:
        return "file"


@dataclass(frozen=True)
class ProjectRule:
    meta: RuleMeta
    check: ProjectCheck

    @property
    def scope(self) -> Literal["project"]:
        return "project"


# `rule.scope == "file"` (or "project") tells the type checker which check it holds.
Rule: TypeAlias = Union[FileRule, ProjectRule]

REGISTRY: dict[str, Rule] = {}


@overload
def rule(
    *,
    code: str,
    name: str,
    severity: Severity,
    summary: str,
    scope: Literal["file"],
    fix: Applicability | None = None,
    opt_in: bool = False,
    words: Iterable[str] = (),
    task_name_words: Iterable[str] = (),
    settings: Iterable[str] = (),
    in_tests: bool = True,
) -> Callable[[_FileCheckT], _FileCheckT]: ...


@overload
def rule(
    *,
    code: str,
    name: str,
    severity: Severity,
    summary: str,
    scope: Literal["project"],
    fix: Applicability | None = None,
    opt_in: bool = False,
    words: Iterable[str] = (),
    task_name_words: Iterable[str] = (),
    settings: Iterable[str] = (),
    in_tests: bool = True,
) -> Callable[[_ProjectCheckT], _ProjectCheckT]: ...


def rule(
    *,
    code: str,
    name: str,
    severity: Severity,
    summary: str,
    scope: Scope,
    fix: Applicability | None = None,
    opt_in: bool = False,
    words: Iterable[str] = (),
    task_name_words: Iterable[str] = (),
    settings: Iterable[str] = (),
    in_tests: bool = True,
) -> Callable[[_FileCheckT], _FileCheckT] | Callable[[_ProjectCheckT], _ProjectCheckT]:
    """Register the decorated check under `code`. A file rule's check takes a `FileContext`, a
    project rule's a `Project`; the code's prefix must be a row of the framework table.
    `in_tests=False`: a rule whose harm happens only in production, quiet in test code."""
    if frameworks.of_code(code) is None:
        raise RuntimeError(f"rule {code}: no framework in frameworks.FRAMEWORKS has its prefix")
    meta = RuleMeta(
        code, name, severity, summary, fix, opt_in,
        tuple(words), tuple(w.lower() for w in task_name_words),  # the pre-filter decides case
        scope, tuple(settings), in_tests,
    )

    def register_file(check: _FileCheckT) -> _FileCheckT:
        _register(code, FileRule(meta, check))
        return check

    def register_project(check: _ProjectCheckT) -> _ProjectCheckT:
        _register(code, ProjectRule(meta, check))
        return check

    return register_file if scope == "file" else register_project


def _register(code: str, registered: Rule) -> None:
    if code in REGISTRY:
        raise RuntimeError(f"rule {code} registered twice")
    REGISTRY[code] = registered


def all_of(*groups: Iterable[str]) -> tuple[str, ...]:
    """Pre-filter words that need one word of each group: `all_of(("queue",), (".delay(", "apply_async"))`."""
    combos = [""]
    for group in groups:
        combos = [f"{c}&{w}" if c else w for c in combos for w in group]
    return tuple(combos)


def fix(edits: Iterable[Edit], message: str, applicability: Applicability) -> Fix:
    return Fix(tuple(edits), applicability, message)


# Findings the engine itself produces; they are selectable and suppressible like rules.
BUILTIN = {
    "JL001": RuleMeta("JL001", "syntax-error", Severity.ERROR, "The file cannot be read or parsed as Python."),
    "JL002": RuleMeta("JL002", "internal-error", Severity.ERROR, "A rule crashed on this file; please report it."),
}

_loaded = False


def all_rules() -> dict[str, Rule]:
    global _loaded
    if not _loaded:
        for info in pkgutil.iter_modules(__path__):
            if not info.name.startswith("_"):
                importlib.import_module(f"{__name__}.{info.name}")
        _loaded = True
    return REGISTRY


def all_meta() -> dict[str, RuleMeta]:
    metas = {code: r.meta for code, r in all_rules().items()}
    metas.update(BUILTIN)
    return dict(sorted(metas.items()))
