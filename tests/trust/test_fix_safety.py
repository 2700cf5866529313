"""--fix never loses a byte: it writes parseable, idempotent fixes, only where asked, or nothing.

The fixable rules' document examples are the seed; hypothesis varies what a real file varies
(line endings, BOM, a latin-1 coding cookie, tabs, code around the example, a final newline).
"""

from __future__ import annotations

import errno
import os
import stat
from collections import Counter
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import lint
from joblint import cli, rule_docs
from joblint import fix as fix_mod
from joblint.fix import FixResult, fix_until_stable, wanted, write_all
from joblint.rules import all_meta
from joblint.source import Source
from test_rule_docs import blocks, unmarked

FIXABLE = sorted(code for code, meta in all_meta().items() if meta.fix is not None)
DOCS = {path.name.split("-", 1)[0]: path for path in rule_docs.all_paths()}

APP = 'from celery import Celery\n\napp = Celery("proj")\napp.conf.update(task_serializer="pickle")\n'
FIXED_APP = APP.replace('"pickle"', '"json"')


def example(code: str) -> tuple[dict[str, str], dict[str, str]]:
    """The rule document's `Example` and `Use instead` files, marker comments removed."""
    sections = rule_docs.sections(DOCS[code].read_text(encoding="utf-8"))
    bad, good = blocks(sections["Example"]), blocks(sections.get("Use instead", ""))
    return {n: unmarked(t) for n, t in bad.items()}, {n: unmarked(t) for n, t in good.items()}


# -- what varies between real files ------------------------------------------------------------

UNRELATED = [
    "import os\n",
    "# a comment with no code\n",
    "X = [1, 2, 3]\n",
    "def helper(value):\n    return value * 2\n",
    "class Plain:\n    attribute = 'text'\n",
    "\n\n",
]

variants = st.fixed_dictionaries(
    {
        "newline": st.sampled_from(["\n", "\r\n", "\r"]),
        "bom": st.booleans(),
        "latin1": st.booleans(),
        "tabs": st.booleans(),
        "before": st.lists(st.sampled_from(UNRELATED), max_size=3),
        "after": st.lists(st.sampled_from(UNRELATED), max_size=3),
        "final_newline": st.booleans(),
    }
)


def vary(text: str, v: dict) -> bytes:
    if v["tabs"]:  # indentation by tabs, one per four spaces
        text = "".join(_tabs(line) for line in text.splitlines(keepends=True))
    text = "".join(v["before"]) + text + "".join(v["after"])
    if not v["final_newline"]:
        text = text.removesuffix("\n")
    if v["latin1"]:
        text = "# -*- coding: latin-1 -*-\n# café crème\n" + text
    text = text.replace("\n", v["newline"])
    data = text.encode("latin-1" if v["latin1"] else "utf-8")
    return (b"\xef\xbb\xbf" + data) if v["bom"] and not v["latin1"] else data


