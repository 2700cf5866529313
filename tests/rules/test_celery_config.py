"""CEL1 configuration rules: every settings source, aliases, old names, and the traps."""

from __future__ import annotations


def test_cel101_conf_update_and_accept_content(project):
    found = project(
        {
            "app.py": """
            from celery import Celery

            app = Celery("proj", backend="redis://localhost:6379/1")
            app.conf.update(task_serializer="pickle", accept_content=["json", "application/x-python-serialize"])
            app.conf.result_serializer = "pickle"
            app.conf["event_serializer"] = "pickle"
            """
        },
        select=["CEL101"],
    )
    assert found == [("app.py", 4, "CEL101"), ("app.py", 4, "CEL101"), ("app.py", 5, "CEL101"), ("app.py", 6, "CEL101")]


def test_cel101_import_aliases(project):
    found = project(
        {
            "a.py": """
            from celery import Celery as C
            app = C("a", task_serializer="pickle")
            """,
            "b.py": """
            import celery
            app = celery.Celery("b", backend="redis://", result_accept_content=["pickle"])
            """,
            "c.py": """
            from celery import shared_task as st

            @st(serializer="pickle")
            def job():
                pass
            """,
        },
        select=["CEL101"],
    )
    assert found == [("a.py", 2, "CEL101"), ("b.py", 2, "CEL101"), ("c.py", 3, "CEL101")]


def test_cel101_old_names_in_a_config_module(project):
    found = project(
        {
            "celeryconfig.py": """
            BROKER_URL = "redis://localhost"
            CELERY_TASK_SERIALIZER = "pickle"
            CELERY_ACCEPT_CONTENT = ["pickle"]
            """
        },
        select=["CEL101"],
    )
    assert found == [("celeryconfig.py", 2, "CEL101"), ("celeryconfig.py", 3, "CEL101")]


def test_cel101_apply_async_and_task_option_on_imported_app(project):
    found = project(
        {
            "tasks.py": """
            from proj.celery import app

            @app.task(serializer="pickle")
            def resize(path):
                pass

            resize.apply_async(("x",), serializer="pickle")
            """
        },
        select=["CEL101"],
    )
    assert found == [("tasks.py", 3, "CEL101"), ("tasks.py", 7, "CEL101")]


def test_cel101_later_write_wins(project):
    found = project(
        {
            "app.py": """
            from celery import Celery
            app = Celery("proj", task_serializer="pickle")
            app.conf.task_serializer = "json"
            """
        },
        select=["CEL101"],
    )
    assert found == []


def test_cel101_not_pickle_elsewhere(project):
    found = project(
        {
            "app.py": """
            import pickle
            from celery import Celery

            app = Celery("proj", task_serializer="json", accept_content=["json", "msgpack"])
            FORMAT = "pickle"
            data = pickle.dumps({"serializer": "pickle"})

            def save(serializer="pickle"):
                return serializer
            """,
            "huey_tasks.py": """
            from huey import RedisHuey
            huey = RedisHuey()

            @huey.task(serializer="pickle")
            def job():
                pass
            """,
        },
        select=["CEL101"],
    )
    assert found == []


def test_cel104_app_settings(project):
    found = project(
        {
            "app.py": """
            from celery import Celery
            app = Celery("proj")
            app.conf.update(task_soft_time_limit=600, task_time_limit=300)
            """,
            "celeryconfig.py": """
            CELERYD_TASK_TIME_LIMIT = 60
            CELERYD_TASK_SOFT_TIME_LIMIT = 60
            """,
        },
        select=["CEL104"],
    )
    assert found == [("app.py", 3, "CEL104"), ("celeryconfig.py", 2, "CEL104")]


def test_cel104_task_option_against_app_setting(project):
    found = project(
        {
            "app.py": """
            from datetime import timedelta
            from celery import Celery

            app = Celery("proj")
            app.conf.task_time_limit = 120

            @app.task(soft_time_limit=timedelta(minutes=5))
            def slow():
                pass

            @app.task(soft_time_limit=100)
            def fine():
                pass

            @app.task(time_limit=30, soft_time_limit=20)
            def fine_too():
                pass
            """
        },
        select=["CEL104"],
    )
    assert found == [("app.py", 7, "CEL104")]


def test_cel104_apply_async(project):
    found = project(
        {
            "app.py": """
            from celery import shared_task

            @shared_task(time_limit=60)
            def crunch():
                pass

            crunch.apply_async(soft_time_limit=90)
            crunch.apply_async(soft_time_limit=30)
            crunch.apply_async(soft_time_limit=10, time_limit=5)
            """
        },
        select=["CEL104"],
    )
    assert found == [("app.py", 7, "CEL104"), ("app.py", 9, "CEL104")]


