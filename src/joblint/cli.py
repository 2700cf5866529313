"""Command line: `joblint [check] PATHS`, `joblint rule CODE`, `joblint rules`.

Exit codes: 0 no findings, 1 findings (or changes --diff would make), 2 usage, config or
internal error. Results go to stdout; summaries and errors to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from . import __version__
from .frameworks import checked_names
from .report import FORMATS, PIPED_DEFAULT, TERMINAL_DEFAULT
from .report.escape import visible

if TYPE_CHECKING:
    from .config import Config
    from .discover import SourceFile
    from .findings import Finding

SUBCOMMANDS = ("check", "rule", "rules", "audit", "check-app")
EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """Bad command-line usage: one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _formats_help() -> str:
    """The output formats of the reporter registry, the defaults marked."""
    notes = {TERMINAL_DEFAULT: " (default on a terminal)", PIPED_DEFAULT: " (default otherwise)"}
    return ", ".join(name + notes.get(name, "") for name in FORMATS)


def _description() -> str:
    """`Lint Celery, ARQ and Temporal background-task code.`: the frameworks of the table."""
    *rest, last = checked_names()
    return f"Lint {', '.join(rest)} and {last} background-task code." if rest else f"Lint {last} background-task code."


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="joblint", description=_description())
    parser.add_argument("--version", action="version", version=f"joblint {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    check = sub.add_parser("check", help="check files and directories (the default command)")
    check.add_argument("paths", nargs="*", type=Path, help="files or directories (default: .)")
    check.add_argument("--config", type=Path, help="a pyproject.toml or joblint TOML file to use")
    check.add_argument("--select", type=_csv, help="rules to enable: codes, prefixes (CEL, CEL1), names, ALL")
    check.add_argument("--extend-select", type=_csv, help="rules to enable on top of the selection")
    check.add_argument("--ignore", type=_csv, help="rules to disable")
    check.add_argument("--exclude", type=_csv, help="paths to exclude, replacing the defaults")
    check.add_argument("--extend-exclude", type=_csv, help="paths to exclude on top of the defaults")
    check.add_argument("--no-respect-gitignore", action="store_true", help="check files .gitignore excludes")
    check.add_argument(
        "--force-exclude", action=argparse.BooleanOptionalAction, default=None,
        help="apply exclude to the paths given too (for pre-commit); by default a path given is always checked",
    )
    check.add_argument("--output-format", choices=FORMATS, help=_formats_help())
    check.add_argument(
        "--output-file", "-o", type=Path, metavar="FILE", help="write the report to FILE instead of stdout"
    )
    check.add_argument(
        "--statistics", action="store_true", help="print the number of findings per rule instead of each finding"
    )
    check.add_argument(
        "--exit-non-zero-on-fix",
        action="store_true",
        help="with --fix, exit 1 when files changed, even if nothing is left",
    )
    check.add_argument("--write-baseline", type=Path, metavar="FILE", help="record today's findings in FILE; exit 0")
    check.add_argument("--baseline", type=Path, metavar="FILE", help="report only findings that FILE does not record")
    check.add_argument("--add-noqa", action="store_true", help="add `# noqa: CODE` to every flagged line")
    check.add_argument(
        "--stdin-filename", type=Path, metavar="PATH", help="read the source from stdin and report it as PATH"
    )
    check.add_argument("--fix", action="store_true", help="apply safe fixes")
    check.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes (with --fix or --diff)")
    check.add_argument("--diff", action="store_true", help="print the fixes as a diff and change nothing")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--jobs", "-j", type=int, help="worker processes (default: all cores)")
    check.add_argument("--quiet", "-q", action="store_true", help="print findings only, no summary")
    check.add_argument("--no-cache", action="store_true", help="analyse every file again; read and write no cache")
    check.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="keep the cache in DIR (default: $JOBLINT_CACHE_DIR, else .joblint_cache/ in the project)",
    )

    rule = sub.add_parser("rule", help="print a rule's document")
    rule.add_argument("code", help="a rule code (CEL101) or name (pickle-serializer)")

    rules = sub.add_parser("rules", help="list every rule")
    rules.add_argument("--output-format", choices=("table", "json"), default="table")

    audit = sub.add_parser("audit", help="a report on a whole repository: HTML with charts, and a Markdown summary")
    audit.add_argument("paths", nargs="*", type=Path, help="files or directories (default: .)")
    audit.add_argument("--html", type=Path, metavar="FILE", help="write the self-contained HTML report to FILE")
    audit.add_argument("--markdown", type=Path, metavar="FILE", help="write the Markdown summary to FILE")
    audit.add_argument("--config", type=Path, help="a pyproject.toml or joblint TOML file to use")
    audit.add_argument("--select", type=_csv, help="rules to enable: codes, prefixes (CEL, CEL1), names, ALL")
    audit.add_argument("--extend-select", type=_csv, help="rules to enable on top of the selection")
    audit.add_argument("--ignore", type=_csv, help="rules to disable")
    audit.add_argument("--extend-exclude", type=_csv, help="paths to exclude on top of the defaults")
    audit.add_argument("--no-respect-gitignore", action="store_true", help="check files .gitignore excludes")
    audit.add_argument("--jobs", "-j", type=int, help="worker processes (default: all cores)")
    audit.add_argument("--quiet", "-q", action="store_true", help="no summary on stderr")

    app = sub.add_parser(
        "check-app", help="import a Celery app (runs its code, in a child process) and check its final configuration"
    )
    app.add_argument("target", help="MODULE:ATTR of the Celery app, e.g. proj.celery:app")
    app.add_argument("--timeout", type=float, default=30.0, help="seconds the import may take (default 30)")
    app.add_argument("--python", help="the interpreter to import the app with (default: this one)")
    app.add_argument("--show-settings", action="store_true", help="print the final value of every setting a rule reads")
    app.add_argument("--config", type=Path, help="a pyproject.toml or joblint TOML file to use")
    app.add_argument("--select", type=_csv, help="rules to enable")
    app.add_argument("--ignore", type=_csv, help="rules to disable")
    app.add_argument("--output-format", choices=FORMATS, help="as for check")
    app.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    return parser


