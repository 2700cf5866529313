"""CEL502 and CEL203: a task name under a package the project does not contain belongs to an
installed package (INSTALLED_APPS, requirements), whose tasks joblint never reads: unknown, not
missing. A name under the project's own package, or a bare name a project task's function
carries, is missing when no task is registered under it."""

from __future__ import annotations

APP = '''
from celery import Celery
from celery.schedules import crontab

app = Celery("proj")
app.conf.beat_schedule = {
    "beat-cleanup": {"task": "django_celery_results.tasks.cleanup", "schedule": 3600},
    "plugin-sync": {"task": "shopplugin.tasks.sync_catalogue", "schedule": crontab(minute=0)},
    "bare-from-elsewhere": {"task": "send_digest", "schedule": 600},
    "own-typo": {"task": "proj.tasks.reprot", "schedule": 600},
    "own-bare": {"task": "cleanup", "schedule": 600},
    "own-module-skipped": {"task": "proj.helpers.rotate", "schedule": 600},
}
app.conf.task_routes = {
    "django_celery_results.tasks.cleanup": {"queue": "maintenance"},
    "shopplugin.tasks.sync_catalogue": {"queue": "plugins"},
    "send_digest": {"queue": "mail"},
    "proj.tasks.reprot": {"queue": "reports"},
}
'''

TASKS = '''
from proj.celery import app

@app.task
def cleanup():
    pass

@app.task
def report():
    pass
'''


def files() -> dict[str, str]:
    return {
        "proj/__init__.py": "",
        "proj/celery.py": APP,
        "proj/tasks.py": TASKS,
        "proj/helpers.py": "def rotate():\n    return 1\n",  # no task words: the pre-filter skips it
        "requirements.txt": "celery\ndjango-celery-results\nshopplugin\n",
    }


def test_cel502_names_from_installed_packages_are_unknown_not_missing(project):
    found = project(files(), select=["CEL502"])
    # the project's own misspelt task, the bare name of a project task registered as
    # proj.tasks.cleanup, and a name under the project's own package that no task carries
    assert found == [("proj/celery.py", 9, "CEL502"), ("proj/celery.py", 10, "CEL502"), ("proj/celery.py", 11, "CEL502")]


def test_cel203_names_from_installed_packages_are_unknown_not_missing(project):
    found = project(files(), select=["CEL203"])
    assert found == [("proj/celery.py", 13, "CEL203")]  # the route to proj.tasks.reprot (one per write)


def test_cel203_quiet_when_only_installed_package_names_are_routed(project):
    routes = files()
    routes["proj/celery.py"] = APP.replace('    "proj.tasks.reprot": {"queue": "reports"},\n', "")
    assert project(routes, select=["CEL203"]) == []


def test_cel203_a_name_under_an_own_package_the_pre_filter_skipped_is_missing(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/celery.py": """
from celery import Celery

app = Celery("proj")
app.conf.task_routes = {"jobs.tasks.rotate": {"queue": "maintenance"}}
""",
            "proj/tasks.py": TASKS,
            "jobs/__init__.py": "",
            "jobs/util.py": "def rotate():\n    return 1\n",  # no task words: never analysed
        },
        select=["CEL203"],
    )
    assert found == [("proj/celery.py", 4, "CEL203")]


def test_cel203_a_bare_name_of_a_project_task_is_missing(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/celery.py": """
from celery import Celery

app = Celery("proj")
app.conf.task_routes = {"report": {"queue": "reports"}}
""",
            "proj/tasks.py": TASKS,
        },
        select=["CEL203"],
    )
    assert found == [("proj/celery.py", 4, "CEL203")]
