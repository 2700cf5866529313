"""`joblint audit`: a self-contained HTML report and a Markdown summary for a whole repository."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import write_project
from joblint.audit import frame
from joblint.findings import Finding, Severity, Span

APP = """
from celery import Celery

app = Celery("proj")
app.conf.update(task_serializer="pickle", accept_content=["pickle"])
app.conf.task_time_limit = 300
app.conf.task_soft_time_limit = 300
"""
TASKS = """
from proj.app import app


@app.task(serializer="pickle")
def export(report_id):
    return report_id
"""


def joblint(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "joblint", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def audit(tmp_path: Path, files: dict[str, str]) -> tuple[subprocess.CompletedProcess, str, str]:
    write_project(tmp_path / "repo", files)
    result = joblint(
        "audit", "--select", "CEL101,CEL104", "--html", "../out/r.html", "--markdown", "../out/r.md", ".",
        cwd=tmp_path / "repo",
    )
    html = (tmp_path / "out" / "r.html").read_text(encoding="utf-8")
    markdown = (tmp_path / "out" / "r.md").read_text(encoding="utf-8")
    return result, html, markdown


def test_audit_writes_both_reports_and_exits_0(tmp_path):
    result, html, markdown = audit(tmp_path, {"proj/app.py": APP, "proj/tasks.py": TASKS})
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert (
        result.stderr.startswith("Audited 2 files in ")
        and ": 4 findings. Wrote ../out/r.html and ../out/r.md." in result.stderr
    )
    assert html.startswith("<!DOCTYPE html>") and markdown.startswith("# joblint audit: repo\n")


def test_html_is_self_contained(tmp_path):
    _, html, _ = audit(tmp_path, {"proj/app.py": APP})
    assert "<script" not in html and "<link" not in html and "<img" not in html and "@import" not in html
    assert not re.search(r"\bsrc=", html) and "url(" not in html
    # Links to the rule documents are fine; nothing is fetched to render the page.
    assert all(href.startswith(("https://", "#")) for href in re.findall(r'href="([^"]+)"', html))


def test_html_has_the_charts_top_files_and_every_finding_with_its_frame_and_explanation(tmp_path):
    _, html, _ = audit(tmp_path, {"proj/app.py": APP, "proj/tasks.py": TASKS})
    for title in ("By severity", "By framework", "By category", "By rule", "Files with the most findings"):
        assert f"<h2>{title}</h2>" in html
    assert html.count("<svg") == 4
    assert "Celery configuration" in html and ">Celery<" in html
    locations = re.findall(r'<div class="where mono">([^<]+)', html)
    assert [loc.split(" ")[0] for loc in locations] == [
        "proj/app.py:4:33", "proj/app.py:4:59", "proj/tasks.py:4:22", "proj/app.py:6:33",
    ]
    assert "<mark>&quot;pickle&quot;</mark>" in html
    assert '<div class=hit><span class="ln">4</span>' in html
    assert "Unpickling runs code" in html  # CEL101's "Why it matters"
    assert "The soft limit raises <code>SoftTimeLimitExceeded</code>" in html  # CEL104's
    assert "Reproduce with <code>joblint audit . --html report.html</code>" in html


def test_markdown_summary_for_a_ticket(tmp_path):
    _, _, markdown = audit(tmp_path, {"proj/app.py": APP, "proj/tasks.py": TASKS})
    assert "**4 findings** in 2 files: 4 errors, 0 warnings, 0 info; 3 fixable with `joblint check --fix`." in markdown
    assert "| error | 4 |" in markdown
    assert "| Celery | 4 |" in markdown
    assert "| Celery configuration | 4 |" in markdown
    assert (
        "| [CEL101 pickle-serializer](https://" in markdown
        and "| error | Celery configuration | 3 | 3 |" in markdown
    )
    assert "| `proj/app.py` | 3 | 0 | 0 | 3 |" in markdown


def test_without_report_files_the_summary_goes_to_stdout(tmp_path):
    write_project(tmp_path, {"app.py": APP})
    result = joblint("audit", "--select", "CEL101", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("# joblint audit: ")


def test_clean_repository(tmp_path):
    result, html, markdown = audit(
        tmp_path, {"app.py": APP.replace("pickle", "json").replace("soft_time_limit = 300", "soft_time_limit = 200")}
    )
    assert result.returncode == 0
    assert "found nothing to report" in html and "No findings." in markdown


def test_untrusted_text_is_escaped(tmp_path):
    weird = APP.replace('Celery("proj")', 'Celery("<script>alert(1)</script>")')
    _, html, _ = audit(tmp_path, {"proj/<b>.py": weird})
    assert "<script>" not in html and "<b>.py" not in html
    assert "&lt;b&gt;.py" in html


def made(line: int, end_line: int | None = None) -> Finding:
    return Finding("CEL101", "n", Severity.ERROR, "a.py", Span(line, 1, end_line or line, 2), "m")


def test_frame_shows_context_without_blank_edges():
    lines = ["a", "", "b", "c", "d", "", "e"]
    assert frame(lines, made(4)) == frame(lines, made(4))
    shown = frame(lines, made(4))
    assert shown.first == 3 and shown.lines == ("b", "c", "d")
    assert frame(lines, made(1)).lines == ("a", "", "b")
    assert frame(lines, made(99)) is None
    long = [str(i) for i in range(1, 41)]
    assert len(frame(long, made(5, 30)).lines) == 2 + 9 + 2
