"""CEL5 scheduling and CEL6 monitoring."""

from __future__ import annotations

import pytest

from joblint.facts.values import Value
from joblint.findings import Span
from joblint.rules.beat import crontab_interval


def test_cel501_launch_files(project):
    found = project(
        {
            "Procfile": "worker: celery -A proj worker -B -l info\nbeat: celery -A proj beat\n",
            "docker-compose.yml": (
                "services:\n  worker:\n    command: [\"celery\", \"-A\", \"proj\", \"worker\", \"--beat\"]\n"
                "  w2:\n    command:\n      - celery\n      - worker\n      - -B\n"
                "  beat:\n    command: celery -A proj beat\n"
            ),
            "deploy/k8s.yaml": 'spec:\n  containers:\n  - command: ["celery"]\n    args: ["-A", "proj", "worker", "-B"]\n',
            "scripts/start.sh": "#!/bin/sh\ncelery -A proj worker \\\n  -B\n",
            "Dockerfile": 'FROM python:3.12\nCMD ["celery", "-A", "proj", "worker", "-B"]\n',
            "celery.service": "[Service]\nExecStart=/usr/bin/celery -A proj worker --beat\n",
            "supervisord.conf": "[program:worker]\ncommand=celery -A proj multi start w1 -B\n",
            "Makefile": "run:\n\tcelery -A proj worker -l info  # no beat here: -B is in a comment\n",
            "run.py": "from proj.celery import app\napp.Worker(beat=True).start()\napp.worker_main(['worker', '-B'])\n",
        },
        select=["CEL501"],
    )
    assert found == [
        ("Dockerfile", 2, "CEL501"),
        ("Procfile", 1, "CEL501"),
        ("celery.service", 2, "CEL501"),
        ("deploy/k8s.yaml", 4, "CEL501"),
        ("docker-compose.yml", 3, "CEL501"),
        ("docker-compose.yml", 8, "CEL501"),
        ("run.py", 2, "CEL501"),
        ("run.py", 3, "CEL501"),
        ("scripts/start.sh", 3, "CEL501"),
        ("supervisord.conf", 2, "CEL501"),
    ]


def test_cel501_separate_beat_process_is_fine(project):
    assert project({"Procfile": "worker: celery -A proj worker\nbeat: celery -A proj beat -B\n"}, select=["CEL501"]) == []


SCHEDULE_APP = '''
from celery import Celery
from celery.schedules import crontab

app = Celery("proj")
app.conf.beat_schedule = {{
    "cleanup": {{"task": "proj.tasks.cleanup", "schedule": {schedule}}},
    "report": {{"task": "proj.tasks.reprot", "schedule": 3600, "options": {{"expires": 3000}}}},
    "builtin": {{"task": "celery.backend_cleanup", "schedule": crontab(minute=0, hour=4)}},
}}
'''

TASKS = '''
from proj.celery import app

@app.task(time_limit=600)
def cleanup():
    pass

@app.task
def report():
    pass
'''


def files(schedule: str = "300") -> dict[str, str]:
    return {"proj/__init__.py": "", "proj/celery.py": SCHEDULE_APP.format(schedule=schedule), "proj/tasks.py": TASKS}


def test_cel502_unknown_task_name(project):
    assert project(files(), select=["CEL502"]) == [("proj/celery.py", 7, "CEL502")]


def test_cel502_known_tasks_config_and_no_tasks(project):
    both = files()
    both["pyproject.toml"] = '[tool.joblint]\nknown-tasks = ["proj.tasks.reprot"]\n'
    assert project(both, select=["CEL502"]) == []


def test_cel502_quiet_without_tasks(tmp_path):
    from conftest import lint, write_project

    only_app = files()
    del only_app["proj/tasks.py"]
    write_project(tmp_path, only_app)
    assert lint(tmp_path, ["CEL502"]) == []


def test_cel503_opt_in(project):
    assert project(files(), select=["CEL5"]) and not [f for f in project(files()) if f[2] == "CEL503"]
    assert project(files(), select=["CEL503"]) == [("proj/celery.py", 6, "CEL503"), ("proj/celery.py", 8, "CEL503")]


@pytest.mark.parametrize(
    "schedule, flagged",
    [
        ("300", True),
        ("600", True),
        ("601", False),
        ("timedelta(minutes=5)", True),
        ("crontab(minute='*/5')", True),
        ("crontab(minute=0)", False),
        ("schedule(run_every=120)", True),
    ],
)
def test_cel504_period_against_time_limit(project, schedule, flagged):
    app_files = files(schedule)
    app_files["proj/celery.py"] = (
        "from datetime import timedelta\nfrom celery.schedules import schedule\n" + app_files["proj/celery.py"]
    )
    found = project(app_files, select=["CEL504"])
    assert bool(found) == flagged


