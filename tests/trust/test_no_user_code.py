"""`joblint check` reads the project; it never imports it, nor celery, arq or temporalio.

Every module of the project below leaves a mark on disk if it is ever imported, including modules
named like the libraries joblint itself imports: `python -m` puts the working directory first on
sys.path, so without care a project's `json.py` would run in place of the standard library's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ._run import joblint

# Modules joblint (or Python, on the way to it) imports by these names.
SHADOWS = ("argparse", "json", "pathspec", "rich", "libcst", "pydantic", "tomllib", "tomli", "hashlib", "textwrap")

CELERY_APP = """
import celery_settings
from celery import Celery, shared_task
from arq.connections import RedisSettings
from temporalio import workflow

app = Celery("proj")
app.config_from_object("celery_settings")
app.conf.update(task_serializer="pickle")


@shared_task
def add(x, y):
    return x + y


@workflow.defn
class Greeting:
    @workflow.run
    async def run(self) -> None:
        return None
"""


def side_effect(marks: Path, name: str) -> str:
    return f"import pathlib\npathlib.Path({str(marks / name)!r}).write_text('imported')\n"


@pytest.fixture
def trap(tmp_path: Path) -> tuple[Path, Path]:
    """A project whose every module records that it ran, and the directory the records go to."""
    root, marks = tmp_path / "proj", tmp_path / "marks"
    marks.mkdir()
    files = {
        "app.py": side_effect(marks, "app") + CELERY_APP,
        "celery_settings.py": side_effect(marks, "celery_settings") + "task_serializer = 'pickle'\n",
        "conftest.py": side_effect(marks, "conftest"),
        "setup.py": side_effect(marks, "setup") + "import celery\n",
        "sitecustomize.py": side_effect(marks, "sitecustomize"),
        "pkg/__init__.py": side_effect(marks, "pkg") + "from celery import Celery\n",
        "pkg/tasks.py": side_effect(marks, "pkg.tasks") + "from pkg import app\n@app.task\ndef t():\n    pass\n",
        "joblint.toml": "",
        **{f"{name}.py": side_effect(marks, name) for name in SHADOWS},
        # Enough modules that --jobs 2 hands them to worker processes.
        **{
            f"pkg/mod{i}.py": side_effect(marks, f"pkg.mod{i}") + "from pkg.tasks import t\nt.delay()\n"
            for i in range(60)
        },
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root, marks


def console_script() -> str:
    script = Path(sys.executable).parent / "joblint"
    if not script.exists():
        pytest.skip("the joblint console script is not installed next to this interpreter")
    return str(script)


def test_python_dash_m_imports_nothing_from_the_checked_project(trap):
    root, marks = trap
    result = joblint("check", "--select", "ALL", "--output-format", "concise", ".", cwd=root)
    assert result.returncode == 1, result.stderr
    assert "CEL101" in result.stdout  # the project was checked ...
    assert sorted(p.name for p in marks.iterdir()) == []  # ... and none of its modules ran


@pytest.mark.parametrize("extra", [[], ["--fix", "--unsafe-fixes"], ["--diff"], ["--jobs", "2"]])
def test_the_console_script_imports_nothing_from_the_checked_project(trap, extra):
    root, marks = trap
    result = subprocess.run(
        [console_script(), "check", "--select", "ALL", "--output-format", "concise", *extra, "."],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in marks.iterdir()) == []


PROBE = """
import json, sys
from joblint.cli import main
code = main(sys.argv[1:])
loaded = sorted(
    m
    for m in sys.modules
    if m.split(".")[0] in {"celery", "arq", "temporalio", "kombu", "app", "pkg", "celery_settings"}
)
print(json.dumps({"code": code, "loaded": loaded}))
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_no_framework_module_is_ever_imported(trap, jobs):
    # celery may well be installed next to joblint (it is in the dev extra): importing it would run
    # its import-time code and cost seconds; the static path must not need it.
    root, marks = trap
    result = subprocess.run(
        [sys.executable, "-P", "-c", PROBE, "check", "--select", "ALL", "--output-format", "json", "--jobs", jobs, "."]
        if sys.version_info >= (3, 11)
        else [sys.executable, "-c", PROBE, "check", "--select", "ALL", "--output-format", "json", "--jobs", jobs, "."],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report, probe = result.stdout.rsplit("\n", 2)[-2], result.stdout
    outcome = json.loads(report)
    assert outcome == {"code": 1, "loaded": []}, (probe[-2000:], result.stderr[-2000:])
    assert sorted(p.name for p in marks.iterdir()) == []
