"""Per-file analysis: read, pre-filter, parse once, extract facts, run the file rules.

Everything here runs in a worker process when the run is large, so its input (`FileTask`) and
output (`FileResult`) are plain data.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import libcst as cst

from .facts import ModuleFacts, extract
from .files import FileResult, FileTask
from .findings import Finding, Span
from .launch import embedded_beat
from .nesting import nesting_problem
from .rules import BUILTIN, Report, all_rules
from .safe_io import SOURCE_LIMIT, read_regular
from .source import MAX_BYTES, Source, is_test_path, module_name
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


def read(task: FileTask) -> tuple[Source | None, Finding | None]:
    """The decoded source, or a JL001 finding saying why it cannot be read."""
    if task.text is not None:
        return Source(task.text, "utf-8", "\n"), None
    try:
        data = task.data if task.data is not None else read_regular(task.path, SOURCE_LIMIT)
    except OSError as exc:
        return None, _builtin("JL001", task.display, Span.point(1), f"cannot read file: {exc.strerror or exc}")
    if not task.wanted(data):
        return None, None
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
    result = FileResult(task.display)
    source, problem = read(task)
    if problem is not None:
        result.findings.append(problem)
        return result
    if source is None:
        return result  # skipped by the pre-filter
    if task.kind == "launch":
        return _analyze_launch(task, source.text, result)
    text = source.text
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
        result.findings.append(_builtin("JL002", task.display, Span.point(1), f"fact extraction crashed: {_where(exc)}"))
        return result
    facts.is_test = is_test_path(task.display)
    result.findings.extend(run_file_rules(task, facts, module, text))
    result.facts = facts.stripped()
    result.suppressions = scan(text)
    return result


def _analyze_launch(task: FileTask, text: str, result: FileResult) -> FileResult:
    """Launch files contribute facts (worker command lines) to project rules; no parse, no file rules."""
    facts = ModuleFacts(task.display, None, False)
    facts.celery.embedded_beat.extend(embedded_beat(text, Path(task.path)))
    result.parsed = True
    result.facts = facts
    result.suppressions = scan_launch(text)
    return result


def run_file_rules(task: FileTask, facts: ModuleFacts, module: cst.Module, text: str) -> list[Finding]:
    from .context import FileContext

    rules = all_rules()
    out: list[Finding] = []
    ctx = FileContext(task.display, text, module, facts)
    for code in task.rules:
        rule = rules[code]
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
