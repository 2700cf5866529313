"""The pre-filter is sound: skipping the files it skips never changes what joblint reports.

The main test re-runs the rule test suite and every rule document example (tests/rules and
tests/test_rule_docs.py) in a subprocess where each `engine.run` is done twice, with and without
the pre-filter; any difference names the test, the rules, the files the pre-filter skipped and
the words that failed to keep them. New rules and new test cases are covered without listing them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from joblint import prefilter, rule_docs
from joblint.rules import all_rules

TESTS = Path(__file__).parent
REPO = TESTS.parent

PROBE = textwrap.dedent(
    r"""
    import json, os, sys
    import pytest
    from joblint import engine, prefilter

    real_run, real_words = engine.run, prefilter.words
    probed, problems = [], []

    def rows(result):
        return sorted((f.path, f.span.line, f.span.col, f.code, f.message) for f in result.findings)

    def checked_run(files, config, enabled, *args, **kwargs):
        filtered = real_run(files, config, enabled, *args, **kwargs)
        prefilter.words = lambda enabled, metas=None: None
        try:  # without a cache: it would answer with what the filtered run stored
            everything = real_run(files, config, enabled, *args, **{**kwargs, "cache": None})
        finally:
            prefilter.words = real_words
        probed.append(1)
        if rows(filtered) != rows(everything):
            skipped = sorted(
                d for d, r in filtered.results.items() if not r.parsed and everything.results[d].parsed
            )
            words = real_words(enabled)
            problems.append({
                "test": os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0],
                "enabled": sorted(enabled) if len(enabled) <= 8 else f"{len(enabled)} rules",
                "missing": [r for r in rows(everything) if r not in rows(filtered)],
                "extra": [r for r in rows(filtered) if r not in rows(everything)],
                "skipped": skipped,
                "words": [w.decode() for w in words] if words is not None else None,
            })
        return filtered

    engine.run = checked_run
    pytest.main([*sys.argv[2:], "-q", "-p", "no:cacheprovider", "-o", "addopts="])
    with open(sys.argv[1], "w") as out:
        json.dump({"probed": len(probed), "problems": problems}, out)
    """
)


@pytest.mark.slow
def test_prefilter_never_changes_findings_of_any_rule_test_or_document_example(tmp_path):
    report = tmp_path / "probe.json"
    targets = [str(TESTS / "rules"), str(TESTS / "test_rule_docs.py")]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(report), *targets],
        cwd=REPO, capture_output=True, text=True, timeout=1800, env={**os.environ, "NO_COLOR": "1"},
    )
    assert report.exists(), f"the probe did not finish:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    outcome = json.loads(report.read_text())
    assert outcome["probed"] >= len(all_rules()), "too few runs probed: the rule tests did not run"
    messages = [
        f"{p['test']} (rules {p['enabled']}): the pre-filter skipped {p['skipped']}; "
        f"missing {p['missing']}, extra {p['extra']}; words {p['words']}"
        for p in outcome["problems"]
    ]
    assert not messages, "pre-filter words are unsound:\n" + "\n".join(messages)


BLOCK = re.compile(r"```\w*\n(.*?)```", re.DOTALL)
FILE = re.compile(r"^# file: (\S+)\n")
MARK = re.compile(r"# expect: ([A-Z]+[0-9]+(?:,\s*[A-Z]+[0-9]+)*)")
EXAMPLES = [d for d in rule_docs.all_paths() if "## Example" in d.read_text(encoding="utf-8")]


@pytest.mark.parametrize("doc", EXAMPLES, ids=[d.stem for d in EXAMPLES])
def test_rule_words_keep_every_flagged_file_of_its_document(doc: Path):
    """A file the document says is flagged is kept when only that rule is enabled: by its words,
    or for a rule with `task_name_words`, by the second look (the main test above runs it)."""
    code = doc.name.split("-", 1)[0]
    words = prefilter.words(frozenset({code}))
    rule = all_rules().get(code)
    second = prefilter.compile_words(rule.meta.task_name_words) if rule is not None else ()
    words = (*(words or ()), *second)
    example = rule_docs.sections(doc.read_text(encoding="utf-8"))["Example"]
    for number, block in enumerate(BLOCK.findall(example)):
        match = FILE.match(block)
        name = match.group(1) if match else f"block {number + 1}"
        if MARK.search(block):
            assert prefilter.keeps(block.encode(), words), f"{code}'s words {words} do not keep {name} of {doc.name}"


def test_disabling_rules_narrows_the_words():
    every = prefilter.words(frozenset(all_rules()))
    for code in all_rules():
        one = prefilter.words(frozenset({code}))
        assert one is not None, f"{code} declares no words: every file would be parsed"
        # Whatever one rule's words keep, every rule's words keep.
        assert every is not None and all(any(prefilter._implies(e, o) for e in every) for o in one)
    assert prefilter.words(frozenset({"JL001"})) == every  # built-in findings alone: files any rule reads


def test_words_match_case_insensitively_on_raw_bytes():
    words = prefilter.compile_words(["temporalio", "celery"])
    assert prefilter.keeps(b"from Celery import X", words)
    assert prefilter.keeps(b"import TEMPORALIO", words)
    assert not prefilter.keeps(b"import os\n", words)
    assert prefilter.keeps(b"anything", None)


def test_a_conjunction_needs_every_part():
    words = prefilter.compile_words(["celery&group("])
    assert prefilter.keeps(b"from celery import group\ngroup(a.s(), b.s())()", words)
    assert not prefilter.keeps(b"import re\nre.match(p, s).group(1)", words)


def test_a_word_marked_with_equals_matches_case():
    words = prefilter.compile_words(["=Task)", "celery"])
    assert prefilter.keeps(b"class Send(BaseTask):\n    pass\n", words)
    assert not prefilter.keeps(b"print(task)\n", words)
    assert prefilter.keeps(b"import CELERY\n", words)


def test_skipped_files_are_reported(tmp_path):
    (tmp_path / "app.py").write_text("from celery import Celery\napp = Celery('x', task_serializer='pickle')\n")
    (tmp_path / "plain.py").write_text("def add(a, b):\n    return a + b\n")
    done = subprocess.run(
        [sys.executable, "-m", "joblint", "check", "--no-cache", "--select", "CEL101", "--statistics", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert "(2 files checked, 1 skipped by the pre-filter)" in done.stderr


def test_one_file_check_imports_no_rich_celery_or_process_pool(tmp_path):
    """The pre-commit case (`joblint check one_file.py`) loads only what analysis needs."""
    (tmp_path / "app.py").write_text("from celery import Celery\napp = Celery('x', task_serializer='pickle')\n")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "joblint", "check", "--output-format", "concise", "app.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert "CEL101" in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    for unwanted in ("rich", "celery", "multiprocessing", "concurrent.futures.process"):
        assert unwanted not in imported, f"{unwanted} is imported for a one-file check"


def test_a_configuration_module_without_rule_words_is_still_read(tmp_path, monkeypatch):
    """`config_from_object("proj.jobconf")` names a module of bare lowercase settings: no rule word."""
    from conftest import lint, write_project

    write_project(tmp_path, {
        "proj/__init__.py": "",
        "proj/celery.py": 'from celery import Celery\n\napp = Celery("proj")\napp.config_from_object("proj.jobconf")\n',
        "proj/jobconf.py": "worker_prefetch_multiplier = 4\n",
        "proj/tasks.py": "from proj.celery import app\n\n\n@app.task\ndef crunch():\n    pass\n",
    })
    assert not prefilter.keeps(
        b"worker_prefetch_multiplier = 4\n", prefilter.words(frozenset({"CEL102"})), "proj/jobconf.py"
    )
    filtered = lint(tmp_path, ["CEL1"])
    monkeypatch.setattr(prefilter, "words", lambda enabled, metas=None: None)
    assert filtered == lint(tmp_path, ["CEL1"])
    assert ("proj/celery.py", "CEL102") in {(f.path, f.code) for f in filtered}


def test_a_run_the_cache_answers_imports_no_parser_rules_or_validation(tmp_path):
    """Warm runs and the pre-commit case with nothing new to parse load neither libcst (the rules
    and facts import it) nor pydantic (no configuration is present)."""
    (tmp_path / "app.py").write_text("from celery import Celery\napp = Celery('x', task_serializer='pickle')\n")
    (tmp_path / ".git").mkdir()  # a project: a file outside any project is checked alone, with no cache
    command = [sys.executable, "-X", "importtime", "-m", "joblint", "check", "--output-format", "concise"]
    for paths in (["."], ["."], ["app.py"]):  # cold, then warm, then one file against the warm cache
        done = subprocess.run([*command, *paths], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert "CEL101" in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    for unwanted in ("libcst", "pydantic", "joblint.project", "joblint.facts", "joblint.rules.celery_config"):
        assert unwanted not in imported, f"{unwanted} is imported by a run the cache answers"


def test_protoc_output_is_skipped_whatever_service_names_it_spells():
    words = prefilter.words(frozenset({"TMP101"}))
    stub = b"def start_workflow(request):\n    import temporalio\n    return request\n"
    assert prefilter.keeps(stub, words)
    for header in prefilter.PROTOC_HEADERS:
        assert not prefilter.keeps(b"# -*- coding: utf-8 -*-\n" + header + b"  DO NOT EDIT!\n" + stub, words)
    assert prefilter.keeps(b"# Generated by hand. DO NOT EDIT\n" + stub, words)  # other generators: read


APPLY = prefilter.compile_words(["apply_async"])


@pytest.mark.parametrize(
    "source, kept",
    [
        ("# send it with apply_async later\nx = 1\n", False),
        ('"""Sent with apply_async by the view."""\nx = 1\n', False),
        ("def f():\n    '''Runs apply_async.'''\n    return 1\n", False),
        ('class A:\n    """apply_async"""  # a docstring\n    "and a string statement: apply_async"\n', False),
        ('x = 1  # don\'t call apply_async\n', False),
        ("send.apply_async(args=(1,))\n", True),
        ('log("apply_async failed")\n', True),  # a string in code: some rules read strings
        ('run(\n    "apply_async",\n)\n', True),  # a string on its own line, inside brackets
        ('"{}".format(apply_async)\n', True),
        ('"""doc"""; t.apply_async()\n', True),
        ('x = "# not a comment"; t.apply_async()\n', True),
        ('s = """a # b\n"""\nt.apply_async()\n', True),
        ('f"{t.apply_async()}"\n', True),  # an f-string statement runs its expressions
        ('x = 1\n"""unterminated apply_async\n', True),  # what cannot be told apart stays code
        ('"a" \\\n    "b"\nt.apply_async()', True),
    ],
)
def test_words_in_comments_and_docstrings_do_not_keep_a_file(source, kept):
    assert prefilter.keeps(source.encode(), APPLY, "m.py") is kept


