"""Apps joblint used to miss (issue 16, cause 8), worker apps, and settings passed through a
`**spread` or an inline dict (cause 1, the configuration side)."""

from __future__ import annotations

TASK = """

        @app.task
        def ping():
            return "pong"
        """

# -- Celery subclasses -----------------------------------------------------------------------------


def test_app_of_a_celery_subclass_is_an_app(project):
    files = {
        "proj/__init__.py": "",
        "proj/worker.py": """
        from celery import Celery

        class MyCelery(Celery):
            pass

        app = MyCelery("proj")
        app.conf.task_serializer = "pickle"
        """,
    }
    assert project(files, select=["CEL101"]) == [("proj/worker.py", 7, "CEL101")]


def test_app_of_an_imported_celery_subclass_is_an_app(project):
    files = {
        "proj/__init__.py": "",
        "proj/base.py": "from celery import Celery\n\nclass ProjCelery(Celery):\n    pass\n",
        "proj/worker.py": """
        from proj.base import ProjCelery

        app = ProjCelery("proj", task_serializer="pickle")
        """,
    }
    assert project(files, select=["CEL101"]) == [("proj/worker.py", 3, "CEL101")]


def test_class_named_like_celery_that_is_none_builds_no_app(project):
    files = {
        "proj/__init__.py": "",
        "proj/worker.py": """
        from vendor.queue import FakeCelery

        app = FakeCelery("proj", task_serializer="pickle")
        """,
    }
    assert project(files, select=["CEL101"]) == []


def test_subclass_that_configures_itself_keeps_never_set_quiet(project):
    files = {
        "proj/__init__.py": "",
        "proj/worker.py": """
        from celery import Celery

        class MyCelery(Celery):
            def on_configure(self):
                self.conf.task_acks_late = True

        app = MyCelery("proj")
        """ + TASK,
    }
    assert project(files, select=["CEL102"]) == []
    files["proj/worker.py"] = files["proj/worker.py"].replace("def on_configure(self):", "def describe(self):")
    files["proj/worker.py"] = files["proj/worker.py"].replace("self.conf.task_acks_late = True", "return 1")
    assert project(files, select=["CEL102"]) == [("proj/worker.py", 7, "CEL102")]


# -- worker apps -----------------------------------------------------------------------------------

SENDER = """
from celery import Celery

app = Celery("proj", broker="redis://localhost:6379/0")
"""


def test_app_without_tasks_only_sends(project):
    assert project({"proj/__init__.py": "", "proj/app.py": SENDER}, select=["CEL102", "CEL105"]) == []


def test_app_that_autodiscovers_tasks_is_a_worker_app(project):
    files = {"proj/__init__.py": "", "proj/app.py": SENDER + "app.autodiscover_tasks()\n"}
    assert project(files, select=["CEL102", "CEL105"]) == [("proj/app.py", 3, "CEL102"), ("proj/app.py", 3, "CEL105")]


def test_app_named_by_a_worker_command_is_a_worker_app(project):
    files = {"proj/__init__.py": "", "proj/app.py": SENDER, "Procfile": "worker: celery -A proj.app worker -l info\n"}
    assert project(files, select=["CEL102"]) == [("proj/app.py", 3, "CEL102")]
    files["Procfile"] = "web: celery -A proj.app inspect ping\n"  # no worker command
    assert project(files, select=["CEL102"]) == []


def test_app_with_worker_settings_is_a_worker_app(project):
    files = {"proj/__init__.py": "", "proj/app.py": SENDER + "app.conf.worker_prefetch_multiplier = 1\n"}
    assert project(files, select=["CEL102"]) == [("proj/app.py", 3, "CEL102")]


# -- **spread and inline dicts ---------------------------------------------------------------------


def test_spread_of_a_module_level_dict_is_read(project):
    files = {
        "proj/__init__.py": "",
        "proj/app.py": """
        from celery import Celery

        OPTIONS = {"task_serializer": "pickle", "task_acks_late": True}
        app = Celery("proj", **OPTIONS)
        """ + TASK,
    }
    assert project(files, select=["CEL101", "CEL102"]) == [("proj/app.py", 3, "CEL101")]


def test_spread_of_an_imported_dict_is_read(project):
    files = {
        "proj/__init__.py": "",
        "proj/conf.py": 'CONFIG = dict(task_serializer="pickle")\n',
        "proj/app.py": """
        from celery import Celery
        from proj.conf import CONFIG

        app = Celery("proj")
        app.conf.update(**CONFIG)
        """ + TASK,
    }
    assert project(files, select=["CEL101", "CEL102"]) == [("proj/app.py", 4, "CEL102"), ("proj/conf.py", 1, "CEL101")]


def test_unresolved_spread_makes_settings_unknown(project):
    files = {
        "proj/__init__.py": "",
        "proj/app.py": """
        from celery import Celery
        from proj.loader import load_options

        app = Celery("proj", task_serializer="pickle")
        app.conf.update(**load_options())
        """ + TASK,
    }
    # The spread may set acks and override the serializer: nothing is known.
    assert project(files, select=["CEL101", "CEL102"]) == []


def test_dict_with_a_spread_inside_is_not_a_closed_literal(project):
    files = {
        "proj/__init__.py": "",
        "proj/app.py": """
        from celery import Celery
        from proj.defaults import BASE

        OPTIONS = {**BASE, "task_serializer": "json"}
        app = Celery("proj", **OPTIONS)
        """ + TASK,
    }
    assert project(files, select=["CEL102"]) == []


def test_config_from_object_with_an_inline_dict_is_read(project):
    files = {
        "proj/__init__.py": "",
        "proj/app.py": """
        from celery import Celery

        app = Celery("proj")
        app.config_from_object({"task_serializer": "pickle", "task_acks_late": True})
        """ + TASK,
    }
    assert project(files, select=["CEL101", "CEL102"]) == [("proj/app.py", 4, "CEL101")]
