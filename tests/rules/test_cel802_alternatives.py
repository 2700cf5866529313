"""CEL802: an inline call that is the other arm of a queued send of the same task (a feature flag,
a broker-down fallback) is deliberate; a plain inline call is still reported."""

from __future__ import annotations

import pytest

TASKS = """
from celery import shared_task

@shared_task
def notify(pk):
    return pk

@shared_task
def audit(pk):
    return pk
"""


def _views(body: str) -> dict[str, str]:
    return {
        "shop/__init__.py": "",
        "shop/tasks.py": TASKS,
        "shop/views.py": "from django.conf import settings\nfrom shop import tasks\n\n\n" + body,
    }


FLAGGED = """
def flagged(request, pk):
    if settings.USE_QUEUE:
        tasks.notify.delay(pk)
    else:
        tasks.notify(pk)
"""
BROKER_DOWN = """
def broker_down(request, pk):
    try:
        tasks.notify.apply_async((pk,), queue="mail")
    except OSError:
        tasks.notify.run(pk)
"""
ELIF = """
def elif_chain(request, pk):
    if settings.SYNC:
        tasks.notify(pk)
    elif settings.USE_QUEUE:
        tasks.notify.delay(pk)
"""


@pytest.mark.parametrize("body", [FLAGGED, BROKER_DOWN, ELIF])
def test_inline_call_in_the_other_arm_of_a_send_is_quiet(project, body):
    assert project(_views(body), select=["CEL802"]) == []


def test_plain_inline_calls_are_reported(project):
    found = project(
        _views(
            """
def plain(request, pk):
    tasks.notify(pk)


def other_task_queued(request, pk):
    if settings.USE_QUEUE:
        tasks.audit.delay(pk)
    else:
        tasks.notify(pk)


def no_other_arm(request, pk):
    tasks.notify.delay(pk)
    if settings.ALSO_NOW:
        tasks.notify(pk)
"""
        ),
        select=["CEL802"],
    )
    assert found == [("shop/views.py", 7, "CEL802"), ("shop/views.py", 14, "CEL802"), ("shop/views.py", 20, "CEL802")]