def test_the_lexer_takes_linear_time_on_a_quote_that_does_not_close():
    """A quote left open on its line (YAML, a shell line, a typo) once took time exponential in
    what followed it: 26 characters took 12 s."""
    source = b'# a comment, then an unclosed quote\nx = "' + b"a&&b " * 2000 + b"\nt.apply_async()\n"
    code = (
        "from joblint import prefilter\nimport sys\n"
        "prefilter.keeps(sys.stdin.buffer.read(), prefilter.compile_words(['apply_async']), 'm.py')\n"
    )
    subprocess.run([sys.executable, "-c", code], input=source, timeout=20, check=True)


def test_in_a_multi_byte_encoding_a_trailing_byte_that_looks_like_a_backslash_hides_nothing():
    # The last character of the docstring, 能, is 0x94 0x5C in Shift_JIS: read as bytes, 0x5C escapes
    # the closing quote, and the docstring would swallow the import that follows.
    source = (
        '# -*- coding: shift_jis -*-\n"""領収書の送信機能"""\nfrom celery import shared_task\n\n\n'
        '@shared_task\ndef send(order_id):\n    """\n    Send the receipt.\n    """\n'
    ).encode("shift_jis")
    assert prefilter.keeps(source, prefilter.compile_words(["shared_task"]), "tasks.py")


