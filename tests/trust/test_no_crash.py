"""No input crashes joblint: generated programs give findings or JL001, never an exception or JL002.

Two generators: hypothesmith's programs from the Python grammar (every syntax the parser and the
fact collectors may meet), and the rule documents' examples with one literal replaced by a
generated expression (real Celery, ARQ and Temporal code holding values no test thought of).
The normal run tries a few hundred programs; the long fuzz in the README sets JOBLINT_FUZZ_EXAMPLES.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joblint import config as config_mod
from joblint import engine, rule_docs
from joblint.discover import SourceFile
from joblint.findings import Finding
from joblint.rules import all_meta
from test_rule_docs import blocks

# hypothesmith compiles what it generates; "'str' object is not callable" and the like are noise here.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

EXAMPLES = int(os.environ.get("JOBLINT_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,  # every run explores afresh; a failure prints the program to reproduce it
)

HEADERS = [
    "",
    "from celery import Celery, shared_task\napp = Celery('proj')\n",
    "from temporalio import workflow, activity\n",
    "import arq\nfrom arq.connections import RedisSettings\n",
]


def check(source: str, name: str = "tasks.py") -> list[Finding]:
    """Every rule, file and project, on one in-memory file; no JL002 allowed."""
    config = config_mod.Config(config_mod.Settings(), Path("/nonexistent"), None)
    file = SourceFile(Path("/nonexistent") / name, name)
    findings = engine.run([file], config, frozenset(all_meta()), jobs=1, overrides={name: source}).findings
    crashes = [f.message for f in findings if f.code == "JL002"]
    assert crashes == [], f"{crashes}\n--- program ---\n{source}"
    return findings


@FUZZ
@given(header=st.sampled_from(HEADERS), program=hypothesmith.from_grammar() | hypothesmith.from_node())
def test_generated_programs(header, program):
    check(header + program)


def _example_files() -> list[str]:
    texts = []
    for path in rule_docs.all_paths():
        sections = rule_docs.sections(path.read_text(encoding="utf-8"))
        for section in ("Example", "Use instead"):
            texts.extend(blocks(sections.get(section, "")).values())
    return texts


EXAMPLE_FILES = _example_files()

# Values a rule may meet where a document shows a literal (hypothesmith's expression grammar takes
# seconds an example; this takes microseconds and aims at what rules evaluate).
_leaves = st.one_of(
    st.integers().map(str),
    st.floats().map(repr),
    st.text(max_size=12).map(repr),
    st.binary(max_size=8).map(repr),
    st.sampled_from(["None", "True", "False", "...", "x", "app", "self", "settings.VALUE", "os.environ['X']"]),
)


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    two = st.tuples(children, children)
    return st.one_of(
        st.lists(children, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(children, max_size=3).map(lambda xs: "(" + "".join(x + ", " for x in xs) + ")"),
        two.map(lambda ab: "{%s: %s}" % ab),
        two.map(lambda ab: "f(%s, key=%s)" % ab),
        two.map(lambda ab: "%s + %s" % ab),
        st.tuples(children, children, children).map(lambda abc: "%s if %s else %s" % abc),
        children.map(lambda a: f"lambda: {a}"),
        children.map(lambda a: f"({a}).attribute"),
        two.map(lambda ab: "(%s)[%s]" % ab),
        children.map(lambda a: f"not {a}"),
        children.map(lambda a: f"[*{a}]"),
        children.map(lambda a: f"dict(**{a})"),
        children.map(lambda a: f"(name := {a})"),
        children.map(lambda a: f'f"{{{a}}}"'),
    )


expressions = st.recursive(_leaves, _extend, max_leaves=8)
LITERAL = re.compile(r"""(?<![\w.])(?:"[^"\n\\]*"|'[^'\n\\]*'|\d+(?:\.\d+)?|True|False|None)(?![\w.])""")


@settings(FUZZ, max_examples=EXAMPLES * 3)  # cheap: three times as many
@given(
    text=st.sampled_from(EXAMPLE_FILES),
    position=st.integers(min_value=0),
    expression=expressions,
)
def test_rule_examples_holding_generated_values(text, position, expression):
    literals = list(LITERAL.finditer(text))
    if literals:
        chosen = literals[position % len(literals)]
        text = text[: chosen.start()] + "(" + expression.strip() + ")" + text[chosen.end() :]
    check(text)
