"""Command line: `joblint [check] PATHS`, `joblint rule CODE`, `joblint rules`.

Exit codes: 0 no findings, 1 findings (or changes --diff would make), 2 usage, config or
internal error. Results go to stdout; summaries and errors to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from . import __version__

SUBCOMMANDS = ("check", "rule", "rules")
EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """Bad command-line usage: one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="joblint", description="Lint Celery, ARQ and Temporal background-task code.")
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
        "--output-format", choices=("full", "concise", "json"), help="full (default on a terminal) or concise or json"
    )
    check.add_argument("--fix", action="store_true", help="apply safe fixes")
    check.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes (with --fix or --diff)")
    check.add_argument("--diff", action="store_true", help="print the fixes as a diff and change nothing")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--jobs", "-j", type=int, help="worker processes (default: all cores)")
    check.add_argument("--quiet", "-q", action="store_true", help="print findings only, no summary")

    rule = sub.add_parser("rule", help="print a rule's document")
    rule.add_argument("code", help="a rule code (CEL101) or name (pickle-serializer)")

    rules = sub.add_parser("rules", help="list every rule")
    rules.add_argument("--output-format", choices=("table", "json"), default="table")
    return parser


def _command_check(args: argparse.Namespace) -> int:
    from . import config as config_mod
    from . import engine
    from .discover import discover
    from .fix import fix_until_stable, unified_diff, write_all
    from .report import ReportContext, renderer
    from .rules import all_meta

    cwd = Path.cwd()
    paths = args.paths or [Path(".")]
    config = config_mod.discover([cwd / p for p in paths], args.config)
    if args.exclude is not None or args.extend_exclude:
        settings = config.settings.model_copy(
            update={
                **({"exclude": args.exclude} if args.exclude is not None else {}),
                "extend_exclude": [*config.settings.extend_exclude, *(args.extend_exclude or [])],
            }
        )
        config = config_mod.Config(settings, config.root, config.source)
    metas = all_meta()
    origin = str(config.source) if config.source else "[tool.joblint]"
    enabled = config_mod.select(config.settings, metas, origin, args.select, args.extend_select, args.ignore)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.fix and args.diff:
        raise UsageError("--fix and --diff cannot be used together")
    files = discover(paths, config, cwd, respect_gitignore=False if args.no_respect_gitignore else None)

    fmt = args.output_format or ("full" if sys.stdout.isatty() else "concise")
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    fixed = 0
    exit_on_changes = False
    if args.fix or args.diff:
        paths_by_display = {f.display: f.path for f in files}
        outcome = fix_until_stable(
            paths_by_display,
            lambda overrides: engine.run(files, config, enabled, args.jobs, overrides).findings,
            unsafe=args.unsafe_fixes,
        )
        for failure in outcome.failures:
            print(f"joblint: {failure}", file=sys.stderr)
        if args.diff:
            diff = unified_diff(outcome)
            sys.stdout.write(diff)
            changed = len(outcome.changed())
            if not args.quiet:
                print(f"Would fix {outcome.applied} finding{'s' if outcome.applied != 1 else ''} in {changed} file{'s' if changed != 1 else ''}.", file=sys.stderr)
            return EXIT_FINDINGS if diff and not args.exit_zero else EXIT_OK
        for failure in write_all(outcome, paths_by_display):
            print(f"joblint: {failure}", file=sys.stderr)
            exit_on_changes = True
        findings = outcome.findings
        fixed = outcome.applied
        result_files = len(files)
        skipped = None
    else:
        result = engine.run(files, config, enabled, args.jobs)
        findings = result.findings
        result_files = result.files
        skipped = result.skipped

    context = ReportContext(files=result_files, fixed=fixed, color=color, root=str(config.root))
    sys.stdout.write(renderer(fmt)(findings, context))
    sys.stdout.flush()
    if not args.quiet:
        _summary(findings, result_files, skipped, fixed, fmt)
    if exit_on_changes:
        return EXIT_ERROR
    return EXIT_FINDINGS if findings and not args.exit_zero else EXIT_OK


def _summary(findings: list, files: int, skipped: int | None, fixed: int, fmt: str) -> None:
    parts = []
    if fixed:
        parts.append(f"Fixed {fixed} finding{'s' if fixed != 1 else ''}.")
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
            "summary": m.summary,
        }
        for m in all_meta().values()
    ]
    if args.output_format == "json":
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in ("code", "name", "severity", "fix")}
    header = f"{'code':<{widths['code']}}  {'name':<{widths['name']}}  {'severity':<{widths['severity']}}  {'fix':<{widths['fix']}}  default"
    print(header)
    for r in rows:
        print(
            f"{r['code']:<{widths['code']}}  {r['name']:<{widths['name']}}  {r['severity']:<{widths['severity']}}  "
            f"{r['fix']:<{widths['fix']}}  {'yes' if r['default'] else 'opt-in'}"
        )
    return EXIT_OK


COMMANDS = {"check": _command_check, "rule": _command_rule, "rules": _command_rules}


def main(argv: Sequence[str] | None = None) -> int:
    from .config import ConfigError
    from .discover import PathError

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv = ["check", *argv]
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except (UsageError, ConfigError, PathError) as exc:
        print(f"joblint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("joblint: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - one line for users; JOBLINT_DEBUG shows the traceback
        if os.environ.get("JOBLINT_DEBUG"):
            raise
        print(f"joblint: internal error: {type(exc).__name__}: {exc} (set JOBLINT_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_ERROR


def entry() -> None:
    sys.exit(main())
