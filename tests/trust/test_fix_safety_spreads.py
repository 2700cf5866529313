"""An unsafe fix may change behaviour; it must never break the code.

A fix that adds a keyword argument to a call that also takes `*args`/`**kwargs` can repeat a
keyword the spread already holds: `@app.task(autoretry_for=(IOError,), retry_backoff=True,
**RETRY_OPTIONS)` with `RETRY_OPTIONS = dict(retry_backoff=True)` is a TypeError when the module
is imported. No such fix is offered. These tests run `joblint check --fix --unsafe-fixes` as a user
does, then import every file against a stand-in `celery` (Python raises the TypeError at the call
site, whatever the callee accepts).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import joblint as joblint_package
from joblint.facts.celery import SettingWrite
from joblint.facts.values import Value
from joblint.findings import Span
from joblint.project import SettingValue
from joblint.rules._settings_edits import add_sibling, rename

from ._run import joblint

# A permissive stand-in for celery: whatever a fix breaks is Python's own TypeError at the call.
STUB = '''
class _Conf(dict):
    def __getattr__(self, name):
        return self.get(name)

    def __setattr__(self, name, value):
        self[name] = value


def _decorator(*args, **kwargs):
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda function: function


class Celery:
    def __init__(self, *args, **kwargs):
        self.conf = _Conf()

    def task(self, *args, **kwargs):
        return _decorator(*args, **kwargs)

    def config_from_object(self, *args, **kwargs):
        pass


shared_task = _decorator


class Task:
    pass
'''

SPREAD_FILES = {
    # CEL404's fix would add retry_backoff=True beside a spread that holds it
    "retry_tasks.py": """
        from celery import Celery

        RETRY_OPTIONS = dict(retry_backoff=True, max_retries=5)

        app = Celery("retry_tasks")
        app.conf.task_time_limit = 300
        app.conf.task_acks_late = True
        app.conf.task_reject_on_worker_lost = True


        @app.task(autoretry_for=(IOError,), **RETRY_OPTIONS)
        def fetch(url):
            return url
        """,
    # CEL103's fix would add reject_on_worker_lost=True to the decorator
    "late_tasks.py": """
        from celery import Celery

        LATE = {"reject_on_worker_lost": True}

        app = Celery("late_tasks")
        app.conf.task_time_limit = 300


        @app.task(acks_late=True, **LATE)
        def store(key):
            return key
        """,
    # CEL102 adds task_acks_late=True to the Celery(...) call
    "app_spread.py": """
        from celery import Celery

        CONF = {"task_acks_late": False, "task_time_limit": 300}

        app = Celery("app_spread", **CONF)


        @app.task
        def ping():
            return "pong"
        """,
    # CEL103 / CEL106 add a sibling keyword to conf.update(...)
    "update_spread.py": """
        from celery import Celery

        EXTRA = {"task_reject_on_worker_lost": True, "worker_prefetch_multiplier": 1}

        app = Celery("update_spread")
        app.conf.update(task_acks_late=True, task_time_limit=300, **EXTRA)


        @app.task
        def ping():
            return "pong"
        """,
    # a rename of an old setting name beside a spread that holds the new one
    "rename_spread.py": """
        from celery import Celery

        NEW = {"task_acks_late": True}

        app = Celery("rename_spread")
        app.conf.update(CELERY_ACKS_LATE=True, task_time_limit=300, **NEW)


        @app.task
        def ping():
            return "pong"
        """,
    # a dict(...) of settings with a spread
    "dict_spread.py": """
        from celery import Celery

        BASE = {"worker_prefetch_multiplier": 1, "task_reject_on_worker_lost": True}

        app = Celery("dict_spread")
        app.conf.update(dict(task_acks_late=True, task_time_limit=300, **BASE))


        @app.task
        def ping():
            return "pong"
        """,
}


# The child process runs the joblint these tests import, wherever it was imported from.
SAME_JOBLINT = {"PYTHONPATH": str(Path(joblint_package.__file__).resolve().parents[1])}


def _fix(root: Path, select: str) -> None:
    result = joblint(
        "check", "--no-cache", "--fix", "--unsafe-fixes", "--select", select, ".", cwd=root, env=SAME_JOBLINT
    )
    assert "Traceback" not in result.stderr, result.stderr


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    stub = root.parent / f"{root.name}-stub" / "celery"
    stub.mkdir(parents=True, exist_ok=True)
    (stub / "__init__.py").write_text(STUB, encoding="utf-8")


def _imports(root: Path, name: str) -> subprocess.CompletedProcess:
    """Import one fixed file against the stand-in celery, in a child process."""
    stub = root.parent / f"{root.name}-stub"
    return subprocess.run(
        [sys.executable, "-c", f"import runpy; runpy.run_path({str(root / name)!r})"],
        cwd=stub,
        env={"PYTHONPATH": str(stub), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(("name", "code"), [("retry_tasks.py", "CEL404"), ("late_tasks.py", "CEL103")])
def test_no_keyword_is_added_to_a_task_decorator_with_a_spread(tmp_path, name, code):
    root = tmp_path / "proj"
    root.mkdir()
    _write(root, {name: SPREAD_FILES[name]})
    before = (root / name).read_text(encoding="utf-8")
    assert _imports(root, name).returncode == 0  # the file works as written

    _fix(root, code)

    after = (root / name).read_text(encoding="utf-8")
    assert after == before
    compile(after, name, "exec")
    result = _imports(root, name)
    assert result.returncode == 0, result.stderr


def test_every_fix_beside_spreads_leaves_importable_code(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    _write(root, SPREAD_FILES)
    for name in SPREAD_FILES:
        assert _imports(root, name).returncode == 0, name  # each file works as written

    _fix(root, "ALL")

    for name in SPREAD_FILES:
        text = (root / name).read_text(encoding="utf-8")
        compile(text, name, "exec")
        result = _imports(root, name)
        assert result.returncode == 0, f"{name} no longer imports after --fix:\n{text}\n{result.stderr}"


# -- the edit helpers themselves ---------------------------------------------------------------

def _keyword_write(open_call: bool) -> SettingValue:
    span = Span(5, 17, 5, 31)
    write = SettingWrite(
        "task_acks_late", Value(True, Span(5, 32, 5, 36)), span, "app.py::app", "conf.update",
        anchor=Span(5, 32, 5, 36), open_call=open_call,
    )
    return SettingValue(
        "task_acks_late", write.key, "new", write.value, "app.py", span, "conf.update", write=write
    )


def test_settings_edits_add_no_keyword_to_a_call_with_a_spread():
    closed, spread = _keyword_write(False), _keyword_write(True)
    assert add_sibling(closed, "worker_prefetch_multiplier", "1") is not None
    assert add_sibling(spread, "worker_prefetch_multiplier", "1") is None
    assert rename(closed, "task_acks_late_new") is not None
    assert rename(spread, "task_acks_late_new") is None


def test_a_key_written_as_joined_strings_is_never_renamed_to_a_bare_name(tmp_path):
    """A config dict's key written as implicitly joined strings has no single source token: CEL108
    once renamed it to a bare name (`{task_acks_late: True}`), a NameError at import."""
    root = tmp_path / "proj"
    root.mkdir()
    name = "joined_key.py"
    _write(root, {name: """
        from celery import Celery

        CONFIG = {"CELERY_" "ACKS_LATE": True, "task_time_limit": 300}
        app = Celery("joined_key")
        app.config_from_object(CONFIG)
        """})

    _fix(root, "CEL108")

    after = (root / name).read_text(encoding="utf-8")
    assert '{"CELERY_" "ACKS_LATE": True' in after
    result = _imports(root, name)
    assert result.returncode == 0, result.stderr
