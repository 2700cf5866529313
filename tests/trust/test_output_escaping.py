"""Hostile text in output: file names, quoted source and code frames come from strangers' pull requests.

In a GitHub Actions log a line starting with `::` is a workflow command (`::add-mask::`,
`::warning::`); on a terminal ESC starts a control sequence (clear the screen, set the title,
OSC 52 writes the clipboard). No reporter may pass either through, and the machine formats must
stay parseable.
"""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from joblint import runtime
from joblint.findings import Finding, Severity, Span
from joblint.report import FORMATS, ReportContext, renderer
from joblint.report.escape import visible

from ._run import joblint

TEXT_FORMATS = ("full", "concise", "pylint")
SGR = re.compile(r"\x1b\[[0-9;]*m")  # rich's own colours: the only ESC allowed, and only with colour on

CEL109_APP = (
    "from celery import Celery\n"
    "\n"
    'app = Celery("x")\n'
    'app.conf["task_\\n::add-mask::hunter2\\n::warning title=x::INJECTED"] = 1\n'
)
PICKLE_APP = 'from celery import Celery\n\napp = Celery("proj")\napp.conf.update(task_serializer="pickle")\n'
NEWLINE_NAME = "a\n::warning::x\x1b[2J\x1b]0;pwned\x07.py"
COMMAND_NAME = "::error title=y::pwned.py"  # a line would start with it if printed first


def _no_command_lines(text: str) -> None:
    for line in text.splitlines():
        # The runner trims leading whitespace before looking for `::`.
        assert not line.lstrip().startswith("::"), line


def _no_control(text: str) -> None:
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", text), repr(text)


# -- (a) a source string quoted in a message ----------------------------------------------------


def test_cel109_quoting_a_hostile_key_emits_no_workflow_command(tmp_path):
    (tmp_path / "app.py").write_text(CEL109_APP, encoding="utf-8")
    concise = joblint("check", "--no-cache", "--select", "CEL109", "--output-format", "concise", ".", cwd=tmp_path)
    assert concise.returncode == 1, concise.stderr
    assert "CEL109" in concise.stdout  # the attack needs the rule to quote the key
    for fmt in TEXT_FORMATS:
        result = joblint("check", "--no-cache", "--select", "CEL109", "--output-format", fmt, ".", cwd=tmp_path)
        assert result.returncode == 1, (fmt, result.stderr)
        _no_command_lines(result.stdout)
        _no_control(result.stdout)
        assert "::add-mask::hunter2" in result.stdout  # shown, on the finding's own line
        if fmt != "full":
            [line] = result.stdout.splitlines()  # one finding, one line
            assert line.startswith("app.py:4") and "CEL109" in line


