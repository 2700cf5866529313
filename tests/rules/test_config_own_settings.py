"""CEL109 and a project's own CELERY_ settings (issue 16, cause 4): names the project reads from its
settings itself are not typos of Celery's; settings Celery reads outside its table are settings;
a key several settings modules assign is one finding."""

from __future__ import annotations

CELERY = """
import os
from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
app = Celery("proj")
app.config_from_object("django.conf:settings", namespace="CELERY")
"""
SETTINGS = """
INSTALLED_APPS = ["django.contrib.auth"]
CELERY_BROKER_URL = "redis://localhost:6379/0"
CELERY_HEARTBEAT_FILE = "/tmp/worker-heartbeat"
CELERY_TASK_ACKS_LATEE = True
"""


def _files(reader: str) -> dict[str, str]:
    return {
        "proj/__init__.py": "",
        "proj/celery.py": CELERY,
        "proj/settings.py": SETTINGS,
        "proj/health.py": reader,
    }


def test_own_setting_read_through_settings_attribute_is_no_typo(project):
    reader = """
    from django.conf import settings

    def alive():
        return open(settings.CELERY_HEARTBEAT_FILE).read()
    """
    # The heartbeat file is the project's own; the misspelled acks setting is still reported.
    assert project(_files(reader), select=["CEL109"]) == [("proj/settings.py", 4, "CEL109")]


def test_own_setting_read_through_getattr_is_no_typo(project):
    reader = """
    from django.conf import settings

    def alive():
        return getattr(settings, "CELERY_HEARTBEAT_FILE", None)
    """
    assert project(_files(reader), select=["CEL109"]) == [("proj/settings.py", 4, "CEL109")]


def test_unread_project_name_is_still_reported(project):
    reader = """
    def alive():
        return True
    """
    assert project(_files(reader), select=["CEL109"]) == [
        ("proj/settings.py", 3, "CEL109"),
        ("proj/settings.py", 4, "CEL109"),
    ]


def test_settings_celery_reads_outside_its_table_are_known(project):
    # celery/backends/base.py reads result_backend_thread_safe with conf.get(): no typo.
    files = _files("")
    files["proj/settings.py"] = (
        'INSTALLED_APPS = []\nCELERY_RESULT_BACKEND_THREAD_SAFE = True\nCELERY_RESULT_BACKEND_THREAD_SAF = True\n'
    )
    assert project(files, select=["CEL109"]) == [("proj/settings.py", 3, "CEL109")]


def test_key_several_settings_modules_assign_is_one_finding(project):
    variant = 'from .base import *\nCELERY_TASK_SERIALIZER = "json"\nCELERY_TASK_ACKS_LATEE = True\n'
    files = {
        "proj/__init__.py": "",
        "proj/celery.py": CELERY.replace('os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")', ""),
        "proj/settings/__init__.py": "",
        "proj/settings/base.py": "INSTALLED_APPS = []\n",
        "proj/settings/dev.py": variant,
        "proj/settings/production.py": variant,
    }
    # dev.py and production.py may each be the worker's: the key is reported once, at the first.
    assert project(files, select=["CEL109"]) == [("proj/settings/dev.py", 3, "CEL109")]


# -- names the settings module reads itself ------------------------------------------------------


def _reading(lines: str, reader: str = "") -> dict[str, str]:
    files = _files(reader)
    files["proj/settings.py"] = 'INSTALLED_APPS = []\nCELERY_BROKER_URL = "redis://"\n' + lines
    return files


def test_setting_missing_its_group_is_reported_even_when_read(project):
    # CELERY_SOFT_TIME_LIMIT is task_soft_time_limit without its group: Celery ignores both lines.
    lines = "CELERY_SOFT_TIME_LIMIT = 300\nCELERY_TIME_LIMIT = CELERY_SOFT_TIME_LIMIT + 60\n"
    assert project(_reading(lines), select=["CEL109"]) == [
        ("proj/settings.py", 3, "CEL109"),
        ("proj/settings.py", 4, "CEL109"),
    ]


def test_setting_missing_its_group_has_no_fix_when_read(project):
    # Renaming the name another line reads would break the module.
    from conftest import lint

    lines = "CELERY_SOFT_TIME_LIMIT = 300\nCELERY_TIME_LIMIT = CELERY_SOFT_TIME_LIMIT + 60\n"
    project(_reading(lines), select=["CEL109"])
    found = {f.span.line: f for f in lint(project.root, ["CEL109"])}
    assert found[3].fix is None and "CELERY_TASK_SOFT_TIME_LIMIT" in found[3].message
    assert found[4].fix is not None


def test_helper_read_by_the_settings_module_is_no_typo(project):
    lines = 'CELERY_REDIS_URL = "redis://cache"\nCELERY_RESULT_BACKEND = CELERY_REDIS_URL\n'
    assert project(_reading(lines), select=["CEL109"]) == []


def test_setting_missing_its_group_read_by_project_code_is_its_own(project):
    reader = """
    from django.conf import settings

    def limit():
        return settings.CELERY_SOFT_TIME_LIMIT
    """
    lines = "CELERY_SOFT_TIME_LIMIT = 300\nCELERY_TASK_TIME_LIMIT = CELERY_SOFT_TIME_LIMIT + 60\n"
    assert project(_reading(lines, reader), select=["CEL109"]) == []
