"""CEL1: Celery configuration — setting names: old (pre-4.0) names, deprecated and an error when
mixed with new ones, and keys Celery does not know, which it ignores silently."""

from __future__ import annotations

from collections.abc import Iterator

from .. import settings as celery_settings
from ..findings import Applicability, Fix, Severity
from ..project import IgnoredKey, Project, SettingsModel, SettingValue
from . import Report, fix, rule
from ._celery import CONFIG_WORDS
from ._settings_edits import rename, spelling_for

# -- CEL108 ------------------------------------------------------------------------------------


def _mixed(writes: list[SettingValue]) -> bool:
    """Celery's ImproperlyConfigured check (celery/app/utils.py detect_settings): a source with old
    and new names is read in the style of the majority, and fails when a minority key has no
    spelling of the majority style beside it."""
    new = {w.setting for w in writes if w.spelling == "new"}
    old = {w.setting for w in writes if w.spelling == "old"}
    if not new or not old:
        return False
    minority, majority = (new, old) if len(old) > len(new) else (old, new)
    return any(setting not in majority for setting in minority)


@rule(
    code="CEL108",
    in_tests=False,
    name="deprecated-setting-name",
    severity=Severity.INFO,
    summary="An old uppercase setting name: deprecated, removed in Celery 6; mixed with new names it is an error.",
    scope="project",
    fix=Applicability.SAFE,
    words=(*CONFIG_WORDS, "broker_url"),
)
def deprecated_setting_name(project: Project) -> Iterator[Report]:
    names_read = {f.path: f.core.names_read for f in project.files}
    # Keys the project's code reads from its settings itself (`settings.CELERYBEAT_SCHEDULE`).
    own = {name for f in project.files for name in f.celery.settings_reads}
    for model in project.models:
        for layer in ("source", "preconf"):
            writes = [w for w in model.writes if w.layer == layer]
            # Celery's mix check reads the config source, or, when there is none, the keys written
            # through app.conf (keyword arguments of Celery() are left out of it).
            checked = writes if layer == "source" else [w for w in writes if w.via != "Celery()"]
            mixed = (layer == "source" or not model.source_writes()) and not model.namespace and _mixed(checked)
            # A guessed namespace: the new spelling depends on how the source is loaded.
            renames = None if model.namespace_guessed else _renames(model, writes, names_read, own)
            for write in writes:
                if write.spelling != "old" or _shadowed(write, model):
                    continue
                target = _new_spelling(write, model)
                message = f"{write.key} is the old name of {target}: old names are deprecated and removed in Celery 6"
                if model.namespace_guessed:
                    message = (
                        f"{write.key} is the old name of {write.setting}: old names are deprecated and removed in "
                        f"Celery 6 (spell it {target} if this source is read with namespace='{model.namespace}')"
                    )
                severity = None
                if mixed:
                    severity = Severity.ERROR
                    message = (
                        f"{write.key} is an old setting name in a source that also uses new names: Celery raises "
                        f"ImproperlyConfigured at start-up; rename it to {target}"
                    )
                yield Report(write.span, message, renames, path=write.path, severity=severity)


def _new_spelling(write: SettingValue, model: SettingsModel) -> str:
    return spelling_for(write.setting, "namespaced" if model.namespace else "new", model.namespace)


def _shadowed(write: SettingValue, model: SettingsModel) -> bool:
    """Whether Celery never reads this old key: it looks a setting up in each layer in turn (the
    preconf of Celery()/app.conf, then the config source), trying in each the namespaced, the new
    and only then the old spelling (celery/utils/collections.py ConfigurationView._to_keys). So an
    old key of the config source is dead when the app's preconf sets the setting, or when the same
    source (the same settings module, for Django settings variants) also spells it new: the key
    is then the application's own (superdesk's `BROKER_URL`, copied to `CELERY_BROKER_URL`)."""
    if write.layer != "source":
        return False  # preconf keys are renamed to new ones when Celery loads them: never dead
    if any(w.setting == write.setting and w.layer == "preconf" and _surely_set(w) for w in model.writes):
        return True
    groups = model.variants or [model.source_writes()]
    holding = [g for g in groups if any(w is write or w == write for w in g)]
    return bool(holding) and all(
        any(w.setting == write.setting and w.spelling != "old" for w in group) for group in holding
    )


