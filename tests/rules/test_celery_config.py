"""CEL1 configuration rules: every settings source, aliases, old names, and the traps."""

from __future__ import annotations


def test_cel101_conf_update_and_accept_content(project):
    found = project(
        {
            "app.py": """
            from celery import Celery

            app = Celery("proj")
            app.conf.update(task_serializer="pickle", accept_content=["json", "application/x-python-serialize"])
            app.conf.result_serializer = "pickle"
            app.conf["event_serializer"] = "pickle"
            """
        },
        select=["CEL101"],
    )
    assert found == [("app.py", 4, "CEL101"), ("app.py", 4, "CEL101"), ("app.py", 5, "CEL101"), ("app.py", 6, "CEL101")]


def test_cel101_import_aliases(project):
    found = project(
        {
            "a.py": """
            from celery import Celery as C
            app = C("a", task_serializer="pickle")
            """,
            "b.py": """
            import celery
            app = celery.Celery("b", result_accept_content=["pickle"])
            """,
            "c.py": """
            from celery import shared_task as st

            @st(serializer="pickle")
            def job():
                pass
            """,
        },
        select=["CEL101"],
    )
    assert found == [("a.py", 2, "CEL101"), ("b.py", 2, "CEL101"), ("c.py", 3, "CEL101")]


def test_cel101_old_names_in_a_config_module(project):
    found = project(
        {
            "celeryconfig.py": """
            BROKER_URL = "redis://localhost"
            CELERY_TASK_SERIALIZER = "pickle"
            CELERY_ACCEPT_CONTENT = ["pickle"]
            """
        },
        select=["CEL101"],
    )
    assert found == [("celeryconfig.py", 2, "CEL101"), ("celeryconfig.py", 3, "CEL101")]


def test_cel101_apply_async_and_task_option_on_imported_app(project):
    found = project(
        {
            "tasks.py": """
            from proj.celery import app

            @app.task(serializer="pickle")
            def resize(path):
                pass

            resize.apply_async(("x",), serializer="pickle")
            """
        },
        select=["CEL101"],
    )
    assert found == [("tasks.py", 3, "CEL101"), ("tasks.py", 7, "CEL101")]


def test_cel101_later_write_wins(project):
    found = project(
        {
            "app.py": """
            from celery import Celery
            app = Celery("proj", task_serializer="pickle")
            app.conf.task_serializer = "json"
            """
        },
        select=["CEL101"],
    )
    assert found == []


def test_cel101_not_pickle_elsewhere(project):
    found = project(
        {
            "app.py": """
            import pickle
            from celery import Celery

            app = Celery("proj", task_serializer="json", accept_content=["json", "msgpack"])
            FORMAT = "pickle"
            data = pickle.dumps({"serializer": "pickle"})

            def save(serializer="pickle"):
                return serializer
            """,
            "huey_tasks.py": """
            from huey import RedisHuey
            huey = RedisHuey()

            @huey.task(serializer="pickle")
            def job():
                pass
            """,
        },
        select=["CEL101"],
    )
    assert found == []


def test_cel104_app_settings(project):
    found = project(
        {
            "app.py": """
            from celery import Celery
            app = Celery("proj")
            app.conf.update(task_soft_time_limit=600, task_time_limit=300)
            """,
            "celeryconfig.py": """
            CELERYD_TASK_TIME_LIMIT = 60
            CELERYD_TASK_SOFT_TIME_LIMIT = 60
            """,
        },
        select=["CEL104"],
    )
    assert found == [("app.py", 3, "CEL104"), ("celeryconfig.py", 2, "CEL104")]


def test_cel104_task_option_against_app_setting(project):
    found = project(
        {
            "app.py": """
            from datetime import timedelta
            from celery import Celery

            app = Celery("proj")
            app.conf.task_time_limit = 120

            @app.task(soft_time_limit=timedelta(minutes=5))
            def slow():
                pass

            @app.task(soft_time_limit=100)
            def fine():
                pass

            @app.task(time_limit=30, soft_time_limit=20)
            def fine_too():
                pass
            """
        },
        select=["CEL104"],
    )
    assert found == [("app.py", 7, "CEL104")]


def test_cel104_apply_async(project):
    found = project(
        {
            "app.py": """
            from celery import shared_task

            @shared_task(time_limit=60)
            def crunch():
                pass

            crunch.apply_async(soft_time_limit=90)
            crunch.apply_async(soft_time_limit=30)
            crunch.apply_async(soft_time_limit=10, time_limit=5)
            """
        },
        select=["CEL104"],
    )
    assert found == [("app.py", 7, "CEL104"), ("app.py", 9, "CEL104")]


def test_cel104_quiet_on_unknown_and_soft_only(project):
    found = project(
        {
            "app.py": """
            import os
            from celery import Celery
            app = Celery("proj")
            app.conf.task_time_limit = int(os.environ["LIMIT"])
            app.conf.task_soft_time_limit = 600

            @app.task(soft_time_limit=900)
            def a():
                pass
            """
        },
        select=["CEL104"],
    )
    assert found == []