def test_cel504_lock_in_task_is_fine(project):
    app_files = files()
    app_files["proj/tasks.py"] = TASKS.replace("def cleanup():\n    pass", "def cleanup():\n    with redis.lock('cleanup'):\n        pass")
    assert project(app_files, select=["CEL504"]) == []


def _cron(**fields) -> Value:
    span = Span(0, 0, 0, 0)
    return Value(None, span, args=tuple((k, Value(v, span)) for k, v in fields.items()))


@pytest.mark.parametrize(
    "fields, seconds",
    [
        ({}, 60),
        ({"minute": "*/15"}, 900),
        ({"minute": 0, "hour": "*/2"}, 7200),
        ({"minute": 0, "hour": 7}, 86400),
        ({"minute": "0,30", "hour": "9-17"}, 1800),
        ({"minute": [0, 10]}, 600),
        ({"minute": "5/20"}, 1200),
    ],
)
def test_crontab_shortest_interval(fields, seconds):
    assert crontab_interval(_cron(**fields)) == seconds


def test_cel601_opt_in_and_observers(project):
    app = 'from celery import Celery\napp = Celery("proj")\n'
    assert project({"proj.py": app}, select=["CEL601"]) == [("proj.py", 2, "CEL601")]
    assert project({"proj.py": app}) == [] or all(c != "CEL601" for _, _, c in project({"proj.py": app}))
    handler = app + "from celery.signals import task_failure\n\n@task_failure.connect\ndef report(**kw):\n    pass\n"
    assert project({"proj.py": handler}, select=["CEL601"]) == []
    sentry = app + "import sentry_sdk\nfrom sentry_sdk.integrations.celery import CeleryIntegration\n"
    assert project({"proj.py": sentry}, select=["CEL601"]) == []


def test_cel504_deduplicating_base_is_fine_and_get_or_create_is_no_lock(project):
    app_files = files()
    app_files["proj/tasks.py"] = TASKS.replace("@app.task(time_limit=600)", "@app.task(time_limit=600, base=QueueOnce)")
    app_files["proj/tasks.py"] = "from celery_once import QueueOnce\n" + app_files["proj/tasks.py"]
    assert project(app_files, select=["CEL504"]) == []
    app_files["proj/tasks.py"] = TASKS.replace("def cleanup():\n    pass", "def cleanup():\n    Run.objects.get_or_create(day=1)")
    assert project(app_files, select=["CEL504"]) == [("proj/celery.py", 6, "CEL504")]


def test_cel502_module_outside_a_package(project):
    app_files = files()
    del app_files["proj/__init__.py"]
    found = project(app_files, select=["CEL502"])
    assert found == [("proj/celery.py", 7, "CEL502")]  # the misspelt one only


def test_cel501_echo_is_not_a_worker_and_combined_flags_count(project):
    found = project(
        {
            "usage.sh": 'echo "usage: celery -A proj worker -B"\n',
            "run.py": "from proj.celery import app\napp.worker_main(['worker', '-BE'])\n",
        },
        select=["CEL501"],
    )
    assert found == [("run.py", 2, "CEL501")]


def test_cel504_an_app_wide_limit_says_nothing_about_one_task(project):
    """`task_time_limit` caps every task (sized for the slowest); a beat entry is judged against a
    limit set for its own task only."""
    app_files = files("300")
    app_files["proj/tasks.py"] = TASKS.replace("@app.task(time_limit=600)", "@app.task")
    app_files["proj/celery.py"] = app_files["proj/celery.py"].replace(
        'app = Celery("proj")', 'app = Celery("proj", task_time_limit=3600)'
    )
    assert 'task_time_limit=3600' in app_files["proj/celery.py"]
    assert project(app_files, select=["CEL504"]) == []
    app_files["proj/tasks.py"] = TASKS  # the task's own time_limit=600: reported
    assert project(app_files, select=["CEL504"]) == [("proj/celery.py", 6, "CEL504")]


def test_cel501_a_scheduler_that_takes_a_lock_may_be_embedded(project):
    """RedBeat elects one beat through a lock in Redis: `worker --beat -S redbeat.RedBeatScheduler`
    in every replica still sends each entry once. Any other scheduler is still reported."""
    found = project(
        {
            "docker-compose.yml": (
                "services:\n"
                "  worker:\n"
                "    command: celery -A proj worker --beat --scheduler redbeat.RedBeatScheduler\n"
                "  other:\n"
                "    command: celery -A proj worker -B -S=redbeat.RedBeatScheduler\n"
                "  plain:\n"
                "    command: celery -A proj worker -B -S django_celery_beat.schedulers:DatabaseScheduler\n"
            ),
        },
        select=["CEL501"],
    )
    assert found == [("docker-compose.yml", 7, "CEL501")]
