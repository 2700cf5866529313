"""Spans placed statement by statement (`StatementPositions`) equal those of a whole-module pass."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from joblint.facts import extract
from joblint.facts.walker import StatementPositions

REPEATED = '''\
from celery import Celery

app = Celery("proj")
app.conf.task_acks_late = True

def helper():
    """A docstring with a line that looks like a statement:
app.conf.task_acks_late = True
"""

app.conf.task_acks_late = True


@app.task(acks_late=True)
def add(x, y):
    return x + y
'''

SOURCES = {
    "repeated statements (placed by ast)": REPEATED,
    "CRLF line ends": REPEATED.replace("\n", "\r\n"),
    "no final newline": REPEATED.rstrip("\n"),
    "the last statement without a final newline, its text also in a docstring": (
        '"""Example:\n\n\n@activity.defn\nasync def fetch(urls: list[str]) -> None:\n    for url in urls:\n'
        '        await download(url)\n"""\nfrom temporalio import activity\n\nfrom .net import download\n\n\n'
        "@activity.defn\nasync def fetch(urls: list[str]) -> None:\n    for url in urls:\n        await download(url)"
    ),
    "semicolons and a header comment": (
        "# header\n\nimport celery; app = celery.Celery('p')\n"
        "app.conf.update(task_serializer='pickle'); x = 1\n"
    ),
}


def _spans(source: str, with_text: bool) -> str:
    return repr(extract(cst.parse_module(source), "m.py", "m", False, source if with_text else None).stripped())


@pytest.mark.parametrize("source", SOURCES.values(), ids=SOURCES.keys())
def test_facts_spans_match_whole_module_positions(source: str) -> None:
    assert "Span(line=" in _spans(source, True)
    assert _spans(source, True) == _spans(source, False)


def test_each_placed_node_has_libcst_position() -> None:
    module = cst.parse_module(REPEATED)
    placed = StatementPositions.build(module, REPEATED, list(range(len(module.body))))
    assert placed is not None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    expected = wrapper.resolve(PositionProvider)
    checked = 0
    for node, rng in expected.items():
        if node in placed:
            ours = placed[node]
            assert (ours.start.line, ours.start.column, ours.end.line, ours.end.column) == (
                rng.start.line, rng.start.column, rng.end.line, rng.end.column,
            ), type(node).__name__
            checked += 1
    assert checked > 50
