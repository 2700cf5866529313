"""The ARQ project model: WorkerSettings, their jobs and registered names, job functions, enqueues."""

from __future__ import annotations

JOBS = """
import time

from arq import cron
from arq.worker import func


async def download(ctx, url):
    time.sleep(1)


def sync_job(ctx):
    return 1


async def nightly(ctx):
    pass


async def unlisted(ctx):
    pass


async def helper(session):
    pass


class WorkerSettings:
    functions = [download, func(sync_job, name="renamed"), "jobs.by_string"]
    cron_jobs = [cron(nightly, hour=1)]
"""

WEB = """
async def view(redis):
    await redis.enqueue_job("download", 1)
    await redis.enqueue_job("missing")
    await redis.enqueue_job(name_from_somewhere)
"""


def test_worker_settings_jobs_and_their_names(built):
    arq = built({"jobs.py": JOBS, "web.py": WEB}).arq
    [settings] = arq.worker_settings
    assert (settings.path, settings.name, settings.complete) == ("jobs.py", "WorkerSettings", True)
    jobs = {(job.entry.ref, job.entry.cron): job for job in settings.jobs}
    assert set(jobs) == {
        ("jobs.download", False), ("jobs.sync_job", False), ("jobs.by_string", False), ("jobs.nightly", True)
    }
    assert [job.name for job in arq.jobs] == ["download", "renamed", "jobs.by_string", "cron:nightly"]
    assert all(job.path == "jobs.py" and job.settings == "WorkerSettings" and not job.variable for job in arq.jobs)
    # The job's function, when the project defines it.
    assert jobs["jobs.sync_job", False].function.function.is_async is False
    assert jobs["jobs.download", False].function.function.name == "download"
    assert jobs["jobs.by_string", False].function is None
    assert arq.registered == {"download", "renamed", "jobs.by_string", "cron:nightly"}


def test_functions_listed_or_taking_ctx(built):
    arq = built({"jobs.py": JOBS, "web.py": WEB}).arq
    by_target = {fn.function.target: fn for fn in arq.functions}
    assert set(by_target) == {
        "jobs.download", "jobs.sync_job", "jobs.nightly", "jobs.unlisted", "jobs.helper", "web.view"
    }
    assert {t for t, fn in by_target.items() if fn.listed} == {"jobs.download", "jobs.sync_job", "jobs.nightly"}
    assert {t for t, fn in by_target.items() if fn.likely_job} == {
        "jobs.download", "jobs.sync_job", "jobs.nightly", "jobs.unlisted"  # ctx in a module importing arq
    }
    assert by_target["jobs.download"].imports_arq and not by_target["web.view"].imports_arq
    assert [(c.name, c.span.line) for c in arq.function("jobs.download").function.blocking] == [("time.sleep", 8)]
    assert arq.function("jobs.nowhere") is None


def test_every_enqueue_with_a_literal_name(built):
    arq = built({"jobs.py": JOBS, "web.py": WEB}).arq
    found = [(e.path, e.name, e.call.span.line) for e in arq.enqueues]
    assert found == [("web.py", "download", 2), ("web.py", "missing", 3)]


def test_registered_names_unknown_when_a_job_is_built_elsewhere_or_settings_unreadable(built, tmp_path):
    job_built_elsewhere = """
    from arq.worker import func


    async def download(ctx):
        pass


    download_job = func(download, name="dl")


    class WorkerSettings:
        functions = [download_job]
    """
    arq = built({"jobs.py": job_built_elsewhere}, tmp_path / "built").arq
    [job] = arq.jobs
    assert job.variable and job.name is None and arq.registered is None

    spread = """
    from arq.worker import func

    from jobs import more


    async def download(ctx):
        pass


    class WorkerSettings:
        functions = [download, *more]
    """
    arq = built({"worker.py": spread}, tmp_path / "spread").arq
    [settings] = arq.worker_settings
    assert not settings.complete and [j.name for j in settings.jobs] == ["download"] and arq.registered is None


def test_settings_in_a_dict_and_in_worker_calls_across_files(built):
    files = {
        "a.py": """
        import arq


        async def one(ctx):
            pass


        settings = {"functions": [one]}
        """,
        "b.py": """
        from arq import run_worker

        from a import one


        async def two(ctx):
            pass


        run_worker(functions=[one, two])
        """,
    }
    arq = built(files).arq
    assert [(s.path, s.name) for s in arq.worker_settings] == [("a.py", "settings"), ("b.py", "run_worker")]
    assert [(j.path, j.entry.ref, j.name) for j in arq.jobs] == [
        ("a.py", "a.one", "one"), ("b.py", "a.one", "one"), ("b.py", "b.two", "two")
    ]
    assert arq.registered == {"one", "two"}


def test_a_project_without_arq_has_an_empty_model(built):
    arq = built({"app.py": "from celery import Celery\napp = Celery('x')\n"}).arq
    assert (arq.worker_settings, arq.jobs, arq.enqueues, arq.registered) == ([], [], [], frozenset())
    assert [fn.function.name for fn in arq.functions] == []
