"""CEL108/CEL109 on sources whose namespace or loader joblint can only guess, and on old keys
Celery never reads because the new spelling is set beside them."""

from __future__ import annotations

from conftest import lint

FLASK_APP = (
    "from celery import Celery\nfrom flask import Flask\n\n"
    'flask_app = Flask(__name__)\nflask_app.config.from_pyfile("config.py")\n'
    'celery = Celery(__name__)\ncelery.conf.update(flask_app.config)\n'
)
DJANGO_APP = (
    'from celery import Celery\n\napp = Celery("proj")\n'
    'app.config_from_object("django.conf:settings", namespace="CELERY")\n'
)


def by_line(root, codes):
    return {(f.path, f.span.line): f for f in lint(root, codes)}


def test_guessed_namespace_old_name_reported_without_a_fix(project):
    # CELERY_BROKER_URL suggests namespace="CELERY", but the app reads the Flask config without
    # one: there CELERY_BEAT_SCHEDULE is ignored, CELERYBEAT_SCHEDULE is read.
    found = project(
        {
            "proj/worker.py": FLASK_APP,
            "proj/config.py": 'CELERY_BROKER_URL = "redis://"\nCELERYBEAT_SCHEDULE = {}\n',
        },
        select=["CEL108"],
    )
    assert found == [("proj/config.py", 2, "CEL108")]
    [finding] = lint(project.root, ["CEL108"])
    assert finding.fix is None
    assert "old name of beat_schedule" in finding.message


def test_declared_namespace_old_name_keeps_its_fix(project):
    found = project(
        {
            "proj/worker.py": FLASK_APP.replace(
                "celery.conf.update(flask_app.config)", 'celery.config_from_object(flask_app.config, namespace="CELERY")'
            ),
            "proj/config.py": 'CELERY_BROKER_URL = "redis://"\nCELERY_QUEUES = ()\n',
        },
        select=["CEL108"],
    )
    assert found == [("proj/config.py", 2, "CEL108")]
    [finding] = lint(project.root, ["CEL108"])
    assert [e.content for e in finding.fix.edits] == ["CELERY_TASK_QUEUES"]


def test_uppercase_module_of_unknown_loader_is_not_renamed_to_lowercase(project):
    # A Flask config file keeps UPPERCASE names only: `beat_schedule` would be dropped.
    found = project(
        {"svc/worker.py": FLASK_APP, "deploy/site_conf.py": "CELERYBEAT_SCHEDULE = {}\n"},
        select=["CEL108"],
    )
    assert found == [("deploy/site_conf.py", 1, "CEL108")]
    assert all(f.fix is None for f in lint(project.root, ["CEL108"]))


def test_celeryconfig_module_is_still_renamed(project):
    project({"celeryconfig.py": "CELERYBEAT_SCHEDULE = {}\n"}, select=["CEL108"])
    [finding] = lint(project.root, ["CEL108"])
    assert [e.content for e in finding.fix.edits] == ["beat_schedule"]


def test_guessed_namespace_unknown_key_suggests_only_what_holds_either_way(project):
    project(
        {
            "proj/worker.py": FLASK_APP,
            "proj/config.py": (
                'CELERY_BROKER_URL = "redis://"\nCELERY_TASK_SERIALISER = "json"\nCELERY_BEAT_SCHEDUL = {}\n'
            ),
        },
        select=["CEL109"],
    )
    found = by_line(project.root, ["CEL109"])
    assert set(found) == {("proj/config.py", 2), ("proj/config.py", 3)}
    # CELERY_TASK_SERIALIZER is task_serializer with the namespace and without (its old name).
    assert [e.content for e in found[("proj/config.py", 2)].fix.edits] == ["CELERY_TASK_SERIALIZER"]
    # CELERY_BEAT_SCHEDULE is beat_schedule only with the namespace.
    assert found[("proj/config.py", 3)].fix is None
    assert "CELERY_BEAT_SCHEDULE" not in found[("proj/config.py", 3)].message


def test_old_unprefixed_key_beside_its_namespaced_spelling_is_the_applications(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/celery.py": DJANGO_APP,
            "proj/settings.py": (
                "import os\nINSTALLED_APPS = []\n"
                'BROKER_URL = os.environ.get("B", "redis://")\nCELERY_BROKER_URL = BROKER_URL\n'
                'CELERY_DEFAULT_QUEUE = "q"\n'
            ),
        },
        select=["CEL108"],
    )
    # CELERY_DEFAULT_QUEUE is still read (no CELERY_TASK_DEFAULT_QUEUE): a true finding.
    assert found == [("proj/settings.py", 5, "CEL108")]


def test_old_key_beside_its_new_spelling_in_a_plain_source(project):
    found = project(
        {"celeryconfig.py": 'BROKER_URL = "redis://a"\nbroker_url = "redis://b"\nCELERY_ACKS_LATE = True\n'},
        select=["CEL108"],
    )
    assert found == [("celeryconfig.py", 3, "CEL108")]


def test_old_source_key_overridden_by_the_app(project):
    files = {
        "proj/__init__.py": "",
        "proj/celery.py": (
            'import os\nfrom celery import Celery\n\napp = Celery("proj", broker=BROKER)\n'
            'app.config_from_object("proj.celeryconfig")\n'
        ),
        "proj/celeryconfig.py": 'BROKER_URL = "redis://"\n',
    }
    literal = dict(files, **{"proj/celery.py": files["proj/celery.py"].replace("BROKER", '"redis://x"')})
    assert project(literal, select=["CEL108"]) == []
    # `broker=None` sets nothing: the config module's key may be the one in force.
    unknown = dict(files, **{"proj/celery.py": files["proj/celery.py"].replace("BROKER", 'os.environ.get("B")')})
    assert project(unknown, select=["CEL108"]) == [("proj/celeryconfig.py", 1, "CEL108")]


def test_no_rename_of_an_old_key_the_code_reads_from_settings(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/celery.py": DJANGO_APP,
            "proj/settings.py": 'INSTALLED_APPS = []\nCELERY_DEFAULT_QUEUE = "q"\n',
            "proj/views.py": "from django.conf import settings\n\nQUEUE = settings.CELERY_DEFAULT_QUEUE\n",
        },
        select=["CEL108"],
    )
    assert found == [("proj/settings.py", 2, "CEL108")]
    assert all(f.fix is None for f in lint(project.root, ["CEL108"]))