def _celery_named(model: SettingsModel) -> bool:
    """A source no app is tied to that says it is Celery's (`celeryconfig.py`, `class CeleryConfig`):
    some `config_from_object` joblint could not follow reads it, and Celery's loader takes every
    name, lowercase ones included. Any other module may be a Flask or Django configuration, which
    keep only UPPERCASE names, so renaming to a lowercase name would drop the setting."""
    if model.name.startswith("class:"):
        title = model.name.rsplit(".", 1)[-1]
    else:
        title = model.path.rsplit("/", 1)[-1].split(".", 1)[0]
    return "celery" in title.lower()


def _surely_set(write: SettingValue) -> bool:
    """A preconf write that is certainly in force: `Celery(broker=x)` sets nothing when x is None."""
    return write.via != "Celery()" or (write.value.known and write.data is not None)


def _renames(
    model: SettingsModel, writes: list[SettingValue], names_read: dict[str, set[str]], own: set[str]
) -> Fix | None:
    """One fix renaming every old name of a source at once, so no fix leaves old and new names
    mixed (which Celery refuses), even when some of the findings are suppressed."""
    if model.django and not model.namespace:
        return None  # Django settings are UPPERCASE: the new names need namespace="CELERY" first
    if not model.is_app and not model.namespace and not _celery_named(model):
        return None  # the new names are lowercase, which Flask's from_pyfile/from_object would drop
    new_settings = {w.setting for w in writes if w.spelling != "old"}
    edits = []
    for write in writes:
        if write.spelling != "old" or write.setting in new_settings:
            continue  # both spellings given: Celery accepts that; renaming would duplicate the key
        if write.write is not None and write.write.form == "name" and write.key in names_read.get(write.path, ()):
            return None  # the module reads the old name (`X = CELERYD_TASK_TIME_LIMIT - 30`)
        if write.layer == "source" and write.key in own:
            return None  # the project's code reads it (`settings.CELERYBEAT_SCHEDULE`): renaming breaks it
        edit = rename(write, _new_spelling(write, model))
        if edit is None:
            return None
        edits.append(edit)
    return fix(edits, "Rename the old setting names of this source", Applicability.SAFE) if edits else None


# -- CEL109 ------------------------------------------------------------------------------------

SETTING_PREFIXES = (
    "task_", "worker_", "broker_", "result_", "beat_", "event_", "control_", "redis_", "database_",
    "cassandra_", "s3_", "azureblockblob_", "couchbase_", "arangodb_", "cosmosdbsql_", "elasticsearch_",
    "security_", "cache_", "mongodb_", "accept_content", "enable_utc", "timezone", "imports", "include",
    "celery", "celeryd", "celerybeat", "celerymon", "broker", "gcs_", "consul_", "filesystem_",
)
EXTENSION_PREFIXES = (
    "redbeat_", "CELERY_REDBEAT_", "CELERY_ONCE", "ONCE", "CELERY_SINGLETON", "singleton_", "CELERY_EMAIL_",
    "CELERY_RESULTS_", "CELERY_BEAT_SCHEDULER_", "CELERY_FLOWER_", "FLOWER_",
)


# Settings Celery reads with `conf.get(...)` outside its table (celery/app/defaults.py): real
# settings, not typos (celery/backends/base.py result_backend_thread_safe, celery/app/backends.py
# override_backends, celery/backends/gcs.py gcs_threadpool_maxsize).
READ_OUTSIDE_TABLE = {"result_backend_thread_safe", "override_backends", "gcs_threadpool_maxsize"}

