"""The project's resolution of `**mapping` task options (models/literal_dicts.py)."""

from __future__ import annotations

from joblint.facts.values import UNKNOWN
from joblint.task_options import effective_option, find_option


def test_spread_keys_join_the_options_with_written_keywords_winning(built):
    project = built(
        {
            "proj/__init__.py": "",
            "proj/conf.py": """
                from requests import RequestException

                FIRST = {"queue": "first", "max_retries": 1, "autoretry_for": (RequestException,)}
                SECOND = {"queue": "second"}
            """,
            "proj/tasks.py": """
                from celery import shared_task
                from proj.conf import FIRST, SECOND

                @shared_task(max_retries=7, **FIRST, **SECOND)
                def fetch(url):
                    pass
            """,
        }
    )
    (task,) = project.tasks
    assert task.task.option("queue").data == "second"  # the later spread wins
    assert task.task.option("max_retries").data == 7 and task.task.written("max_retries")
    assert not task.task.written("queue")
    assert task.task.names["autoretry_for"] == ("requests.RequestException",)  # qualified where written
    spread = task.task.spreads[0]
    assert spread.resolved and task.task.option("queue").span == task.task.spreads[1].span
    assert task.task.option("retry_backoff") is None  # every spread is known: certainly unset
    source = find_option(project, task, "queue")
    assert source is not None and source.where == "option of task fetch from **SECOND at proj/conf.py:4"


def test_unresolved_spreads_hide_the_base_class_and_the_app_settings(built):
    project = built(
        {
            "proj/tasks.py": """
                from celery import Celery, Task

                app = Celery("proj")
                app.conf.task_time_limit = 60

                A = {**B}
                B = {**A}

                class Base(Task):
                    max_retries = None

                @app.task(base=Base, **A)
                def cyclic(url):
                    pass
            """,
        }
    )
    (task,) = project.tasks
    assert not task.task.spreads[0].resolved
    value, _ = effective_option(project, task, "time_limit", "task_time_limit")
    assert value is not None and value.data is UNKNOWN
    source = find_option(project, task, "max_retries")
    assert source is not None and source.value.data is UNKNOWN and source.own
