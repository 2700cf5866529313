"""Which apps a worker runs (`SettingsModel.worker`), and the `-A` of worker commands in launch files."""

from __future__ import annotations

from pathlib import PurePath

from joblint.launch import worker_apps

SENDER = 'from celery import Celery\n\napp = Celery("proj", broker="redis://localhost:6379/0")\n'


def test_worker_command_apps_in_scripts_and_yaml():
    script = "celery -A proj.celery worker -l info && celery --app=other beat\ncelery -Athird worker\n"
    assert worker_apps(script, PurePath("start.sh")) == ["proj.celery", "third"]
    compose = "services:\n  worker:\n    command: [\"celery\", \"--app\", \"proj\", \"worker\"]\n"
    assert worker_apps(compose, PurePath("docker-compose.yml")) == ["proj"]
    assert worker_apps("echo celery -A proj worker\n", PurePath("Procfile")) == []


def test_sender_app_is_no_worker(built):
    project = built({"proj/__init__.py": "", "proj/app.py": SENDER})
    assert [m.worker for m in project.apps] == [False]


def test_worker_reasons(built):
    project = built({"proj/__init__.py": "", "proj/app.py": SENDER + "app.autodiscover_tasks()\n"})
    assert [(m.worker, m.worker_reason) for m in project.apps] == [(True, "autodiscover_tasks()")]
    project = built({"proj/__init__.py": "", "proj/app.py": SENDER.replace('")', '", include=["proj.jobs"])')})
    assert [(m.worker, m.worker_reason) for m in project.apps] == [(True, "include=")]
    project = built({"proj/__init__.py": "", "proj/app.py": SENDER + "app.conf.task_acks_late = True\n"})
    assert [(m.worker, m.worker_reason) for m in project.apps] == [(True, "sets task_acks_late")]
