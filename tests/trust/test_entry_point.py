"""The console script is the safe way in: a repository's own `joblint/` package never runs
(security issue, item 3). `python -m joblint` puts the working directory first on sys.path, so
there the repository's package would win; the README says so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

APP = 'from celery import Celery\n\napp = Celery("proj", task_serializer="pickle")\n'


def _console_script() -> str | None:
    beside = Path(sys.executable).with_name("joblint")
    return str(beside) if beside.exists() else shutil.which("joblint")


def test_the_console_script_never_runs_a_joblint_package_the_repository_holds(tmp_path):
    script = _console_script()
    if script is None:
        pytest.skip("joblint is not installed as a console script")
    (tmp_path / "pyproject.toml").write_text("[tool.joblint]\n")
    (tmp_path / "app.py").write_text(APP)
    impostor = tmp_path / "joblint"
    impostor.mkdir()
    marker = tmp_path / "PWNED"
    payload = f"open({str(marker)!r}, 'w').close()\n"
    for name in ("__init__.py", "__main__.py", "cli.py"):
        (impostor / name).write_text(payload + "def entry():\n    pass\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    done = subprocess.run(
        [script, "check", "--no-cache", "--output-format", "concise", "app.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
    )
    assert not marker.exists()
    assert done.returncode == 1 and "CEL101" in done.stdout


@pytest.mark.skipif(sys.version_info < (3, 11), reason="python -P is 3.11+")
def test_python_dash_p_is_safe_where_python_dash_m_is_not(tmp_path):
    """What the README's Trust section says of the module form, checked."""
    (tmp_path / "app.py").write_text(APP)
    impostor = tmp_path / "joblint"
    impostor.mkdir()
    marker = tmp_path / "PWNED"
    (impostor / "__init__.py").write_text("")
    (impostor / "__main__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    safe = [sys.executable, "-P", "-m", "joblint", "check", "--no-cache", "--output-format", "concise", "app.py"]
    done = subprocess.run(safe, cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert not marker.exists() and "CEL101" in done.stdout
    subprocess.run([sys.executable, "-m", "joblint"], cwd=tmp_path, capture_output=True, timeout=120, env=env)
    assert marker.exists()  # the hazard the README warns of: the repository's package ran
