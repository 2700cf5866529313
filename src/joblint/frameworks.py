"""The framework table: everything generic code knows about each framework, in one row.

A row names a framework's rule-code prefix, its display name, its categories (the hundreds of its
codes, `CEL1`, with the title reports show), its own packages (skipped by the default `exclude`),
the fact groups its collectors fill and its project model. Suppression comments, the rule
registry, discovery, the pre-filter, the audit and the command line's description read this
table; none of them spells out a framework's prefix, names or packages.

Adding a framework adds its facts collector, its project model, its rules and their documents,
and one row here.

This module imports nothing of joblint's, so anything may import it: the facts collectors and
models are named by strings (`module:Class`, `module`), which tests/test_frameworks.py resolves.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True, eq=False)  # a row is itself: hashable, compared by identity
class Framework:
    key: str  # "celery": `RuleMeta.framework`, SARIF tags
    prefix: str  # "CEL": the letters every one of its codes starts with
    name: str  # "Celery": what reports show
    categories: Mapping[str, str]  # "CEL1" -> "Celery configuration": a code without its last two digits
    # Top-level packages of the framework itself -> modules only that package has (see
    # discover.is_framework_package): an unpacked wheel or the framework's own repository.
    packages: Mapping[str, frozenset[str]]
    # Fact groups of `facts.ModuleFacts` its collectors fill -> the collector, `module:Class`.
    facts: Mapping[str, str]
    model: str | None  # the module of its project model (models/), built once from every file's facts

    def owns(self, code: str) -> bool:
        """Whether `code` (`CEL101`) is one of this framework's: its prefix, then digits only."""
        return code.startswith(self.prefix) and code[len(self.prefix) :].isdigit()


def _row(
    key: str,
    prefix: str,
    name: str,
    categories: dict[str, str],
    packages: dict[str, frozenset[str]] | None = None,
    facts: dict[str, str] | None = None,
    model: str | None = None,
) -> Framework:
    return Framework(
        key,
        prefix,
        name,
        MappingProxyType(categories),
        MappingProxyType(packages or {}),
        MappingProxyType(facts or {}),
        model,
    )


# The row of joblint's own findings: every other row is a framework joblint checks.
JOBLINT = "joblint"
# What a code no row owns belongs to, in reports.
OTHER = "other"
OTHER_NAME = "Other"


FRAMEWORKS: tuple[Framework, ...] = (
    _row(
        "celery",
        "CEL",
        "Celery",
        {
            "CEL1": "Celery configuration",
            "CEL2": "Celery routing",
            "CEL3": "Celery canvas",
            "CEL4": "Celery retries",
            "CEL5": "Celery scheduling",
            "CEL6": "Celery monitoring",
            "CEL7": "Celery results",
            "CEL8": "Celery dispatch sites",
        },
        packages={
            "celery": frozenset({"app", "backends", "beat", "bootsteps", "canvas", "result", "worker"}),
            "kombu": frozenset({"connection", "entity", "messaging", "pidbox", "serialization", "transport"}),
        },
        facts={
            "celery": "joblint.facts.celery:CeleryCollector",
            "tasks": "joblint.facts.tasks:TaskCollector",
            "results": "joblint.facts.results:ResultCollector",
        },
        model="joblint.models.celery",
    ),
    _row(
        "arq",
        "ARQ",
        "ARQ",
        {"ARQ1": "ARQ jobs"},
        packages={"arq": frozenset({"connections", "constants", "cron", "jobs", "version", "worker"})},
        facts={"arq": "joblint.facts.arq:ArqCollector"},
        model="joblint.models.arq",
    ),
    _row(
        "temporal",
        "TMP",
        "Temporal",
        {"TMP1": "Temporal workflows", "TMP2": "Temporal activities"},
        packages={"temporalio": frozenset({"activity", "bridge", "client", "converter", "worker", "workflow"})},
        facts={"temporal": "joblint.facts.temporal:TemporalCollector"},
        model="joblint.models.temporal",
    ),
    # joblint's own findings (a file that cannot be parsed, a rule that crashed): no framework's.
    _row(JOBLINT, "JL", "joblint", {"JL0": "Files joblint could not check"}),
)


@lru_cache(maxsize=1024)
def of_code(code: str) -> Framework | None:
    """The framework a rule code belongs to, or None."""
    return next((f for f in FRAMEWORKS if f.owns(code)), None)


def by_key(key: str) -> Framework:
    """The row of `key` ("celery"); KeyError when there is none."""
    for framework in FRAMEWORKS:
        if framework.key == key:
            return framework
    raise KeyError(key)


def key_of(code: str) -> str:
    """`RuleMeta.framework`: the key of the framework a code belongs to, else "other"."""
    framework = of_code(code)
    return framework.key if framework is not None else OTHER


def display_name(key: str) -> str:
    """"Celery" for "celery"; a key no row has is shown as it is."""
    names = {f.key: f.name for f in FRAMEWORKS}
    names[OTHER] = OTHER_NAME
    return names.get(key, key)


def category_title(category: str) -> str:
    """"Celery configuration" for "CEL1"; a category no row names is shown as it is."""
    for framework in FRAMEWORKS:
        if category in framework.categories:
            return framework.categories[category]
    return category


def checked_names() -> list[str]:
    """The display names of the frameworks joblint checks (every row but joblint's own)."""
    return [f.name for f in FRAMEWORKS if f.key != JOBLINT]


def code_prefixes() -> tuple[str, ...]:
    """Every row's code prefix: the codes a suppression comment may name."""
    return tuple(f.prefix for f in FRAMEWORKS)


def own_packages() -> dict[str, frozenset[str]]:
    """Every framework's own top-level packages -> the modules that mark them."""
    return {name: markers for f in FRAMEWORKS for name, markers in f.packages.items()}
