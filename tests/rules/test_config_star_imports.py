"""A settings module that the app's settings read through `from .base import *` is part of them:
it is not checked again on its own, where the settings the importing module adds are missing."""

from __future__ import annotations

APP = """\
import os
from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings.prod")
app = Celery("proj")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.task
def ping():
    return 1
"""
BASE = """\
SECRET_KEY = "x"
INSTALLED_APPS = ["proj"]
CELERY_BROKER_URL = "redis://localhost:6379/0"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 60
"""


def files(prod: str) -> dict[str, str]:
    return {
        "proj/__init__.py": "",
        "proj/celery.py": APP,
        "proj/settings/__init__.py": "",
        "proj/settings/base.py": BASE,
        "proj/settings/prod.py": prod,
    }


def test_a_base_the_app_settings_star_import_is_not_checked_alone(project):
    prod = "from .base import *\n\nCELERY_WORKER_PREFETCH_MULTIPLIER = 1\n"
    assert project(files(prod), select=["CEL106"]) == []


def test_the_merged_settings_are_still_checked(project):
    # prod adds nothing: late acks with the default prefetch, reported once, where acks_late is set.
    prod = "from .base import *\n\nDEBUG = False\n"
    assert project(files(prod), select=["CEL106"]) == [("proj/settings/base.py", 4, "CEL106")]
