"""Attacks a second reviewer found against the first round of fixes (security issue)."""

from __future__ import annotations

import marshal

import pytest

from conftest import write_project
from joblint import cache_trust, plain_data
from joblint.report.escape import visible

from ._run import joblint

PICKLE_APP = 'from celery import Celery\n\napp = Celery("proj", task_serializer="pickle")\n'


def test_the_older_workflow_command_syntax_is_inert_anywhere_in_a_line():
    """The runner takes `##[command]data` anywhere in a line, not only `::command::` at its start."""
    assert "##[" not in visible("x##[stop-commands]token")
    assert "##[" not in visible("###[error]x")


def test_a_file_name_carrying_the_older_syntax_forges_nothing(tmp_path):
    write_project(tmp_path, {"pyproject.toml": "[tool.joblint]\n", "x##[error]FORGED.py": PICKLE_APP})
    for fmt in ("concise", "pylint", "full", "junit", "github"):
        done = joblint("check", "--no-cache", "--output-format", fmt, ".", cwd=tmp_path)
        assert done.returncode == 1, done.stderr
        assert "##[" not in done.stdout + done.stderr, fmt


def test_the_diff_body_shows_control_characters_escaped(tmp_path):
    source = PICKLE_APP.replace("\napp", '\nx = """\n::error file=README.md,line=1::FORGED \x1b]0;title\x07\n"""\napp')
    write_project(tmp_path, {"pyproject.toml": "[tool.joblint]\n", "app.py": source})
    done = joblint("check", "--no-cache", "--diff", "--unsafe-fixes", ".", cwd=tmp_path)
    assert done.returncode == 1 and "+app = Celery" in done.stdout and "FORGED" in done.stdout
    assert "\x1b" not in done.stdout
    assert not any(line.strip().startswith("::") for line in done.stdout.splitlines())


def test_a_nested_config_does_not_shrink_the_boundary_outputs_respect(tmp_path):
    repo = tmp_path / "repo"
    victim = tmp_path / "victim"
    victim.mkdir()
    write_project(repo, {"src/pyproject.toml": "[tool.joblint]\n", "src/app.py": PICKLE_APP})
    (repo / ".git").mkdir()
    (repo / "reports").symlink_to(victim)
    for args in (("check", "--no-cache", "-o", "reports/j.json", "src"),
                 ("check", "--no-cache", "--write-baseline", "reports/b.json", "src"),
                 ("audit", "--html", "reports/a.html", "src")):
        done = joblint(*args, cwd=repo)
        assert done.returncode == 2 and "symlink" in done.stderr, args
    assert list(victim.iterdir()) == []


@pytest.mark.parametrize("setting", ['cache-dir = "."', 'cache-dir = "./"'])
def test_a_cache_directory_that_is_the_project_itself_is_refused(tmp_path, setting):
    write_project(tmp_path, {"pyproject.toml": f"[tool.joblint]\n{setting}\n", "app.py": PICKLE_APP})
    (tmp_path / ".git").mkdir()
    for _ in range(2):
        done = joblint("check", "--output-format", "concise", ".", cwd=tmp_path)
        assert done.returncode == 1 and "CEL101" in done.stdout
        assert "not using the cache" in done.stderr
    assert not (tmp_path / ".gitignore").exists() and not (tmp_path / "CACHEDIR.TAG").exists()


def test_a_committed_cache_symlink_inside_the_project_is_refused(tmp_path):
    write_project(tmp_path, {"pyproject.toml": "[tool.joblint]\n", "app.py": PICKLE_APP, "elsewhere/keep.txt": ""})
    (tmp_path / ".joblint_cache").symlink_to("elsewhere")
    done = joblint("check", "--output-format", "concise", ".", cwd=tmp_path)
    assert done.returncode == 1 and "is a symlink" in done.stderr
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == ["keep.txt"]


