"""Every rule document's examples are tests.

- `## Example`: each line marked `# expect: CODE` is reported with that code, and nothing else is
  (only the document's rule is enabled).
- `## Use instead`: nothing is reported.
- Rules with a fix: fixing the example (unsafe fixes included) gives exactly the "Use instead"
  code, marker comments aside.

An example may span several files: a code block whose first line is `# file: PATH` is written to
PATH (otherwise to `example.py`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import lint, write_project
from joblint import rule_docs
from joblint.fix import fix_until_stable
from joblint.rules import all_meta

BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.DOTALL)
MARK = re.compile(r"\s*# expect: ([A-Z]+[0-9]+(?:,\s*[A-Z]+[0-9]+)*)\s*$")
FILE = re.compile(r"^# file: (\S+)\n")

DOCS = rule_docs.all_paths()


def blocks(section: str) -> dict[str, str]:
    files = {}
    for _lang, body in BLOCK.findall(section):
        match = FILE.match(body)
        name = match.group(1) if match else "example.py"
        files[name] = body[match.end():] if match else body
    return files


def expected(files: dict[str, str]) -> set[tuple[str, int, str]]:
    marks = set()
    for name, body in files.items():
        for number, line in enumerate(body.splitlines(), 1):
            match = MARK.search(line)
            if match:
                marks |= {(name, number, code.strip()) for code in match.group(1).split(",")}
    return marks


def unmarked(text: str) -> str:
    return "\n".join(MARK.sub("", line) for line in text.splitlines()) + "\n"


def code_of(doc: Path) -> str:
    return doc.name.split("-", 1)[0]


def test_every_rule_has_a_document():
    documented = {code_of(d) for d in DOCS}
    assert set(all_meta()) <= documented
    assert documented <= set(all_meta()), "a document for a rule that does not exist"


@pytest.mark.parametrize("doc", DOCS, ids=[d.stem for d in DOCS])
def test_document_shape(doc: Path):
    meta = all_meta()[code_of(doc)]
    text = doc.read_text(encoding="utf-8")
    assert text.startswith(f"# {meta.code} {meta.name}\n")
    sections = rule_docs.sections(text)
    for required in ("What it does", "Why it matters", "Options", "References"):
        assert required in sections, f"{doc.name} lacks ## {required}"
    assert ("## Fix" in text) == (meta.fix is not None), "a Fix section exactly when the rule has a fix"
    fix_label = meta.fix.value if meta.fix else "none"
    assert f"**Severity**: {meta.severity.value} · **Fix**: {fix_label}" in text


EXAMPLES = [d for d in DOCS if "## Example" in d.read_text(encoding="utf-8")]


@pytest.mark.parametrize("doc", EXAMPLES, ids=[d.stem for d in EXAMPLES])
def test_examples(doc: Path, tmp_path: Path):
    code = code_of(doc)
    sections = rule_docs.sections(doc.read_text(encoding="utf-8"))
    bad, good = blocks(sections["Example"]), blocks(sections["Use instead"])
    assert expected(bad), "the example marks no line with # expect: CODE"

    write_project(tmp_path / "bad", bad)
    found = {(f.path, f.span.line, f.code) for f in lint(tmp_path / "bad", [code])}
    assert found == expected(bad)

    write_project(tmp_path / "good", good)
    assert lint(tmp_path / "good", [code]) == []

    if all_meta()[code].fix is None:
        return
    root = tmp_path / "bad"
    outcome = fix_until_stable(
        {name: root / name for name in bad}, lambda o: lint(root, [code], overrides=o), unsafe=True
    )
    assert outcome.changed(), "the rule has a fix but fixing the example changes nothing"
    for name, (_, text) in outcome.changed().items():
        assert unmarked(text) == unmarked(good[name]), f"fixing {name} does not give the 'Use instead' code"