# The daemonization options of `celery worker/beat/events` fall back to `<command>_<option>` in
# app.conf (celery/bin/base.py DaemonOption.daemon_setting); they are not in Celery's table.
DAEMON_SETTINGS = {
    f"{command}_{option}"
    for command in ("worker", "beat", "events")
    for option in ("logfile", "pidfile", "uid", "gid", "umask", "executable")
}


def _same_either_way(key: str, namespace: str | None) -> bool:
    """A key naming the same setting whether its source is read with the namespace or without
    (`CELERY_TASK_SERIALIZER`: namespaced, and the old name of task_serializer)."""
    setting = celery_settings.canonical(key, namespace).setting
    return setting is not None and setting == celery_settings.canonical(key).setting


def _plausible_typo(key: str, suggestion: str) -> bool:
    """A misspelling, not another setting: the same words but one, and that one close."""
    import difflib

    a, b = key.lower().split("_"), suggestion.lower().split("_")
    if len(a) != len(b):
        if abs(len(a) - len(b)) != 1:
            return False
        return difflib.SequenceMatcher(None, key.lower(), suggestion.lower()).ratio() > 0.9
    different = [(x, y) for x, y in zip(a, b) if x != y]
    return len(different) <= 1 and all(difflib.SequenceMatcher(None, x, y).ratio() >= 0.75 for x, y in different)


def _setting_like(key: str, layer: str, model: SettingsModel) -> bool:
    """Keys that were meant as Celery settings: every key passed to Celery()/app.conf, and keys of
    config modules that look like one (a module also holds helpers such as REDIS_HOST)."""
    if key.startswith(EXTENSION_PREFIXES):
        return False
    if layer == "preconf":
        return True
    if model.namespace:
        return key.startswith(model.namespace.upper() + "_")
    if model.django:
        return key.startswith(("CELERY", "BROKER_"))
    if key.isupper():  # old-style names; other constants (REDIS_HOST) are the module's own
        return key.startswith(("CELERY", "BROKER_"))
    return key.islower() and key.startswith(SETTING_PREFIXES)


def _suggestion(key: str, namespace: str | None, uppercase: bool) -> str | None:
    """The setting `key` was probably meant to be, spelled the way its source can hold it:
    new lowercase names unless the source only takes UPPERCASE names (Django settings, old-style
    config modules), where a new name would be ignored or mixed."""
    import difflib

    table = celery_settings.table()
    if namespace:
        prefix = namespace.upper() + "_"
        choices = [prefix + s.upper() for s in table] + list(celery_settings.old_to_new())
        found = difflib.get_close_matches(key, choices, n=1, cutoff=0.8)
        return found[0] if found else None
    # A Django-style name in a source read without the namespace: Celery ignores it.
    if key.startswith("CELERY_") and key[7:].lower() in table:
        new = key[7:].lower()
        old = table[new].old_names
        return (old[0] if old else None) if uppercase else new
    choices = list(celery_settings.old_to_new()) if uppercase else list(table)
    found = difflib.get_close_matches(key if uppercase else key.lower(), choices, n=1, cutoff=0.8)
    return found[0] if found else None


GROUPS = ("task", "worker", "broker", "result", "beat")


def _without_group(bare: str, prefix: str | None, uppercase: bool) -> str | None:
    """The setting a key names without its group (`CELERY_SOFT_TIME_LIMIT` for
    `task_soft_time_limit`), spelled as its source holds it; None for any other key."""
    if uppercase and not prefix:
        return None  # old-style names are spelled otherwise (CELERYD_TASK_TIME_LIMIT)
    table = celery_settings.table()
    for group in GROUPS:
        setting = f"{group}_{bare.lower()}"
        if setting in table:
            return f"{prefix}{setting.upper()}" if prefix else setting
    return None


def _uppercase_source(model: SettingsModel, layer: str) -> bool:
    """Whether a source's names must stay UPPERCASE: Django settings, or an old-style module."""
    if layer == "preconf":
        return False
    if model.django:
        return True
    spellings = {w.spelling for w in model.writes if w.layer == layer}
    return "old" in spellings and "new" not in spellings