def test_a_forged_v4_index_cannot_exhaust_memory(tmp_path):
    """Entries that each extend the path before them (strip 0) would grow quadratically if kept."""
    entry = bytes(40 + 20) + (0).to_bytes(2, "big") + b"\x00" + b"a" * 200 + b"\x00"
    count = 20_000
    index = b"DIRC" + (4).to_bytes(4, "big") + count.to_bytes(4, "big") + entry * count
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "index").write_bytes(index)
    (tmp_path / ".joblint_cache").mkdir()
    assert cache_trust.tracked_by_git(tmp_path / ".joblint_cache") is False  # a path over 4096 bytes: not an index


def test_a_payload_of_shared_references_is_malformed_not_a_hang():
    node: tuple = (0, 1)
    for _ in range(60):
        node = (0, node, node)  # marshal writes each level once: 2**60 nodes as a tree
    payload = marshal.dumps(node)
    with pytest.raises(plain_data.Malformed):
        plain_data.decode(marshal.loads(payload), budget=len(payload))


def test_the_github_format_shows_other_control_characters_escaped(tmp_path):
    name = "b\x1b]0;PWN\x07.py"
    write_project(tmp_path, {"pyproject.toml": "[tool.joblint]\n", name: PICKLE_APP})
    done = joblint("check", "--no-cache", "--output-format", "github", ".", cwd=tmp_path)
    assert done.returncode == 1 and "::error" in done.stdout
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout


def test_many_apps_in_one_file_are_checked_in_linear_time_per_app(tmp_path):
    """1,000 apps and 300 shared tasks once took 30 s (apps x tasks x apps); a generous timeout
    turns a regression into a failure rather than a hang."""
    lines = ["from celery import Celery, shared_task"]
    lines += [f'a{i} = Celery("a{i}")' for i in range(1000)]
    lines += [f"@shared_task\ndef t{i}():\n    pass" for i in range(300)]
    write_project(tmp_path, {"pyproject.toml": "[tool.joblint]\n", "celery_apps.py": "\n".join(lines) + "\n"})
    done = joblint("check", "--no-cache", "--output-format", "concise", ".", cwd=tmp_path, timeout=60)
    assert done.returncode == 1



def test_a_planted_build_directory_symlink_is_refused(tmp_path):
    from joblint.cache import _build

    outside = tmp_path / "outside"
    outside.mkdir()
    repo = tmp_path / "repo"
    write_project(repo, {"pyproject.toml": "[tool.joblint]\n", "app.py": PICKLE_APP})
    (repo / ".joblint_cache").mkdir(mode=0o700)
    (repo / ".joblint_cache" / f"v-{_build()[:16]}").symlink_to(outside)
    done = joblint("check", "--output-format", "concise", ".", cwd=repo)
    assert done.returncode == 1 and "not a directory of joblint's" in done.stderr
    assert list(outside.iterdir()) == []


def test_a_symlink_to_a_file_outside_the_repository_is_never_read(tmp_path):
    """`celeryconfig.py -> /proc/self/environ` printed the CI runner's environment in code frames."""
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET_TOKEN=zq9-leaked-token\x00celery\n")
    repo = tmp_path / "repo"
    write_project(repo, {"pyproject.toml": "[tool.joblint]\n", "app.py": PICKLE_APP, "inside.txt": PICKLE_APP})
    (repo / ".git").mkdir()
    (repo / "celeryconfig.py").symlink_to(secret)
    (repo / "linked.py").symlink_to("inside.txt")  # a link inside the repository is checked as before
    for args in (["."], ["celeryconfig.py", "app.py"]):
        for fmt in ("full", "sarif", "json"):
            done = joblint("check", "--no-cache", "--output-format", fmt, *args, cwd=repo)
            assert done.returncode == 1, done.stderr
            assert "zq9-leaked-token" not in done.stdout + done.stderr
            assert "celeryconfig.py: not read: a symbolic link to a file outside the repository" in done.stderr
    done = joblint("check", "--no-cache", "--output-format", "concise", ".", cwd=repo)
    assert "linked.py:3:" in done.stdout
    audit = joblint("audit", "--html", "report.html", ".", cwd=repo)
    assert audit.returncode in (0, 1) and "zq9-leaked-token" not in (repo / "report.html").read_text()
