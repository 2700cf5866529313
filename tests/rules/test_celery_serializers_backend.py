"""CEL101 on the result side: result_serializer and result_accept_content matter only when a
result backend stores results."""

from __future__ import annotations

from conftest import lint

DJANGO_APP = (
    'from celery import Celery\n\napp = Celery("proj")\n'
    'app.config_from_object("django.conf:settings", namespace="CELERY")\n'
)
SETTINGS = (
    "INSTALLED_APPS = []\n"
    "CELERY_RESULT_BACKEND = {backend}\n"
    'CELERY_ACCEPT_CONTENT = ["pickle"]\n'
    'CELERY_TASK_SERIALIZER = "pickle"\n'
    'CELERY_RESULT_SERIALIZER = "pickle"\n'
    'CELERY_RESULT_ACCEPT_CONTENT = ["pickle"]\n'
)


def files(backend):
    return {"proj/__init__.py": "", "proj/celery.py": DJANGO_APP, "proj/settings.py": SETTINGS.format(backend=backend)}


def test_result_settings_quiet_without_a_backend(project):
    found = project(files("None"), select=["CEL101"])
    # The message side stays reported.
    assert found == [("proj/settings.py", 3, "CEL101"), ("proj/settings.py", 4, "CEL101")]


def test_result_settings_quiet_with_the_disabled_backend(project):
    assert project(files('"disabled"'), select=["CEL101"]) == [
        ("proj/settings.py", 3, "CEL101"),
        ("proj/settings.py", 4, "CEL101"),
    ]


def test_result_settings_reported_with_a_backend_and_say_so(project):
    found = project(files('"redis://localhost:6379/1"'), select=["CEL101"])
    assert found == [("proj/settings.py", n, "CEL101") for n in (3, 4, 5, 6)]
    messages = {f.span.line: f.message for f in lint(project.root, ["CEL101"])}
    for line in (5, 6):
        assert "result backend" in messages[line] and "publish to the broker" not in messages[line]
    assert "publish to the broker" in messages[4]


def test_app_without_any_backend_setting(project):
    found = project(
        {"app.py": 'from celery import Celery\n\napp = Celery("proj")\napp.conf.result_serializer = "pickle"\n'},
        select=["CEL101"],
    )
    assert found == []


def test_unlinked_config_module_needs_its_own_backend_setting(project):
    # The app that loads it may pass backend=: only an explicit None says there is none.
    assert project({"celeryconfig.py": 'result_serializer = "pickle"\n'}, select=["CEL101"]) == [
        ("celeryconfig.py", 1, "CEL101")
    ]
    assert project(
        {"celeryconfig.py": 'result_backend = None\nresult_serializer = "pickle"\n'}, select=["CEL101"]
    ) == []