# -- (b) a hostile file name, every format ------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_names(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    for name in (NEWLINE_NAME, COMMAND_NAME):
        (root / name).write_text(PICKLE_APP, encoding="utf-8")
    return root


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_file_names_in_every_format(hostile_names, fmt):
    result = joblint("check", "--no-cache", "--select", "CEL101", "--output-format", fmt, ".", cwd=hostile_names)
    assert result.returncode == 1, result.stderr
    out = result.stdout
    if fmt in ("json", "sarif", "gitlab"):
        data = json.loads(out)
        assert "\x1b" not in out and "\n::" not in out
        if fmt == "json":
            names = {f["filename"] for f in data}
        elif fmt == "gitlab":
            names = {f["location"]["path"] for f in data}
        else:
            from urllib.parse import unquote

            results = data["runs"][0]["results"]
            names = {unquote(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results}
        assert names == {NEWLINE_NAME, COMMAND_NAME}  # JSON round-trips the real names
    elif fmt == "junit":
        root = ET.fromstring(out)  # valid XML 1.0
        assert len(root.findall("testsuite/testcase/failure")) == 2
        _no_command_lines(out)
        _no_control(out)
    elif fmt == "github":
        lines = out.splitlines()
        assert len(lines) == 2  # one annotation per finding: the newline is %0A-escaped
        assert all(line.startswith("::error file=") for line in lines), lines
    else:
        _no_command_lines(out)
        _no_control(out)
        assert "\\x1b[2J" in out and "\\x1b]0;pwned\\x07" in out  # shown, not obeyed
        if fmt != "full":
            assert len(out.splitlines()) == 2


# -- (c) a code frame with OSC 52 in `full` with colour on -------------------------------------


def _finding(
    path: str = "app.py", message: str = "bad", source: str = "x = 'pickle'", col: int = 5, end: int = 13
) -> Finding:
    return Finding(
        "CEL101", "pickle-serializer", Severity.ERROR, path, Span(3, col, 3, end), message, source_line=source
    )


def test_osc52_in_a_code_frame_is_shown_not_sent():
    source = "x = 'pickle'  # \x1b]52;c;aGVsbG8=\x07 \x1b[2J\r\u202e"
    out = renderer("full")([_finding(source=source)], ReportContext(color=True))
    assert "\x1b[" in out  # colour really is on
    _no_control(SGR.sub("", out))
    assert "\\x1b]52;c;aGVsbG8=\\x07 \\x1b[2J\\r\\u202e" in out


def test_escape_sequences_in_path_and_message_with_colour_on():
    finding = _finding(path="a\x1b]0;title\x07.py", message="key 'x\x1b[2J\n::warning::y'")
    out = renderer("full")([finding], ReportContext(color=True))
    _no_control(SGR.sub("", out))
    _no_command_lines(SGR.sub("", out))
    assert "a\\x1b]0;title\\x07.py" in out and "x\\x1b[2J\\n::warning::y" in out


def test_caret_stays_under_the_flagged_text_after_escaping():
    source = "\x1b\x1b = 'pickle'"
    out = renderer("full")([_finding(source=source, col=6, end=14)], ReportContext())
    lines = out.splitlines()
    frame = next(line for line in lines if line.startswith("  3 |"))
    carets = next(line for line in lines if "^" in line)
    assert carets.index("^") == frame.index("'pickle'") and carets.count("^") == len("'pickle'")


@pytest.mark.parametrize("fmt", ["concise", "pylint", "junit", "json", "sarif", "gitlab"])
def test_every_reporter_survives_controls_in_path_message_and_frame(fmt):
    hostile = "\x00\x07\x1b\x7f\x85\u2028\u2029\u202e\u2066\ufffe\n::warning::x"
    finding = _finding(path=f"p{hostile}.py", message=f"m{hostile}", source=f"s{hostile}")
    out = renderer(fmt)([finding], ReportContext())
    if fmt == "junit":
        ET.fromstring(out)
    elif fmt in ("json", "sarif", "gitlab"):
        json.loads(out)
    if fmt in ("concise", "pylint", "junit"):
        _no_control(out)
        _no_command_lines(out)
    if fmt in ("concise", "pylint"):
        assert len(out.splitlines()) == 1


def test_check_app_findings_without_a_line():
    finding = Finding(
        "CEL109", "unknown-setting", Severity.WARNING, "celery:proj:app", Span(0, 0, 0, 0), "k\n::add-mask::s"
    )
    for fmt in TEXT_FORMATS:
        out = renderer(fmt)([finding], ReportContext())
        _no_command_lines(out)


# -- the audit's Markdown and HTML --------------------------------------------------------------


def test_audit_markdown_and_html(tmp_path):
    from joblint import audit
    from joblint.report import html, markdown

    path = "w`x`\n::warning::y\x1b[2J|z.py"
    finding = _finding(path=path, message="m\x1b]52;c;aGk=\x07\n::add-mask::s", source="s\x1b]52;c;aGk=\x07\u202e")
    source = tmp_path / "src.py"
    source.write_text("a = 1\nb = 2\nx = 'pickle'  # \x1b]52;c;aGk=\x07\u202e\n", encoding="utf-8")
    report = audit.build("t\x1b[2J\n::warning::t", [finding], 1, 0.1, 1, lambda display: source, ".")
    assert report.frames[0] is not None  # the HTML shows the hostile line as a code frame
    md = markdown.render(report)
    _no_control(md)
    _no_command_lines(md)
    assert "\\x1b[2J" in md
    page = html.render(report)
    _no_control(page.replace("\n", ""))
    assert "\\x1b]52;c;aGk=\\x07" in page and "<script" not in page


# -- (d) check-app: what runtime returns for printing --------------------------------------------


def _fake_child(monkeypatch, data: dict, stderr: str = "", returncode: int = 0) -> None:
    def run(cmd, **kwargs):
        if data is not None:
            Path(cmd[3]).write_text(json.dumps(data), encoding="utf-8")
        return subprocess.CompletedProcess(cmd, returncode, "", stderr)

    monkeypatch.setattr(runtime.subprocess, "run", run)


def test_runtime_warnings_are_sanitised(monkeypatch):
    warning = "importing the app's task modules failed: ImportError: \x1b]52;c;aGk=\x07\x1b[2J\r::warning::x"
    _fake_child(monkeypatch, {"settings": {}, "tasks": {}, "warnings": [warning]})
    app = runtime.load("proj:app")
    [shown] = app.warnings
    _no_control(shown)
    assert "\\x1b]52;c;aGk=\\x07\\x1b[2J\\r::warning::x" in shown


def test_runtime_load_errors_are_sanitised(monkeypatch):
    _fake_child(monkeypatch, {"error": "cannot import proj: \x1b[2J\n::warning::x"})
    with pytest.raises(runtime.AppLoadError) as raised:
        runtime.load("proj:app")
    _no_control(str(raised.value))
    _fake_child(monkeypatch, None, stderr="Traceback\nValueError: \x1b]0;t\x07", returncode=1)
    with pytest.raises(runtime.AppLoadError) as raised:
        runtime.load("proj:app")
    _no_control(str(raised.value))


def test_show_settings_values_are_sanitised():
    app = runtime.LoadedApp(
        "proj:app",
        {
            "broker_url": {"value": {"repr": "<Obj \x1b]52;c;aGk=\x07\n::warning::x>"}, "set": True},
            "timezone": {"value": "UTC\u202e\x1b[2J", "set": True},
        },
        {},
    )
    shown = runtime.show_settings(app)
    _no_control(shown.replace("\n", ""))
    _no_command_lines(shown)
    assert "\\x1b]52;c;aGk=\\x07" in shown


# -- the helper itself -------------------------------------------------------------------------


def test_visible():
    assert visible("plain ünïcode ✓ 😀") == "plain ünïcode ✓ 😀"
    assert visible("a\nb\rc\td") == "a\\nb\\rc\\td"
    assert visible("a\tb", tabs=True) == "a\tb"
    assert visible("\x00\x1b\x7f\x85\x9f") == "\\x00\\x1b\\x7f\\x85\\x9f"
    assert visible("\u2028\u2029\u202a\u202e\u2066\u2069") == "\\u2028\\u2029\\u202a\\u202e\\u2066\\u2069"
    assert visible("\udc80\ufffe") == "\\udc80\\ufffe"  # unencodable / not XML: shown too
