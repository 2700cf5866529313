"""Which files a run reads: .gitignore files (nested, negated, up to a nested repository), the
exclude settings, the directory given, and what is never opened."""

from __future__ import annotations

import dataclasses
import errno
import os
from pathlib import Path

import pytest

from joblint import cli
from joblint import config as config_mod
from joblint.discover import discover, forget_warnings


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _found(root: Path, start: Path | None = None, cwd: Path | None = None, **kwargs: bool) -> list[str]:
    config = config_mod.discover([start or root])
    return [f.display for f in discover([start or root], config, cwd or root, **kwargs)]


def test_gitignore_files_apply_below_their_directory(tmp_path: Path) -> None:
    _tree(tmp_path, {
        ".git/HEAD": "",
        ".gitignore": "out/\n/top_only.py\n*.gen.py\n!keep.gen.py\n",
        "top_only.py": "", "a/top_only.py": "",
        "out/x.py": "", "a/out/y.py": "",
        "a/z.gen.py": "", "a/keep.gen.py": "",
        "a/.gitignore": "local.py\n", "a/local.py": "", "b/local.py": "",
        "a/b/deeper.py": "", "a/b/.gitignore": "deeper.py\n",
        "Procfile": "worker: celery -A proj worker\n", "notes.txt": "",
    })
    assert _found(tmp_path) == ["Procfile", "a/keep.gen.py", "a/top_only.py", "b/local.py"]
    assert "out/x.py" in _found(tmp_path, respect_gitignore=False)


def test_a_nested_repository_has_its_own_ignores(tmp_path: Path) -> None:
    _tree(tmp_path, {
        ".git/HEAD": "", ".gitignore": "vendored.py\n",
        "vendor/.git/HEAD": "", "vendor/vendored.py": "", "vendor/.git/info/exclude": "private.py\n",
        "vendor/private.py": "", "vendored.py": "",
    })
    assert _found(tmp_path) == ["vendor/vendored.py"]


def test_a_subdirectory_given_keeps_the_ignores_above_it(tmp_path: Path) -> None:
    _tree(tmp_path, {
        ".git/HEAD": "", ".gitignore": "generated/\nskip.py\n",
        "pkg/skip.py": "", "pkg/generated/g.py": "", "pkg/ok.py": "",
    })
    assert _found(tmp_path, start=tmp_path / "pkg") == ["pkg/ok.py"]
    assert _found(tmp_path, start=tmp_path / "pkg", cwd=tmp_path / "pkg") == ["ok.py"]


def test_exclude_settings_and_explicit_files(tmp_path: Path) -> None:
    _tree(tmp_path, {
        "pyproject.toml": '[tool.joblint]\nextend-exclude = ["migrations/", "legacy_*.py"]\n',
        "app/migrations/0001.py": "", "app/legacy_jobs.py": "", "app/jobs.py": "",
    })
    assert _found(tmp_path) == ["app/jobs.py"]
    config = config_mod.discover([tmp_path])
    given = [Path("app/migrations/0001.py"), Path("app/legacy_jobs.py"), Path("app/jobs.py")]
    # A named file is checked whatever `exclude` says, as in ruff; with force-exclude it is not.
    named = discover(given, config, tmp_path)
    assert [f.display for f in named] == ["app/jobs.py", "app/legacy_jobs.py", "app/migrations/0001.py"]
    assert [f.display for f in discover(given, _forced(config), tmp_path)] == ["app/jobs.py"]


def _forced(config: config_mod.Config) -> config_mod.Config:
    return dataclasses.replace(config, settings=dataclasses.replace(config.settings, force_exclude=True))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifos_are_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "real.py").write_text("")
    (tmp_path / "linked.py").symlink_to(tmp_path / "real.py")
    (tmp_path / "dirlink.py").symlink_to(tmp_path, target_is_directory=True)
    assert _found(tmp_path) == ["linked.py", "real.py"]


def test_dangling_links_are_skipped_with_a_warning_not_a_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Links into a git submodule that is not checked out: no code to check, and no fault of the
    # project's. A JL001 would fail its CI.
    _tree(tmp_path, {".git/HEAD": "", "app.py": "from celery import Celery\napp = Celery('x')\n"})
    (tmp_path / "common").mkdir()
    (tmp_path / ".pre-commit-config.yaml").symlink_to("common/pre-commit-config.yaml")
    (tmp_path / "docker-compose.yml").symlink_to("common/nothing/docker-compose.yml")
    (tmp_path / "gone.py").symlink_to("missing.py")
    monkeypatch.chdir(tmp_path)
    forget_warnings()
    code = cli.main(["check", "--no-cache", "."])
    out, err = capsys.readouterr()
    assert code == 0 and "JL001" not in out
    assert [line for line in err.splitlines() if line.startswith("joblint:")] == [
        "joblint: warning: .pre-commit-config.yaml: not read: a symbolic link to a file that does not exist",
        "joblint: warning: docker-compose.yml: not read: a symbolic link to a file that does not exist",
        "joblint: warning: gone.py: not read: a symbolic link to a file that does not exist",
    ]


