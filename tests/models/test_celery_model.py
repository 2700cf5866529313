"""The Celery model behind `Project`: the names rules import from joblint.project are the model's."""

from __future__ import annotations

import joblint.project as project
from joblint.models import celery


def test_project_reexports_the_celery_model():
    for name in (
        "SettingsModel", "SettingValue", "ProjectTask", "IgnoredKey", "known_number", "CONFIG_NAME", "evident",
        "holds_configuration", "looks_like_config", "resolve_source", "DJANGO_SETTINGS",
    ):
        assert getattr(project, name) is getattr(celery, name)


def test_project_holds_the_celery_model_it_was_built_from(built):
    found = built({
        "proj/__init__.py": "",
        "proj/celery.py": (
            'from celery import Celery\n\napp = Celery("proj")\napp.config_from_object("proj.celeryconfig")\n'
        ),
        "proj/celeryconfig.py": "task_serializer = 'pickle'\n",
        "proj/tasks.py": "from proj.celery import app\n\n\n@app.task\ndef add(x, y):\n    return x + y\n",
    })
    assert found.celery.models is found.models and found.celery.tasks is found.tasks
    [app] = found.apps
    assert app.value("task_serializer") == "pickle" and app.get("task_serializer").path == "proj/celeryconfig.py"
    [task] = found.tasks
    assert task.name == "proj.tasks.add" and found.models_for(task) == [app]
    assert found.tasks_named("tasks.add") == [task]
