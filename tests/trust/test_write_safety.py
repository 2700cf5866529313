"""What joblint writes is whole or not at all, and what it did not write it does not claim.

`--add-noqa` never overwrites an edit made while it runs, nor puts a comment on a line that moved;
`--write-baseline` on a full disk leaves the old baseline whole; `--fix` that could not write a
file says so and counts only the fixes that reached the disk. Failures are injected in-process
(a full disk, an edit at the worst moment), through the CLI's main function.
"""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
from pathlib import Path

from joblint import cli
from joblint import engine as engine_mod
from joblint import fix as fix_mod
from joblint import noqa as noqa_mod

APP = 'from celery import Celery\n\napp = Celery("proj")\napp.conf.update(task_serializer="pickle")\n'
FLAGGED = 4  # the line of CEL101 in APP
USERS_EDIT = "".join(f"user_line_{i} = {i}\n" for i in range(500))


def project(tmp_path: Path, monkeypatch, text: str = APP) -> Path:  # type: ignore[no-untyped-def]
    (tmp_path / ".git").mkdir()
    path = tmp_path / "app.py"
    path.write_bytes(text.encode())
    monkeypatch.chdir(tmp_path)
    return path


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name not in (".git", ".joblint_cache"))


# -- --add-noqa ----------------------------------------------------------------------------------


def test_add_noqa_keeps_an_edit_made_while_it_runs(tmp_path, monkeypatch, capsys):
    path = project(tmp_path, monkeypatch)
    real_scan = noqa_mod.scan

    def scan_while_the_user_appends(text):  # type: ignore[no-untyped-def]
        with path.open("a", encoding="utf-8") as out:  # between joblint's read and its write
            out.write(USERS_EDIT)
        return real_scan(text)

    monkeypatch.setattr(noqa_mod, "scan", scan_while_the_user_appends)
    code = cli.main(["check", "--no-cache", "--add-noqa", "."])
    err = capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == APP + USERS_EDIT
    assert code == 2, err
    assert "joblint: app.py: no noqa added: the file changed while joblint ran; run it again" in err.splitlines()
    assert leftovers(tmp_path) == ["app.py"]


