"""An app that only decorates tasks while launch files name the worker app: `@app.task` is shared
by default, so its tasks run in (and under the settings of) the app the worker command names."""

from __future__ import annotations

from conftest import lint, write_project

WORKER = """
from celery import Celery

app = Celery("workerpkg")
app.autodiscover_tasks(["web"])
"""
SENDER = """
from celery import Celery

app = Celery("tasks", broker="redis://localhost:6379/0")


@app.task{options}
def send_mail(user_id):
    ...
"""
COMPOSE = "services:\n  worker:\n    command: celery -A {name} worker -l info\n"


def _files(options: str = "", launch: str | None = "workerpkg") -> dict[str, str]:
    files = {
        "workerpkg/__init__.py": "",
        "workerpkg/celery.py": WORKER,
        "web/__init__.py": "",
        "web/tasks.py": SENDER.format(options=options),
    }
    if launch is not None:
        files["docker-compose.yml"] = COMPOSE.format(name=launch)
    return files


def _found(tmp_path, files):
    write_project(tmp_path, files)
    return [(f.path, f.span.line, f.code, f.message) for f in lint(tmp_path, ["CEL102", "CEL105"])]


def test_sender_app_tasks_count_for_the_launched_app(tmp_path):
    found = _found(tmp_path, _files())
    assert [f[:3] for f in found] == [("workerpkg/celery.py", 3, "CEL102"), ("workerpkg/celery.py", 3, "CEL105")]
    assert "1 task (send_mail)" in found[1][3]


def test_app_named_by_a_worker_command_stays_a_worker_app(tmp_path):
    found = _found(tmp_path, _files(launch="web.tasks"))
    assert [f[:3] for f in found] == [
        ("web/tasks.py", 3, "CEL102"), ("web/tasks.py", 3, "CEL105"),
        ("workerpkg/celery.py", 3, "CEL102"), ("workerpkg/celery.py", 3, "CEL105"),  # autodiscover_tasks()
    ]
    assert "send_mail" in found[1][3]


def test_without_launch_files_an_app_with_tasks_is_a_worker_app(tmp_path):
    found = _found(tmp_path, _files(launch=None))
    assert [f[:3] for f in found] == [
        ("web/tasks.py", 3, "CEL102"), ("web/tasks.py", 3, "CEL105"),
        ("workerpkg/celery.py", 3, "CEL102"), ("workerpkg/celery.py", 3, "CEL105"),
    ]


def test_unshared_task_stays_with_its_app(tmp_path):
    found = _found(tmp_path, _files(options="(shared=False)"))
    assert [f[:3] for f in found] == [
        ("web/tasks.py", 3, "CEL102"), ("web/tasks.py", 3, "CEL105"),
        ("workerpkg/celery.py", 3, "CEL102"), ("workerpkg/celery.py", 3, "CEL105"),
    ]
    assert "send_mail" in found[1][3] and "send_mail" not in found[3][3]


def test_sender_task_limits_govern_the_launched_app_list(tmp_path):
    found = _found(tmp_path, _files(options="(time_limit=60, acks_late=True)"))
    assert found == []
