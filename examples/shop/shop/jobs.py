"""ARQ worker for image jobs."""

import time

import requests
from arq import cron


async def resize(ctx, url):
    image = requests.get(url, timeout=10).content
    time.sleep(1)
    return len(image)


def cleanup(ctx):
    return None


class WorkerSettings:
    functions = [resize]
    cron_jobs = [cron(cleanup, hour=3)]


async def enqueue(redis):
    await redis.enqueue_job("resize_image", "https://example.com/a.png")
