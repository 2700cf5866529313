"""Tasks decorated through a name bound to a task decorator (`task = app.task`, `job = shared_task`)
are tasks like any other: every task rule sees them (issue: they were invisible)."""

from __future__ import annotations

APP = """\
from celery import Celery, shared_task

app = Celery("proj", broker="redis://localhost")
task = app.task
job = shared_task


@task(bind=True, max_retries=None)
def through_app_alias(self):
    pass


@job(max_retries=None)
def through_shared_alias():
    pass


@job
def bare_alias():
    pass
"""


def test_tasks_decorated_through_an_alias_are_tasks(project):
    found = project({"proj/celery.py": APP}, select=["CEL403"])
    assert found == [("proj/celery.py", 8, "CEL403"), ("proj/celery.py", 13, "CEL403")]


def test_an_alias_bound_to_the_app_makes_it_a_worker_app(project):
    # The app's only tasks are declared through `task = app.task`: it runs them, so a missing hard
    # time limit is reported at the app.
    found = project({"proj/celery.py": APP}, select=["CEL105"])
    assert found == [("proj/celery.py", 3, "CEL105")]


def test_a_name_rebound_to_something_else_is_no_decorator(project):
    code = """\
from celery import shared_task

job = shared_task
job = print


@job(max_retries=None)
def not_a_task():
    pass


def job_runner(task):
    task = shared_task  # a local name: only module-level aliases count
    return task
"""
    assert project({"proj/tasks.py": code}, select=["CEL403"]) == []


def test_an_alias_bound_to_a_decorator_call_carries_its_options(project):
    code = """\
from celery import shared_task

retrying = shared_task(autoretry_for=(Exception,), max_retries=3)


@retrying
def sync_accounts():
    pass


@retrying
def sync_invoices():
    pass


made_here = shared_task(sync_accounts)  # builds a task from a function: no alias
"""
    found = project({"proj/tasks.py": code}, select=["CEL402"])
    assert found == [("proj/tasks.py", 3, "CEL402"), ("proj/tasks.py", 3, "CEL402")]
