"""CEL104 and CEL105: a time limit of 0 means *no limit* in Celery.

The worker passes `time_limit or task.time_limit` to the pool and billiard sets no timer for a
falsy timeout, so `task_time_limit=0` / `time_limit=0` is no hard limit (and soft 0 no soft limit);
0 in `apply_async` falls back to the task's own limit.
"""

from __future__ import annotations


def test_cel104_a_hard_limit_of_zero_is_no_limit(project):
    found = project(
        {
            "app.py": """
            from celery import Celery, shared_task

            app = Celery("proj")
            app.conf.update(task_soft_time_limit=540, task_time_limit=0)

            @app.task(soft_time_limit=540, time_limit=0)
            def unlimited():
                pass

            @app.task(soft_time_limit=0, time_limit=60)
            def no_soft():
                pass

            @shared_task(soft_time_limit=50, time_limit=60)
            def crunch():
                pass

            crunch.apply_async(soft_time_limit=30, time_limit=0)
            crunch.apply_async(soft_time_limit=0)
            """,
            "celeryconfig.py": """
            task_soft_time_limit = 0
            task_time_limit = 0
            """,
        },
        select=["CEL104"],
    )
    assert found == []


def test_cel104_keeps_real_conflicts_next_to_zero(project):
    found = project(
        {
            "app.py": """
            from celery import Celery, shared_task

            app = Celery("proj")
            app.conf.update(task_soft_time_limit=600, task_time_limit=300)

            @shared_task(soft_time_limit=50, time_limit=60)
            def crunch():
                pass

            # 0 in the call falls back to the task's 60 s: soft 90 s is above it
            crunch.apply_async(soft_time_limit=90, time_limit=0)
            """,
        },
        select=["CEL104"],
    )
    assert found == [("app.py", 4, "CEL104"), ("app.py", 11, "CEL104")]


def test_cel105_zero_is_no_hard_limit(project):
    found = project(
        {
            "a.py": """
            from celery import Celery

            app = Celery("proj", task_time_limit=0)

            @app.task
            def export():
                pass
            """,
            "b.py": """
            from celery import Celery

            app = Celery("proj")

            @app.task(time_limit=0)
            def forever():
                pass
            """,
            "c.py": """
            from celery import Celery

            app = Celery("proj")

            @app.task(time_limit=60)
            def bounded():
                pass
            """,
        },
        select=["CEL105"],
    )
    assert found == [("a.py", 3, "CEL105"), ("b.py", 3, "CEL105")]
