"""Cases a review of the settings model found: each was a wrong finding or a broken fix."""

from __future__ import annotations

import subprocess
import sys

from joblint.fix import fix_until_stable

from conftest import lint, write_project

APP = 'from celery import Celery\n\napp = Celery("proj")\n'
TASK = "\n\n@app.task\ndef work():\n    pass\n"


def fixed(tmp_path, name, text, select, unsafe=True):
    write_project(tmp_path, {name: text})
    outcome = fix_until_stable({name: tmp_path / name}, lambda o: lint(tmp_path, select, overrides=o), unsafe=unsafe)
    return outcome.texts.get(name, text)


def test_cel103_fix_sets_an_existing_false_value(tmp_path):
    text = APP + "app.conf.update(task_acks_late=True, task_reject_on_worker_lost=False, worker_prefetch_multiplier=1)\n"
    result = fixed(tmp_path, "app.py", text, ["CEL103"])
    assert result.count("task_reject_on_worker_lost") == 1 and "task_reject_on_worker_lost=True" in result


def test_cel103_fix_sets_an_existing_task_option(tmp_path):
    text = APP + "\n\n@app.task(acks_late=True, reject_on_worker_lost=False)\ndef work():\n    pass\n"
    result = fixed(tmp_path, "app.py", text, ["CEL103"])
    assert "@app.task(acks_late=True, reject_on_worker_lost=True)" in result


def test_a_fix_that_python_would_refuse_is_not_written(tmp_path):
    from joblint.fix import compiles

    assert not compiles("f(a=1, a=2)\n")


def test_cel109_no_rename_onto_an_existing_key_or_another_setting(tmp_path, project):
    project(
        {
            "a.py": 'from celery import Celery\napp = Celery("p", task_time_limit=300, task_time_limt=600)\n',
            "proj/__init__.py": "",
            "proj/settings.py": 'INSTALLED_APPS = []\nCELERY_EMAIL_BACKEND = "x"\nCELERY_RESULT_BACKEN = "redis://"\n',
            "proj/celery.py": APP + 'app.config_from_object("django.conf:settings", namespace="CELERY")\n',
        },
        select=["CEL109"],
    )
    findings = {(f.path, f.span.line): f for f in lint(project.root, ["CEL109"])}
    assert findings[("a.py", 2)].fix is None  # task_time_limit is already set
    assert ("proj/settings.py", 2) not in findings  # django-celery-email's setting
    assert findings[("proj/settings.py", 3)].fix.edits[0].content == "CELERY_RESULT_BACKEND"


def test_cel109_helper_names_the_module_reads_are_not_settings(project):
    found = project(
        {"celeryconfig.py": 'import os\nredis_url = os.environ.get("REDIS", "redis://")\nbroker_url = redis_url\nresult_backend = redis_url\n'},
        select=["CEL109"],
    )
    assert found == []


def test_cel108_no_rename_of_a_name_the_module_reads(tmp_path):
    text = "import os\nBROKER_URL = os.environ['B']\nCELERY_RESULT_BACKEND = BROKER_URL\n"
    write_project(tmp_path, {"celeryconfig.py": text})
    assert all(f.fix is None for f in lint(tmp_path, ["CEL108"]))


def test_app_conf_writes_use_the_app_namespace(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/settings.py": "INSTALLED_APPS = []\n",
            "proj/celery.py": APP
            + 'app.config_from_object("django.conf:settings", namespace="CELERY")\n'
            + "app.conf.update(CELERY_TASK_ACKS_LATE=True, CELERY_TASK_SERIALIZER='json')\n"
            + TASK,
        },
        select=["CEL102", "CEL108", "CEL109"],
    )
    assert found == []


def test_cel108_mix_in_app_conf_without_a_config_source(project):
    project({"a.py": APP + 'app.conf.task_serializer = "json"\napp.conf.CELERYD_PREFETCH_MULTIPLIER = 1\n'}, select=["CEL108"])
    [finding] = lint(project.root, ["CEL108"])
    assert finding.severity.value == "error"


def test_cel108_majority_rule(project):
    project(
        {"celeryconfig.py": 'CELERY_ACKS_LATE = True\nCELERY_TASK_SERIALIZER = "json"\ntask_acks_late = True\n'},
        select=["CEL108"],
    )
    assert {f.severity.value for f in lint(project.root, ["CEL108"])} == {"info"}


def test_setdefault_does_not_override_a_conf_write(project):
    found = project(
        {"a.py": APP + 'app.conf.task_serializer = "json"\napp.conf.setdefault("task_serializer", "pickle")\n'},
        select=["CEL101"],
    )
    assert found == []


