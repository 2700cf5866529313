"""Facts of `**mapping` arguments: task decorators, dispatch calls and signatures, and the module-level
literal dicts they may name."""

from __future__ import annotations

import textwrap

import libcst as cst

from joblint.facts import extract
from joblint.facts.tasks import DictEntry, Spread
from joblint.facts.values import UNKNOWN


def facts_of(source: str, path: str = "proj/tasks.py", module: str = "proj.tasks"):
    return extract(cst.parse_module(textwrap.dedent(source)), path, module, False)


def test_decorator_spreads_are_named_qualified_or_unresolvable():
    facts = facts_of(
        """
        from celery import shared_task
        from proj import conf
        from proj.conf import RETRY

        LOCAL = {"max_retries": 3}

        @shared_task(**RETRY)
        def imported(x):
            pass

        @shared_task(queue="q", **conf.OTHER)
        def through_module(x):
            pass

        @shared_task(**LOCAL)
        def local(x):
            pass

        @shared_task(**get_options(), max_retries=2)
        def called(x):
            pass

        def factory(LOCAL):
            @shared_task(**LOCAL)
            def inner(x):
                pass
        """
    )
    tasks = {t.function: t for t in facts.tasks.tasks}
    assert [(s.name, s.imported) for s in tasks["imported"].spreads] == [("proj.conf.RETRY", True)]
    assert [(s.name, s.imported) for s in tasks["through_module"].spreads] == [("proj.conf.OTHER", True)]
    assert [(s.name, s.imported) for s in tasks["local"].spreads] == [("LOCAL", False)]
    assert [s.name for s in tasks["called"].spreads] == [None]
    assert [s.name for s in tasks["inner"].spreads] == [None]  # the parameter, not the module's dict
    called = tasks["called"]
    assert called.open_options and called.option("max_retries").data == 2
    unknown = called.option("retry_backoff")
    assert unknown is not None and unknown.data is UNKNOWN and unknown.span.line == 20
    assert tasks["through_module"].option("queue").data == "q"
    assert facts_of("from celery import shared_task\n@shared_task(max_retries=1)\ndef f(): pass\n").tasks.tasks[
        0
    ].option("retry_backoff") is None


def test_dispatch_spreads_are_execution_options_only_where_they_are_options():
    facts = facts_of(
        """
        from proj.tasks import add

        def send(options, kwargs):
            add.apply_async((1,), **options)
            add.delay(1, **kwargs)
            add.s(1, **kwargs)
            add.signature((1,), **options)
            add.s(1).set(**options)
        """
    )
    by_method = {d.method: d for d in facts.tasks.dispatches}
    assert [s.name for s in by_method["apply_async"].spreads] == [None]
    assert by_method["apply_async"].option("queue").data is UNKNOWN
    assert by_method["delay"].spreads == () and by_method["delay"].option("queue") is None
    assert by_method["s"].spreads == ()
    assert len(by_method["signature"].spreads) == 1 and len(by_method["set"].spreads) == 1


def test_signature_refs_in_a_canvas_keep_their_spreads():
    facts = facts_of(
        """
        from celery import chain
        from proj.tasks import add

        def run(opts):
            chain(add.s(1).set(**opts), add.s())()
        """
    )
    (canvas,) = facts.tasks.canvases
    first = canvas.steps[0][0]
    assert [s.name for s in first.spreads] == [None]
    assert first.option("ignore_result").data is UNKNOWN
    assert canvas.steps[1][0].option("ignore_result") is None


def test_module_level_literal_dicts_are_recorded_once_bound():
    facts = facts_of(
        """
        from requests import RequestException
        from proj import base

        PLAIN = {"retry_backoff": True, "autoretry_for": (RequestException,)}
        CALLED = dict(base.DEFAULTS, max_retries=None)
        MERGED = {**PLAIN, "max_retries": 3}
        ALIAS = PLAIN
        WRAPPED = get_setting("WRAPPED", {"queue": "low"})
        LOGGING = {"version": 1}
        NUMBERED = {1: 2}
        TWICE = {"queue": "a"}
        TWICE = {"queue": "b"}
        """,
        path="proj/conf.py",
        module="proj.conf",
    )
    dicts = {d.name: d for d in facts.tasks.dicts}
    assert set(dicts) == {"PLAIN", "CALLED", "MERGED", "ALIAS", "WRAPPED", "NUMBERED"}
    plain = dicts["PLAIN"].parts
    assert [p.key for p in plain if isinstance(p, DictEntry)] == ["retry_backoff", "autoretry_for"]
    assert plain[1].names == ("requests.RequestException",)
    assert dicts["CALLED"].parts[0] == Spread("proj.base.DEFAULTS", True)
    assert dicts["MERGED"].parts[0] == Spread("PLAIN", False)
    assert dicts["ALIAS"].parts == (Spread("PLAIN", False),)
    assert [p.key for p in dicts["WRAPPED"].parts if isinstance(p, DictEntry)] == ["queue"]
    assert dicts["NUMBERED"].parts == (Spread(None),)  # a key no keyword can have: unresolvable
    assert facts.tasks.spread_names() == {"proj.base.DEFAULTS"}
