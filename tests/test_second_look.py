"""Files the pre-filter's words skip but the first pass's facts point to are read after all.

Each case is a project a review found the sharper words would lose findings on; each must report
the same with the pre-filter as with every file parsed, and the finding named.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import lint, write_project
from joblint import prefilter

CASES = {
    "a config module loaded from an environment variable": ({
        "proj/__init__.py": "",
        "proj/app.py": (
            'from celery import Celery\n\napp = Celery("proj")\napp.config_from_envvar("CELERY_CONFIG_MODULE")\n'
        ),
        "proj/config.py": 'task_serializer = "pickle"\naccept_content = ["pickle", "json"]\n',
    }, ("proj/config.py", "CEL101")),
    "a config class imported by name": ({
        "proj/__init__.py": "",
        "proj/worker.py": (
            'from celery import Celery\n\nfrom proj.config import ProdConfig\n\napp = Celery("proj")\n'
            'app.config_from_object(ProdConfig)\n'
        ),
        "proj/config.py": 'class ProdConfig:\n    task_serializer = "pickle"\n    worker_prefetch_multiplier = 1\n',
    }, ("proj/config.py", "CEL101")),
    "a config module named from a source root below a package": ({
        "backend/__init__.py": "", "backend/app/__init__.py": "",
        "backend/app/worker.py": (
            'from celery import Celery\n\napp = Celery("app")\napp.config_from_object("app.prod_config")\n'
        ),
        "backend/app/prod_config.py": 'task_serializer = "pickle"\n',
    }, ("backend/app/prod_config.py", "CEL101")),
    "DJANGO_SETTINGS_MODULE set only in manage.py": ({
        "manage.py": 'import os\n\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings_prod")\n',
        "proj/__init__.py": "",
        "proj/celery.py": (
            'from celery import Celery\n\napp = Celery("proj")\n'
            'app.config_from_object("django.conf:settings", namespace="CELERY")\n'
        ),
        "proj/settings.py": 'INSTALLED_APPS = []\nTIME_ZONE = "UTC"\n',
        "proj/settings_prod.py": 'INSTALLED_APPS = []\nTIME_ZONE = "Europe/Berlin"\n',
    }, ("proj/settings_prod.py", "CEL107")),
    "task decorators followed by spaces or a tab": ({
        "proj/__init__.py": "",
        "proj/worker.py": 'from celery import Celery\n\napp = Celery("proj")\n',
        "proj/jobs.py": (
            "from proj.worker import app\n\n\n@app.task \ndef cleanup():\n    return 1\n\n\n@app.task\t# nightly\n"
            "def purge():\n    return 2\n"
        ),
    }, ("proj/jobs.py", "CEL204")),
    "a Bottle route running a task inline": ({
        "shop/__init__.py": "",
        "shop/worker.py": 'from celery import Celery\n\napp = Celery("shop")\n',
        "shop/tasks.py": (
            "from shop.worker import app\n\n\n@app.task\ndef send_receipt(order_id):\n    return order_id\n"
        ),
        "shop/web.py": (
            "from bottle import Bottle\n\nfrom shop.tasks import send_receipt\n\napp = Bottle()\n\n\n"
            '@app.post("/checkout")\ndef checkout():\n    send_receipt(42)\n    return "ok"\n'
        ),
    }, ("shop/web.py", "CEL802")),
    "a Temporal helper module that starts an activity": ({
        "app/__init__.py": "",
        "app/activities.py": (
            "from temporalio import activity\n\n\n@activity.defn\nasync def charge(order_id: str) -> str:\n"
            "    return order_id\n"
        ),
        "app/steps.py": (
            "from datetime import timedelta\n\nfrom temporalio import workflow\n\n"
            "with workflow.unsafe.imports_passed_through():\n    from app.activities import charge\n\n\n"
            "async def charge_step(order_id: str) -> str:\n    return await workflow.execute_activity(\n"
            "        charge, order_id, start_to_close_timeout=timedelta(seconds=30), "
            "heartbeat_timeout=timedelta(seconds=10),\n"
            "    )\n"
        ),
    }, ("app/steps.py", "TMP202")),
    "config_from_object on an app imported into a package's __init__": ({
        "proj/__init__.py": 'from proj.worker import app\n\napp.config_from_object("proj.prodconfig")\n',
        "proj/worker.py": 'from celery import Celery\n\napp = Celery("proj")\n',
        "proj/prodconfig.py": 'result_backend = "redis://localhost:6379/1"\nresult_expires = None\n',
    }, ("proj/prodconfig.py", "CEL703")),
    "beat started from Python on an imported app": ({
        "proj/__init__.py": "",
        "proj/app.py": 'from celery import Celery\n\napp = Celery("proj")\n',
        "proj/run_worker.py": 'from proj.app import app\n\napp.worker_main(argv=["worker", "--beat"])\n',
    }, ("proj/run_worker.py", "CEL501")),
    "a config module of a source root without __init__.py, and what it star-imports": ({
        "proj/worker.py": (
            'from celery import Celery\n\napp = Celery("proj")\napp.config_from_object("proj.celeryconfig")\n'
        ),
        "proj/celeryconfig.py": "from proj.common import *\n\ntask_acks_late = True\n",
        "proj/common.py": 'task_serializer = "pickle"\n',
    }, ("proj/common.py", "CEL101")),
    "three settings in a module nothing names": ({
        "proj/__init__.py": "",
        "proj/app.py": 'from celery import Celery\n\napp = Celery("proj")\napp.config_from_envvar("WORKER_SETTINGS")\n',
        "proj/production.py": (
            'task_serializer = "pickle"\nresult_serializer = "pickle"\nworker_prefetch_multiplier = 1\n'
        ),
    }, ("proj/production.py", "CEL101")),
    "what a config module found by its name star-imports": ({
        "proj/__init__.py": "",
        "proj/app.py": (
            'from celery import Celery\n\napp = Celery("proj")\napp.config_from_envvar("WORKER_CONFIG_MODULE")\n'
        ),
        "proj/prodconfig.py": "from proj.common import *\n\nworker_prefetch_multiplier = 1\n",
        "proj/common.py": 'task_serializer = "pickle"\n',
    }, ("proj/common.py", "CEL101")),
    "the base of a local config class, in a module with no Celery word": ({
        "proj/__init__.py": "",
        "proj/app.py": (
            "from celery import Celery\n\nfrom proj.defaults import BaseConfig\n\n\n"
            "class ProdConfig(BaseConfig):\n    task_acks_late = True\n\n\n"
            'app = Celery("proj")\napp.config_from_object(ProdConfig)\n'
        ),
        "proj/defaults.py": 'class BaseConfig:\n    task_serializer = "pickle"\n',
    }, ("proj/defaults.py", "CEL101")),
    "what a config module kept by its own words star-imports, with no app naming it": ({
        "proj/__init__.py": "",
        "proj/app.py": 'from celery import Celery\n\napp = Celery("proj")\napp.config_from_envvar("WORKER_SETTINGS")\n',
        "proj/celeryconfig.py": "from proj.common import *\n\ntask_acks_late = True\n",
        "proj/common.py": 'task_serializer = "pickle"\n',
    }, ("proj/common.py", "CEL101")),
    "a config module's star import, when another service has a module of the same name": ({
        "services/a/app/__init__.py": "",
        "services/a/app/celeryconfig.py": "from app.common import *\n\ntask_acks_late = True\n",
        "services/a/app/common.py": 'task_serializer = "pickle"\n',
        "services/b/app/__init__.py": "",
        "services/b/app/celeryconfig.py": "task_acks_late = True\n",
    }, ("services/a/app/common.py", "CEL101")),
    "Django settings by fallback, star-imported two levels deep": ({
        "proj/__init__.py": "",
        "proj/celery.py": (
            'from celery import Celery\n\napp = Celery("proj")\n'
            'app.config_from_object("django.conf:settings", namespace="CELERY")\n'
        ),
        "proj/settings/__init__.py": "from .base import *\n",
        "proj/settings/base.py": 'from .i18n import *\n\nINSTALLED_APPS = ["proj"]\n',
        "proj/settings/i18n.py": 'TIME_ZONE = "Europe/Paris"\n',
    }, ("proj/settings/i18n.py", "CEL107")),
}


def test_a_task_base_imported_under_another_name_is_read(tmp_path, monkeypatch):
    """Its options reach the task: without it, CEL404 would claim the retries have no backoff."""
    write_project(tmp_path, {
        "proj/__init__.py": "",
        "proj/app.py": 'from celery import Celery, Task\n\napp = Celery("proj")\n\n\nclass BaseTask(Task):\n    pass\n',
        "proj/bases.py": (
            "from proj.app import BaseTask as _Base\n\n\nclass HttpBase(_Base):\n    retry_backoff = True\n"
        ),
        "proj/tasks.py": (
            "from proj.app import app\nfrom proj.bases import HttpBase\n\n\n"
            '@app.task(base=HttpBase, autoretry_for=(ConnectionError,), name="proj.fetch")\ndef fetch():\n    pass\n'
        ),
    })
    filtered = lint(tmp_path, ["ALL"])
    assert "CEL404" not in {f.code for f in filtered}
    monkeypatch.setattr(prefilter, "words", lambda enabled, metas=None: None)
    assert lint(tmp_path, ["ALL"]) == filtered


@pytest.mark.parametrize("files, expected", CASES.values(), ids=CASES.keys())
def test_the_pre_filter_loses_nothing(tmp_path, monkeypatch, files, expected):
    write_project(tmp_path, files)
    filtered = lint(tmp_path, ["ALL"])
    assert expected in {(f.path, f.code) for f in filtered}
    monkeypatch.setattr(prefilter, "words", lambda enabled, metas=None: None)
    assert lint(tmp_path, ["ALL"]) == filtered


def test_a_skipped_module_still_exists_for_resolving_imports(tmp_path, monkeypatch):
    """`from notify import send_email` names the top-level notify.py, which the pre-filter skips
    (it names Celery only in a docstring): it must not be taken for services/mailer/notify.py's task."""
    write_project(tmp_path, {
        "services/__init__.py": "", "services/mailer/__init__.py": "",
        "services/mailer/notify.py": (
            'from celery import shared_task\n\n\n@shared_task(name="mailer.send_email")\ndef send_email(to):\n'
            '    return to\n'
        ),
        "notify.py": 'def send_email(to):\n    """Send at once, without going through Celery."""\n    return to\n',
        "views.py": (
            "from django.http import HttpResponse\n\nfrom notify import send_email\n\n\ndef signup(request):\n"
            "    send_email(request.user.email)\n    return HttpResponse('ok')\n"
        ),
    })
    filtered = lint(tmp_path, ["ALL"])
    assert "CEL802" not in {f.code for f in filtered}
    monkeypatch.setattr(prefilter, "words", lambda enabled, metas=None: None)
    assert lint(tmp_path, ["ALL"]) == filtered


