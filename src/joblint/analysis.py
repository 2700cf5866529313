"""Per-file analysis of the bytes the pipeline read: decode, parse once, extract facts, run the
file rules, and keep the source lines findings quote.

It reads nothing and pre-filters nothing: `pipeline` reads each file once, pre-filters it and hands
over the bytes of the files it keeps (`FileTask.data`, or `FileTask.text` for an in-memory source).
Everything here runs in a worker process when the run is large, so its input (`FileTask`) and
output (`FileResult`) are plain data.
"""

from __future__ import annotations

import dataclasses
import sys
import traceback
from pathlib import Path
from typing import Any

import libcst as cst

from .facts import ModuleFacts, extract
from .files import FileResult, FileTask
from .findings import Finding, Span
from .launch import embedded_beat, worker_apps
from .nesting import nesting_problem
from .rules import BUILTIN, Report, all_rules
from .source import MAX_BYTES, Source, module_name, source_lines
from .suppress import scan, scan_launch

# libcst's visitors recurse about three Python frames per level of nesting, so a flat run of 500
# implicitly concatenated strings already passes Python's default limit of 1,000 frames. The
# nesting pre-check (nesting.py) refuses expressions deeper than libcst can parse safely; up to that
# depth, Python-to-Python calls do not grow the C stack, so a higher limit is safe.
RECURSION_LIMIT = 8000
if sys.getrecursionlimit() < RECURSION_LIMIT:
    sys.setrecursionlimit(RECURSION_LIMIT)


def _builtin(code: str, display: str, span: Span, message: str) -> Finding:
    meta = BUILTIN[code]
    return Finding(code, meta.name, meta.severity, display, span, message)


def _syntax_error(display: str, exc: cst.ParserSyntaxError) -> Finding:
    message = str(exc.message).splitlines()[0] if exc.message else "invalid syntax"
    span = Span.point(max(exc.raw_line, 1), max(exc.raw_column, 0) + 1)
    return _builtin("JL001", display, span, f"syntax error: {message}")


def unreadable(task: FileTask, error: OSError) -> FileResult:
    """The result for a file that cannot be read: a JL001 finding saying why."""
    message = f"cannot read file: {error.strerror or error}"
    return FileResult(task.display, findings=[_builtin("JL001", task.display, Span.point(1), message)])


def decode(task: FileTask) -> tuple[Source | None, Finding | None]:
    """The decoded source of the bytes read (`task.data`) or the in-memory text, or a JL001
    finding saying why it cannot be analysed."""
    if task.text is not None:
        return Source(task.text, "utf-8", "\n"), None
    data = task.data
    assert data is not None, "the pipeline reads the file"
    if len(data) > MAX_BYTES:
        size = f"{len(data) / 1024 / 1024:.1f} MB"
        message = f"not analysed: the file is {size}, above the {MAX_BYTES // 1024 // 1024} MB joblint parses"
        return None, _builtin("JL001", task.display, Span.point(1), message)
    if task.kind == "launch":  # text files read for command lines: never a reason to fail
        return Source(data.decode("utf-8", errors="replace"), "utf-8", "\n"), None
    try:
        source = Source.decode(data)
    except SyntaxError as exc:  # an invalid coding cookie
        return None, _builtin("JL001", task.display, Span.point(exc.lineno or 1), f"cannot decode: {exc.msg}")
    except (UnicodeDecodeError, LookupError) as exc:
        line = data[: getattr(exc, "start", 0)].count(b"\n") + 1
        return None, _builtin("JL001", task.display, Span.point(line), f"cannot decode: {exc}")
    return source, None


def analyze(task: FileTask) -> FileResult:
    """The facts, file-rule findings and suppressions of a file the pre-filter kept, its findings
    carrying the line they flag, and the lines its facts point at (`FileResult.lines`)."""
    result = FileResult(task.display)
    source, problem = decode(task)
    if problem is not None:
        result.findings.append(problem)
    elif task.kind == "launch":
        assert source is not None
        _analyze_launch(task, source.text, result)
    else:
        assert source is not None
        _analyze_python(task, source.text, result)
    return _quoted(task, source, result)