def test_cel104_quiet_on_unknown_and_soft_only(project):
    found = project(
        {
            "app.py": """
            import os
            from celery import Celery
            app = Celery("proj")
            app.conf.task_time_limit = int(os.environ["LIMIT"])
            app.conf.task_soft_time_limit = 600

            @app.task(soft_time_limit=900)
            def a():
                pass
            """
        },
        select=["CEL104"],
    )
    assert found == []


APP = 'from celery import Celery\n\napp = Celery("proj"{kw})\n'


def app(kw: str = "", body: str = "") -> str:
    return APP.format(kw=kw) + body


TASK = '\n\n@app.task{opts}\ndef work():\n    pass\n'


def test_cel102_unset_false_and_task_option(project):
    found = project(
        {
            "a.py": app(body=TASK.format(opts="")),
            "b.py": app(', task_acks_late=False'),
            "c.py": app(body=TASK.format(opts="(acks_late=False)")),
            "d.py": app(', task_acks_late=True'),
            "e.py": app(body=TASK.format(opts="(acks_late=True)")),  # every task acks late
            "f.py": "import os\n" + app(', task_acks_late=os.environ.get("LATE") == "1"'),
        },
        select=["CEL102"],
    )
    assert found == [("a.py", 3, "CEL102"), ("b.py", 3, "CEL102"), ("c.py", 3, "CEL102"), ("c.py", 6, "CEL102")]


def test_cel102_fix_adds_the_keyword(tmp_path):
    from joblint.fix import fix_until_stable

    from conftest import lint, write_project

    write_project(tmp_path, {"app.py": app(body=TASK.format(opts=""))})
    outcome = fix_until_stable({"app.py": tmp_path / "app.py"}, lambda o: lint(tmp_path, ["CEL102"], overrides=o), unsafe=True)
    assert outcome.texts["app.py"] == app(", task_acks_late=True", TASK.format(opts=""))


def test_cel102_quiet_on_settings_it_cannot_read(project):
    found = project(
        {
            "a.py": "from settings import CONFIG\n" + app(body="app.conf.update(CONFIG)\n" + TASK.format(opts="")),
            "b.py": "from settings import OPTS\n" + app(", **OPTS", TASK.format(opts="")),
            "c.py": app(body=TASK.format(opts="")),
            "d.py": app(),  # sends tasks only
        },
        select=["CEL102", "CEL105", "CEL111"],
    )
    # CEL111 is about every app, producers included.
    assert found == [("c.py", 3, "CEL102"), ("c.py", 3, "CEL105"), ("c.py", 3, "CEL111"), ("d.py", 3, "CEL111")]


def test_cel103_late_acks_without_reject(project):
    found = project(
        {
            "a.py": app(", task_acks_late=True"),
            "b.py": app(", task_acks_late=True, task_reject_on_worker_lost=True"),
            "c.py": app(", task_acks_late=True, task_retry_on_worker_lost=True"),
            "d.py": app(", task_reject_on_worker_lost=True", TASK.format(opts="(acks_late=True)")),
            "e.py": app("", TASK.format(opts="(acks_late=True)")),
        },
        select=["CEL103"],
    )
    assert found == [("a.py", 3, "CEL103"), ("e.py", 6, "CEL103")]


def test_cel105_no_time_limit(project):
    found = project(
        {
            "a.py": app(body=TASK.format(opts="")),
            "b.py": app(", task_time_limit=600", TASK.format(opts="")),
            "c.py": app(body=TASK.format(opts="(time_limit=60)")),
            "d.py": app(),  # no tasks
        },
        select=["CEL105"],
    )
    assert found == [("a.py", 3, "CEL105")]


def test_cel106_prefetch(project):
    found = project(
        {
            "a.py": app(", task_acks_late=True"),
            "b.py": app(", task_acks_late=True, worker_prefetch_multiplier=1"),
            "c.py": app(", task_acks_late=True, worker_prefetch_multiplier=8"),
            "d.py": app(", worker_prefetch_multiplier=8"),
        },
        select=["CEL106"],
    )
    assert [(p, line) for p, line, _ in found] == [("a.py", 3), ("c.py", 3)]


def test_cel107_timezone(project):
    found = project(
        {
            "a.py": app(', timezone="Europe/Berlin"'),
            "b.py": app(', timezone="UTC", enable_utc=True'),
            "c.py": app(", enable_utc=False"),
        },
        select=["CEL107"],
    )
    assert [(p, c) for p, _, c in found] == [("a.py", "CEL107"), ("c.py", "CEL107")]