def _command_check_app(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from . import config as config_mod
    from . import runtime
    from .engine import project_findings
    from .report import ReportContext, renderer
    from .rules import all_meta

    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    config = config_mod.discover([Path.cwd()], args.config)
    origin = str(config.source) if config.source else "[tool.joblint]"
    enabled = config_mod.select(config.settings, all_meta(), origin, args.select, None, args.ignore)
    try:
        app = runtime.load(args.target, args.python, args.timeout)
    except runtime.AppLoadError as exc:
        raise UsageError(str(exc)) from None
    for warning in app.warnings:
        print(f"joblint: warning: {warning}", file=sys.stderr)
    if args.show_settings:
        print(runtime.show_settings(app), file=sys.stderr if not args.output_format else sys.stdout, end="")
    # There is no file to edit: a loaded app's findings carry no fix.
    findings = [replace(f, fix=None) for f in project_findings(runtime.project(app), enabled)]
    fmt = args.output_format or (TERMINAL_DEFAULT if sys.stdout.isatty() else PIPED_DEFAULT)
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    sys.stdout.write(renderer(fmt)(findings, ReportContext(files=0, color=color, root=str(config.root))))
    if not findings:
        print(f"All checks passed! ({visible(args.target)})", file=sys.stderr)
    return EXIT_FINDINGS if findings and not args.exit_zero else EXIT_OK


def _with_project(files: list[SourceFile], config: Config, cwd: Path, respect: bool | None) -> list[SourceFile]:
    """`files` plus every other file of the project they belong to (through the cache, this is
    cheap): cross-file rules need the project's settings sources and tasks."""
    from .discover import discover

    merged = {f.display: f for f in discover([config.root], config, cwd, respect_gitignore=respect)}
    merged.update({f.display: f for f in files})
    return sorted(merged.values())


def _command_check(args: argparse.Namespace) -> int:
    from . import config as config_mod
    from . import engine
    from .discover import discover
    from .progress import bar
    from .report import ReportContext, renderer
    from .rules import all_meta
    from .source import repository_root

    cwd = Path.cwd()
    _check_combinations(args)
    paths = [args.stdin_filename] if args.stdin_filename is not None else args.paths or [Path(".")]
    config = config_mod.discover([cwd / p for p in paths], args.config)
    if args.exclude is not None or args.extend_exclude or args.force_exclude is not None:
        settings = dataclasses.replace(
            config.settings,
            **({"exclude": args.exclude} if args.exclude is not None else {}),
            **({"force_exclude": args.force_exclude} if args.force_exclude is not None else {}),
            extend_exclude=[*config.settings.extend_exclude, *(args.extend_exclude or [])],
        )
        config = dataclasses.replace(config, settings=settings)
    cache = _cache(args, config)
    metas = cache.rules() if cache is not None else all_meta()
    origin = str(config.source) if config.source else "[tool.joblint]"
    enabled = config_mod.select(config.settings, metas, origin, args.select, args.extend_select, args.ignore)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.fix and args.diff:
        raise UsageError("--fix and --diff cannot be used together")
    overrides: dict[str, str] = {}
    respect = False if args.no_respect_gitignore else None
    if args.stdin_filename is not None:
        files, overrides = _stdin_source(args.stdin_filename, cwd)
    else:
        files = discover(paths, config, cwd, respect_gitignore=respect)
    # Given only files (pre-commit, an editor), judge them against the whole project: a changed
    # tasks.py is checked with the settings in settings.py. Findings are reported for them only.
    # With no project marker above them there is no project: the files are checked alone (the
    # directory of `--stdin-filename /usr/x.py` is all of /usr, of `/x.py` all of /).
    scope: set[str] | None = None
    if args.stdin_filename is not None or (args.paths and all((cwd / p).is_file() for p in args.paths)):
        scope = {f.display for f in files}
        if config.marked and scope:  # none left (--force-exclude): no project to read for them
            files = _with_project(files, config, cwd, respect)

    to_terminal = sys.stdout.isatty() and args.output_file is None and not args.statistics
    fmt = args.output_format or (TERMINAL_DEFAULT if to_terminal else PIPED_DEFAULT)
    color = to_terminal and "NO_COLOR" not in os.environ
    fixed = 0
    unwritten = 0
    exit_on_changes = False
    report_stream = sys.stdout
    if args.fix or args.diff:
        from .fix import fix_until_stable, unified_diff, write_all

        paths_by_display = {f.display: f.path for f in files if scope is None or f.display in scope}
        # The cache makes each round re-read only the files the fixes changed.
        with _editor_buffers(overrides) as buffers:
            paths_by_display.update(buffers)  # fix a copy of an editor's buffer, never the file on disk
            outcome = fix_until_stable(
                paths_by_display,
                lambda fixed: engine.run(
                    files, config, enabled, args.jobs, {**overrides, **fixed}, cache=cache
                ).findings,
                unsafe=args.unsafe_fixes,
            )
        for failure in outcome.failures:
            print(f"joblint: {visible(str(failure))}", file=sys.stderr)
        if args.diff:
            diff = unified_diff(outcome)
            sys.stdout.write(diff)
            changed = len(outcome.changed())
            if not args.quiet:
                findings_text = f"{outcome.applied} finding{'s' if outcome.applied != 1 else ''}"
                print(f"Would fix {findings_text} in {changed} file{'s' if changed != 1 else ''}.", file=sys.stderr)
            return EXIT_FINDINGS if diff and not args.exit_zero else EXIT_OK
        if overrides:
            # Fix-on-save: the fixed buffer goes to stdout for the editor, the findings left to stderr.
            sys.stdout.write("".join(outcome.texts.get(display, text) for display, text in overrides.items()))
            report_stream = sys.stderr
        for failure in write_all(outcome, paths_by_display) if not overrides else ():
            print(f"joblint: {visible(str(failure))}", file=sys.stderr)
            exit_on_changes = True
        findings = outcome.findings
        fixed = outcome.applied
        if exit_on_changes:
            # Some files were not written (read-only, a full disk, edited meanwhile): count only the
            # fixes that reached the disk, and report what is still there.
            written = {d: outcome.texts[d] for d in outcome.written}
            unwritten = len(outcome.changed()) - len(written)
            fixed = sum(outcome.applied_in.get(d, 0) for d in written)
            findings = engine.run(
                files, config, enabled, args.jobs, {**overrides, **written}, cache=cache
            ).findings
        result_files = len(scope) if scope is not None else len(files)
        skipped = None
    else:
        with bar(len(files)) as tick:
            result = engine.run(files, config, enabled, args.jobs, overrides, progress=tick, cache=cache)
        findings = result.findings
        result_files = len(scope) if scope is not None else result.files
        skipped = result.skipped if scope is None else None
    if scope is not None:
        findings = [f for f in findings if f.path in scope]

    if args.write_baseline is not None:
        return _write_baseline(args.write_baseline, findings, cwd, args.quiet, config.root)
    baselined = 0
    baseline_file = args.baseline or _configured_baseline(config)
    if baseline_file is not None:
        from .baseline import Baseline

        new = Baseline.load(baseline_file).new(findings, cwd)
        baselined, findings = len(findings) - len(new), new
    if args.add_noqa:
        return _add_noqa(findings, files, args.quiet)

    extra = {"cwd": str(cwd), "repository_root": str(repository_root(config.root))}
    context = ReportContext(files=result_files, fixed=fixed, color=color, root=str(config.root), extra=extra)
    report = renderer(fmt)(findings, context)
    if args.output_file is not None:
        _write_report(args.output_file, report, config.root)
    if args.statistics:
        from .report import statistics

        sys.stdout.write((statistics.render_json if fmt == "json" else statistics.render)(findings, context))
    elif args.output_file is None:
        report_stream.write(report)
    report_stream.flush()
    if not args.quiet:
        report_has_summary = fmt == "full" and args.output_file is None and not args.statistics
        _summary(findings, result_files, skipped, fixed, "full" if report_has_summary else "", baselined, unwritten)
    if exit_on_changes:
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_OK
    return EXIT_FINDINGS if findings or (args.exit_non_zero_on_fix and fixed) else EXIT_OK


def _cache(args: argparse.Namespace, config):  # type: ignore[no-untyped-def]
    """The cache for this run, unless --no-cache (one that cannot be written just stays empty)."""
    if args.no_cache or not config.marked:
        return None  # no project around the files: nowhere a cache belongs
    from .cache import open_for
    from .cache_trust import CacheRefused

    try:
        return open_for(config, args.cache_dir)
    except CacheRefused as refused:
        print(f"joblint: warning: not using the cache: {visible(str(refused))}", file=sys.stderr)
        return None


def _check_combinations(args: argparse.Namespace) -> None:
    if args.stdin_filename is not None:
        if args.paths:
            raise UsageError("--stdin-filename reads standard input: give no paths with it")
        if args.add_noqa:
            raise UsageError("--add-noqa cannot be used with --stdin-filename")
    if args.add_noqa and (args.fix or args.diff):
        raise UsageError("--add-noqa cannot be used with --fix or --diff")
    if args.write_baseline is not None and (args.add_noqa or args.diff):
        raise UsageError("--write-baseline cannot be used with --add-noqa or --diff")
    if args.exit_non_zero_on_fix and not args.fix:
        raise UsageError("--exit-non-zero-on-fix needs --fix")


def _stdin_source(path: Path, cwd: Path) -> tuple[list[SourceFile], dict[str, str]]:
    """The one file an editor sends: its text from stdin, reported under the path it names."""
    from .discover import SourceFile, display_path, file_kind

    absolute = Path(os.path.abspath(cwd / path))
    display = display_path(absolute, cwd)
    text = sys.stdin.read()
    return [SourceFile(absolute, display, file_kind(absolute) or "python")], {display: text}


@contextmanager
def _editor_buffers(overrides: dict[str, str]) -> Iterator[dict[str, Path]]:
    """Each in-memory source as a temporary file, for the fixer, which reads what it fixes from disk."""
    if not overrides:
        yield {}
        return
    with tempfile.TemporaryDirectory(prefix="joblint-stdin-") as directory:
        copies = {}
        for index, (display, text) in enumerate(overrides.items()):
            copy = Path(directory) / f"{index}-{Path(display).name}"
            copy.write_bytes(text.encode("utf-8"))
            copies[display] = copy
        yield copies


def _configured_baseline(config: Config) -> Path | None:
    if config.settings.baseline is None:
        return None
    directory = config.source.parent if config.source is not None else config.root
    return directory / config.settings.baseline


def _write_baseline(path: Path, findings: list[Finding], cwd: Path, quiet: bool, project: Path) -> int:
    from .baseline import Baseline
    from .safe_io import UnsafeFile, check_output_path

    absolute = Path(os.path.abspath(cwd / path))
    try:
        check_output_path(path, project)
        Baseline.of(findings, absolute.parent, cwd).write(absolute)
    except UnsafeFile as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot write baseline: {exc.strerror or exc}") from None
    if not quiet:
        count = len(findings)
        print(
            f"Wrote {count} finding{'s' if count != 1 else ''} to the baseline {visible(str(path))}.", file=sys.stderr
        )
    return EXIT_OK


def _add_noqa(findings: list[Finding], files: list[SourceFile], quiet: bool) -> int:
    from .noqa import add_noqa

    outcome = add_noqa(findings, {f.display: f.path for f in files}, {f.display for f in files if f.kind == "python"})
    for problem in outcome.problems:
        print(f"joblint: {visible(str(problem))}", file=sys.stderr)
    if not quiet:
        added = outcome.added
        line = f"Added {added} noqa directive{'s' if added != 1 else ''}."
        if outcome.unwritten:
            line += f" {outcome.unwritten} file{'s were' if outcome.unwritten != 1 else ' was'} not written."
        print(line, file=sys.stderr)
    if outcome.unwritten:
        return EXIT_ERROR  # as --fix: a file joblint meant to write and did not
    return EXIT_FINDINGS if outcome.problems else EXIT_OK  # what could not be suppressed is still there


def _write_report(path: Path, report: str, project: Path) -> None:
    """Write a report whole (a temporary file renamed into place), never through a symlink the
    project holds in place of the file or of a directory on the way (`joblint.sarif -> ~/.bashrc`)."""
    from .safe_io import UnsafeFile, check_output_path, write_atomically

    absolute = Path(os.path.abspath(path))  # `..` as written, as the check reads it
    try:
        check_output_path(path, project)
        absolute.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(absolute, report.encode("utf-8"))
    except UnsafeFile as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the report: {exc.strerror or exc}") from None


def _summary(
    findings: list[Finding],
    files: int,
    skipped: int | None,
    fixed: int,
    fmt: str,
    baselined: int = 0,
    unwritten: int = 0,
) -> None:
    parts = []
    if fixed:
        parts.append(f"Fixed {fixed} finding{'s' if fixed != 1 else ''}.")
    if unwritten:
        parts.append(f"Not written: the fixes to {unwritten} file{'s' if unwritten != 1 else ''} (see above).")
    if findings:
        if fmt != "full":  # the full report ends with its own summary
            fixable = sum(1 for f in findings if f.fix)
            line = f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''}"
            parts.append(line + (f" ({fixable} fixable with --fix)." if fixable else "."))
    else:
        parts.append("All checks passed!")
    checked = f"{files} file{'s' if files != 1 else ''} checked"
    if skipped:
        checked += f", {skipped} skipped by the pre-filter"
    if baselined:
        checked += f", {baselined} finding{'s' if baselined != 1 else ''} in the baseline"
    parts.append(f"({checked})")
    print(" ".join(parts), file=sys.stderr)


