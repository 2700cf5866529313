"""The framework table (frameworks.py) is the one place generic code learns about a framework:
every rule code has a row, every row's prefix is suppressible, selectable and reported under its
names, its packages are what discovery skips, and its collectors and model exist."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

from joblint import audit, config, discover, frameworks, suppress
from joblint.facts import GROUPS
from joblint.findings import Severity
from joblint.rules import BUILTIN, REGISTRY, RuleMeta, all_meta, all_rules, rule

ROWS = frameworks.FRAMEWORKS


def test_every_rule_code_has_a_row():
    missing = sorted(code for code in all_meta() if frameworks.of_code(code) is None)
    assert missing == []


def test_every_rule_category_is_named_by_its_row():
    for code, meta in all_meta().items():
        row = frameworks.of_code(code)
        assert row is not None and meta.category in row.categories, code
        assert meta.framework == row.key
        assert audit.category_name(meta.category) == row.categories[meta.category]
        assert audit.explain(meta).framework == row.name


def test_rows_are_distinct_and_well_formed():
    assert len({r.key for r in ROWS}) == len({r.prefix for r in ROWS}) == len({r.name for r in ROWS}) == len(ROWS)
    for row in ROWS:
        assert row.prefix.isalpha() and row.prefix.isupper(), row.prefix
        # A code is owned by one row only: no prefix starts another.
        assert not any(other is not row and other.prefix.startswith(row.prefix) for other in ROWS), row.prefix
        assert row.categories, row.key
        for category, title in row.categories.items():
            assert row.owns(category + "00") and title, category
    assert frameworks.JOBLINT in {r.key for r in ROWS}
    assert frameworks.OTHER not in {r.key for r in ROWS}


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.key)
def test_every_prefix_is_suppressible_with_noqa(row):
    code = f"{row.prefix}123"
    assert row.prefix in suppress.CODE_PREFIXES
    for comment in (f"# noqa: {code}", f"# noqa: E501, {code}", f"# joblint: ignore[{code}]"):
        found = suppress.scan(f"x = 1  {comment}\n")
        assert found is not None and found.suppresses(code, 1), comment
    # Other linters' codes alone leave the file unsuppressed.
    assert suppress.scan("x = 1  # noqa: E501\n") is None


def test_suppression_prefixes_are_the_tables():
    assert set(suppress.CODE_PREFIXES) == {r.prefix for r in ROWS}


@pytest.mark.parametrize("row", [r for r in ROWS if r.key != frameworks.JOBLINT], ids=lambda r: r.key)
def test_every_prefix_selects_its_rules(row):
    metas = all_meta()
    selected = config.select(config.Settings(), metas, "test", [row.prefix])
    own = {code for code in metas if row.owns(code) and code not in BUILTIN}
    assert own and own <= selected


def test_rule_metadata_names_the_row():
    assert RuleMeta("CEL101", "x", Severity.INFO, "x").framework == "celery"
    assert RuleMeta("ARQ101", "x", Severity.INFO, "x").framework == "arq"
    assert RuleMeta("TMP201", "x", Severity.INFO, "x").framework == "temporal"
    assert BUILTIN["JL001"].framework == "joblint"
    assert RuleMeta("XYZ101", "x", Severity.INFO, "x").framework == frameworks.OTHER
    assert frameworks.display_name(frameworks.OTHER) == "Other"
    assert audit.category_name("XYZ1") == "XYZ1"


def test_a_rule_without_a_row_cannot_register():
    with pytest.raises(RuntimeError, match="XYZ901"):
        rule(code="XYZ901", name="no-row", severity=Severity.INFO, summary="x", scope="file")
    assert "XYZ901" not in REGISTRY


def test_discovery_skips_exactly_the_tables_packages():
    assert discover.FRAMEWORK_PACKAGES == {name: m for r in ROWS for name, m in r.packages.items()}
    assert {"celery", "kombu", "arq", "temporalio"} <= set(discover.FRAMEWORK_PACKAGES)


@pytest.mark.parametrize(
    "package, markers", [(name, m) for r in ROWS for name, m in r.packages.items()], ids=lambda v: str(v)[:12]
)
def test_each_package_is_recognised_by_its_modules(tmp_path: Path, package, markers):
    top = tmp_path / "top" / package
    nested = tmp_path / "nested" / "app" / package
    for directory in (top, nested):
        directory.mkdir(parents=True)
        for name in ("__init__", *markers):
            (directory / f"{name}.py").write_text("")
    (tmp_path / "nested" / "app" / "__init__.py").write_text("")
    assert discover.is_framework_package(str(top))
    assert not discover.is_framework_package(str(nested))  # `app.arq`: a project's module
    (top / f"{sorted(markers)[0]}.py").unlink()
    assert not discover.is_framework_package(str(top))  # named like it, but not the framework


def test_fact_collectors_resolve_and_own_distinct_groups():
    owned = [group for r in ROWS for group in r.facts]
    assert len(owned) == len(set(owned))
    assert set(owned) <= set(GROUPS)
    for row in ROWS:
        for group, ref in row.facts.items():
            module, _, name = ref.partition(":")
            assert module.startswith("joblint.facts.") and name, ref
            assert isinstance(getattr(importlib.import_module(module), name), type), ref


def test_models_exist():
    for row in ROWS:
        if row.model is not None:
            assert importlib.util.find_spec(row.model) is not None, row.model
    assert all(r.model for r in ROWS if r.key != frameworks.JOBLINT)


def test_every_framework_has_rules():
    rules = all_rules()
    for row in ROWS:
        if row.key != frameworks.JOBLINT:
            assert any(row.owns(code) for code in rules), row.key


def test_the_table_imports_nothing_of_joblints():
    """So facts, rules and anything else may read it without a circle."""
    tree = ast.parse(Path(frameworks.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith("joblint"), ast.dump(node)
        elif isinstance(node, ast.Import):
            assert not any(alias.name.startswith("joblint") for alias in node.names), ast.dump(node)
