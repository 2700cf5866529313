"""Django settings written at run time (issue 16): class-based settings exported into the settings
module (`Prod.load_settings(__name__)`), django-configurations, `globals().update(...)`, and
django-split-settings' `include(...)`. The model reads what it can find and is incomplete for the
rest; a class other settings classes derive from is checked through them, not on its own."""

from __future__ import annotations

APP = """
import os
from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings.prod")
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
LOADER = """
import sys


class Settings:
    @classmethod
    def load_settings(cls, module_name):
        module = sys.modules[module_name]
        for name in dir(cls):
            if name.isupper():
                setattr(module, name, getattr(cls, name))
"""
BASE = """
from proj.core.settings import Settings


class BaseSettings(Settings):
    INSTALLED_APPS = ["django.contrib.auth"]
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_TIME_LIMIT = 3600
    CELERY_TASK_ACKS_LATE = True
    CELERY_TASK_REJECT_ON_WORKER_LOST = True
    CELERY_TASK_SEND_ERROR_EMAILS = False
"""
PROD = """
from .base import BaseSettings


class ProdSettings(BaseSettings):
    CELERY_TASK_ALWAYS_EAGER = False
    CELERY_BROKER_URL = "redis://cache:6379/0"


ProdSettings.load_settings(__name__)
"""


def _files(**settings: str) -> dict[str, str]:
    files = {
        "proj/__init__.py": "",
        "proj/celery.py": APP,
        "proj/tasks.py": TASKS,
        "proj/core/__init__.py": "",
        "proj/core/settings.py": LOADER,
        "proj/settings/__init__.py": "",
        "proj/settings/base.py": BASE,
        "proj/settings/prod.py": PROD,
    }
    files.update({f"proj/settings/{name}.py": text for name, text in settings.items()})
    return files


SELECT = ["CEL102", "CEL103", "CEL105", "CEL109", "CEL113"]


# -- class-based settings ------------------------------------------------------------------------


def test_exported_class_settings_are_read_through_its_bases(project):
    # acks_late and the time limit are set in the base class; the subclass turns eager mode off.
    # Only the real typo of the base class stays.
    assert project(_files(), select=SELECT) == [("proj/settings/base.py", 10, "CEL109")]


def test_exported_class_keeps_a_base_value_it_does_not_override(project):
    prod = PROD.replace("    CELERY_TASK_ALWAYS_EAGER = False\n", "")
    assert project(_files(prod=prod), select=["CEL113"]) == [("proj/settings/base.py", 6, "CEL113")]


def test_exported_class_without_the_setting_is_never_set(project):
    base = BASE.replace("    CELERY_TASK_ACKS_LATE = True\n", "")
    assert project(_files(base=base), select=["CEL102"]) == [("proj/celery.py", 5, "CEL102")]


def test_names_exported_by_something_else_are_unknown(project):
    prod = "from proj.core import loader\n\nCELERY_BROKER_URL = 'redis://'\nloader.load(__name__)\n"
    assert project(_files(prod=prod), select=["CEL102", "CEL105"]) == []


def test_globals_update_makes_the_settings_unknown(project):
    prod = "import json\n\nCELERY_BROKER_URL = 'redis://'\nglobals().update(json.load(open('s.json')))\n"
    assert project(_files(prod=prod), select=["CEL102", "CEL105"]) == []


def test_django_configurations_class_makes_the_settings_unknown(project):
    prod = (
        "from configurations import Configuration\n\n\n"
        "class Prod(Configuration):\n    CELERY_BROKER_URL = 'redis://'\n"
    )
    assert project(_files(prod=prod), select=["CEL102", "CEL105"]) == []


def test_base_settings_class_is_not_checked_on_its_own(project):
    # No app reads these classes; the base's eager mode is overridden by the class deriving from it.
    files = {
        "proj/__init__.py": "",
        "proj/settings.py": (
            "class Base:\n    CELERY_TASK_ALWAYS_EAGER = True\n\n\n"
            "class Prod(Base):\n    CELERY_TASK_ALWAYS_EAGER = False\n"
        ),
    }
    assert project(files, select=["CEL113"]) == []


def test_base_settings_class_with_only_a_test_subclass_is_still_checked(project):
    files = {
        "proj/__init__.py": "",
        "proj/settings.py": (
            "class Base:\n    CELERY_TASK_ALWAYS_EAGER = True\n\n\n"
            "class TestSettings(Base):\n    CELERY_TASK_ALWAYS_EAGER = True\n"
        ),
    }
    assert project(files, select=["CEL113"]) == [("proj/settings.py", 2, "CEL113")]


# -- django-split-settings ---------------------------------------------------------------------------

SPLIT = """
from split_settings.tools import include, optional