def _tabs(line: str) -> str:
    stripped = line.lstrip(" ")
    indent = len(line) - len(stripped)
    return "\t" * (indent // 4) + " " * (indent % 4) + stripped


def snapshot(path: Path) -> tuple[bytes, int, int, int]:
    info = path.stat()
    return path.read_bytes(), stat.S_IMODE(info.st_mode), info.st_ino, info.st_mtime_ns


def write_tree(root: Path, files: dict[str, bytes], mode: int = 0o640) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(mode)


def fix_once(root: Path, names: list[str], select: str = "ALL") -> FixResult:
    outcome = fix_until_stable({n: root / n for n in names}, lambda o: lint(root, [select], overrides=o), unsafe=True)
    assert write_all(outcome, {n: root / n for n in names}) == []
    return outcome


def unfixable(findings) -> Counter:  # type: ignore[no-untyped-def]
    return Counter((f.path, f.code, f.message) for f in findings if not wanted(f.fix, unsafe=True))


# -- properties over every fixable rule --------------------------------------------------------


@pytest.mark.parametrize("code", FIXABLE)
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(v=variants)
def test_fixes_parse_are_idempotent_and_touch_nothing_else(tmp_path_factory, code, v):
    root = tmp_path_factory.mktemp(code)
    bad, _ = example(code)
    files = {name: vary(text, v) for name, text in bad.items()}
    # Files with nothing to fix, in every shape: they must come out byte for byte as they went in.
    bystanders = {
        "untouched/crlf.py": "import os\r\nVALUE = 1\r\n".encode(),
        "untouched/latin1.py": "# -*- coding: latin-1 -*-\n# déjà vu\nNAME = 'é'\n".encode("latin-1"),
        "untouched/bom.py": b"\xef\xbb\xbfimport sys\n",
        "untouched/syntax_error.py": b"def broken(:\n    pass\n",
    }
    write_tree(root, {**files, **bystanders})
    (root / "untouched" / "crlf.py").chmod(0o755)
    before = {name: snapshot(root / name) for name in bystanders}
    unfixable_before = unfixable(lint(root, ["ALL"]))

    outcome = fix_once(root, list(files))

    assert outcome.failures == []
    for name, text in outcome.changed().items():
        cst.parse_module(text[1])  # the fixed source parses ...
        compile(text[1], name, "exec")  # ... for Python too
    for name, data in files.items():
        path = root / name
        written = path.read_bytes()
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
        assert written.startswith(b"\xef\xbb\xbf") == data.startswith(b"\xef\xbb\xbf")
        source = Source.decode(written)
        assert source.encoding == Source.decode(data).encoding
        if v["newline"] == "\n":
            assert "\r" not in source.text
        if v["newline"] == "\r":
            assert "\n" not in source.text
        if v["newline"] == "\r\n":
            assert "\n" not in source.text.replace("\r\n", "")
    for name, snap in before.items():
        assert snapshot(root / name) == snap, f"{name} was rewritten"
    assert unfixable(lint(root, ["ALL"])) == unfixable_before

    again = fix_until_stable({n: root / n for n in files}, lambda o: lint(root, ["ALL"], overrides=o), unsafe=True)
    assert again.changed() == {}, "fixing twice changes more than fixing once"


@pytest.mark.parametrize("code", FIXABLE)
def test_fixing_the_example_gives_the_use_instead_code_in_any_line_ending(tmp_path, code):
    bad, good = example(code)
    v = {
        "newline": "\r\n", "bom": True, "latin1": False, "tabs": False, "before": [], "after": [], "final_newline": True
    }
    write_tree(tmp_path, {name: vary(text, v) for name, text in bad.items()})
    outcome = fix_once(tmp_path, list(bad), select=code)
    for name, (_, text) in outcome.changed().items():
        assert text.replace("\r\n", "\n") == good[name]
        assert (tmp_path / name).read_bytes() == b"\xef\xbb\xbf" + text.encode()


# -- failures at the write step ----------------------------------------------------------------


def _enospc(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


_fdopen = os.fdopen


class FullDisk:
    """A file object whose writes fail half-way, as on a full disk."""

    def __init__(self, fd: int, mode: str) -> None:
        self.handle = _fdopen(fd, mode)

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc) -> None:  # type: ignore[no-untyped-def]
        self.handle.close()

    def write(self, data: bytes) -> int:
        self.handle.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize(
    "where, patch",
    [
        ("rename", lambda m: m.setattr(fix_mod.os, "replace", _enospc)),
        ("write", lambda m: m.setattr(fix_mod.os, "fdopen", FullDisk)),
        ("temporary file", lambda m: m.setattr(fix_mod.tempfile, "mkstemp", _enospc)),
        ("mode", lambda m: m.setattr(fix_mod.os, "chmod", _enospc)),
    ],
)
def test_a_failed_write_leaves_the_original_and_is_reported(tmp_path, monkeypatch, capsys, where, patch):
    (tmp_path / "app.py").write_bytes(APP.encode())
    (tmp_path / "other.py").write_bytes(APP.replace("\n", "\r\n").encode())
    before = {name: snapshot(tmp_path / name) for name in ("app.py", "other.py")}
    monkeypatch.chdir(tmp_path)
    patch(monkeypatch)
    code = cli.main(["check", "--select", "CEL101", "--fix", "--unsafe-fixes", "--output-format", "concise", "."])
    err = capsys.readouterr().err
    assert code == 2
    assert "joblint: app.py: not fixed: cannot write: No space left on device" in err
    assert "joblint: other.py: not fixed: cannot write: No space left on device" in err
    assert {name: snapshot(tmp_path / name) for name in before} == before
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != ".joblint_cache")  # the run's cache, by design
    assert left == ["app.py", "other.py"], "a temporary file was left behind"


