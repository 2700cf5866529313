"""The substring pre-filter: skip, without parsing, every file no enabled rule can need.

Each rule declares the words (case-insensitive) a file must contain for the rule to read it, for
its findings or for facts it merges across files. The pre-filter keeps a file when it contains any
word of any enabled rule, so disabling rules narrows it. A skipped file that an analysed file names
as its configuration source is analysed after all (`named_modules`, used by the engine).
tests/test_prefilter.py proves the words sound on every rule document example and rule test case.
"""

from __future__ import annotations

from typing import Any, Iterable

from .rules import all_rules

Words = tuple[bytes, ...]


def words(enabled: frozenset[str]) -> Words | None:
    """Words a file must contain for an enabled rule to need it; None when a rule needs every file."""
    found: set[str] = set()
    rules = all_rules()
    if not any(code in rules for code in enabled):
        # Only the built-in findings (syntax errors): report them for files any rule would read.
        enabled = frozenset(rules)
    for code, rule in rules.items():
        if code not in enabled:
            continue
        if not rule.meta.words:
            return None
        found.update(rule.meta.words)
    return tuple(sorted(w.encode() for w in found))


def keeps(data: bytes, wanted: Words | None, path: str = "") -> bool:
    """Whether a file's raw bytes, or its name, contain one of the words. The name counts:
    `celeryconfig.py` may hold nothing but lowercase settings."""
    if wanted is None:
        return True
    lowered = data.lower() + b"\n" + path.rsplit("/", 1)[-1].lower().encode()
    return any(word in lowered for word in wanted)


def named_modules(facts: Iterable[Any]) -> set[str]:
    """Modules that analysed files name as a configuration source (`config_from_object("proj.conf")`,
    DJANGO_SETTINGS_MODULE): they matter whatever words they contain."""
    named: set[str] = set()
    for module in facts:
        for source in module.celery.sources:
            if source.target:
                named.add(source.target.split(":", 1)[0])
        named.update(module.celery.django_settings)
    return named