def test_a_launch_file_that_cannot_be_read_is_a_warning_a_python_file_a_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The tests may run as root, which reads any file: the refusal is simulated where joblint reads.
    _tree(tmp_path, {".git/HEAD": "", "Procfile": "worker: celery -A proj worker\n", "locked.py": "x = 1\n"})
    real_open = os.open

    def refusing(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if os.path.basename(os.fspath(path)) in ("Procfile", "locked.py"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing)
    monkeypatch.chdir(tmp_path)
    code = cli.main(["check", "--no-cache", "--output-format", "concise", "."])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.splitlines()[0].startswith("locked.py:1:1: JL001 ") and "Procfile" not in out
    warnings = [line for line in err.splitlines() if line.startswith("joblint:")]
    assert warnings == ["joblint: warning: Procfile: not read: Permission denied"]


def test_a_directory_given_is_walked_even_when_excluded_unless_force_exclude(tmp_path: Path) -> None:
    _tree(tmp_path, {
        ".git/HEAD": "", ".gitignore": "generated/\n",
        "pyproject.toml": '[tool.joblint]\nextend-exclude = ["src/legacy/"]\n',
        "build/pkg/a.py": "", "build/pkg/node_modules/m.py": "", "src/venv/x/app.py": "", "src/ok.py": "",
        "generated/g.py": "", "src/legacy/old.py": "",
    })
    config = config_mod.discover([tmp_path])

    def walked(start: str, cfg: config_mod.Config = config) -> list[str]:
        return [f.display for f in discover([tmp_path / start], cfg, tmp_path)]

    # Named, as in ruff: the directory is walked; what is below it is still matched (node_modules).
    assert walked("build/pkg") == ["build/pkg/a.py"]
    assert walked("build") == ["build/pkg/a.py"]
    assert walked("src/venv/x") == ["src/venv/x/app.py"]
    assert walked("generated") == ["generated/g.py"]  # .gitignore's `generated/` names it: walked too
    assert walked("src/legacy") == ["src/legacy/old.py"]
    assert walked("src") == ["src/ok.py"]  # below a named directory, excluded ones stay out
    for excluded in ("build/pkg", "build", "src/venv/x", "src/legacy"):
        assert walked(excluded, _forced(config)) == []
    assert walked("src", _forced(config)) == ["src/ok.py"]


def test_files_come_out_in_path_order(tmp_path: Path) -> None:
    # `a-c.py` and `a.py` sort after the directory `a` as paths, before it as strings.
    _tree(tmp_path, dict.fromkeys(["b.py", "a0.py", "a.py", "a-c.py", "a/z/y.py", "a/b.py", "Z.py"], ""))
    expected = ["Z.py", "a/b.py", "a/z/y.py", "a-c.py", "a.py", "a0.py", "b.py"]
    config = config_mod.discover([tmp_path])
    walked = discover([tmp_path], config, tmp_path)  # one directory: not sorted again
    assert walked == sorted(walked) and [f.display for f in walked] == expected
    assert [f.display for f in discover([tmp_path / "a", tmp_path], config, tmp_path)] == expected


_CELERY_SOURCE = dict.fromkeys([
    "celery/__init__.py", "celery/app/__init__.py", "celery/app/task.py", "celery/backends/__init__.py",
    "celery/beat.py", "celery/bootsteps.py", "celery/canvas.py", "celery/result.py", "celery/worker/__init__.py",
], "from celery import shared_task\n")


def test_the_frameworks_own_packages_are_excluded_by_default(tmp_path: Path) -> None:
    _tree(tmp_path, {
        ".git/HEAD": "", **{f"vendor/{name}": text for name, text in _CELERY_SOURCE.items()},
        "temporalio/__init__.py": "", "temporalio/activity.py": "", "temporalio/client.py": "",
        "temporalio/converter.py": "", "temporalio/worker/__init__.py": "", "temporalio/workflow/__init__.py": "",
        "temporalio/bridge/__init__.py": "",
        # Named like a framework, but not one: a provider package, a project's own `celery.py`.
        "airflow/providers/celery/__init__.py": "", "airflow/providers/celery/executors/app.py": "",
        "proj/celery.py": "", "proj/worker.py": "",
        # A project's package named like ARQ, with every module ARQ has: `app.arq`, not the library.
        **{
            f"app/{name}": ""
            for name in [
                "__init__.py",
                *(f"arq/{m}.py" for m in ["__init__", "connections", "constants", "cron", "jobs", "version", "worker"]),
            ]
        },
    })
    expected = [
        "airflow/providers/celery/__init__.py", "airflow/providers/celery/executors/app.py",
        "app/__init__.py", "app/arq/__init__.py", "app/arq/connections.py", "app/arq/constants.py", "app/arq/cron.py",
        "app/arq/jobs.py", "app/arq/version.py", "app/arq/worker.py", "proj/celery.py", "proj/worker.py",
    ]
    assert _found(tmp_path) == expected
    assert _found(tmp_path, start=tmp_path / "vendor") == []
    config = config_mod.discover([tmp_path])
    # Named, they are checked as any excluded path is; with force-exclude they are not.
    assert len(_found(tmp_path, start=tmp_path / "vendor" / "celery" / "app")) == 2
    assert discover([tmp_path / "vendor" / "celery" / "app"], _forced(config), tmp_path) == []
    given = [Path("vendor/celery/app/task.py"), Path("proj/celery.py")]
    assert [f.display for f in discover(given, config, tmp_path)] == ["proj/celery.py", "vendor/celery/app/task.py"]
    assert [f.display for f in discover(given, _forced(config), tmp_path)] == ["proj/celery.py"]


def test_setting_exclude_checks_the_frameworks_own_packages_too(tmp_path: Path) -> None:
    _tree(tmp_path, {"pyproject.toml": '[tool.joblint]\nextend-exclude = ["docs"]\n', **_CELERY_SOURCE, "jobs.py": ""})
    assert _found(tmp_path) == ["jobs.py"]  # extend-exclude keeps the defaults
    config = config_mod.discover([tmp_path])
    replaced = dataclasses.replace(config, settings=dataclasses.replace(config.settings, exclude=[".venv"]))
    # `exclude` (or --exclude) replaces them
    assert len(discover([tmp_path], replaced, tmp_path)) == len(_CELERY_SOURCE) + 1