def _analyze_python(task: FileTask, text: str, result: FileResult) -> FileResult:
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        result.findings.append(_builtin("JL001", task.display, Span.point(line), "source contains NUL bytes"))
        return result
    too_deep = nesting_problem(text)  # libcst's native parser would overflow its stack and kill the process
    if too_deep is not None:
        result.findings.append(_builtin("JL001", task.display, Span.point(too_deep[0]), too_deep[1]))
        return result
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        result.findings.append(_syntax_error(task.display, exc))
        return result
    except (RecursionError, MemoryError, ValueError, TypeError) as exc:
        result.findings.append(_builtin("JL001", task.display, Span.point(1), f"cannot parse: {type(exc).__name__}"))
        return result
    result.parsed = True
    path = Path(task.path)
    name, is_package = module_name(path)
    try:
        facts = extract(module, task.display, name, is_package, text)
    except RecursionError:
        result.findings.append(_builtin("JL001", task.display, Span.point(1), "cannot analyse: nesting too deep"))
        return result
    except Exception as exc:  # noqa: BLE001 - a bug in one collector must not stop the run
        message = f"fact extraction crashed: {_where(exc)}"
        result.findings.append(_builtin("JL002", task.display, Span.point(1), message))
        return result
    result.findings.extend(run_file_rules(task, facts, module, text))
    result.facts = facts.stripped()
    result.suppressions = scan(text)
    return result


def _analyze_launch(task: FileTask, text: str, result: FileResult) -> FileResult:
    """Launch files contribute facts (worker command lines) to project rules; no parse, no file rules."""
    facts = ModuleFacts(task.display, None, False)
    facts.celery.embedded_beat.extend(embedded_beat(text, Path(task.path)))
    facts.celery.launched.extend(worker_apps(text, Path(task.path)))
    result.parsed = True
    result.facts = facts
    result.suppressions = scan_launch(text)
    return result


def _quoted(task: FileTask, source: Source | None, result: FileResult) -> FileResult:
    """Give the file's findings the text of the line each flags (for code frames and baselines),
    and keep the lines its facts' spans start on, where project rules report (`FileResult.lines`):
    taken from the text analysed, so no file is read again for them. The lines are as
    `source.source_lines` splits the decoded file; "" past its end, or when it cannot be decoded."""
    own = [f for f in result.findings if f.path == task.display]
    wanted = _fact_lines(result.facts) if result.facts is not None else set()
    if not own and not wanted:
        return result
    text = _quoting_text(task, source)
    lines = source_lines(text) if text is not None else []

    def line(number: int) -> str:
        return lines[number - 1] if 0 < number <= len(lines) else ""

    if own:
        result.findings = [
            dataclasses.replace(f, source_line=line(f.span.line)) if f.path == task.display else f
            for f in result.findings
        ]
    if wanted:
        result.lines = {number: line(number) for number in sorted(wanted)}
    return result


def _quoting_text(task: FileTask, source: Source | None) -> str | None:
    """The text code frames quote: the source as decoded for Python (launch files are analysed
    with undecodable bytes replaced; frames show them decoded as Python files are), the in-memory
    text as it is; None when the bytes cannot be decoded."""
    if task.text is not None:
        return task.text
    if source is not None and task.kind == "python":
        return source.text
    if task.data is None:
        return None
    try:
        return Source.decode(task.data).text
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return None


_FIELDS: dict[type, tuple[str, ...]] = {}
_LEAVES = frozenset({str, int, bool, float, bytes, type(None)})


def _fact_lines(facts: object) -> set[int]:
    """The first lines of every span in the facts (a tree of dataclasses and containers)."""
    found: set[int] = set()
    stack: list[Any] = [facts]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind in _LEAVES:
            continue
        if kind is Span:
            found.add(value.line)
        elif kind is list or kind is tuple or kind is set or kind is frozenset:
            stack.extend(value)
        elif kind is dict:
            stack.extend(value.keys())
            stack.extend(value.values())
        elif dataclasses.is_dataclass(value):
            names = _FIELDS.get(kind)
            if names is None:
                names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value))
            stack.extend(getattr(value, name) for name in names)
    return found


def run_file_rules(task: FileTask, facts: ModuleFacts, module: cst.Module, text: str) -> list[Finding]:
    from .context import FileContext

    rules = all_rules()
    out: list[Finding] = []
    ctx = FileContext(task.display, text, module, facts)
    for code in task.rules:
        rule = rules[code]
        if rule.scope != "file":  # task.rules names file rules only
            continue
        try:
            reports = list(rule.check(ctx))
        except Exception as exc:  # noqa: BLE001 - one rule's crash must not stop the run
            out.append(_builtin("JL002", task.display, Span.point(1), f"rule {code} crashed: {_where(exc)}"))
            continue
        out.extend(to_finding(rule.meta, r, task.display) for r in reports)
    return out


def _where(exc: BaseException) -> str:
    """The exception and the line of joblint that raised it, on one line."""
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    detail = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {detail} ({Path(frame.filename).name}:{frame.lineno})"


def to_finding(meta, report: Report, display: str) -> Finding:  # type: ignore[no-untyped-def]
    return Finding(
        meta.code,
        meta.name,
        report.severity or meta.severity,
        report.path or display,
        report.span,
        report.message,
        report.fix,
    )
