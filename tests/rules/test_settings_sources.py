"""The settings model across files: config sources, Django settings, classes, precedence."""

from __future__ import annotations

from conftest import lint, write_project

DJANGO = {
    "manage.py": """
    import os
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
    """,
    "proj/__init__.py": "from .celery import app as celery_app\n",
    "proj/settings.py": """
    INSTALLED_APPS = ["django.contrib.auth"]
    TIME_ZONE = "UTC"
    CELERY_BROKER_URL = "redis://localhost:6379/0"
    CELERY_TASK_SERIALIZER = "pickle"
    """,
    "proj/celery.py": """
    import os
    from celery import Celery

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
    app = Celery("proj")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.autodiscover_tasks()
    """,
    "app1/tasks.py": """
    from celery import shared_task

    @shared_task
    def ping():
        return "pong"
    """,
}


def test_django_namespace_settings_reach_the_app(project):
    found = project(DJANGO, select=["CEL101", "CEL102"])
    assert found == [("proj/celery.py", 5, "CEL102"), ("proj/settings.py", 4, "CEL101")]


def test_django_acks_late_in_settings_satisfies_cel102(project):
    files = dict(DJANGO)
    files["proj/settings.py"] += "CELERY_TASK_ACKS_LATE = True\n"
    assert project(files, select=["CEL102"]) == []


def test_namespaced_name_without_namespace_is_ignored_by_celery(project):
    files = dict(DJANGO)
    files["proj/celery.py"] = files["proj/celery.py"].replace(', namespace="CELERY"', "")
    files["proj/settings.py"] += "CELERY_TASK_ACKS_LATE = True\n"
    found = project(files, select=["CEL102", "CEL109"])
    # Without the namespace Celery reads CELERY_TASK_ACKS_LATE as nothing: acks stay early.
    assert ("proj/celery.py", 5, "CEL102") in found
    assert ("proj/settings.py", 5, "CEL109") in found


def test_star_import_chain(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/settings/__init__.py": "",
            "proj/settings/base.py": 'CELERY_TASK_TIME_LIMIT = 60\nINSTALLED_APPS = []\n',
            "proj/settings/prod.py": "from .base import *\nCELERY_TASK_SOFT_TIME_LIMIT = 90\n",
            "proj/celery.py": """
            import os
            from celery import Celery
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings.prod")
            app = Celery("proj")
            app.config_from_object("django.conf:settings", namespace="CELERY")
            """,
        },
        select=["CEL104"],
    )
    assert found == [("proj/settings/prod.py", 2, "CEL104")]


def test_config_class_with_old_names(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/celery.py": """
            from celery import Celery


            class CeleryConfig:
                CELERYD_TASK_SOFT_TIME_LIMIT = 900
                CELERYD_TASK_TIME_LIMIT = 300


            app = Celery("proj")
            app.config_from_object(CeleryConfig)
            """,
        },
        select=["CEL104", "CEL108"],
    )
    assert found == [
        ("proj/celery.py", 5, "CEL108"),
        ("proj/celery.py", 5, "CEL104"),
        ("proj/celery.py", 6, "CEL108"),
    ]


def test_config_class_base_classes_and_module_attr_string(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/config.py": """
            class Base:
                task_time_limit = 100

            class Production(Base):
                task_soft_time_limit = 100
            """,
            "proj/celery.py": """
            from celery import Celery
            app = Celery("proj")
            app.config_from_object("proj.config:Production")
            """,
        },
        select=["CEL104"],
    )
    assert found == [("proj/config.py", 5, "CEL104")]


def test_celeryconfig_module_by_string_and_preconf_precedence(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/celeryconfig.py": 'task_serializer = "pickle"\nresult_serializer = "pickle"\n',
            "proj/celery.py": """
            from celery import Celery
            app = Celery("proj")
            app.conf.result_serializer = "json"
            app.config_from_object("proj.celeryconfig")
            """,
        },
        select=["CEL101"],
    )
    # app.conf writes override the config source whatever their order, as in Celery.
    assert found == [("proj/celeryconfig.py", 1, "CEL101")]


def test_imported_config_module_and_conf_writes_in_another_file(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/celeryconfig.py": "broker_url = 'redis://localhost'\n",
            "proj/celery.py": """
            from celery import Celery
            from proj import celeryconfig
            app = Celery("proj")
            app.config_from_object(celeryconfig)
            """,
            "proj/extra.py": """
            from proj.celery import app
            app.conf.task_serializer = "pickle"
            """,
        },
        select=["CEL101"],
    )
    assert found == [("proj/extra.py", 2, "CEL101")]


def test_unreadable_config_source_keeps_rules_quiet(project):
    found = project(
        {
            "celery_app.py": """
            import os
            from celery import Celery
            app = Celery("proj")
            app.config_from_envvar("CELERY_CONFIG_MODULE")

            @app.task
            def work():
                pass
            """
        },
        select=["CEL102", "CEL105"],
    )
    assert found == []


def test_two_apps_get_two_models(project):
    found = project(
        {
            "a.py": 'from celery import Celery\napp = Celery("a", task_acks_late=True, task_reject_on_worker_lost=True)\n',
            "b.py": 'from celery import Celery\napp = Celery("b")\n\n@app.task\ndef work():\n    pass\n',
        },
        select=["CEL102"],
    )
    assert found == [("b.py", 2, "CEL102")]


def test_dict_config_source(project):
    found = project(
        {
            "app.py": """
            from celery import Celery
            config = {"task_serializer": "pickle"}
            app = Celery("proj")
            app.config_from_object(config)
            """
        },
        select=["CEL101"],
    )
    assert found == [("app.py", 2, "CEL101")]


def test_the_settings_module_named_beside_the_app_wins_over_other_entry_points(project):
    """A build script's DJANGO_SETTINGS_MODULE does not replace the one the worker's app module sets."""
    found = project({
        "proj/__init__.py": "",
        "proj/celery_app.py": (
            "import os\nfrom celery import Celery\n\n"
            'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")\n'
            'app = Celery("proj")\napp.config_from_object("django.conf:settings", namespace="CELERY")\n'
        ),
        "proj/_build.py": (  # a word that makes the pre-filter keep it, as a real build script may have
            '"""Collect static files; no celery worker here."""\nimport os\n\n'
            'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj._build_settings")\n'
        ),
        "proj/_build_settings.py": "SECRET_KEY = 'x'\n",
        "proj/settings.py": "INSTALLED_APPS = []\nCELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True\n",
    }, select=["CEL111"])
    assert found == []  # read from proj.settings: set; from the build settings it would be unset
