"""Build a project model from a small project written to a temporary directory."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from conftest import write_project
from joblint.facts import extract
from joblint.project import Project, build
from joblint.source import module_name


def project_of(root: Path, files: dict[str, str]) -> Project:
    """The project a run over `files` builds: each file's facts as the pipeline extracts them."""
    write_project(root, files)
    facts = []
    for name in files:
        path = root / name
        text = path.read_text(encoding="utf-8")
        module, is_package = module_name(path)
        facts.append(extract(cst.parse_module(text), name, module, is_package, text).stripped())
    return build(facts)


@pytest.fixture
def built(tmp_path: Path):
    """`built({"jobs.py": "..."})` -> the Project joblint builds for those files."""
    return lambda files, root=None: project_of(root or tmp_path, files)
