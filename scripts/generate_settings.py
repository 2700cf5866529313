"""Regenerate src/joblint/settings/celery_settings.json from an installed Celery.

    pip install celery==5.7.0 && python scripts/generate_settings.py

The static path reads only the generated file; it never imports celery.
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "joblint" / "settings" / "celery_settings.json"


def _plain(value: object) -> object:
    import datetime
    import math

    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()  # durations are seconds everywhere in joblint
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return repr(value)


def build() -> dict:
    """The settings table of the installed Celery."""
    import celery
    from celery.app import defaults

    old_names: dict[str, list[str]] = {}
    for old_key, new_key in defaults._TO_NEW_KEY.items():  # what detect_settings() accepts
        old_names.setdefault(new_key, []).append(old_key)
    settings = {}
    for key, option in sorted(defaults.flatten(defaults.NAMESPACES)):
        old = sorted(old_names.get(key, []))
        kind = option.type if isinstance(option.type, str) else option.type.__name__  # a few are classes (int)
        settings[key] = {"default": _plain(option.default), "type": kind, "old_names": old}
    return {"celery": celery.__version__, "settings": settings}


def main() -> None:
    data = build()
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"{len(data['settings'])} settings written to {OUT}")


if __name__ == "__main__":
    main()
