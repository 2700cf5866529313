"""`joblint check-app`: the real app's configuration, the same rules, and a child that cannot hurt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("celery")

APP = """
import os
from celery import Celery

app = Celery("proj", broker="redis://localhost:6379/0")
app.conf.task_serializer = os.environ.get("SERIALIZER", "json")
app.conf.task_soft_time_limit = 300
app.conf.task_time_limit = int(os.environ.get("HARD", "600"))
app.conf.task_acks_late = True
app.conf.task_reject_on_worker_lost = True
app.conf.worker_prefetch_multiplier = 1

@app.task(time_limit=900)
def add(x, y):
    return x + y
"""


def check_app(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "joblint", "check-app", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def write(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    write(tmp_path, "proj/__init__.py", "")
    write(tmp_path, "proj/celery.py", APP)
    return tmp_path


def test_env_driven_pickle_is_found(proj):
    result = check_app(proj, "proj.celery:app", "--output-format", "concise", env={"SERIALIZER": "pickle"})
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("celery:proj.celery:app: CEL101 ") for line in lines), lines
    assert all(not line.startswith("celery:proj.celery:app:0") for line in lines)


def test_clean_app_exits_0(proj):
    result = check_app(proj, "proj.celery:app", "--ignore", "CEL105")
    assert result.returncode == 0, result.stdout + result.stderr


def test_same_rules_as_static_on_runtime_values(proj):
    result = check_app(proj, "proj.celery:app", "--output-format", "json", env={"HARD": "100"})
    codes = {item["code"] for item in json.loads(result.stdout)}
    assert "CEL104" in codes
    item = next(i for i in json.loads(result.stdout) if i["code"] == "CEL104")
    assert item["filename"] == "celery:proj.celery:app" and item["location"] is None and item["fix"] is None


def test_task_options_reach_the_rules(proj):
    write(
        proj, "proj/celery.py", APP.replace("@app.task(time_limit=900)", "@app.task(time_limit=60, soft_time_limit=90)")
    )
    result = check_app(proj, "proj.celery:app", "--select", "CEL104", "--output-format", "concise")
    assert "CEL104" in result.stdout and "task add" in result.stdout


def test_show_settings(proj):
    result = check_app(
        proj, "proj.celery:app", "--show-settings", "--output-format", "concise", env={"SERIALIZER": "pickle"}
    )
    rows = {
        line.split()[0]: line.split()[1:]
        for line in result.stdout.splitlines()
        if line and not line.startswith("celery:")
    }
    assert rows["task_serializer"][0] == "config" and rows["task_serializer"][1] == '"pickle"'
    assert rows["result_serializer"][0] == "default"


def test_credentials_are_masked_in_show_settings(proj):
    write(proj, "proj/celery.py", APP.replace("redis://localhost:6379/0", "redis://:hunter2@localhost:6379/0"))
    result = check_app(proj, "proj.celery:app", "--show-settings", "--output-format", "concise")
    assert "hunter2" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "target, module, expected",
    [
        ("nosuchmodule:app", None, "No module named 'nosuchmodule'"),
        ("proj.celery:nothing", None, "has no attribute 'nothing'"),
        ("proj.plain:app", "app = object()\n", "not a Celery app"),
        ("proj.exits:app", "import sys\nsys.exit(3)\n", "SystemExit"),
        ("proj.hard_exit:app", "import os\nos._exit(7)\n", "exited with status 7"),
        ("proj.boom:app", "raise RuntimeError('config missing')\n", "RuntimeError: config missing"),
        ("proj.crash:app", "import ctypes\nctypes.string_at(0)\n", "killed the child process (SIGSEGV)"),
        ("proj.hog:app", "hog = bytearray(3 * 1024 ** 3)\n", "MemoryError"),
    ],
)
def test_failures_are_one_line_and_exit_2(proj, target, module, expected):
    if module is not None:
        write(proj, f"proj/{target.split(':')[0].split('.')[1]}.py", module)
    result = check_app(proj, target)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_timeout(proj):
    write(proj, "proj/slow.py", "import time\ntime.sleep(60)\n")
    result = check_app(proj, "proj.slow:app", "--timeout", "1")
    assert result.returncode == 2
    assert "longer than 1s" in result.stderr


def test_app_printing_to_stdout_does_not_corrupt_output(proj):
    write(proj, "proj/noisy.py", "print('hello from the app')\n" + textwrap.dedent(APP))
    result = check_app(proj, "proj.noisy:app", "--output-format", "json", env={"SERIALIZER": "pickle"})
    assert "hello" not in result.stdout
    assert any(i["code"] == "CEL101" for i in json.loads(result.stdout))


def test_django_settings_module_is_respected(proj):
    write(proj, "site_settings.py", 'CELERY_TASK_SERIALIZER = "pickle"\nINSTALLED_APPS = []\n')
    write(
        proj,
        "proj/dj.py",
        """
        from celery import Celery
        app = Celery("proj")
        class Settings:
            pass
        import importlib, os
        mod = importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])
        app.config_from_object(mod, namespace="CELERY")
        """,
    )
    result = check_app(proj, "proj.dj:app", "--select", "CEL101", env={"DJANGO_SETTINGS_MODULE": "site_settings"})
    assert "CEL101" in result.stdout


def test_without_celery_the_message_says_how_to_install(proj, tmp_path_factory):
    bare = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    python = bare / "bin" / "python"
    result = check_app(proj, "proj.celery:app", "--python", str(python))
    assert result.returncode == 2
    assert "pip install 'joblint[celery]'" in result.stderr


def test_show_settings_lists_every_setting_a_rule_declares(tmp_path, monkeypatch, capsys):
    """--show-settings is built from the rules' `settings=` declarations: a rule that starts
    reading a setting gets it shown, with no list to keep by hand. In-process, with a fake loaded
    app (nothing is imported) and a rule registered for the test only."""
    from joblint import runtime
    from joblint import settings as celery_settings
    from joblint.cli import main
    from joblint.findings import Severity
    from joblint.rules import REGISTRY, all_rules, rule

    declared = {name for r in all_rules().values() for name in r.meta.settings}
    assert set(runtime.rule_settings()) == declared
    table = celery_settings.table()
    assert declared <= set(table)  # canonical names of Celery settings
    # A setting no rule reads yet ("task_default_queue" until a rule declares it).
    name = "task_default_queue" if "task_default_queue" not in declared else min(set(table) - declared)
    default = table[name].default
    app = runtime.LoadedApp("proj.celery:app", {name: {"value": default, "set": False}}, {})
    monkeypatch.setattr(runtime, "load", lambda target, python=None, timeout=30.0, cwd=None: app)
    monkeypatch.chdir(tmp_path)

    def shown() -> dict[str, list[str]]:
        args = ["check-app", "proj.celery:app", "--show-settings", "--output-format", "concise", "--exit-zero"]
        assert main(args) == 0
        lines = capsys.readouterr().out.splitlines()
        return {line.split()[0]: line.split()[1:] for line in lines if line and not line.startswith("celery:")}

    assert name not in shown()
    code = "CEL999"
    assert code not in REGISTRY

    @rule(code=code, name="reads-a-setting", severity=Severity.INFO, summary="test", scope="project", settings=(name,))
    def reads_a_setting(project):
        return ()

    try:
        assert name in runtime.rule_settings()
        row = shown()[name]
        assert row == ["default", json.dumps(default)]
    finally:
        del REGISTRY[code]
    assert name not in runtime.rule_settings()