include(
    "settings.dist.py",
    optional("local_settings.py"),
)
"""
DIST = """
INSTALLED_APPS = ["django.contrib.auth"]
CELERY_BROKER_URL = "redis://localhost:6379/0"
CELERY_TASK_SERIALISER = "json"
"""


def _split(settings: str, **extra: str) -> dict[str, str]:
    files = {"proj/__init__.py": "", "proj/celery.py": APP, "proj/tasks.py": TASKS, "proj/settings/__init__.py": ""}
    files["proj/settings/prod.py"] = settings
    files.update({f"proj/settings/{name}": text for name, text in extra.items()})
    return files


def test_split_settings_files_are_read(project):
    # The included file's typo is found; local_settings.py may exist on the server: never set is unknown.
    files = _split(SPLIT, **{"settings.dist.py": DIST})
    assert project(files, select=["CEL102", "CEL105", "CEL109"]) == [("proj/settings/settings.dist.py", 3, "CEL109")]


def test_split_settings_glob_is_read_whole(project):
    split = 'from split_settings.tools import include\n\ninclude("components/*.py")\n'
    files = _split(split, **{"components/base.py": DIST, "components/celery.py": "CELERY_TASK_ACKS_LATE = True\n"})
    assert project(files, select=["CEL102"]) == []


def test_split_settings_glob_without_the_setting_is_never_set(project):
    split = 'from split_settings.tools import include\n\ninclude("components/*.py")\n'
    files = _split(split, **{"components/base.py": DIST})
    assert project(files, select=["CEL102"]) == [("proj/celery.py", 5, "CEL102")]


# -- classes that only share names with settings -------------------------------------------------------

SERIALIZERS = """
from rest_framework import serializers


class CeleryStatusSerializer(serializers.Serializer):
    worker_status = serializers.BooleanField(read_only=True)
    broker_status = serializers.BooleanField(read_only=True)
    task_time_limit = serializers.IntegerField(allow_null=True)
    task_default_expires = serializers.IntegerField(allow_null=True)
"""


def test_serializer_fields_are_no_settings(project):
    files = {"proj/__init__.py": "", "proj/serializers.py": SERIALIZERS}
    assert project(files, select=["CEL109"]) == []


def test_plain_class_of_fields_is_no_config(project):
    text = SERIALIZERS.replace("(serializers.Serializer)", "").replace("serializers.", "")
    files = {"proj/__init__.py": "", "proj/serializers.py": text}
    assert project(files, select=["CEL109"]) == []


def test_plain_config_class_typo_is_still_reported(project):
    text = "import os\n\n\nclass CeleryConfig:\n    broker_url = os.environ['BROKER']\n    worker_concurency = 4\n"
    files = {"proj/__init__.py": "", "proj/celeryconfig.py": text}
    assert project(files, select=["CEL109"]) == [("proj/celeryconfig.py", 6, "CEL109")]


def test_serializer_named_by_config_from_object_is_read(project):
    # Whatever its base, a class the app loads is its configuration.
    text = SERIALIZERS + "    worker_concurency = 4\n"
    app = "from celery import Celery\n\napp = Celery('proj')\napp.config_from_object('proj.serializers:CeleryStatusSerializer')\n"
    files = {"proj/__init__.py": "", "proj/serializers.py": text, "proj/celery.py": app}
    assert ("proj/serializers.py", 9, "CEL109") in project(files, select=["CEL109"])
