"""The pre-commit hooks: their definition, the files they select, and a real `pre-commit try-repo`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from identify import identify

REPO = Path(__file__).resolve().parents[1]
HOOKS = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
BY_ID = {hook["id"]: hook for hook in HOOKS}

LAUNCH_FILES = [
    "Procfile", "Procfile.dev", "deploy/docker-compose.yml", "docker-compose.prod.yaml", "compose.yaml",
    "systemd/celery-worker.service", "supervisor/conf.d/celery.conf", "supervisord.ini", "Dockerfile",
    "docker/Dockerfile.worker", "worker.dockerfile", "scripts/start-worker.sh", "Makefile", "build/rules.mk",
    "k8s/worker-deployment.yaml",
]
NOT_READ = ["README.md", "setup.cfg", "requirements.txt", "pyproject.toml", "logo.png", "package.json", "notes.txt"]


def selected(hook: dict, root: Path, name: str) -> bool:
    """pre-commit's rule: `files` matches the repository-relative name and one of `types_or` applies."""
    tags = identify.tags_from_path(str(root / name))
    return bool(re.search(hook["files"], name)) and bool(tags & set(hook["types_or"])) and not re.search(
        hook.get("exclude", "^$"), name
    )


def test_two_hooks_check_and_fix():
    assert set(BY_ID) == {"joblint", "joblint-fix"}
    # `--force-exclude`, as ruff's hooks: pre-commit names excluded files too
    assert BY_ID["joblint"]["entry"] == "joblint check --force-exclude"
    assert BY_ID["joblint-fix"]["entry"] == "joblint check --fix --force-exclude"
    for hook in HOOKS:
        assert hook["language"] == "python"
        assert hook["require_serial"] is True
        assert "python" in hook["types_or"]


@pytest.mark.parametrize("name", ["tasks.py", "pkg/workflows.py", *LAUNCH_FILES])
def test_hooks_select_python_and_launch_files(tmp_path, name):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("celery -A proj worker\n")
    for hook in HOOKS:
        assert selected(hook, tmp_path, name), (hook["id"], name)


@pytest.mark.parametrize("name", NOT_READ)
def test_hooks_leave_other_files_alone(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\x89PNG\r\n\x1a\n" if name.endswith(".png") else b"text\n")
    assert not any(selected(hook, tmp_path, name) for hook in HOOKS)


BAD = 'from celery import Celery\n\napp = Celery("proj")\napp.conf.update(task_serializer="pickle")\n'
CLEAN = 'from celery import Celery\n\napp = Celery("proj")\napp.conf.update(task_serializer="json")\n'


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.slow
def test_pre_commit_try_repo_fails_on_a_bad_file_and_passes_on_a_clean_one(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout: pre-commit try-repo needs one")
    project = tmp_path / "project"
    project.mkdir()
    (project / "bad.py").write_text(BAD)
    (project / "clean.py").write_text(CLEAN)
    # The project's configuration reaches the hook: only the rule this test is about.
    (project / "pyproject.toml").write_text('[tool.joblint]\nselect = ["CEL101"]\n')
    _git("init", "-q", cwd=project)
    _git("add", ".", cwd=project)
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    env.pop("NO_COLOR", None)
    # The committed state, as users get it from a `rev:`; try-repo's default would mix in the
    # working tree's tracked changes without its untracked files, which is neither state.
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    pre_commit = [
        sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "joblint", "--ref", head,
        "--color", "never", "--files",
    ]

    bad = subprocess.run([*pre_commit, "bad.py"], cwd=project, capture_output=True, text=True, env=env, timeout=600)
    output = bad.stdout + bad.stderr
    assert bad.returncode == 1, output
    assert "joblint" in output and "Failed" in output
    assert "bad.py:4:33: CEL101" in output

    clean = subprocess.run([*pre_commit, "clean.py"], cwd=project, capture_output=True, text=True, env=env, timeout=600)
    output = clean.stdout + clean.stderr
    assert clean.returncode == 0, output
    assert "Passed" in output
