"""Which Django settings modules an app reads (issue 16, cause 3): a settings module that cannot be
found makes the model incomplete, never a module guessed by its name; several settings modules
that none names are variants, and a finding needs all of them."""

from __future__ import annotations

APP = """
import os
from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{module}")
app = Celery("proj")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
"""
APP_UNNAMED = """
from celery import Celery

app = Celery("proj")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
"""
TASKS = """
from celery import shared_task

@shared_task
def ping():
    return "pong"
"""
VIEWS_SETTINGS = """
from django.shortcuts import render

from proj.celery import app

def settings_page(request):
    return render(request, "settings.html", {"workers": app.control.inspect().ping()})
"""
BASE = """
INSTALLED_APPS = ["django.contrib.auth"]
CELERY_BROKER_URL = "redis://localhost:6379/0"
"""


def _files(celery: str, **extra: str) -> dict[str, str]:
    files = {"proj/__init__.py": "", "proj/celery.py": celery, "proj/tasks.py": TASKS}
    files.update({path.replace("__", "/") + ".py": text for path, text in extra.items()})
    return files


# -- a named settings module that is not in the tree ------------------------------------------------


def test_named_settings_module_absent_keeps_never_set_rules_quiet(project):
    # DJANGO_SETTINGS_MODULE names proj.settings.production, which the tree does not hold; the only
    # module named settings is a views file: it is not the configuration.
    files = _files(APP.format(module="proj.settings.production"), proj__views__settings=VIEWS_SETTINGS)
    files["proj/views/__init__.py"] = ""
    assert project(files, select=["CEL102", "CEL105"]) == []


def test_named_settings_module_present_keeps_the_finding(project):
    files = _files(APP.format(module="proj.settings"), proj__settings=BASE)
    assert project(files, select=["CEL102"]) == [("proj/celery.py", 5, "CEL102")]


def test_unnamed_views_settings_is_not_a_settings_module(project):
    files = _files(APP_UNNAMED, proj__views__settings=VIEWS_SETTINGS)
    files["proj/views/__init__.py"] = ""
    assert project(files, select=["CEL102", "CEL105"]) == []


# -- several settings modules, none named ----------------------------------------------------------

VARIANTS = {
    "proj__settings__base": BASE,
    "proj__settings__dev": "from .base import *\nDEBUG = True\n",
    "proj__settings__production": "from .base import *\nDEBUG = False\n",
}


def _variants(**changes: str) -> dict[str, str]:
    merged = dict(VARIANTS)
    for key, text in changes.items():
        merged[key] = merged.get(key, "") + text
    files = _files(APP_UNNAMED, **merged)
    files["proj/settings/__init__.py"] = ""
    return files


def test_setting_set_in_one_variant_is_not_never_set(project):
    files = _variants(proj__settings__production="CELERY_TASK_ACKS_LATE = True\n")
    assert project(files, select=["CEL102"]) == []


def test_setting_unset_in_every_variant_is_reported(project):
    assert project(_variants(), select=["CEL102"]) == [("proj/celery.py", 3, "CEL102")]


def test_test_settings_are_no_variant(project):
    # settings/test.py sets it, but tests never run the production worker.
    files = _variants(proj__settings__test="from .base import *\nCELERY_TASK_ACKS_LATE = True\n")
    assert project(files, select=["CEL102"]) == [("proj/celery.py", 3, "CEL102")]


def test_values_that_differ_between_variants_are_unknown(project):
    files = _variants(
        proj__settings__dev='CELERY_TASK_SERIALIZER = "pickle"\n',
        proj__settings__production='CELERY_TASK_SERIALIZER = "json"\n',
    )
    assert project(files, select=["CEL101"]) == []


def test_values_that_agree_between_variants_are_reported_once(project):
    files = _variants(
        proj__settings__dev='CELERY_TASK_SERIALIZER = "pickle"\n',
        proj__settings__production='CELERY_TASK_SERIALIZER = "pickle"\n',
    )
    assert project(files, select=["CEL101"]) == [("proj/settings/dev.py", 3, "CEL101")]


def test_value_in_the_shared_base_is_every_variants(project):
    files = _variants(proj__settings__base='CELERY_TASK_SERIALIZER = "pickle"\n')
    assert project(files, select=["CEL101"]) == [("proj/settings/base.py", 3, "CEL101")]


def test_settings_example_and_docker_are_variants(project):
    files = _files(
        APP_UNNAMED,
        proj__settings_example=BASE,
        proj__settings_docker=BASE + "CELERY_TASK_ACKS_LATE = True\n",
    )
    assert project(files, select=["CEL102"]) == []
    files["proj/settings_example.py"] += "CELERY_TASK_ACKS_LATE = True\n"
    files["proj/settings_docker.py"] = files["proj/settings_docker.py"].replace("True", "False")
    # Set in both, to different values: neither "never set" nor a known False.
    assert project(files, select=["CEL102"]) == []
