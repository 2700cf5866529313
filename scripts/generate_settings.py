"""Regenerate src/joblint/settings/celery_settings.json from an installed Celery.

    pip install celery==5.7.0 && python scripts/generate_settings.py

The static path reads only the generated file; it never imports celery.
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "joblint" / "settings" / "celery_settings.json"


def _plain(value: object) -> object:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return repr(value)


def main() -> None:
    import celery
    from celery.app import defaults

    settings = {}
    for key, option in sorted(defaults.flatten(defaults.NAMESPACES)):
        old = sorted({o.upper() for o in (option.old or ())})
        settings[key] = {"default": _plain(option.default), "type": option.type, "old_names": old}
    data = {"celery": celery.__version__, "settings": settings}
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"{len(settings)} settings written to {OUT}")


if __name__ == "__main__":
    main()