def test_what_a_module_read_for_its_task_calls_imports_is_not_read(tmp_path):
    """A view kept because it calls a task is no configuration: the module its form class comes
    from (`django.forms` in a real project, and what that star-imports) is not read for it."""
    write_project(tmp_path, {
        "shop/__init__.py": "",
        "shop/tasks.py": (
            'from celery import shared_task\n\n\n@shared_task(name="shop.export")\ndef export(n):\n    return n\n'
        ),
        "shop/views.py": (
            "from shop import forms\nfrom shop.tasks import export\n\n\n"
            "class ExportForm(forms.BaseForm):\n    timezone = \"UTC\"  # a field named like a setting\n\n\n"
            "def view(request):\n    export(1)\n"
        ),
        "shop/forms.py": "class BaseForm:\n    pass\n",
    })
    from joblint import config as config_mod
    from joblint import engine
    from joblint.discover import discover

    config = config_mod.discover([tmp_path])
    files = discover([tmp_path], config, tmp_path)
    result = engine.run(files, config, frozenset({"CEL802"}), 1, cache=None)
    assert "shop/views.py" in {d for d, r in result.results.items() if r.parsed}
    assert "shop/forms.py" not in {d for d, r in result.results.items() if r.parsed}


def test_the_key_of_remembered_answers_is_the_same_in_every_process():
    """Task names come as sets, whose order changes with the hash seed: a key built from that
    order would miss every warm run's remembered answers."""
    code = (
        "from joblint.prefilter import SecondLook, compile_words\n"
        "refs = {b'send': frozenset({b'tasks', b'jobs', b'shop', b'mail', b'billing'})}\n"
        "print(SecondLook(frozenset(), compile_words(['view']), refs).text_key())\n"
    )
    keys = {
        subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True, text=True, check=True,
        ).stdout
        for seed in range(6)
    }
    assert len(keys) == 1
