#!/usr/bin/env python3
"""The ecosystem check: joblint's default findings on a pinned corpus of real projects, against judged verdicts.

    python scripts/ecosystem.py                         # fetch the corpus into a temporary directory (minutes)
    python scripts/ecosystem.py --corpus ../corpus      # reuse a corpus (fetched into DIR first if DIR is missing)
    python scripts/ecosystem.py --corpus ../corpus --package pretix --write-new new.json

Each package (a top-level `<name>-<version>` directory of the corpus) is checked on its own, from its own
directory, as its maintainer would: `joblint check --no-cache --output-format json`, with this checkout's
joblint. Every finding is looked up in tests/ecosystem/verdicts.json by (package, path, line, code); a verdict
is `true`, `false` or `debatable` (true, but a clearly chosen trade-off) with a one-line `why`.

Precision = true / (true + false); for rules of severity `error`, debatable counts as false. The exit status
is 1 when a finding has no verdict, a verdict's finding has vanished, overall precision is under 0.97, or a
rule with at least 5 findings is under 0.90; 2 when the check itself cannot run. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VERDICTS = ROOT / "tests" / "ecosystem" / "verdicts.json"
FETCH_SCRIPT = ROOT.parent / "shared" / "corpus" / "fetch.sh"
OVERALL_TARGET = 0.97
RULE_TARGET = 0.90
RULE_MIN_FINDINGS = 5
VERDICT_VALUES = ("true", "false", "debatable")
KEYS = ("package", "path", "line", "code", "verdict", "why")

Key = tuple[str, str, int, str]  # package, path, line, code


class CheckError(Exception):
    """The check cannot run (a broken verdict file, joblint failing, no corpus)."""


def corpus_packages(corpus: Path) -> dict[str, Path]:
    """`name==version` -> directory, for every `<name>-<version>` directory at the top of the corpus."""
    packages = {}
    for directory in sorted(corpus.iterdir()):
        name, dash, version = directory.name.rpartition("-")
        if directory.is_dir() and dash and name and not name.startswith("."):
            packages[f"{name}=={version}"] = directory
    return packages


def fetch_corpus(fetch_script: Path, destination: Path) -> None:
    print(f"fetching the corpus into {destination} with {fetch_script} ...", file=sys.stderr)
    if subprocess.run(["bash", str(fetch_script), str(destination)]).returncode != 0:
        raise CheckError(f"{fetch_script} failed")


def run_joblint(package: str, directory: Path) -> list[dict[str, Any]]:
    """joblint's findings in one package, run from the package's directory with this checkout's joblint."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "joblint", "check", "--no-cache", "--output-format", "json"]
    done = subprocess.run(command, cwd=directory, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise CheckError(f"joblint failed on {package} (exit {done.returncode}):\n{done.stderr.strip()}")
    return [
        {
            "package": package,
            "path": item["filename"],
            "line": item["location"]["row"],
            "code": item["code"],
            "severity": item["severity"],
            "message": item["message"],
        }
        for item in json.loads(done.stdout)
    ]


def load_verdicts(path: Path) -> dict[Key, dict[str, Any]]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CheckError(f"cannot read {path}: {error}") from None
    verdicts: dict[Key, dict[str, Any]] = {}
    for entry in entries:
        if not isinstance(entry, dict) or sorted(entry) != sorted(KEYS):
            raise CheckError(f"{path}: an entry needs exactly the keys {', '.join(KEYS)}: {entry!r}")
        if entry["verdict"] not in VERDICT_VALUES or not str(entry["why"]).strip():
            raise CheckError(f"{path}: verdict must be one of {'/'.join(VERDICT_VALUES)}, with a why: {entry!r}")
        key = key_of(entry)
        if key in verdicts:
            raise CheckError(f"{path}: two verdicts for {describe(entry)}")
        verdicts[key] = entry
    return verdicts


def key_of(item: dict[str, Any]) -> Key:
    return item["package"], item["path"], item["line"], item["code"]


def describe(item: dict[str, Any]) -> str:
    return f"{item['package']} {item['path']}:{item['line']} {item['code']}"


def compare(findings: list[dict[str, Any]], verdicts: dict[Key, dict[str, Any]], packages: set[str]) -> dict[str, Any]:
    """The summary: unjudged findings, vanished verdicts (of the packages checked), precision per rule and overall."""
    found = {key_of(finding) for finding in findings}
    unjudged = [finding for finding in findings if key_of(finding) not in verdicts]
    vanished = [entry for key, entry in verdicts.items() if key[0] in packages and key not in found]
    counts: dict[str, Counter[str]] = {}
    severities: dict[str, str] = {}
    for finding in findings:
        entry = verdicts.get(key_of(finding))
        if entry is not None:
            severities[finding["code"]] = finding["severity"]
            verdict = entry["verdict"]
            if verdict == "debatable" and finding["severity"] == "error":
                verdict = "false"
            counts.setdefault(finding["code"], Counter())[verdict] += 1
    rules: dict[str, dict[str, Any]] = {}
    for code in sorted(counts):
        tally = counts[code]
        rule_precision = precision(tally["true"], tally["false"])
        rules[code] = {
            "severity": severities[code], **{value: tally[value] for value in VERDICT_VALUES},
            "findings": sum(tally.values()), "precision": rule_precision,
            "ok": sum(tally.values()) < RULE_MIN_FINDINGS or rule_precision is None or rule_precision >= RULE_TARGET,
        }
    total = Counter({value: sum(rule[value] for rule in rules.values()) for value in VERDICT_VALUES})
    overall_precision = precision(total["true"], total["false"])
    overall = {**total, "findings": len(findings), "precision": overall_precision,
               "ok": overall_precision is None or overall_precision >= OVERALL_TARGET}
    ok = not unjudged and not vanished and overall["ok"] and all(rule["ok"] for rule in rules.values())
    return {"packages": sorted(packages), "unjudged": unjudged, "vanished": vanished,
            "rules": rules, "overall": overall, "ok": ok}


def precision(true: int, false: int) -> float | None:
    return round(true / (true + false), 4) if true + false else None


def render(summary: dict[str, Any]) -> str:
    lines = [f"{len(summary['packages'])} packages checked, {summary['overall']['findings']} findings"]
    lines.append(f"\nunjudged findings ({len(summary['unjudged'])}):")
    lines += [f"  {describe(finding)} {finding['message']}" for finding in summary["unjudged"]]
    lines.append(f"\nvanished verdicts ({len(summary['vanished'])}):")
    lines += [f"  {describe(entry)} (was {entry['verdict']}: {entry['why']})" for entry in summary["vanished"]]
    lines.append("\nprecision per rule (debatable counts as false for severity error):")
    for code, rule in summary["rules"].items():
        flag = "" if rule["ok"] else f"  UNDER {RULE_TARGET:.2f}"
        lines.append(f"  {code:8} {rule['severity']:8} {rule['findings']:3} findings: {rule['true']:3} true "
                     f"{rule['false']:3} false {rule['debatable']:3} debatable  "
                     f"precision {show(rule['precision'])}{flag}")
    overall = summary["overall"]
    flag = "" if overall["ok"] else f"  UNDER {OVERALL_TARGET:.2f}"
    lines.append(f"\noverall: {overall['true']} true, {overall['false']} false, {overall['debatable']} debatable:"
                 f" precision {show(overall['precision'])}{flag}")
    lines.append("OK" if summary["ok"] else "FAILED")
    return "\n".join(lines)


def show(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def stub(finding: dict[str, Any]) -> dict[str, Any]:
    return {"package": finding["package"], "path": finding["path"], "line": finding["line"],
            "code": finding["code"], "verdict": "", "why": ""}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, help="the corpus directory to use (fetched into it if missing)")
    parser.add_argument("--fetch-script", type=Path, default=FETCH_SCRIPT, help="default: %(default)s")
    parser.add_argument("--verdicts", type=Path, default=VERDICTS, help="default: %(default)s")
    parser.add_argument("--package", help="check one package: its name (pretix) or name==version")
    parser.add_argument("--write-new", type=Path, metavar="FILE", help="write unjudged findings as verdict stubs")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--drop-vanished", action="store_true",
        help="after reading the vanished list: remove those verdicts from the verdict file",
    )
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="joblint-corpus-") as scratch:
            corpus = args.corpus or Path(scratch)
            if args.corpus is None or not corpus.is_dir():
                fetch_corpus(args.fetch_script, corpus)
            packages = corpus_packages(corpus)
            if args.package:
                packages = {spec: path for spec, path in packages.items()
                            if args.package in (spec, spec.partition("==")[0])}
            if not packages:
                raise CheckError(f"no package {args.package or ''} in {corpus}".replace("  ", " "))
            verdicts = load_verdicts(args.verdicts)
            findings = [finding for spec, path in packages.items() for finding in run_joblint(spec, path)]
    except CheckError as error:
        print(f"ecosystem: {error}", file=sys.stderr)
        return 2
    summary = compare(findings, verdicts, set(packages))
    print(json.dumps(summary, indent=2) if args.json else render(summary))
    if args.write_new:
        args.write_new.write_text(json.dumps([stub(f) for f in summary["unjudged"]], indent=2) + "\n", encoding="utf-8")
        print(f"{len(summary['unjudged'])} verdict stubs written to {args.write_new}", file=sys.stderr)
    if args.drop_vanished and summary["vanished"]:
        gone = {key_of(entry) for entry in summary["vanished"]}
        kept = [entry for key, entry in verdicts.items() if key not in gone]
        args.verdicts.write_text(json.dumps(kept, indent=1) + "\n", encoding="utf-8")
        summary = compare(findings, load_verdicts(args.verdicts), set(packages))
        print(
            f"{len(gone)} vanished verdicts removed from {args.verdicts}; now {'OK' if summary['ok'] else 'FAILED'}",
            file=sys.stderr,
        )
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
