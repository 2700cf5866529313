"""TMP2 activity rules: heartbeats, blocking calls in async activities, unbounded retries."""

from __future__ import annotations

ACTIVITY = """
import asyncio
import time

import requests
from temporalio import activity


@activity.defn
def sync_items(items: list[str]) -> None:
    for item in items:
        time.sleep(1)
        requests.post("https://example.com", json={"item": item})


@activity.defn
def beating(items: list[str]) -> None:
    for item in items:
        activity.heartbeat(item)
        time.sleep(1)
        requests.post("https://example.com", json={"item": item})


@activity.defn
async def beating_through_a_helper(items: list[str]) -> None:
    for item in items:
        await asyncio.sleep(1)
        report(item)


def report(item):
    activity.heartbeat(item)


@activity.defn
def cpu_only(items: list[int]) -> int:
    total = 0
    for item in items:
        total += item
    return total


def not_an_activity(items):
    for item in items:
        time.sleep(1)


@activity.defn(name="streaming")
async def streaming(url: str) -> None:
    async for chunk in stream(url):
        pass
"""


def test_acceptance_tmp201_loop_without_heartbeat(project):
    assert project({"acts.py": ACTIVITY}, select=["TMP201"]) == [("acts.py", 10, "TMP201"), ("acts.py", 49, "TMP201")]


FIXED_LOOPS = """
from temporalio import activity

from ids import all_ids, fetch_ids

KINDS = ("daily", "hourly")


@activity.defn
async def delete_schedules(service, sync_id: str) -> None:
    for sid in [f"a-{sync_id}", f"b-{sync_id}", f"c-{sync_id}"]:
        await service.delete(sid)
    for kind in KINDS:
        await service.delete(f"{kind}-{sync_id}")
    for attempt in range(3):
        await service.ping(attempt)
    for sid in all_ids(sync_id):
        await service.delete(sid)
    sids = all_ids(sync_id)
    for sid in sids:
        await service.delete(sid)


@activity.defn
async def notify(service, now) -> None:
    windows = [("soon", now), ("late", now)]
    for name, start in windows:
        keys = await service.expiring(start)
        for key in keys:
            await service.notify(name, key)


@activity.defn
async def purge(service) -> None:
    for sid in fetch_ids():
        await service.delete(sid)


@activity.defn
async def purge_pages(service) -> None:
    for page in range(1000):
        await service.delete_page(page)


@activity.defn
async def grown(service, extra: list[str]) -> None:
    sids = ["a", "b"]
    sids.extend(extra)
    for sid in sids:
        await service.delete(sid)
"""

IDS = """
def all_ids(sync_id):
    return [f"a-{sync_id}", f"b-{sync_id}"]


def fetch_ids():
    return list(range(10_000))
"""


def test_tmp201_loops_over_fixed_collections_are_not_long(project):
    # Literal lists, module constants, small ranges, names bound once to a literal, and project
    # functions that return a literal list; a nested loop over data is the one reported.
    assert project({"acts.py": FIXED_LOOPS, "ids.py": IDS}, select=["TMP201"]) == [
        ("acts.py", 28, "TMP201"), ("acts.py", 34, "TMP201"), ("acts.py", 40, "TMP201"), ("acts.py", 48, "TMP201"),
    ]


WORKFLOW = """
from datetime import timedelta

from temporalio import workflow

from acts import beating, sync_items

T = timedelta(minutes=5)


@workflow.defn
class W:
    @workflow.run
    async def run(self, items: list[str]) -> None:
        await workflow.execute_activity(sync_items, items, start_to_close_timeout=T, heartbeat_timeout=T)
        await workflow.execute_activity(beating, items, start_to_close_timeout=T, heartbeat_timeout=T)
        await workflow.execute_activity("streaming", items, start_to_close_timeout=T, heartbeat_timeout=T)
        await workflow.execute_activity(sync_items, items, start_to_close_timeout=T)
        await workflow.execute_activity(sync_items, items, start_to_close_timeout=T, heartbeat_timeout=None)
        await workflow.execute_activity(external_act, items, start_to_close_timeout=T, heartbeat_timeout=T)
"""


def test_tmp202_heartbeat_timeout_for_an_activity_that_never_heartbeats(project):
    assert project({"acts.py": ACTIVITY, "wf.py": WORKFLOW}, select=["TMP202"]) == [
        ("wf.py", 14, "TMP202"), ("wf.py", 16, "TMP202"),
    ]


def test_tmp203_blocking_call_in_async_activity_only(project):
    source = """
import asyncio
import subprocess
import time

import requests
from temporalio import activity


@activity.defn
async def fetch(url: str) -> str:
    requests.get(url)
    subprocess.run(["ls"])
    await asyncio.to_thread(requests.get, url)
    await asyncio.get_running_loop().run_in_executor(None, lambda: time.sleep(1))
    await asyncio.sleep(1)
    return "ok"


@activity.defn
def fetch_sync(url: str) -> str:
    return requests.get(url).text


async def not_an_activity(url):
    requests.get(url)
"""
    assert project({"acts.py": source}, select=["TMP203"]) == [("acts.py", 11, "TMP203"), ("acts.py", 12, "TMP203")]


def test_tmp204_unbounded_retries(project):
    source = """
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from acts import act

T = timedelta(minutes=5)


@workflow.defn
class W:
    @workflow.run
    async def run(self, policy: RetryPolicy) -> None:
        await workflow.execute_activity(act, start_to_close_timeout=T)
        await workflow.execute_activity(act, start_to_close_timeout=T, retry_policy=RetryPolicy(initial_interval=T))
        await workflow.execute_activity(act, start_to_close_timeout=T, retry_policy=RetryPolicy(maximum_attempts=0))
        await workflow.execute_activity(act, start_to_close_timeout=T, retry_policy=RetryPolicy(maximum_attempts=3))
        await workflow.execute_activity(act, schedule_to_close_timeout=T)
        await workflow.execute_activity(act, start_to_close_timeout=T, retry_policy=policy)
        await workflow.execute_activity(act, start_to_close_timeout=T, retry_policy=make_policy())
"""
    assert project({"wf.py": source}, select=["TMP204"]) == [
        ("wf.py", 15, "TMP204"), ("wf.py", 16, "TMP204"), ("wf.py", 17, "TMP204"),
    ]


def test_tmp204_is_opt_in(project):
    source = """
from datetime import timedelta
from temporalio import workflow

@workflow.defn
class W:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity("act", start_to_close_timeout=timedelta(seconds=1))
"""
    assert project({"wf.py": source}) == []


def test_tmp201_and_tmp202_heartbeat_through_a_helper_of_another_module(project):
    helpers = """
from temporalio import activity

def progress(done):
    activity.heartbeat(done)
"""
    acts = """
import time
from temporalio import activity
from helpers import progress

@activity.defn
def copy(items: list[str]) -> None:
    for i, item in enumerate(items):
        time.sleep(1)
        progress(i)
"""
    workflow = """
from datetime import timedelta
from temporalio import workflow
from acts import copy

@workflow.defn
class W:
    @workflow.run
    async def run(self, items: list[str]) -> None:
        await workflow.execute_activity(copy, items, start_to_close_timeout=timedelta(hours=1), heartbeat_timeout=timedelta(seconds=30))
"""
    files = {"helpers.py": helpers, "acts.py": acts, "wf.py": workflow}
    assert project(files, select=["TMP201", "TMP202"]) == []
