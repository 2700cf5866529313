"""Result provenance and request handlers: which names hold results, which functions serve requests."""

from __future__ import annotations

import textwrap

import libcst as cst

from joblint.facts import extract


def facts_of(source: str, path: str = "proj/mod.py"):
    return extract(cst.parse_module(textwrap.dedent(source)), path, "proj.mod", False)


def reads(source: str) -> list[tuple[str, str, str | None, bool]]:
    return [(r.method, r.producer, r.target, r.inline) for r in facts_of(source).results.reads]


def test_producers_reach_reads_through_names_and_inline():
    assert reads(
        """
        from celery import chain, chord, group
        from celery.result import AsyncResult, GroupResult

        def f(app, add, tid, xs):
            a = add.delay(1)
            a.get()
            add.apply_async((1,)).wait()
            AsyncResult(tid).ready()
            app.AsyncResult(tid).state
            g = group(add.s(x) for x in xs)
            gr = g()
            gr.join()
            chord([add.s(1)])(add.s()).get()
            chain(add.s(1), add.s(2))().get()
            GroupResult.restore(tid).join_native()
        """
    ) == [
        ("get", "delay", "add", False),
        ("wait", "apply_async", "add", True),
        ("ready", "AsyncResult", None, True),
        ("state", "AsyncResult", None, True),
        ("join", "group", None, False),
        ("get", "chord", None, True),
        ("get", "chain", None, True),
        ("join_native", "GroupResult", None, True),
    ]


def test_everything_else_with_a_get_is_not_a_result():
    assert reads(
        """
        import queue
        import requests
        from contextvars import ContextVar

        def f(d, r, qs, Model, add):
            d.get("k")
            r.get("key")
            requests.get("https://example.com")
            queue.Queue().get(timeout=1)
            ContextVar("v").get()
            Model.objects.get(pk=1)
            eager = add.apply(args=(1,))
            eager.get()
            result = add.delay(1)
            result = {}
            result.get("x")
            ", ".join(["a"])
        """
    ) == []


def test_bindings_are_per_function():
    assert reads(
        """
        def producer(add):
            result = add.delay(1)
            return result

        def consumer(result):
            return result.get()
        """
    ) == []


def test_request_handlers_by_framework():
    django = facts_of(
        """
        from django.views.generic import View
        from rest_framework.viewsets import ModelViewSet

        def index(request):
            pass

        def helper(x):
            pass

        class Page(View):
            def get(self, request):
                pass
            def build(self):
                pass

        class Orders(ModelViewSet):
            def create(self, request):
                pass
        """,
        path="shop/views.py",
    )
    assert [h.qualname for h in django.handlers.handlers] == ["index", "Page.get", "Orders.create"]
    flask = facts_of(
        """
        from flask import Blueprint
        from fastapi import APIRouter

        bp = Blueprint("x", __name__)
        router = APIRouter()
        cache = {}

        @bp.get("/a")
        def a():
            pass

        @router.post("/b")
        async def b():
            pass

        def request_less(request):
            pass
        """,
        path="shop/web.py",
    )
    assert [h.qualname for h in flask.handlers.handlers] == ["a", "b"]
