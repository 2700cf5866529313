"""CEL7 result rules: waiting on results in tasks, large results, expiry, reads without a backend."""

from __future__ import annotations

TASKS = """
from celery import Celery, group, shared_task
from celery.result import AsyncResult

app = Celery("proj", broker="redis://localhost", backend="redis://localhost")

@app.task
def add(x, y):
    return x + y
"""


def test_cel702_get_on_delay_and_group_results_in_a_task(project):
    found = project(
        {
            "tasks.py": TASKS + """
@app.task
def total(xs):
    result = add.delay(1, 2)
    first = result.get(timeout=10)
    job = group(add.s(x, x) for x in xs)()
    return first + sum(job.join())

@shared_task(bind=True)
def inline(self):
    return add.delay(1, 2).get()

@app.task
def by_id(task_id):
    return AsyncResult(task_id).wait()
"""
        },
        select=["CEL702"],
    )
    assert found == [
        ("tasks.py", 13, "CEL702"),
        ("tasks.py", 15, "CEL702"),
        ("tasks.py", 19, "CEL702"),
        ("tasks.py", 23, "CEL702"),
    ]


def test_cel702_guard_bypasses_in_a_task(project):
    found = project(
        {
            "tasks.py": TASKS + """
from celery.result import allow_join_result

@app.task
def waits(task_id):
    with allow_join_result():
        pass
    return app.AsyncResult(task_id).get(disable_sync_subtasks=False)
"""
        },
        select=["CEL702"],
    )
    assert found == [("tasks.py", 14, "CEL702"), ("tasks.py", 16, "CEL702"), ("tasks.py", 16, "CEL702")]


def test_cel702_traps_other_gets_inside_a_task(project):
    found = project(
        {
            "tasks.py": TASKS + """
import queue
import redis
import requests
from contextvars import ContextVar
from django.conf import settings
from myapp.models import Order

work_queue = queue.Queue()
current = ContextVar("current")
r = redis.Redis()

@app.task
def busy(key, url, options):
    Order.objects.get(pk=1)
    settings.get("x")
    requests.get(url)
    r.get(key)
    work_queue.get(timeout=1)
    current.get()
    options.get("a")
    eager = add.apply(args=(1, 2))
    eager.get()
    result = add.delay(1, 2)
    result = {"x": 1}
    return result.get("x")
"""
        },
        select=["CEL702"],
    )
    assert found == []


def test_cel702_quiet_outside_tasks_and_in_tests(project):
    found = project(
        {
            "tasks.py": TASKS + """
def report(task_id):
    return AsyncResult(task_id).get()
""",
            "tests/test_add.py": """
from celery.result import AsyncResult
from tasks import add

def test_add():
    assert add.delay(1, 2).get() == 3
    assert AsyncResult("x").get() is None
""",
        },
        select=["CEL702"],
    )
    assert found == []


def test_cel702_task_subclass_run_and_app_task_call(project):
    found = project(
        {
            "tasks.py": TASKS + """
from celery import Task

class Report(Task):
    def run(self, x):
        return add.delay(x, x).get()

def collect(x):
    return add.apply_async((x, x)).get()

collect_task = app.task(collect)
"""
        },
        select=["CEL702"],
    )
    assert found == [("tasks.py", 14, "CEL702"), ("tasks.py", 17, "CEL702")]
