"""Test code: what joblint counts as test code, and which rules stay quiet there.

Rules whose harm happens only in production (`in_tests=False`: settings, deployment, operations)
are not reported in test code; rules about code that is wrong wherever it runs still are. The
finding's own file decides, for file and project rules alike.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import lint, write_project
from joblint import config as config_mod
from joblint import engine, rule_docs
from joblint.discover import discover
from joblint.rules import all_meta
from joblint.source import is_test_path
from test_rule_docs import DOCS, blocks, code_of, expected, unmarked

# What a maintainer means by tests: test trees, test modules, test settings modules.
TEST_CODE = [
    "tests/test_tasks.py", "test/helpers.py", "t/unit/test_app.py", "t/integration/tasks.py",
    "testing/fixtures.py", "src/proj/testutils/settings.py", "proj/tests/factories.py",
    "proj/integration_tests/app.py", "test_project/proj/celery.py",
    "test_tasks.py", "tasks_test.py", "tasks_tests.py", "conftest.py", "proj/tests.py",
    "proj/settings/test.py", "proj/settings/testing.py", "proj/test_settings.py",
    "proj/settings_test.py", "proj/settings_testing.py", "tests/Procfile", "tests\\test_windows.py",
    "proj/settings/pytest.py",
]
# Names that only look like tests.
NOT_TEST_CODE = [
    "t.py", "proj/t.py", "contest.py", "latest.py", "testimonials.py", "attest/app.py",
    "proj/settings/base.py", "proj/celery.py", "protests/app.py", "contest/celery.py", "Procfile",
    "test.yml", "proj/tester.py", "proj/pytest_plugin_docs.py",
]


@pytest.mark.parametrize("path", TEST_CODE)
def test_test_code_by_its_path_in_the_project(path: str) -> None:
    assert is_test_path(path)


@pytest.mark.parametrize("path", NOT_TEST_CODE)
def test_names_that_only_look_like_tests(path: str) -> None:
    assert not is_test_path(path)


def test_in_tests_marks_the_rules_about_production_only() -> None:
    loud = {code for code, meta in all_meta().items() if meta.in_tests and not code.startswith("JL")}
    # Code that is wrong wherever it runs (a crash, a dropped coroutine, a chain step that cannot
    # take its input): a test that runs it fails for the same reason.
    assert loud == {
        "ARQ102", "CEL302", "CEL401", "CEL406", "TMP105", "TMP106", "TMP107", "TMP109", "TMP110", "TMP111",
    }


WHAT = "([what counts as test code](../README.md#test-code))"
QUIET = f"Not reported in test code {WHAT}: its harm happens\nonly in production."
LOUD = f"Reported in test code too {WHAT}: the mistake breaks\nthe code wherever it runs, tests included."
RULE_DOCS = [d for d in DOCS if not code_of(d).startswith("JL")]


@pytest.mark.parametrize("doc", RULE_DOCS, ids=[d.stem for d in RULE_DOCS])
def test_each_rule_document_says_whether_it_is_reported_in_test_code(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    meta = all_meta()[code_of(doc)]
    assert (QUIET in text, LOUD in text) == (not meta.in_tests, meta.in_tests)


@pytest.mark.parametrize("doc", RULE_DOCS, ids=[d.stem for d in RULE_DOCS])
def test_each_rules_example_moved_into_a_test_tree(doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The document's bad example, under `tests/`: production-only rules are quiet there; the
    others report the same lines. With nothing counted as test code, every rule reports them."""
    code = code_of(doc)
    example = blocks(rule_docs.sections(doc.read_text(encoding="utf-8"))["Example"])
    moved = {f"tests/{name}": unmarked(body) for name, body in example.items()}
    marks = {(f"tests/{name}", line, c) for name, line, c in expected(example) if c == code}
    write_project(tmp_path, moved)

    def found() -> set[tuple[str, int, str]]:
        return {(f.path, f.span.line, f.code) for f in lint(tmp_path, [code]) if f.code == code}

    assert found() == (marks if all_meta()[code].in_tests else set())
    monkeypatch.setattr(engine, "is_test_path", lambda path: False)
    assert found() == marks


PICKLE_APP = 'from celery import Celery\n\napp = Celery("proj")\napp.conf.update(task_serializer="pickle")\n'


