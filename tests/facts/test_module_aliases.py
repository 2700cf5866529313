"""A module-level `Name = <imported name>` is an alias, as an import would be, when nothing else
binds the name at module level."""

from __future__ import annotations

import pickle
import textwrap

import libcst as cst

from joblint.facts import extract


def imports_of(source: str) -> dict[str, str]:
    facts = extract(cst.parse_module(textwrap.dedent(source)), "proj/celery.py", "proj.celery", False)
    assert pickle.loads(pickle.dumps(facts)) == facts  # facts stay plain data
    return facts.imports


def test_rebinding_of_an_imported_name_is_an_alias():
    found = imports_of(
        """
        import celery
        from celery import schedules

        Celery = celery.Celery
        Crontab = schedules.crontab
        App = Celery
        LIMIT = 30
        """
    )
    assert found["Celery"] == "celery.Celery"
    assert found["Crontab"] == "celery.schedules.crontab"
    assert found["App"] == "celery.Celery"
    assert "LIMIT" not in found


def test_name_bound_twice_at_module_level_is_no_alias():
    found = imports_of(
        """
        import celery
        from proj import custom

        Celery = celery.Celery
        if custom.ENABLED:
            Celery = custom.Wrapper
        Task = celery.Task
        for Task in custom.TASKS:
            pass
        Beat = celery.beat
        def Beat():
            pass
        Worker = celery.Worker
        try:
            pass
        except ImportError as Worker:
            pass
        Group = celery.group
        with custom.ctx() as (a, Group):
            pass
        """
    )
    assert not {"Celery", "Task", "Beat", "Worker", "Group"} & set(found)


def test_star_import_may_rebind_any_name():
    found = imports_of(
        """
        import celery
        from proj.defaults import *

        Celery = celery.Celery
        """
    )
    assert "Celery" not in found


def test_app_built_through_a_rebound_class_is_an_app(project):
    source = """
    import celery

    Celery = celery.Celery
    app = Celery("proj", broker="redis://localhost:6379/0")


    @app.task
    def send_mail(user_id):
        ...
    """
    assert project({"proj/__init__.py": "", "proj/celery.py": source}, select=["CEL102"]) == [
        ("proj/celery.py", 4, "CEL102")
    ]
    twice = source.replace('app = ', 'if celery.VERSION:\n        Celery = object\n    app = ')
    assert project({"proj/__init__.py": "", "proj/celery.py": twice}, select=["CEL102"]) == []
