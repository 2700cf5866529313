"""CEL1: Celery configuration — the rest of what the merged settings model shows: a clock other
than UTC, and tasks run eagerly (inline) outside tests.

The other CEL1 rules sit by concern: celery_serializers.py (pickle), celery_acks_limits.py
(acknowledgement and time limits), celery_settings_names.py (old and unknown setting names) and
celery_brokers.py (brokers and result backends).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from ..findings import Severity
from ..project import Project, SettingsModel, SettingValue
from . import Report, rule
from ._celery import CONFIG_WORDS

# -- CEL107 ------------------------------------------------------------------------------------

UTC_NAMES = ("UTC", "Etc/UTC", "utc", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT")


@rule(
    code="CEL107",
    in_tests=False,
    name="non-utc-timezone",
    severity=Severity.INFO,
    summary="Celery runs on local time: schedules jump at DST changes and ETAs are ambiguous.",
    scope="project",
    words=(*CONFIG_WORDS, "enable_utc"),  # Django's TIME_ZONE: the settings module, by a second look
    settings=("enable_utc", "timezone"),  # and Django's TIME_ZONE, which is no Celery setting
)
def non_utc_timezone(project: Project) -> Iterator[Report]:
    why = (
        "schedules jump or repeat at DST changes and ETAs become ambiguous; keep Celery on UTC and convert at the "
        "edges"
    )
    for model in project.models:
        utc = model.get("enable_utc")
        if utc is not None and utc.data is False:
            yield Report(utc.value.span, f"enable_utc is False: {why}", path=utc.path)
        zone = model.get("timezone")
        if zone is None:
            zone = _django_time_zone(model)
        if zone is not None and isinstance(zone.data, str) and zone.data not in UTC_NAMES:
            source = "" if zone.setting == "timezone" else " (Django's TIME_ZONE, which Celery falls back to)"
            yield Report(zone.value.span, f"timezone is {zone.data!r}{source}: {why}", path=zone.path)


def _django_time_zone(model: SettingsModel) -> SettingValue | None:
    """Celery's `timezone` falls back to TIME_ZONE (CELERY_TIME_ZONE under the namespace)."""
    names = {"TIME_ZONE", f"{model.namespace.upper()}_TIME_ZONE" if model.namespace else "TIME_ZONE"}
    for ignored in reversed(model.ignored):
        if ignored.write.key in names and ignored.layer == "source":
            w = ignored.write
            return SettingValue("TIME_ZONE", w.key, "new", w.value, ignored.path, w.span, w.via, "source", w)
    return None


# -- CEL113 ------------------------------------------------------------------------------------


NON_PRODUCTION_STEMS = ("local", "dev", "development", "ci")


def _non_production(write: SettingValue) -> bool:
    """Local/CI settings modules, config classes named for tests, and a value set under an `if`
    (`if not BROKER_URL: ... = True`): a choice made per environment, which joblint cannot judge.
    Test code itself is left to the engine: the rule is quiet there."""
    stem = PurePosixPath(write.path).stem
    owner = write.write.owner if write.write is not None else ""
    klass = owner.rsplit(".", 1)[-1] if owner.startswith("class:") else ""
    return (
        (write.write is not None and write.write.conditional)
        or stem in NON_PRODUCTION_STEMS
        or stem.endswith(("_local", "_dev"))
        or "Test" in klass
    )


@rule(
    code="CEL113",
    in_tests=False,
    name="always-eager-in-production",
    severity=Severity.WARNING,
    summary="task_always_eager=True outside tests: tasks run inline, with no queue, retries or time limits.",
    scope="project",
    words=(*CONFIG_WORDS, "always_eager"),
    settings=("task_always_eager",),
)
def always_eager_in_production(project: Project) -> Iterator[Report]:
    for model in project.models:
        for write in model.writes:
            if write.setting == "task_always_eager" and write.data is True and not _non_production(write):
                yield Report(
                    write.value.span,
                    f"{write.key}=True outside tests: tasks run inline in the caller, with no queue, no retries and no "
                    "time limits, and a slow task blocks the request that sent it; set it only in test settings",
                    path=write.path,
                )