def test_production_findings_quiet_in_test_trees_and_test_settings(project) -> None:
    found = project(
        {
            # CEL101: a fixture project in the test tree; the same app in the package is reported.
            "tests/fixtures/proj/celery.py": PICKLE_APP,
            "t/unit/conftest.py": PICKLE_APP,
            "proj/celery.py": PICKLE_APP,
            "contest.py": PICKLE_APP,  # no test: reported
            # CEL112 and CEL113 in test settings modules.
            "proj/settings/test.py": 'CELERY_BROKER_URL = "redis://user:s3cret@redis:6379/0"\n'
            "CELERY_TASK_ALWAYS_EAGER = True\n",
            "proj/test_settings.py": "CELERY_TASK_ALWAYS_EAGER = True\n",
            "proj/settings/base.py": "CELERY_TASK_ALWAYS_EAGER = True\n",
        },
        select=["CEL101", "CEL112", "CEL113"],
    )
    assert found == [
        ("contest.py", 4, "CEL101"),
        ("proj/celery.py", 4, "CEL101"),
        ("proj/settings/base.py", 1, "CEL113"),
    ]


def test_deprecated_setting_names_in_test_settings_are_quiet(project) -> None:
    found = project(
        {
            "proj/__init__.py": "",
            "proj/celery.py": 'from celery import Celery\n\napp = Celery("proj")\n'
            'app.config_from_object("proj.celeryconfig")\n',
            "proj/celeryconfig.py": 'broker_url = "redis://x"\nCELERYD_PREFETCH_MULTIPLIER = 1\n',
            "proj/settings_test.py": "from celery import Celery\n\nCELERY_ALWAYS_EAGER = True\n"
            'app = Celery("t")\napp.conf.update(CELERYD_PREFETCH_MULTIPLIER=1)\n',
        },
        select=["CEL108"],
    )
    assert found == [("proj/celeryconfig.py", 2, "CEL108")]


WORKFLOW_STARTER = """
import uuid

from temporalio.client import Client


async def start(client: Client) -> None:
    await client.start_workflow("Greet", id=str(uuid.uuid4()), task_queue="q")
"""


def test_random_workflow_id_per_test_run_is_quiet(project) -> None:
    found = project({"tests/test_greet.py": WORKFLOW_STARTER, "app/starter.py": WORKFLOW_STARTER}, select=["TMP108"])
    assert found == [("app/starter.py", 7, "TMP108")]


UNBOUND_RETRY = """
from celery import shared_task


@shared_task
def fetch(url):
    try:
        return 1
    except OSError as exc:
        raise self.retry(exc=exc)
"""


def test_code_that_is_wrong_wherever_it_runs_is_reported_in_tests_too(project) -> None:
    found = project({"tests/test_fetch.py": UNBOUND_RETRY, "proj/tasks.py": UNBOUND_RETRY}, select=["CEL406"])
    assert found == [("proj/tasks.py", 9, "CEL406"), ("tests/test_fetch.py", 9, "CEL406")]


def test_directories_above_the_project_do_not_make_it_test_code(tmp_path: Path) -> None:
    """Checked from above (`joblint check test/proj`), the files show as `test/proj/...`: the
    project is `test/proj` (its pyproject.toml), and its app is no test."""
    root = tmp_path / "test" / "proj"
    write_project(root, {"pyproject.toml": "[tool.joblint]\n", "app.py": PICKLE_APP, "tests/conftest.py": PICKLE_APP})
    cfg = config_mod.discover([root])
    enabled = config_mod.select(cfg.settings, all_meta(), "test", ["CEL101"])
    findings = engine.run(discover([root], cfg, tmp_path), cfg, enabled, 1).findings
    assert [(f.path, f.span.line, f.code) for f in findings] == [("test/proj/app.py", 4, "CEL101")]


def _joblint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "joblint", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_rule_and_rules_show_whether_a_rule_is_reported_in_test_code(tmp_path: Path) -> None:
    assert "Not reported in test code" in _joblint("rule", "CEL101", cwd=tmp_path).stdout
    assert "Reported in test code too" in _joblint("rule", "CEL406", cwd=tmp_path).stdout
    rows = {r["code"]: r for r in json.loads(_joblint("rules", "--output-format", "json", cwd=tmp_path).stdout)}
    assert (rows["CEL101"]["in_tests"], rows["CEL406"]["in_tests"]) == (False, True)
    table = _joblint("rules", cwd=tmp_path).stdout.splitlines()
    assert table[0].split()[-2:] == ["in", "tests"]
    assert next(line for line in table if line.startswith("CEL101 ")).split()[-1] == "no"
    assert next(line for line in table if line.startswith("CEL406 ")).split()[-1] == "yes"
