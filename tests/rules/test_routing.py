"""CEL2 routing rules: undeclared queues, priorities, routes to unknown tasks, implicit names."""

from __future__ import annotations

APP = """
from kombu import Queue
from celery import Celery

app = Celery("proj", broker="{broker}")
app.conf.task_queues = (Queue("default"), Queue("emails"){extra})
app.conf.task_default_queue = "default"
"""


def app(broker: str = "redis://localhost", extra: str = "", more: str = "") -> str:
    return APP.format(broker=broker, extra=extra) + more


def test_cel201_queue_options_calls_and_routes(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/tasks.py": app(more="""
app.conf.task_routes = {"proj.tasks.send": {"queue": "mails"}}

@app.task(queue="reports")
def build():
    pass

@app.task(queue="emails")
def send():
    pass

def go():
    send.apply_async(queue="emial")
    send.apply_async(queue="emails")
    send.s().set(queue="bulk")
    send.delay(queue="not-an-option")
"""),
        },
        select=["CEL201"],
    )
    assert found == [
        ("proj/tasks.py", 8, "CEL201"),
        ("proj/tasks.py", 10, "CEL201"),
        ("proj/tasks.py", 19, "CEL201"),
        ("proj/tasks.py", 21, "CEL201"),
    ]


def test_cel201_quiet_without_a_literal_task_queues(project):
    found = project(
        {
            "tasks.py": """
from celery import Celery

app = Celery("proj")
app.conf.task_queues = make_queues()

@app.task(queue="anything")
def build():
    pass
""",
            "other.py": """
from celery import Celery

other = Celery("other")

@other.task(queue="anything")
def build_other():
    pass
""",
        },
        select=["CEL201"],
    )
    assert found == []


def test_cel202_redis_range_and_rabbitmq_without_max_priority(project):
    found = project(
        {
            "redis_app.py": app(more="""
@app.task(priority=10)
def urgent():
    pass

@app.task(priority=9)
def fine():
    pass

def go():
    urgent.apply_async(priority=-1)
"""),
            "amqp_app.py": """
from celery import Celery

rabbit = Celery("rabbit", broker="amqp://guest@localhost//")

@rabbit.task(priority=5)
def ignored():
    pass
""",
            "amqp_max.py": """
from celery import Celery

capped = Celery("capped", broker="pyamqp://localhost//", task_queue_max_priority=5)

@capped.task(priority=5)
def ok():
    pass

@capped.task(priority=7)
def too_high():
    pass
""",
        },
        select=["CEL202"],
    )
    assert found == [
        ("amqp_app.py", 5, "CEL202"),
        ("amqp_max.py", 9, "CEL202"),
        ("redis_app.py", 8, "CEL202"),
        ("redis_app.py", 17, "CEL202"),
    ]


def test_cel202_quiet_when_the_broker_is_unknown(project):
    found = project(
        {
            "tasks.py": """
import os
from celery import Celery

app = Celery("proj", broker=os.environ["BROKER_URL"])

@app.task(priority=200)
def anything():
    pass
"""
        },
        select=["CEL202"],
    )
    assert found == []


def test_cel203_routes_to_unknown_tasks(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/tasks.py": """
from celery import Celery

app = Celery("proj")
app.conf.task_routes = {
    "proj.tasks.send_mail": {"queue": "mail"},
    "proj.tasks.send_email": {"queue": "mail"},
    "proj.tasks.report_*": {"queue": "batch"},
    "celery.chord_unlock": {"queue": "mail"},
    "django_celery_beat.tasks.x": {"queue": "mail"},
}

@app.task
def send_email():
    pass
""",
        },
        select=["CEL203"],
    )
    assert found == [("proj/tasks.py", 4, "CEL203")]


def test_cel204_implicit_names_opt_in(project):
    found = project(
        {
            "tasks.py": """
from celery import shared_task

@shared_task
def implicit():
    pass

@shared_task(name="billing.charge")
def explicit():
    pass
"""
        },
        select=["CEL204"],
    )
    assert found == [("tasks.py", 3, "CEL204")]


def test_cel201_queues_declared_in_django_settings(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/settings.py": """
from kombu import Queue

CELERY_BROKER_URL = "redis://localhost"
CELERY_TASK_QUEUES = (Queue("default"), Queue("emails"))
CELERY_TASK_DEFAULT_QUEUE = "default"
""",
            "proj/celery.py": """
import os
from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
app = Celery("proj")
app.config_from_object("django.conf:settings", namespace="CELERY")
""",
            "proj/tasks.py": """
from celery import shared_task

@shared_task(queue="email")
def send(user_id):
    return user_id

@shared_task(queue="emails")
def send_ok(user_id):
    return user_id
""",
        },
        select=["CEL201"],
    )
    assert found == [("proj/tasks.py", 3, "CEL201")]