def test_add_noqa_does_not_comment_a_line_that_moved(tmp_path, monkeypatch, capsys):
    path = project(tmp_path, monkeypatch)
    real_read = noqa_mod.read_regular
    inserted = "import os\nimport sys\n"

    def read_after_the_user_inserts(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not path.read_text(encoding="utf-8").startswith(inserted):  # after the analysis, before noqa's read
            path.write_text(inserted + APP, encoding="utf-8")
        return real_read(file, *args, **kwargs)

    monkeypatch.setattr(noqa_mod, "read_regular", read_after_the_user_inserts)
    code = cli.main(["check", "--no-cache", "--add-noqa", "."])
    err = capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == inserted + APP  # nothing on line 4, now `app = Celery(...)`
    assert code == 2, err
    assert "joblint: app.py: no noqa added: the file changed while joblint ran; run it again" in err.splitlines()


def test_add_noqa_leaves_trailing_whitespace_on_lines_it_does_not_touch(tmp_path, monkeypatch, capsys):
    text = APP.replace("Celery\n", "Celery  \t\n").replace('("proj")\n', '("proj")   \r\n') + "x = 1 \n"
    path = project(tmp_path, monkeypatch, text)
    assert cli.main(["check", "--no-cache", "--add-noqa", "."]) == 0, capsys.readouterr().err
    expected = text.replace('"pickle")\n', '"pickle")  # noqa: CEL101\n')
    assert path.read_bytes() == expected.encode()


# -- --write-baseline ----------------------------------------------------------------------------

_fdopen, _open = os.fdopen, io.open


class FullDisk:
    """A file object whose writes fail half-way, as on a full disk."""

    def __init__(self, handle) -> None:  # type: ignore[no-untyped-def]
        self.handle = handle

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc) -> None:  # type: ignore[no-untyped-def]
        self.handle.close()

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.handle, name)

    def write(self, data: bytes) -> int:
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def full_disk(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every file opened for writing, however it is opened, fills the disk half-way through."""

    def fdopen(fd, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
        handle = _fdopen(fd, mode, *args, **kwargs)
        return FullDisk(handle) if set(mode) & set("wax+") else handle

    def open_(file, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
        handle = _open(file, mode, *args, **kwargs)
        return FullDisk(handle) if set(mode) & set("wax+") else handle

    monkeypatch.setattr(os, "fdopen", fdopen)
    monkeypatch.setattr(io, "open", open_)
    monkeypatch.setattr(builtins, "open", open_)


def test_write_baseline_on_a_full_disk_keeps_the_old_baseline_whole(tmp_path, monkeypatch, capsys):
    project(tmp_path, monkeypatch)
    (tmp_path / "more.py").write_text(APP, encoding="utf-8")
    baseline = tmp_path / ".joblint-baseline.json"
    assert cli.main(["check", "--no-cache", "--write-baseline", baseline.name, "app.py"]) == 0
    old = baseline.read_bytes()
    capsys.readouterr()

    full_disk(monkeypatch)
    code = cli.main(["check", "--no-cache", "--write-baseline", baseline.name, "."])
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == [
        f"joblint: error: {baseline.name}: cannot write baseline: No space left on device"
    ]
    assert baseline.read_bytes() == old
    assert json.loads(old)["findings"]
    assert leftovers(tmp_path) == [".joblint-baseline.json", "app.py", "more.py"]
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--no-cache", "--baseline", baseline.name, "app.py"]) == 0  # still usable


# -- --fix that could not write ------------------------------------------------------------------


def _enospc(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


FIX = ["check", "--no-cache", "--fix", "--unsafe-fixes", "--select", "CEL101", "--output-format", "concise", "."]


def test_a_fix_that_could_not_be_written_is_not_claimed(tmp_path, monkeypatch, capsys):
    path = project(tmp_path, monkeypatch)
    monkeypatch.setattr(fix_mod, "write_atomic", _enospc)
    code = cli.main(FIX)
    captured = capsys.readouterr()
    assert code == 2
    assert path.read_text(encoding="utf-8") == APP
    assert "Fixed" not in captured.err and "All checks passed" not in captured.err
    assert "joblint: app.py: not fixed: cannot write: No space left on device" in captured.err
    assert "Not written: the fixes to 1 file" in captured.err
    assert f"app.py:{FLAGGED}:" in captured.out  # the finding is still in the file, and reported


def test_a_fix_over_an_edit_made_during_the_run_is_not_claimed(tmp_path, monkeypatch, capsys):
    path = project(tmp_path, monkeypatch)
    real_parses = fix_mod.parses

    def parses_while_the_user_edits(text):  # type: ignore[no-untyped-def]
        if not path.read_text(encoding="utf-8").endswith("# mine\n"):
            with path.open("a", encoding="utf-8") as out:
                out.write("# mine\n")
        return real_parses(text)

    monkeypatch.setattr(fix_mod, "parses", parses_while_the_user_edits)
    code = cli.main(FIX)
    err = capsys.readouterr().err
    assert code == 2
    assert path.read_text(encoding="utf-8") == APP + "# mine\n"
    assert "joblint: app.py: not fixed: the file changed while joblint ran; run it again" in err
    assert "Fixed" not in err and "All checks passed" not in err


def test_only_the_fixes_written_are_counted(tmp_path, monkeypatch, capsys):
    path = project(tmp_path, monkeypatch)
    other = tmp_path / "other.py"
    other.write_text(APP.replace('"proj"', '"other"') + 'app.conf.accept_content = ["pickle"]\n', encoding="utf-8")
    real_write = fix_mod.write_atomic

    def fail_for_other(target, data):  # type: ignore[no-untyped-def]
        if Path(target).name == "other.py":
            _enospc()
        real_write(target, data)

    monkeypatch.setattr(fix_mod, "write_atomic", fail_for_other)
    code = cli.main(FIX)
    err = capsys.readouterr().err
    assert code == 2
    assert path.read_text(encoding="utf-8") != APP  # app.py was fixed
    assert "Fixed 1 finding." in err, err
    assert "Not written: the fixes to 1 file" in err


def test_a_file_whose_later_round_would_break_counts_no_fixes(tmp_path):
    """Round 1 fixes the file; round 2's fix would break it, so the file is left as read: none of
    its fixes count ("Fixed N" once counted round 1's)."""
    from joblint.findings import Applicability, Edit, Finding, Fix, Severity, Span
    from joblint.fix import fix_until_stable

    path = tmp_path / "app.py"
    path.write_text("a = 1\n", encoding="utf-8")

    def finding(fix: Fix) -> Finding:
        return Finding("CEL999", "test", Severity.WARNING, "app.py", Span(1, 1, 1, 2), "m", fix)

    rename = Fix((Edit(Span(1, 1, 1, 2), "b"),), Applicability.SAFE, "rename")
    breaks = Fix((Edit(Span(1, 5, 1, 6), "("),), Applicability.SAFE, "break")

    def check(texts: dict[str, str]) -> list[Finding]:
        text = texts.get("app.py", "a = 1\n")
        return [finding(rename)] if text.startswith("a") else [finding(breaks)]

    result = fix_until_stable({"app.py": path}, check, unsafe=False)

    assert result.texts == {}
    assert result.applied == 0 and result.applied_in == {}
    assert any("would not parse" in failure for failure in result.failures)


def test_fix_leaves_a_file_whose_lines_moved_after_the_analysis(tmp_path, monkeypatch, capsys):
    """Lines inserted above between the analysis and the fixer's read: the spans point at other
    text, so the file is not fixed (an edit there could land anywhere)."""
    path = project(tmp_path, monkeypatch)
    real_run = engine_mod.run
    calls = []

    def run_then_the_user_inserts(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real_run(*args, **kwargs)
        if not calls:
            path.write_text("import os\nimport sys\n" + APP, encoding="utf-8")
        calls.append(1)
        return result

    monkeypatch.setattr(engine_mod, "run", run_then_the_user_inserts)
    code = cli.main(["check", "--no-cache", "--fix", "--unsafe-fixes", "--select", "CEL101", "."])
    err = capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == "import os\nimport sys\n" + APP
    assert "joblint: app.py: not fixed: the file changed while joblint ran; run it again" in err.splitlines()
    assert code != 0