@rule(
    code="CEL109",
    in_tests=False,
    name="unknown-setting",
    severity=Severity.WARNING,
    summary="A setting Celery does not know: it is silently ignored and the default stays in force.",
    scope="project",
    fix=Applicability.UNSAFE,
    words=CONFIG_WORDS,
)
def unknown_setting(project: Project) -> Iterator[Report]:
    # A key of settings modules is reported once, at its first place (settings/dev.py and
    # settings/prod.py assigning the same unknown key are one mistake); keys passed to Celery() or
    # app.conf are reported where each is written.
    found = sorted(_unknown_keys(project), key=lambda f: (f[0].path, f[0].write.span.line, f[0].write.span.col))
    reported: set[object] = set()
    for ignored, report in found:
        key = ignored.write.key
        seen = key if ignored.layer == "source" else (ignored.path, ignored.write.span, key)
        if seen not in reported:
            reported.add(seen)
            yield report


def _unknown_keys(project: Project) -> Iterator[tuple[IgnoredKey, Report]]:
    names_read = {f.path: f.core.names_read for f in project.files}
    # The project's own settings: `settings.CELERY_HEARTBEAT_FILE` read anywhere in its code.
    own = {name for f in project.files for name in f.celery.settings_reads}
    for model in project.models:
        for ignored in model.ignored:
            key = ignored.write.key
            if key in project.extra_settings or not _setting_like(key, ignored.layer, model):
                continue
            if key in own and ignored.layer == "source":
                continue  # the project reads it from its settings itself
            prefix = model.namespace.upper() + "_" if model.namespace else None
            bare = key[len(prefix):] if prefix and key.startswith(prefix) else key
            if bare.lower() in DAEMON_SETTINGS or bare.lower() in READ_OUTSIDE_TABLE:
                continue
            if model.namespace and key == f"{model.namespace.upper()}_TIME_ZONE":
                continue  # Celery's timezone falls back to (CELERY_)TIME_ZONE
            namespace = ignored.namespace
            uppercase = _uppercase_source(model, ignored.layer)
            suggestion = _suggestion(key, namespace, uppercase)
            if suggestion is not None and not (
                _plausible_typo(key, suggestion) or key[len("CELERY_"):].lower() in celery_settings.table()
            ):
                suggestion = None
            if suggestion is None:
                suggestion = _without_group(bare, prefix, uppercase)
            if model.namespace_guessed and suggestion is not None and not _same_either_way(suggestion, namespace):
                suggestion = None  # right only if the guessed namespace is
            read = ignored.write.form == "name" and key in names_read.get(ignored.path, ())
            if read and suggestion is None:
                continue  # a helper the module reads (`broker_url = redis_url`), not a setting
            message = f"{key} is not a Celery setting: Celery ignores it silently, so its default stays in force"
            if (
                namespace is None
                and key.startswith("CELERY_")
                and suggestion
                and key[7:].lower() in celery_settings.table()
            ):
                message = (
                    f"{key} is ignored: this source is read without namespace='CELERY', where the name is "
                    f"{suggestion}; rename it, or load the source with namespace='CELERY'"
                )
            elif suggestion:
                message += f"; did you mean {suggestion}?"
            else:
                message += "; if it belongs to an extension, list it in [tool.joblint] extra-settings"
            write = ignored.write
            setting = SettingValue(
                "", key, "unknown", write.value, ignored.path, write.span, write.via, ignored.layer, write
            )
            taken = suggestion is not None and any(
                w.key == suggestion and w.layer == ignored.layer and w.path == ignored.path for w in model.writes
            )
            # Renaming a name the module reads (`X = CELERY_SOFT_TIME_LIMIT + 60`) would break it.
            edit = rename(setting, suggestion) if suggestion and not taken and not read else None
            fixed = fix([edit], f"Rename {key} to {suggestion}", Applicability.UNSAFE) if edit else None
            yield ignored, Report(ignored.write.span, message, fixed, path=ignored.path)
