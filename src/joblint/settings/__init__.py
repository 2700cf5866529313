"""Celery's settings table (generated from celery/app/defaults.py; see scripts/generate_settings.py).

Three spellings name one setting: the new lowercase name (`task_acks_late`), the old uppercase
name (`CELERY_ACKS_LATE`), and, in a source read with `namespace="CELERY"` (Django), the
namespaced name (`CELERY_TASK_ACKS_LATE`). `canonical` maps a key as written to the new name the
way Celery's own lookup does, so a key Celery would silently ignore maps to nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class SettingSpec:
    name: str
    default: Any
    type: str
    old_names: tuple[str, ...]


@dataclass(frozen=True)
class KeyMeaning:
    setting: str | None  # the new name, or None when Celery does not know the key
    spelling: str  # "new" | "old" | "namespaced" | "unknown"


@lru_cache(maxsize=1)
def table() -> dict[str, SettingSpec]:
    text = resources.files(__package__).joinpath("celery_settings.json").read_text(encoding="utf-8")
    data = json.loads(text)["settings"]
    return {
        name: SettingSpec(name, spec["default"], spec["type"], tuple(spec["old_names"]))
        for name, spec in data.items()
    }


@lru_cache(maxsize=1)
def old_to_new() -> dict[str, str]:
    return {old: spec.name for spec in table().values() for old in spec.old_names}


def canonical(key: str, namespace: str | None = None) -> KeyMeaning:
    """What Celery makes of `key` in a source read with `namespace`."""
    settings = table()
    if namespace:
        prefix = namespace.upper() + "_"
        if key.startswith(prefix) and key[len(prefix):].lower() in settings:
            return KeyMeaning(key[len(prefix):].lower(), "namespaced")
    if key in settings:
        return KeyMeaning(key, "new")
    new = old_to_new().get(key)
    if new is not None:
        return KeyMeaning(new, "old")
    return KeyMeaning(None, "unknown")


def default(setting: str) -> Any:
    spec = table().get(setting)
    return spec.default if spec else None
