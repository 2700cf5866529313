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


def test_cel701_large_returns_on_a_redis_backend(project):
    found = project(
        {
            "tasks.py": """
import base64
import requests
from celery import Celery
from shop.models import Order

app = Celery("proj", broker="redis://localhost/0", backend="redis://localhost/1")

@app.task
def export(path):
    with open(path) as fh:
        return fh.read()

@app.task
def download(url):
    response = requests.get(url, timeout=10)
    return response.content

@app.task
def dump():
    return list(Order.objects.filter(paid=True))

@app.task
def encoded(path):
    data = open(path, "rb").read()
    return base64.b64encode(data)

@app.task
def small(x):
    return {"id": x}

@app.task(ignore_result=True)
def ignored(path):
    with open(path) as fh:
        return fh.read()

@app.task
def bounded():
    return list(Order.objects.all()[:10])
"""
        },
        select=["CEL701"],
    )
    assert found == [("tasks.py", 11, "CEL701"), ("tasks.py", 16, "CEL701"), ("tasks.py", 20, "CEL701"), ("tasks.py", 25, "CEL701")]


def test_cel701_quiet_on_other_or_unknown_backends(project):
    found = project(
        {
            "a.py": """
import os
from celery import Celery

app = Celery("a", backend=os.environ["RESULT_BACKEND"])

@app.task
def export(path):
    with open(path) as fh:
        return fh.read()
""",
            "b.py": """
from celery import Celery

other = Celery("b", backend="db+postgresql://localhost/results")

@other.task
def export_b(path):
    with open(path) as fh:
        return fh.read()
""",
        },
        select=["CEL701"],
    )
    assert found == []


def test_cel703_results_that_never_expire(project):
    found = project(
        {
            "a.py": """
from celery import Celery

app = Celery("a", backend="redis://localhost/1")
app.conf.result_expires = None
""",
            "b.py": """
from celery import Celery

app = Celery("b", backend="django-db", result_expires=0)
""",
            "c.py": """
from celery import Celery

app = Celery("c", backend="rpc://", result_expires=None)
""",
            "d.py": """
from celery import Celery

app = Celery("d", backend="redis://localhost/1", result_expires=3600)
""",
        },
        select=["CEL703"],
    )
    assert found == [("a.py", 4, "CEL703"), ("b.py", 3, "CEL703")]


def test_cel704_result_read_on_an_app_without_backend(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/tasks.py": """
from celery import Celery

app = Celery("proj", broker="redis://localhost/0")

@app.task
def add(x, y):
    return x + y
""",
            "proj/report.py": """
from proj.tasks import add

def total():
    result = add.delay(1, 2)
    if result.ready():
        return result.result
    return result.get(timeout=5)
""",
            "tests/test_report.py": """
from proj.tasks import add

def test_add():
    assert add.delay(1, 2).get() == 3
""",
        },
        select=["CEL704"],
    )
    assert found == [("proj/report.py", 5, "CEL704"), ("proj/report.py", 6, "CEL704"), ("proj/report.py", 7, "CEL704")]


def test_cel704_traps(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/tasks.py": """
from celery import Celery

app = Celery("proj", broker="redis://localhost/0", backend="redis://localhost/1")
bare = Celery("bare", broker="redis://localhost/0", task_ignore_result=True)

@app.task
def add(x, y):
    return x + y

@bare.task
def fire(x):
    return x
""",
            "proj/report.py": """
from celery.result import AsyncResult
from proj.tasks import add, fire

def total(task_id):
    fire.delay(1)
    print(AsyncResult(task_id).get())
    return add.delay(1, 2).get(timeout=5)
""",
        },
        select=["CEL704"],
    )
    assert found == []


def test_cel702_helper_called_by_a_task_in_the_same_module(project):
    found = project(
        {
            "tasks.py": TASKS + """
def wait_for(x):
    return add.delay(x, x).get()

def unrelated(x):
    return add.delay(x, x).get()

@app.task
def outer(x):
    return wait_for(x) + len(str(x))
"""
        },
        select=["CEL702"],
    )
    assert found == [("tasks.py", 11, "CEL702")]