def _command_rule(args: argparse.Namespace) -> int:
    from . import rule_docs
    from .rules import all_meta

    metas = all_meta()
    wanted = args.code.strip()
    meta = metas.get(wanted.upper()) or next((m for m in metas.values() if m.name == wanted.lower()), None)
    if meta is None:
        raise UsageError(f"unknown rule '{args.code}' (see `joblint rules`)")
    document = rule_docs.text(meta.code)
    if document is None:
        raise UsageError(f"no document found for {meta.code}")
    sys.stdout.write(document if document.endswith("\n") else document + "\n")
    return EXIT_OK


def _command_rules(args: argparse.Namespace) -> int:
    from .rules import all_meta

    rows = [
        {
            "code": m.code,
            "name": m.name,
            "severity": m.severity.value,
            "fix": m.fix.value if m.fix else "none",
            "default": not m.opt_in,
            "in_tests": m.in_tests,
            "summary": m.summary,
        }
        for m in all_meta().values()
    ]
    if args.output_format == "json":
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in ("code", "name", "severity", "fix")}
    header = (
        f"{'code':<{widths['code']}}  {'name':<{widths['name']}}  {'severity':<{widths['severity']}}  "
        f"{'fix':<{widths['fix']}}  default  in tests"
    )
    print(header)
    for r in rows:
        print(
            f"{r['code']:<{widths['code']}}  {r['name']:<{widths['name']}}  {r['severity']:<{widths['severity']}}  "
            f"{r['fix']:<{widths['fix']}}  {'yes' if r['default'] else 'opt-in':<7}  {'yes' if r['in_tests'] else 'no'}"
        )
    return EXIT_OK