def test_a_comment_sign_in_an_f_string_nesting_its_own_quotes_is_not_a_comment():
    source = b'def place(order):\n    print(f"{"#" * 8} queued {send_receipt.delay(order.id)}")\n'
    assert prefilter.keeps(source, prefilter.compile_words([".delay("]), "orders.py")
    nested_bracket = b'x = f"{d[")"]}"; y = (\n    "apply_async"\n)\n'
    assert prefilter.keeps(nested_bracket, APPLY, "m.py")


@pytest.mark.parametrize(
    "name, script",
    [
        ("start.sh", '#!/bin/sh\n[ $# -eq 0 ] && exec celery -A proj worker -B\n'),  # `$#` is no comment
        ("run_worker.sh", '#!/bin/sh\nset -e\n"$VENV/bin/celery" "--app=proj" "worker" "--beat"\n'),  # nor a docstring
    ],
)
def test_launch_files_are_not_read_as_python(tmp_path, monkeypatch, name, script):
    from conftest import lint, write_project

    write_project(
        tmp_path,
        {
            name: script,
            "proj/__init__.py": "",
            "proj/celery_app.py": 'from celery import Celery\napp = Celery("proj")\n',
        },
    )
    filtered = lint(tmp_path, ["CEL501"])
    assert [(f.path, f.code) for f in filtered] == [(name, "CEL501")]
    monkeypatch.setattr(prefilter, "words", lambda enabled, metas=None: None)
    assert lint(tmp_path, ["CEL501"]) == filtered


