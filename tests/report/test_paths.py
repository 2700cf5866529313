from pathlib import Path

from joblint.report import ReportContext
from joblint.report.paths import repository_path
from joblint.source import repository_root


def test_repository_root_is_the_nearest_git_directory_or_worktree_file(tmp_path):
    (tmp_path / "repo" / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    assert repository_root(tmp_path / "repo" / "src" / "pkg") == (tmp_path / "repo").resolve()
    (tmp_path / "worktree" / "a").mkdir(parents=True)
    (tmp_path / "worktree" / ".git").write_text("gitdir: /elsewhere\n")
    assert repository_root(tmp_path / "worktree" / "a") == (tmp_path / "worktree").resolve()


def test_repository_path_from_a_subdirectory_and_outside_the_repository(tmp_path):
    context = ReportContext(extra={"cwd": str(tmp_path / "svc"), "repository_root": str(tmp_path)})
    assert repository_path("pkg/app.py", context) == "svc/pkg/app.py"
    assert repository_path("../../elsewhere/app.py", context) == "../../elsewhere/app.py"
    assert Path(repository_path("app.py", ReportContext())).name == "app.py"
