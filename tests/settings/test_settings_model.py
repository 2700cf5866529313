"""The settings table and the typed model built from it."""

from __future__ import annotations

import pytest

from joblint import settings
from joblint.settings.model import celery_settings_model, validate


def test_every_celery_setting_is_a_field_with_its_default():
    model = celery_settings_model()
    assert len(settings.table()) >= 200
    assert set(model.model_fields) == set(settings.table())
    defaults = model()
    assert defaults.task_serializer == "json"
    assert defaults.worker_prefetch_multiplier == 4
    assert defaults.task_acks_late is False
    assert defaults.accept_content == ["json"]


def test_unknown_keys_are_rejected_and_wrong_types_reported():
    with pytest.raises(Exception):
        celery_settings_model()(task_acks_lates=True)
    model, problems = validate({"task_time_limit": "soon", "task_acks_late": True})
    assert model.task_acks_late is True and model.task_time_limit is None
    assert problems and problems[0].startswith("task_time_limit:")


@pytest.mark.parametrize(
    "key, namespace, setting, spelling",
    [
        ("task_acks_late", None, "task_acks_late", "new"),
        ("CELERY_ACKS_LATE", None, "task_acks_late", "old"),
        ("CELERY_TASK_ACKS_LATE", None, None, "unknown"),  # Django spelling without the namespace: ignored
        ("CELERY_TASK_ACKS_LATE", "CELERY", "task_acks_late", "namespaced"),
        ("CELERY_ACKS_LATE", "CELERY", "task_acks_late", "old"),
        ("CELERY_TASK_SERIALIZER", None, "task_serializer", "old"),
        ("CELERY_TASK_SERIALIZER", "CELERY", "task_serializer", "namespaced"),
        ("BROKER_URL", None, "broker_url", "old"),
        ("TASK_ACKS_LATE", None, None, "unknown"),
        ("CELERYD_TIME_LIMIT", None, None, "unknown"),  # documented, but celery 5.7 ignores it
    ],
)
def test_three_spellings(key, namespace, setting, spelling):
    meaning = settings.canonical(key, namespace)
    assert (meaning.setting, meaning.spelling) == (setting, spelling)


def test_table_matches_the_installed_celery():
    """The shipped table is what scripts/generate_settings.py makes from celery/app/defaults.py."""
    import importlib.util
    import json
    from pathlib import Path

    celery = pytest.importorskip("celery")
    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("generate_settings", root / "scripts" / "generate_settings.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    shipped = json.loads((root / "src" / "joblint" / "settings" / "celery_settings.json").read_text())
    if celery.__version__ != shipped["celery"]:
        pytest.skip(f"installed celery {celery.__version__}, table made from {shipped['celery']}")
    assert generator.build() == shipped
