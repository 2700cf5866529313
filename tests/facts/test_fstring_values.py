"""An f-string without replacement fields is the string it spells: rules read its value, and the
fixes that rewrite a string keep its `f` prefix or are not offered."""

from __future__ import annotations

import libcst as cst
import pytest

from conftest import lint
from joblint.facts.values import UNKNOWN
from joblint.facts.walker import literal, string_source


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ('f"redis://:pw@host:6379/0"', "redis://:pw@host:6379/0"),
        ("F'q'", "q"),
        ('rf"a{{b}}\\d"', "a{b}\\d"),
        ('f"""x\ny"""', "x\ny"),
        ('f"\\u00e9"', "\u00e9"),
        ('"redis://" f"cache"', "redis://cache"),
        ('f"redis://{host}"', UNKNOWN),
        ('f"{{x}}{y!r}"', UNKNOWN),
    ],
)
def test_an_fstring_without_fields_folds_to_its_string(source: str, value: object) -> None:
    folded = literal(cst.parse_expression(source))
    assert folded is UNKNOWN if value is UNKNOWN else folded == value


def test_its_source_keeps_the_prefix() -> None:
    assert string_source(cst.parse_expression('rf"a{{b}}"')) == 'rf"a{{b}}"'
    assert string_source(cst.parse_expression('f"a{b}"')) == ""


def test_cel112_reads_a_password_in_an_fstring_url(project) -> None:
    found = project(
        {
            "proj/settings.py": 'CELERY_BROKER_URL = f"redis://:s3cret@cache:6379/0"\nINSTALLED_APPS = []\n',
            "proj/celery.py": """
                from celery import Celery

                app = Celery("proj")
                app.config_from_object("django.conf:settings", namespace="CELERY")
                app.conf.result_backend = f"redis://:{PASSWORD}@cache:6379/1"
            """,
        },
        select=["CEL112"],
    )
    assert found == [("proj/settings.py", 1, "CEL112")]


def test_a_fix_that_rewrites_the_string_keeps_the_f_prefix(project) -> None:
    found = project(
        {"app.py": 'from celery import Celery\n\napp = Celery("proj")\napp.conf.task_serializer = f"pickle"\n'},
        select=["CEL101"],
    )
    assert found == [("app.py", 4, "CEL101")]
    [finding] = lint(project.root, ["CEL101"])
    assert finding.fix is not None and [e.content for e in finding.fix.edits] == ['f"json"']


def test_a_key_written_as_an_fstring_is_not_renamed_by_a_fix(project) -> None:
    # Rewriting `f"CELERY_ACKS_LATE"` as a bare name would break the dict: no fix is offered.
    found = project(
        {
            "app.py": """
                from celery import Celery

                CONFIG = {f"CELERY_ACKS_LATE": True, "BROKER_URL": "redis://"}
                app = Celery("proj")
                app.config_from_object(CONFIG)
            """,
        },
        select=["CEL108"],
    )
    assert found == [("app.py", 3, "CEL108"), ("app.py", 3, "CEL108")]
    assert all(f.fix is None for f in lint(project.root, ["CEL108"]))