def test_cel108_old_names_and_mixing(project):
    found = project(
        {
            "old/celeryconfig.py": "CELERY_ACKS_LATE = True\nBROKER_URL = 'redis://'\n",
            "mixed/celeryconfig.py": "CELERY_ACKS_LATE = True\nbroker_url = 'redis://'\n",
            "new/celeryconfig.py": "task_acks_late = True\nbroker_url = 'redis://'\n",
        },
        select=["CEL108"],
    )
    assert found == [("mixed/celeryconfig.py", 1, "CEL108"), ("old/celeryconfig.py", 1, "CEL108"), ("old/celeryconfig.py", 2, "CEL108")]
    findings = lint(project.root, ["CEL108"])
    severities = {(f.path, f.span.line): f.severity.value for f in findings}
    assert severities[("mixed/celeryconfig.py", 1)] == "error"
    assert severities[("old/celeryconfig.py", 1)] == "info"


def test_cel108_fix_renames_and_converges(tmp_path):
    import subprocess
    import sys

    from conftest import write_project

    write_project(tmp_path, {"celeryconfig.py": 'CELERY_TASK_SERIALIZER = "json"\nCELERYD_PREFETCH_MULTIPLIER = 1\nCELERY_ROUTES = {}\n'})
    before = (tmp_path / "celeryconfig.py").read_bytes()
    run = lambda *a: subprocess.run([sys.executable, "-m", "joblint", "check", "--select", "CEL108", *a], cwd=tmp_path, capture_output=True, text=True)  # noqa: E731
    assert run("--diff").returncode == 1
    assert (tmp_path / "celeryconfig.py").read_bytes() == before
    result = run("--fix")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "celeryconfig.py").read_text() == 'task_serializer = "json"\nworker_prefetch_multiplier = 1\ntask_routes = {}\n'
    assert run().returncode == 0


def test_cel109_unknown_settings(project):
    found = project(
        {
            "a.py": app(", task_acks_lates=True"),
            "b.py": app(body='app.conf.update({"worker_prefetch_multipler": 1})\n'),
            "celeryconfig.py": "REDIS_HOST = 'localhost'\nbroker_url = 'redis://localhost'\ntask_serialiser = 'json'\n",
            "c.py": app(body="app.conf.redbeat_redis_url = 'redis://'\n"),
        },
        select=["CEL109"],
    )
    assert found == [("a.py", 3, "CEL109"), ("b.py", 4, "CEL109"), ("celeryconfig.py", 3, "CEL109")]
    messages = {f.path: f.message for f in lint(project.root, ["CEL109"])}
    assert "did you mean task_acks_late?" in messages["a.py"]
    assert "did you mean worker_prefetch_multiplier?" in messages["b.py"]


def test_cel109_extra_settings_config(project):
    found = project(
        {
            "a.py": app(", my_extension_setting=1"),
            "pyproject.toml": '[tool.joblint]\nextra-settings = ["my_extension_setting"]\n',
        },
        select=["CEL109"],
    )
    assert found == []


def test_cel110_visibility_timeout(project):
    found = project(
        {
            "a.py": app(', broker="redis://localhost", task_acks_late=True, task_time_limit=7200'),
            "b.py": app(', broker="redis://localhost", task_acks_late=True, task_time_limit=7200, broker_transport_options={"visibility_timeout": 10800}'),
            "c.py": app(', broker="amqp://localhost", task_acks_late=True, task_time_limit=7200'),
            "d.py": app(', broker="sqs://", task_acks_late=True, task_time_limit=600'),
            "e.py": app(', broker="redis://localhost", task_time_limit=7200'),  # early acks: never redelivered
            "f.py": app(', broker="redis://localhost"', TASK.format(opts="") + "\nwork.apply_async(countdown=2 * 3600)\n"),
        },
        select=["CEL110"],
    )
    assert found == [("a.py", 3, "CEL110"), ("f.py", 10, "CEL110")]


def test_cel111_opt_in_and_fix_value(project):
    files = {"a.py": app(), "b.py": app(", broker_connection_retry_on_startup=True")}
    assert project(files, select=["CEL1"]) and ("a.py", 3, "CEL111") not in project(files)
    assert project(files, select=["CEL111"]) == [("a.py", 3, "CEL111")]
    fixes = [f.fix for f in lint(project.root, ["CEL111"])]
    assert fixes[0].edits[0].content == ", broker_connection_retry_on_startup=True"