def test_a_file_edited_during_the_run_is_not_overwritten(tmp_path):
    path = tmp_path / "app.py"
    path.write_bytes(APP.encode())
    outcome = fix_until_stable({"app.py": path}, lambda o: lint(tmp_path, ["CEL101"], overrides=o), unsafe=True)
    path.write_bytes(APP.encode() + b"# the user's new line\n")
    assert write_all(outcome, {"app.py": path}) == [
        "app.py: not fixed: the file changed while joblint ran; run it again"
    ]
    assert path.read_bytes() == APP.encode() + b"# the user's new line\n"


def test_a_fix_the_file_encoding_cannot_hold_is_reported(tmp_path):
    path = tmp_path / "app.py"
    original = "# -*- coding: latin-1 -*-\nX = 'é'\n"
    path.write_bytes(original.encode("latin-1"))
    outcome = FixResult(
        originals={"app.py": Source.decode(path.read_bytes())}, texts={"app.py": original + "Y = '€'\n"}
    )
    [failure] = write_all(outcome, {"app.py": path})
    assert failure.startswith("app.py: not fixed: the fixed text cannot be encoded as iso-8859-1")
    assert path.read_bytes() == original.encode("latin-1")


# -- where --fix writes ------------------------------------------------------------------------


def test_fix_writes_only_below_the_given_paths(tmp_path, monkeypatch, capsys):
    for name in ("a/app.py", "b/app.py", "app.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(APP.encode())
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--select", "CEL101", "--fix", "--unsafe-fixes", "a"]) == 0
    capsys.readouterr()
    assert (tmp_path / "a/app.py").read_bytes() == FIXED_APP.encode()
    assert (tmp_path / "b/app.py").read_bytes() == APP.encode()
    assert (tmp_path / "app.py").read_bytes() == APP.encode()


def test_fix_never_writes_through_a_symlink_out_of_the_project(tmp_path, monkeypatch, capsys):
    outside, project = tmp_path / "outside", tmp_path / "project"
    outside.mkdir()
    project.mkdir()
    (outside / "shared.py").write_bytes(APP.encode())
    (project / "pyproject.toml").write_text("[tool.joblint]\n", encoding="utf-8")
    (project / "linked.py").symlink_to(outside / "shared.py")
    (project / "own.py").write_bytes(APP.encode())
    monkeypatch.chdir(project)
    code = cli.main(["check", "--select", "CEL101", "--fix", "--unsafe-fixes", "--output-format", "concise", "."])
    out, err = capsys.readouterr()
    assert (outside / "shared.py").read_bytes() == APP.encode()
    assert (project / "linked.py").is_symlink() and os.readlink(project / "linked.py") == str(outside / "shared.py")
    assert (project / "own.py").read_bytes() == FIXED_APP.encode()
    # A link out of the project is not even read (its target's lines would reach the report).
    assert "joblint: warning: linked.py: not read: a symbolic link to a file outside the repository" in err
    assert code == 0 and "linked.py" not in out


def test_a_symlink_inside_the_project_stays_a_symlink(tmp_path, monkeypatch, capsys):
    (tmp_path / "real.py").write_bytes(APP.encode())
    (tmp_path / "alias.py").symlink_to("real.py")
    monkeypatch.chdir(tmp_path)
    cli.main(["check", "--select", "CEL101", "--fix", "--unsafe-fixes", "."])
    capsys.readouterr()
    assert (tmp_path / "real.py").read_bytes() == FIXED_APP.encode()
    assert (tmp_path / "alias.py").is_symlink(), "the link was replaced by a copy"
