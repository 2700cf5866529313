"""The typed model of Celery's settings: one pydantic field per setting of the table, with its
type and Celery's default. Runtime validation (`check-app`) validates the loaded app's values
through it; the static path keeps literal values in `project.SettingsModel` and reads defaults
from the same table, so both inputs agree on names, types and defaults.

Imported only where it is used: building the model costs pydantic's start-up.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Optional, Union

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from . import table

# Celery's option types (celery/app/defaults.py Option.type) -> what a value may be. Celery also
# accepts comma-separated strings for lists, and numbers where floats are expected.
_TYPES: dict[str, Any] = {
    "bool": Optional[bool],
    "int": Optional[int],
    "float": Optional[float],
    "string": Optional[str],
    "str": Optional[str],
    "bytes": Optional[Union[bytes, str]],
    "list": Optional[Union[list, tuple, str]],
    "tuple": Optional[Union[list, tuple, str]],
    "dict": Optional[dict],
    "any": Any,
}


@lru_cache(maxsize=1)
def celery_settings_model() -> type[BaseModel]:
    fields = {
        name: (_TYPES.get(spec.type, Any), spec.default) for name, spec in table().items()
    }
    return create_model(  # type: ignore[call-overload, no-any-return]
        "CelerySettings",
        __config__=ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True),
        **fields,
    )


def validate(values: dict[str, Any]) -> tuple[BaseModel, list[str]]:
    """The settings model for `values` (unset fields keep Celery's defaults), and one line per
    value whose type Celery does not expect (that value is left at its default here)."""
    model = celery_settings_model()
    problems: list[str] = []
    clean = dict(values)
    try:
        return model.model_validate(clean), problems
    except ValidationError as exc:
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else "?"
            if key in clean:
                problems.append(f"{key}: {error['msg'].lower()} (got {clean.pop(key)!r})")
    return model.model_validate(clean), problems