def test_cel112_credentials(project):
    found = project(
        {
            "a.py": app(', broker="amqp://user:s3cret@rabbit:5672//"'),
            "b.py": "import os\n" + app(', broker=os.environ.get("BROKER_URL", "redis://:hunter2@cache:6379/0")'),
            "c.py": app(', broker="amqp://user@rabbit//", backend="redis://${REDIS_PASSWORD}@x"'),
            "d.py": app(', broker="amqp://guest:guest@localhost//"'),
        },
        select=["CEL112"],
    )
    assert found == [("a.py", 3, "CEL112"), ("b.py", 4, "CEL112")]
    messages = [f.message for f in lint(project.root, ["CEL112"])]
    assert all("s3cret" not in m and "hunter2" not in m for m in messages)


def test_cel113_always_eager(project):
    found = project(
        {
            "proj/settings.py": "CELERY_TASK_ALWAYS_EAGER = True\nINSTALLED_APPS = []\n",
            "proj/test_settings.py": "CELERY_TASK_ALWAYS_EAGER = True\nINSTALLED_APPS = []\n",
            "tests/conftest.py": "from proj.celery import app\napp.conf.task_always_eager = True\n",
            "proj/celery.py": app(", task_always_eager=False"),
        },
        select=["CEL113"],
    )
    assert found == [("proj/settings.py", 1, "CEL113")]


def test_cel113_eager_chosen_under_a_condition_is_quiet(project):
    """Eager mode switched on in a branch (no broker configured, DEBUG) is a per-environment
    choice; the unconditional value in the same module is still reported."""
    found = project(
        {
            "proj/settings.py": (
                "import os\n"
                "INSTALLED_APPS = []\n"
                "BROKER = os.environ.get('BROKER')\n"
                "if BROKER:\n"
                "    CELERY_BROKER_URL = BROKER\n"
                "else:\n"
                "    CELERY_TASK_ALWAYS_EAGER = True\n"
            ),
            "other/celeryconfig.py": "task_always_eager = True\nif True:\n    pass\n",
            "other/app.py": "from celery import Celery\napp = Celery('other')\napp.config_from_object('other.celeryconfig')\n",
            "proj/celery.py": (
                "from celery import Celery\napp = Celery('proj')\n"
                "app.config_from_object('django.conf:settings', namespace='CELERY')\n"
                "match 1:\n    case 1:\n        app.conf.task_always_eager = True\n"
            ),
        },
        select=["CEL113"],
    )
    assert found == [("other/celeryconfig.py", 1, "CEL113")]


from conftest import lint  # noqa: E402


def test_cel108_preconf_old_names_are_not_a_mix(project):
    from conftest import lint

    project({"a.py": app(', broker="redis://x"', "app.conf.update(CELERYD_PREFETCH_MULTIPLIER=1)\n")}, select=["CEL108"])
    [finding] = lint(project.root, ["CEL108"])
    assert finding.severity.value == "info"


def test_cel109_suggests_the_spelling_the_source_takes(project):
    from conftest import lint

    project(
        {
            "a.py": app(', broker="redis://x"', 'app.conf.update(task_serializer="json", CELERY_TASK_ACKS_LATE=True)\n'),
            "proj/__init__.py": "",
            "proj/settings.py": "INSTALLED_APPS = []\nCELERY_TASK_ACKS_LATE = True\n",
            "proj/celery.py": app(body='app.config_from_object("django.conf:settings")\n'),
        },
        select=["CEL109"],
    )
    fixes = {f.path: f.fix.edits[0].content for f in lint(project.root, ["CEL109"]) if f.fix}
    assert fixes == {"a.py": "task_acks_late", "proj/settings.py": "CELERY_ACKS_LATE"}


def test_cel108_fix_renames_the_whole_source_even_with_a_noqa(tmp_path):
    from joblint.fix import fix_until_stable

    from conftest import lint, write_project

    text = 'BROKER_URL = "redis://x"\nCELERY_ACKS_LATE = True  # noqa: CEL108\nCELERYD_PREFETCH_MULTIPLIER = 1\n'
    write_project(tmp_path, {"celeryconfig.py": text})
    outcome = fix_until_stable({"celeryconfig.py": tmp_path / "celeryconfig.py"}, lambda o: lint(tmp_path, ["CEL108"], overrides=o), unsafe=False)
    assert outcome.texts["celeryconfig.py"] == (
        'broker_url = "redis://x"\ntask_acks_late = True  # noqa: CEL108\nworker_prefetch_multiplier = 1\n'
    )


def test_apps_built_in_tests_are_fixtures(project):
    found = project({"tests/test_tasks.py": app(body=TASK.format(opts="")), "conftest.py": app()}, select=["CEL102", "CEL105", "CEL111"])
    assert found == []