SHARED_TASK_OR_APPLY = prefilter.compile_words(["shared_task", "apply_async"])


@pytest.mark.parametrize(
    "source",
    [
        # Python 3.12 f-strings (PEP 701): a field over two lines, nested quotes before a triple
        # quote or a continued string, and a Python 3.14 t-string.
        b'x = f"{\n0}#"; from celery import shared_task\n',
        b'x = f"{"#"}" + """\n#""" + t.apply_async()\n',
        b'x = f"{d["#"]}" + "a\\\n#" + t.apply_async()\n',
        b"x = f'''{\"'''\"}\n'''\nt.apply_async()\ny = '''\n'''\n",
        b't"{d["#"]}" + t.apply_async()\n',
        # A coding cookie on a line that ends with a lone CR, and after a BOM.
        (
            '\r# -*- coding: shift_jis -*-\r"""領収書の送信機能"""\rfrom celery import shared_task\r'
            'def send(o):\r    """\r    Send.\r    """\r'
        ).encode("shift_jis"),
        (
            b'\xef\xbb\xbf# coding: shift_jis\n"""\x94\\"""\nfrom celery import shared_task\n'
            b'def send(o):\n    """\n    Send.\n    """\n'
        ),
    ],
)
def test_what_the_lexer_cannot_tell_apart_is_kept(source):
    assert prefilter.keeps(source, SHARED_TASK_OR_APPLY, "m.py")


def test_a_line_of_escaped_quotes_that_never_closes_takes_linear_time():
    source = b'#\nx = "' + b'\\"' * 80_000 + b"\nt.apply_async()\n"
    code = (
        "from joblint import prefilter\nimport sys\n"
        "prefilter.keeps(sys.stdin.buffer.read(), prefilter.compile_words(['apply_async']), 'm.py')\n"
    )
    subprocess.run([sys.executable, "-c", code], input=source, timeout=20, check=True)


def test_subscripts_of_names_like_prefixes_are_not_f_strings():
    source = b'"""Doc."""\nx = f["k"] + t["k"]  # a comment\ny = 1\n'
    assert prefilter.without_comments_and_docstrings(source) == b'\nx = f["k"] + t["k"]  \ny = 1\n'
