"""ARQ rules: blocking calls in async jobs, sync jobs, unknown enqueued names, results in requests."""

from __future__ import annotations

JOBS = """
import asyncio
import time

import httpx
import requests


async def download(ctx, url):
    requests.get(url)
    time.sleep(1)
    await ctx["session"].get(url)
    await asyncio.sleep(1)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, time.sleep, 1)
    await loop.run_in_executor(None, lambda: requests.get(url))
    await asyncio.to_thread(requests.get, url)
    async with httpx.AsyncClient() as client:
        await client.get(url)
    with httpx.Client() as client:
        client.get(url)


def sync_job(ctx):
    return 1


async def not_a_job(session, url):
    requests.get(url)
"""

WORKER = """
from arq import cron
from arq.worker import func

from jobs import download, sync_job


async def nightly(ctx):
    pass


class WorkerSettings:
    functions = [download, func(sync_job, name="renamed")]
    cron_jobs = [cron(nightly, hour=1)]
"""


def test_acceptance_arq101_blocking_calls_in_a_listed_async_job(project):
    found = project({"jobs.py": JOBS, "worker.py": WORKER}, select=["ARQ101"])
    assert found == [("jobs.py", 9, "ARQ101"), ("jobs.py", 10, "ARQ101"), ("jobs.py", 19, "ARQ101")]


def test_arq101_ctx_job_in_a_module_importing_arq_without_settings(project):
    source = """
import time
import arq

async def job(ctx):
    time.sleep(1)

async def helper(session):
    time.sleep(1)
"""
    assert project({"jobs.py": source}, select=["ARQ101"]) == [("jobs.py", 5, "ARQ101")]


def test_arq101_ctx_function_outside_arq_is_not_a_job(project):
    source = """
import time

async def command(ctx):
    time.sleep(1)
"""
    assert project({"bot.py": source}, select=["ARQ101"]) == []


def test_acceptance_arq102_plain_def_in_functions_and_cron_jobs(project):
    found = project({"jobs.py": JOBS, "worker.py": WORKER}, select=["ARQ102"])
    assert found == [("worker.py", 12, "ARQ102")]


def test_arq102_dict_settings_import_strings_and_cron(project):
    settings = """
import arq

def tick(ctx):
    pass

async def fine(ctx):
    pass

settings = {"functions": [fine, "jobs.sync_job"], "cron_jobs": [arq.cron(tick, minute=0)]}
"""
    assert project({"jobs.py": JOBS, "settings.py": settings}, select=["ARQ102"]) == [
        ("settings.py", 9, "ARQ102"), ("settings.py", 9, "ARQ102"),
    ]


def test_acceptance_arq103_enqueue_of_an_unknown_name(project):
    caller = """
async def enqueue(redis):
    await redis.enqueue_job("download", "u")
    await redis.enqueue_job("renamed")
    await redis.enqueue_job("sync_job")
    await redis.enqueue_job("cron:nightly")
    await redis.enqueue_job("no_such_job")
"""
    found = project({"jobs.py": JOBS, "worker.py": WORKER, "caller.py": caller}, select=["ARQ103"])
    assert found == [("caller.py", 4, "ARQ103"), ("caller.py", 6, "ARQ103")]


def test_arq103_needs_a_worker_settings_and_known_names(project):
    caller = """
import arq

async def enqueue(redis: arq.ArqRedis):
    await redis.enqueue_job("elsewhere")
"""
    assert project({"caller.py": caller}, select=["ARQ103"]) == []
    computed = """
import arq
from jobs import download

class WorkerSettings:
    functions = [download, *EXTRA]
"""
    assert project({"caller.py": caller, "jobs.py": JOBS, "worker.py": computed}, select=["ARQ103"]) == []


def test_arq103_import_strings_register_under_the_string(project):
    worker = """
import arq

class WorkerSettings:
    functions = ["jobs.download"]
"""
    caller = """
async def enqueue(redis):
    await redis.enqueue_job("jobs.download")
    await redis.enqueue_job("download")
"""
    assert project({"worker.py": worker, "caller.py": caller, "jobs.py": JOBS}, select=["ARQ103"]) == [("caller.py", 3, "ARQ103")]


def test_arq104_result_awaited_in_a_request_handler(project):
    source = """
from arq import create_pool
from arq.jobs import Job
from fastapi import FastAPI

app = FastAPI()

@app.post("/reports")
async def create(month: str):
    redis = await create_pool()
    job = await redis.enqueue_job("build_report", month)
    return await job.result(timeout=60)

@app.get("/reports/{job_id}")
async def read(job_id: str):
    redis = await create_pool()
    return await Job(job_id, redis).result()

@app.get("/status/{job_id}")
async def status(job_id: str):
    redis = await create_pool()
    job = await redis.enqueue_job("build_report", job_id)
    return {"id": job.job_id}

async def background(redis):
    job = await redis.enqueue_job("build_report", "x")
    return await job.result()
"""
    assert project({"api.py": source}, select=["ARQ104"]) == [("api.py", 11, "ARQ104"), ("api.py", 16, "ARQ104")]


def test_worker_keyword_arguments_are_settings(project):
    worker = """
from arq.worker import Worker, run_worker

def plain(ctx):
    pass

async def fine(ctx):
    pass

worker = Worker(functions=[plain, fine])
run_worker(object, functions=(fine,))
"""
    caller = """
async def enqueue(redis):
    await redis.enqueue_job("fine")
    await redis.enqueue_job("plain")
    await redis.enqueue_job("missing")
"""
    assert project({"worker.py": worker, "caller.py": caller}, select=["ARQ102", "ARQ103"]) == [
        ("caller.py", 4, "ARQ103"), ("worker.py", 9, "ARQ102"),
    ]
