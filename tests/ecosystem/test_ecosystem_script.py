"""scripts/ecosystem.py on a tiny fake corpus: what it prints, what it writes, how it exits. Offline."""

from __future__ import annotations

import importlib.util
import json
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("ecosystem", ROOT / "scripts" / "ecosystem.py")
assert _spec and _spec.loader
ecosystem = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ecosystem)

ALPHA_TASKS = """
    from celery import shared_task


    @shared_task(bind=True, max_retries=3)
    def fetch(self, url):
        try:
            return len(url)
        except ValueError as exc:
            self.retry(exc=exc)
            return None


    @shared_task(bind=True, max_retries=3)
    def store(self, key):
        try:
            return key.upper()
        except KeyError as exc:
            self.retry(exc=exc)
            return None
"""
BETA_CONFIG = """
    task_serializer = "pickle"
    accept_content = ["json", "pickle"]
"""
BETA_APP = """
    from celery import Celery

    app = Celery("beta")
    app.config_from_object("celeryconfig")
"""
# What joblint reports on that corpus: CEL401 (warning) twice in alpha, CEL101 (error) twice in beta.
FINDINGS = [
    ("alpha==1.0", "alpha/tasks.py", 9, "CEL401"),
    ("alpha==1.0", "alpha/tasks.py", 18, "CEL401"),
    ("beta==2.0", "celeryconfig.py", 1, "CEL101"),
    ("beta==2.0", "celeryconfig.py", 2, "CEL101"),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    files = {
        "alpha-1.0/alpha/tasks.py": ALPHA_TASKS,
        "beta-2.0/celeryconfig.py": BETA_CONFIG,
        "beta-2.0/app.py": BETA_APP,
        ".dl/ignored-0.1.tar.gz": "",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def verdict_file(tmp_path: Path, verdicts: dict[tuple[str, str, int, str], str]) -> Path:
    path = tmp_path / "verdicts.json"
    entries = [
        {"package": p, "path": f, "line": n, "code": c, "verdict": v, "why": "a reason"}
        for (p, f, n, c), v in verdicts.items()
    ]
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = ecosystem.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_every_finding_judged_true_passes(corpus, tmp_path, capsys):
    verdicts = verdict_file(tmp_path, {key: "true" for key in FINDINGS})

    code, out, _ = run(capsys, "--corpus", corpus, "--verdicts", verdicts)

    assert code == 0
    assert "2 packages checked, 4 findings" in out
    assert "unjudged findings (0):" in out
    assert "vanished verdicts (0):" in out
    assert "CEL101   error      2 findings:   2 true   0 false   0 debatable  precision 1.000" in out
    assert "CEL401   warning    2 findings:   2 true   0 false   0 debatable  precision 1.000" in out
    assert "overall: 4 true, 0 false, 0 debatable: precision 1.000" in out
    assert out.rstrip().endswith("OK")


def test_debatable_counts_as_false_for_an_error_rule(corpus, tmp_path, capsys):
    judged = {key: "true" for key in FINDINGS}
    judged[FINDINGS[3]] = "debatable"  # CEL101, an error: counted as false
    verdicts = verdict_file(tmp_path, judged)

    code, out, _ = run(capsys, "--corpus", corpus, "--verdicts", verdicts, "--package", "beta==2.0", "--json")

    assert code == 1
    summary = json.loads(out)
    assert summary["packages"] == ["beta==2.0"]
    assert summary["unjudged"] == [] and summary["vanished"] == []
    assert summary["rules"] == {
        "CEL101": {"severity": "error", "true": 1, "false": 1, "debatable": 0, "findings": 2, "precision": 0.5,
                   "ok": True},
    }
    assert (summary["overall"]["precision"], summary["overall"]["ok"], summary["ok"]) == (0.5, False, False)


def test_unjudged_and_vanished_findings_are_listed_and_fail(corpus, tmp_path, capsys):
    judged = {key: "true" for key in FINDINGS if key != FINDINGS[1]}
    judged[("alpha==1.0", "alpha/tasks.py", 30, "CEL401")] = "false"  # a finding that is gone
    judged[("beta==2.0", "gone.py", 3, "CEL101")] = "true"  # gone too, but beta is not checked
    verdicts = verdict_file(tmp_path, judged)
    stubs = tmp_path / "new.json"

    code, out, err = run(capsys, "--corpus", corpus, "--verdicts", verdicts, "--package", "alpha", "--write-new", stubs)

    assert code == 1
    assert "1 packages checked, 2 findings" in out
    listed = out.split("unjudged findings (1):\n")[1].split("\n\n")[0].splitlines()
    assert len(listed) == 1
    assert listed[0].startswith("  alpha==1.0 alpha/tasks.py:18 CEL401 self.retry(...) raises")
    assert "vanished verdicts (1):\n  alpha==1.0 alpha/tasks.py:30 CEL401 (was false: a reason)\n" in out
    assert "gone.py" not in out
    assert json.loads(stubs.read_text()) == [
        {"package": "alpha==1.0", "path": "alpha/tasks.py", "line": 18, "code": "CEL401", "verdict": "", "why": ""}
    ]
    assert "1 verdict stubs written to" in err


def test_an_unfilled_stub_stops_the_check(corpus, tmp_path, capsys):
    stub = [{"package": "alpha==1.0", "path": "alpha/tasks.py", "line": 18, "code": "CEL401", "verdict": "", "why": ""}]
    verdicts = tmp_path / "verdicts.json"
    verdicts.write_text(json.dumps(stub), encoding="utf-8")

    code, out, err = run(capsys, "--corpus", corpus, "--verdicts", verdicts)

    assert (code, out) == (2, "")
    assert "verdict must be one of true/false/debatable" in err


def test_an_unknown_package_stops_the_check(corpus, tmp_path, capsys):
    code, out, err = run(capsys, "--corpus", corpus, "--verdicts", verdict_file(tmp_path, {}), "--package", "gamma")

    assert (code, out) == (2, "")
    assert "no package gamma in" in err


def finding(code: str, line: int, severity: str = "warning") -> dict[str, object]:
    return {"package": "p==1", "path": "m.py", "line": line, "code": code, "severity": severity, "message": "m"}


def test_debatable_is_left_out_for_a_warning_rule():
    findings = [finding("CEL401", 1), finding("CEL401", 2)]
    verdicts = {ecosystem.key_of(f): {**f, "verdict": v} for f, v in zip(findings, ["true", "debatable"])}

    summary = ecosystem.compare(findings, verdicts, {"p==1"})

    assert summary["rules"]["CEL401"] == {
        "severity": "warning", "true": 1, "false": 0, "debatable": 1, "findings": 2, "precision": 1.0, "ok": True,
    }
    assert "overall: 1 true, 0 false, 1 debatable: precision 1.000\nOK" in ecosystem.render(summary)


def test_a_rule_with_five_findings_must_reach_ninety_percent():
    findings = [finding("CEL403", n) for n in range(5)] + [finding("CEL404", 10 + n) for n in range(4)]
    findings += [finding("CEL108", 100 + n, "info") for n in range(60)]
    verdicts = {ecosystem.key_of(f): {**f, "verdict": "true"} for f in findings}
    verdicts[("p==1", "m.py", 0, "CEL403")]["verdict"] = "false"  # 4 of 5: 0.80
    verdicts[("p==1", "m.py", 10, "CEL404")]["verdict"] = "false"  # 3 of 4: too few findings to judge the rule

    summary = ecosystem.compare(findings, verdicts, {"p==1"})

    assert (summary["rules"]["CEL403"]["precision"], summary["rules"]["CEL403"]["ok"]) == (0.8, False)
    assert (summary["rules"]["CEL404"]["precision"], summary["rules"]["CEL404"]["ok"]) == (0.75, True)
    assert (summary["overall"]["precision"], summary["overall"]["ok"]) == (0.9710, True)
    assert summary["ok"] is False
    assert "CEL403   warning    5 findings:   4 true   1 false   0 debatable  precision 0.800  UNDER 0.90" in (
        ecosystem.render(summary)
    )


def test_a_missing_corpus_is_fetched_with_the_fetch_script(corpus, tmp_path, capsys):
    fetch = tmp_path / "fetch.sh"
    script = f'#!/usr/bin/env bash\nset -e\nmkdir -p "$1"\ncp -r "{corpus}/alpha-1.0" "$1"/\n'
    fetch.write_text(script, encoding="utf-8")
    verdicts = verdict_file(tmp_path, {key: "true" for key in FINDINGS[:2]})
    destination = tmp_path / "fetched"

    code, out, err = run(capsys, "--corpus", destination, "--fetch-script", fetch, "--verdicts", verdicts)

    assert code == 0
    assert f"fetching the corpus into {destination} with {fetch}" in err
    assert "1 packages checked, 2 findings" in out
    assert (destination / "alpha-1.0" / "alpha" / "tasks.py").is_file()


def test_a_failing_fetch_stops_the_check(tmp_path, capsys):
    fetch = tmp_path / "fetch.sh"
    fetch.write_text("#!/usr/bin/env bash\nexit 3\n", encoding="utf-8")

    code, out, err = run(capsys, "--fetch-script", fetch, "--verdicts", verdict_file(tmp_path, {}))

    assert (code, out) == (2, "")
    assert f"ecosystem: {fetch} failed" in err


def test_drop_vanished_removes_only_the_vanished_verdicts(corpus, tmp_path, capsys):
    judged = {key: "true" for key in FINDINGS}
    judged[("alpha==1.0", "alpha/tasks.py", 30, "CEL401")] = "false"  # a finding that is gone
    verdicts = verdict_file(tmp_path, judged)

    code, out, err = run(capsys, "--corpus", corpus, "--verdicts", verdicts, "--drop-vanished")

    assert code == 0
    assert "vanished verdicts (1):" in out
    assert "1 vanished verdicts removed from" in err
    kept = {(e["package"], e["path"], e["line"], e["code"]) for e in json.loads(verdicts.read_text())}
    assert kept == set(FINDINGS)