def _command_audit(args: argparse.Namespace) -> int:
    """Check everything, then write the HTML report and/or Markdown summary (Markdown to stdout if neither)."""
    import time

    from . import audit as audit_mod
    from . import config as config_mod
    from . import engine
    from .discover import discover
    from .progress import bar
    from .report import html, markdown
    from .rules import all_meta

    started = time.perf_counter()
    cwd = Path.cwd()
    paths = args.paths or [Path(".")]
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    config = config_mod.discover([cwd / p for p in paths], args.config)
    if args.extend_exclude:
        extended = [*config.settings.extend_exclude, *args.extend_exclude]
        config = dataclasses.replace(config, settings=dataclasses.replace(config.settings, extend_exclude=extended))
    origin = str(config.source) if config.source else "[tool.joblint]"
    enabled = config_mod.select(config.settings, all_meta(), origin, args.select, args.extend_select, args.ignore)
    files = discover(paths, config, cwd, respect_gitignore=False if args.no_respect_gitignore else None)
    with bar(len(files), label="Auditing") as tick:
        result = engine.run(files, config, enabled, args.jobs, progress=tick)
    by_display = {f.display: f.path for f in files}
    given = " ".join(p.as_posix() for p in paths)
    target = cwd.name if given == "." else given
    report = audit_mod.build(
        target, result.findings, result.files, time.perf_counter() - started, len(enabled),
        lambda display: by_display.get(display, cwd / display), given,
    )
    written = []
    for path, render in ((args.html, html.render), (args.markdown, markdown.render)):
        if path is not None:
            _write_report(path, render(report), config.root)
            written.append(str(path))
    if not written:
        sys.stdout.write(markdown.render(report))
    if not args.quiet:
        where = f" Wrote {' and '.join(written)}." if written else ""
        count = len(result.findings)
        print(
            f"Audited {result.files} file{'s' if result.files != 1 else ''} in {report.seconds:.1f}s: "
            f"{count} finding{'s' if count != 1 else ''}.{where}",
            file=sys.stderr,
        )
    return EXIT_OK


