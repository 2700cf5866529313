"""Task facts: every task shape, bound-ness, dispatch calls, and effective options."""

from __future__ import annotations

import textwrap

import libcst as cst

from joblint.facts import extract
from joblint.project import build
from joblint.task_options import effective_option, resolve_task


def facts_of(source: str, path: str = "proj/tasks.py", module: str = "proj.tasks"):
    return extract(cst.parse_module(textwrap.dedent(source)), path, module, False)


def test_decorator_call_and_class_forms():
    facts = facts_of(
        """
        from celery import Celery, Task, shared_task

        app = Celery("proj")

        @app.task(bind=True, max_retries=5)
        def bound(self, x):
            pass

        @shared_task
        def plain(x, y=1, *rest):
            pass

        def registered(a):
            pass

        registered_task = app.task(registered, name="reg")

        class Base(app.Task):
            autoretry_for = (IOError,)

        class Send(Base):
            ignore_result = True
            def run(self, to):
                pass
        """
    )
    by_name = {t.function: t for t in facts.tasks.tasks}
    assert set(by_name) == {"bound", "plain", "registered", "Send"}
    assert by_name["bound"].bound and by_name["bound"].first_param == "self"
    assert by_name["bound"].input_params == ("x",)
    assert not by_name["plain"].bound and by_name["plain"].varargs and by_name["plain"].required == 1
    assert by_name["registered"].kind == "call" and by_name["registered"].option("name").data == "reg"
    send = by_name["Send"]
    assert send.kind == "class" and send.bound and send.qualname == "Send.run"
    assert send.option("ignore_result").data is True and send.base == "Base"


def test_not_celery_task_classes_and_decorators():
    facts = facts_of(
        """
        import luigi
        from invoke import task

        class Job(luigi.Task):
            def run(self):
                pass

        @task
        def build(c):
            pass
        """
    )
    assert facts.tasks.tasks == []


def test_dispatch_calls_keep_options_apart_from_task_arguments():
    facts = facts_of(
        """
        from django.db import transaction
        from proj.tasks import add

        def view():
            add.delay(1, queue="not-an-option")
            add.apply_async((1,), queue="fast")
            add.s(1).set(priority=3)
            with transaction.atomic():
                add.delay(2)
                transaction.on_commit(lambda: add.delay(3))
        """,
        path="proj/views.py",
        module="proj.views",
    )
    calls = [(c.method, {k: v.data for k, v in c.options.items()}, c.in_transaction, c.in_on_commit)
             for c in facts.tasks.dispatches]
    assert calls == [
        ("delay", {}, False, False),
        ("apply_async", {"queue": "fast"}, False, False),
        ("set", {"priority": 3}, False, False),  # the outer call is seen first
        ("s", {}, False, False),
        ("delay", {}, True, False),
        ("delay", {}, False, True),
    ]
    assert facts.tasks.dispatches[0].qualified == "proj.tasks.add"


def test_effective_option_merges_decorator_base_class_and_app_settings():
    base = facts_of(
        """
        from celery import Task

        class RetryingTask(Task):
            autoretry_for = (ConnectionError,)
            max_retries = 7
        """,
        path="proj/base.py",
        module="proj.base",
    )
    tasks = facts_of(
        """
        from celery import Celery
        from proj.base import RetryingTask

        app = Celery("proj", task_acks_late=True)

        @app.task(base=RetryingTask, max_retries=2)
        def fetch(url):
            pass
        """
    )
    project = build([base.stripped(), tasks.stripped()])
    task = project.tasks[0]
    assert effective_option(project, task, "max_retries", None)[0].data == 2
    value, where = effective_option(project, task, "autoretry_for", None)
    assert value.items[0].data is not None and "RetryingTask" in where
    assert effective_option(project, task, "acks_late", "task_acks_late")[0].data is True
    assert effective_option(project, task, "retry_backoff", None) == (None, "")
    assert resolve_task(project, "fetch", "proj.tasks.fetch", "proj/views.py") is task
    assert resolve_task(project, "fetch", None, "proj/views.py") is None


def test_task_subclass_facts_feed_cel101(project):
    found = project(
        {
            "tasks.py": """
import luigi
from celery import Celery, Task

app = Celery("proj")

class PickledBase(app.Task):
    serializer = "pickle"

class Job(luigi.Task):
    serializer = "pickle"
"""
        },
        select=["CEL101"],
    )
    assert found == [("tasks.py", 7, "CEL101")]
