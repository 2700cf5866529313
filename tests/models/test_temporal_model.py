"""The Temporal project model: workflow and activity definitions, schedules and starts, what workflow
code calls and raises, and the failure types workers allow."""

from __future__ import annotations

ACTIVITIES = """
import asyncio
import time

from temporalio import activity

from helpers import report


@activity.defn
def sync_items(items):
    for item in items:
        time.sleep(1)


@activity.defn(name="beat")
def beating(items):
    for item in items:
        activity.heartbeat(item)
        time.sleep(1)


@activity.defn
async def through_helper(items):
    for item in items:
        await asyncio.sleep(1)
        report(item)


@activity.defn(name="dup")
def first_dup():
    pass


@activity.defn(name="dup")
def second_dup():
    pass
"""

HELPERS = """
from temporalio import activity


def report(item):
    activity.heartbeat(item)
"""

WORKFLOWS = """
from datetime import timedelta

from temporalio import workflow

from activities import beating, sync_items


class OrderFailed(Exception):
    pass


@workflow.defn
class Order:
    @workflow.run
    async def run(self, items):
        await workflow.execute_activity(sync_items, items, start_to_close_timeout=timedelta(seconds=5))
        await workflow.execute_activity("beat", items, heartbeat_timeout=timedelta(seconds=1))
        await workflow.execute_activity("dup", start_to_close_timeout=timedelta(seconds=5))
        await workflow.execute_child_workflow(Child.run, id="child")
        beating(items)
        raise ValueError("no")

    @workflow.query
    def status(self) -> str:
        return "ok"


@workflow.defn(failure_exception_types=[OrderFailed])
class Child:
    @workflow.run
    async def run(self):
        raise OrderFailed()
"""

CLIENT = """
from temporalio.client import Client
from temporalio.worker import Worker

from activities import sync_items
from workflows import Order


async def main():
    client = await Client.connect("localhost:7233")
    await client.start_workflow(Order.run, [], id="order", task_queue="q")
    Worker(
        client, task_queue="q", workflows=[Order], activities=[sync_items],
        workflow_failure_exception_types=[KeyError],
    )


def other(options):
    return Worker(None, **options)
"""

FILES = {"activities.py": ACTIVITIES, "helpers.py": HELPERS, "workflows.py": WORKFLOWS, "client.py": CLIENT}


def test_workflow_and_activity_definitions(built):
    temporal = built(FILES).temporal
    workflows = [(w.path, w.workflow.qualname, [h.kind for h in w.workflow.handlers]) for w in temporal.workflows]
    assert workflows == [
        ("workflows.py", "Order", ["run", "query"]), ("workflows.py", "Child", ["run"])
    ]
    assert [(a.path, a.activity.target, a.activity.name) for a in temporal.activities] == [
        ("activities.py", "activities.sync_items", "sync_items"),
        ("activities.py", "activities.beating", "beat"),
        ("activities.py", "activities.through_helper", "through_helper"),
        ("activities.py", "activities.first_dup", "dup"),
        ("activities.py", "activities.second_dup", "dup"),
    ]
    assert temporal.activity("activities.beating").activity.function == "beating"
    assert temporal.activity("workflows.beating") is None
    assert [a.activity.function for a in temporal.activities_named("dup")] == ["first_dup", "second_dup"]


def test_heartbeats_itself_or_through_an_imported_helper(built):
    temporal = built(FILES).temporal
    assert temporal.heartbeat_functions == {"activities.beating", "helpers.report"}
    beats = {a.activity.function: temporal.heartbeats(a.activity) for a in temporal.activities}
    assert beats == {
        "sync_items": False, "beating": True, "through_helper": True, "first_dup": False, "second_dup": False
    }
    busy = {a.activity.function: a.activity.busy_keyword for a in temporal.activities if a.activity.busy_loop}
    assert busy == {"sync_items": "for", "beating": "for", "through_helper": "for"}


def test_every_schedule_and_start_and_what_it_refers_to(built):
    temporal = built(FILES).temporal
    assert [(c.path, c.kind, c.call.method, c.call.span.line) for c in temporal.api_calls] == [
        ("client.py", "client", "start_workflow", 10),
        ("workflows.py", "activity", "execute_activity", 16),
        ("workflows.py", "activity", "execute_activity", 17),
        ("workflows.py", "activity", "execute_activity", 18),
        ("workflows.py", "child", "execute_child_workflow", 19),
    ]
    assert [c.call.span.line for c in temporal.activity_calls] == [16, 17, 18]
    assert [(c.path, c.call.target) for c in temporal.workflow_starts] == [
        ("client.py", "workflows.Order.run"), ("workflows.py", "workflows.Child.run")
    ]
    scheduled = [temporal.scheduled(c.call) for c in temporal.activity_calls]
    # By reference, by a name one activity has, and not by a name two share.
    assert [s.activity.function if s else None for s in scheduled] == ["sync_items", "beating", None]
    assert temporal.activity_calls[1].call.keyword("heartbeat_timeout") is not None


def test_calls_and_raises_in_workflow_code(built):
    temporal = built(FILES).temporal
    direct = [(c.path, c.call.target, c.call.span.line) for c in temporal.workflow_calls]
    assert ("workflows.py", "activities.beating", 20) in direct
    called = [temporal.activity(c.call.target) for c in temporal.workflow_calls]
    assert [a.activity.function for a in called if a is not None] == ["beating"]
    assert [(r.path, r.raised.exception, r.raised.workflow, r.raised.failure_types) for r in temporal.raises] == [
        ("workflows.py", "ValueError", "Order", ()),
        ("workflows.py", "workflows.OrderFailed", "Child", ("workflows.OrderFailed",)),
    ]
    assert temporal.classes["workflows.OrderFailed"] == ("Exception",)


def test_worker_failure_types_known_or_not(built):
    temporal = built(FILES).temporal
    found = [(w.path, w.types) for w in temporal.worker_failure_types]
    assert found == [("client.py", ("KeyError",)), ("client.py", None)]


def test_a_project_without_temporal_has_an_empty_model(built):
    temporal = built({"app.py": "from celery import Celery\napp = Celery('x')\n"}).temporal
    assert (temporal.workflows, temporal.activities, temporal.api_calls, temporal.raises) == ([], [], [], [])
    assert (temporal.heartbeat_functions, temporal.classes, temporal.worker_failure_types) == (frozenset(), {}, [])