def test_unreadable_settings_keep_never_set_rules_quiet(project):
    files = {
        "param.py": APP + "def configure(celery_app):\n    celery_app.conf.update(task_acks_late=True)\n" + TASK,
        "base.py": APP.replace('Celery("proj")', 'Celery("proj", task_cls="proj.tasks:BaseTask")') + TASK,
        "star/__init__.py": "",
        "star/celeryconfig.py": "from company_defaults.celery import *\nbroker_url = 'redis://'\n",
        "star/celery.py": APP + 'app.config_from_object("star.celeryconfig")\n' + TASK,
    }
    assert project(files, select=["CEL102", "CEL105"]) == []


def test_annotated_app(project):
    found = project({"a.py": 'from celery import Celery\napp: Celery = Celery("p")\napp.conf.task_serializer = "pickle"\n'}, select=["CEL101"])
    assert found == [("a.py", 3, "CEL101")]


def test_time_zone_fallback(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/settings.py": 'INSTALLED_APPS = []\nCELERY_TIME_ZONE = "Europe/Paris"\n',
            "proj/celery.py": APP + 'app.config_from_object("django.conf:settings", namespace="CELERY")\n',
        },
        select=["CEL107", "CEL109"],
    )
    assert found == [("proj/settings.py", 2, "CEL107")]


def test_standalone_django_settings_use_the_project_namespace(project):
    found = project(
        {
            "a/settings.py": 'INSTALLED_APPS = []\nCELERY_TASK_SERIALIZER = "json"\nCELERY_RESULT_BACKEND = "redis://"\n',
            "b/settings.py": "INSTALLED_APPS = []\n",
            "proj/celery.py": APP + 'app.config_from_object("django.conf:settings", namespace="CELERY")\n',
        },
        select=["CEL108"],
    )
    assert found == []


def test_cel113_local_and_test_config_classes(project):
    found = project(
        {
            "proj/settings/local.py": "CELERY_TASK_ALWAYS_EAGER = True\nINSTALLED_APPS = []\n",
            "config.py": "class Config:\n    broker_url = 'redis://'\n\nclass TestingConfig(Config):\n    task_always_eager = True\n",
        },
        select=["CEL113"],
    )
    assert found == []


def test_cel601_sentry_init_counts(project):
    files = {
        "proj/celery.py": APP,
        "proj/settings.py": "import sentry_sdk\nsentry_sdk.init(dsn='https://x@o.ingest.sentry.io/1')\n",
    }
    assert project(files, select=["CEL601"]) == []


def test_check_app_reads_old_style_config_and_warns_on_task_imports(tmp_path):
    import pytest

    pytest.importorskip("celery")
    write_project(
        tmp_path,
        {
            "oldcfg.py": "CELERY_ACKS_LATE = True\nCELERY_REJECT_ON_WORKER_LOST = True\nCELERYD_PREFETCH_MULTIPLIER = 1\n",
            "proj.py": 'from celery import Celery\napp = Celery("proj", include=["does_not_exist"])\napp.config_from_object("oldcfg")\n',
        },
    )
    result = subprocess.run(
        [sys.executable, "-m", "joblint", "check-app", "proj:app", "--select", "CEL102", "--show-settings", "--output-format", "concise"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert "CEL102" not in result.stdout
    assert "task_acks_late" in result.stdout and "config" in result.stdout
    assert "warning: importing the app's task modules failed" in result.stderr
    assert "warning: task_default_delivery_mode" not in result.stdout


def test_cel203_known_tasks_config(project):
    files = {
        "proj/__init__.py": "",
        "proj/celery.py": APP + 'app.conf.task_routes = {"proj.tasks.vendored": {"queue": "x"}}\n',
        "proj/tasks.py": "from proj.celery import app\n\n@app.task\ndef work():\n    pass\n",
    }
    assert project(files, select=["CEL203"]) == [("proj/celery.py", 4, "CEL203")]
    files["pyproject.toml"] = '[tool.joblint]\nknown-tasks = ["proj.tasks.vendored"]\n'
    assert project(files, select=["CEL203"]) == []


def test_a_helper_writing_some_apps_conf_does_not_silence_other_apps(project):
    files = {
        "a.py": APP + TASK,
        "b.py": APP + TASK,
        "lib/helpers.py": "def configure(celery_app):\n    celery_app.conf.update(task_acks_late=True)\n",
    }
    assert project(files, select=["CEL102"]) == [("a.py", 3, "CEL102"), ("b.py", 3, "CEL102")]


def test_cel109_daemon_options_are_settings(project):
    found = project(
        {"celeryconfig.py": "broker_url = 'redis://'\nworker_pidfile = '/run/w.pid'\nbeat_logfile = '/var/log/b'\nworker_heartbeat = None\n"},
        select=["CEL109"],
    )
    assert found == [("celeryconfig.py", 4, "CEL109")]  # worker_heartbeat is not a setting