COMMANDS = {
    "check": _command_check,
    "rule": _command_rule,
    "rules": _command_rules,
    "audit": _command_audit,
    "check-app": _command_check_app,
}


def main(argv: Sequence[str] | None = None) -> int:
    # A run allocates millions of objects and frees nearly all by reference counting; the cycle
    # collector's passes over the loaded facts cost a quarter of a one-file-changed run. The few
    # cycles analysis leaves are collected every few files (pipeline._collect_now_and_then).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _main(argv)
    finally:
        if collecting:
            gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    from .baseline import BaselineError
    from .config import ConfigError
    from .discover import PathError, forget_warnings

    forget_warnings()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv = ["check", *argv]
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except (UsageError, ConfigError, PathError, BaselineError) as exc:
        print(f"joblint: error: {visible(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("joblint: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - one line for users; JOBLINT_DEBUG shows the traceback
        if os.environ.get("JOBLINT_DEBUG"):
            raise
        detail = " ".join(str(exc).split())  # one line, whatever the exception says
        print(
            f"joblint: internal error: {type(exc).__name__}: {visible(detail)} (set JOBLINT_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return EXIT_ERROR


def entry() -> None:
    gc.disable()  # for good: a collection at interpreter exit would walk every object still loaded
    code = main()
    # Tearing the interpreter down frees every module and cached fact one by one: about 0.1 s
    # after a run that parsed, a sixth of a pre-commit run. Nothing is left to do (the cache is
    # written, the pool shut down, temporary directories removed), so leave at once, as mypy does.
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # a reader that went away, or a closed stream
        pass
    os._exit(code)
