"""Edits that fixes of configuration rules share: rename a setting's key, set a value, add a
setting next to another one, in the spelling of the source it lives in.

No edit adds or renames a keyword argument of a call that also takes `*args` or `**kwargs`
(`Celery("proj", **CONF)`, `app.conf.update(x=1, **EXTRA)`, `dict(x=1, **BASE)`): the spread may
hold that keyword, and Python raises TypeError ("got multiple values for keyword argument") when
the module is imported. An unsafe fix may change behaviour; it must never break the code."""

from __future__ import annotations

from .. import settings as celery_settings
from ..findings import Edit, Span
from ..project import SettingsModel, SettingValue


def _quote(raw: str) -> str:
    return raw[0] if raw and raw[0] in "\"'" else '"'


def rename(write: SettingValue, new_key: str) -> Edit | None:
    """Replace the key as written (keyword, attribute, name, or string with its quotes)."""
    original = write.write
    if original is None:
        return None
    if original.form == "keyword" and original.open_call:
        return None  # the spread may hold the new name
    if original.form in ("string", "item"):
        if not original.raw or original.raw[0] not in "\"'":
            return None  # a prefixed or triple-quoted key: leave it to a person
        q = _quote(original.raw)
        return Edit(write.span, f"{q}{new_key}{q}")
    if not new_key.isidentifier():
        return None
    return Edit(write.span, new_key)


def spelling_for(setting: str, style: str, namespace: str | None) -> str:
    """The key for `setting` in a source written in `style` ("new", "old" or "namespaced")."""
    if style == "namespaced" or (namespace and style != "old"):
        return f"{(namespace or 'CELERY').upper()}_{setting.upper()}"
    if style == "old":
        spec = celery_settings.table().get(setting)
        if spec is not None and spec.old_names:
            return spec.old_names[0]
    return setting


def add_sibling(anchor: SettingValue, setting: str, value_code: str, namespace: str | None = None) -> Edit | None:
    """Add `setting = value_code` beside `anchor`, in the same place and style."""
    write = anchor.write
    if write is None or write.anchor is None:
        return None
    key = spelling_for(setting, anchor.spelling, namespace)
    if write.form == "keyword":
        if write.open_call:
            return None  # the call's `**spread` may hold it already
        end = write.anchor
        return Edit(Span(end.end_line, end.end_col, end.end_line, end.end_col), f", {key}={value_code}")
    if write.form == "string":
        end = write.anchor
        q = _quote(write.raw)
        return Edit(Span(end.end_line, end.end_col, end.end_line, end.end_col), f", {q}{key}{q}: {value_code}")
    start = write.anchor
    indent = " " * (start.col - 1)
    at = Span(start.line, start.col, start.line, start.col)
    if write.form == "attribute" and write.owner_text:
        return Edit(at, f"{write.owner_text}.{key} = {value_code}\n{indent}")
    if write.form == "item" and write.owner_text:
        q = _quote(write.raw)
        return Edit(at, f"{write.owner_text}[{q}{key}{q}] = {value_code}\n{indent}")
    if write.form == "name" and key.isidentifier():
        return Edit(at, f"{key} = {value_code}\n{indent}")
    return None


def add_to_app(model: SettingsModel, setting: str, value_code: str) -> Edit | None:
    """Add `setting=value_code` as a keyword argument of the app's `Celery(...)` call."""
    app = model.app
    if app is None or app.open_args:
        return None  # `Celery(..., **kwargs)`: the spread may hold it already
    if app.last_arg is not None:
        end = app.last_arg
        return Edit(Span(end.end_line, end.end_col, end.end_line, end.end_col), f", {setting}={value_code}")
    call = app.span
    if call.end_col < 2:
        return None
    before_paren = Span(call.end_line, call.end_col - 1, call.end_line, call.end_col - 1)
    return Edit(before_paren, f"{setting}={value_code}")


def replace_value(write: SettingValue, value_code: str) -> Edit:
    return Edit(write.value.span, value_code)
