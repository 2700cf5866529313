"""Task and execution options spread from a mapping (`@shared_task(**RETRY_OPTIONS)`,
`apply_async(**options)`): resolved from the project's literal dicts, or unknown and quiet."""

from __future__ import annotations

CONF = """
from requests.exceptions import RequestException

RETRY_OPTIONS = dict(max_retries=5, retry_backoff=True, retry_jitter=True)
FOREVER = {**RETRY_OPTIONS, "max_retries": None}
"""

APP = """
from celery import Celery

app = Celery("proj", broker="redis://localhost")
"""


def test_backoff_from_a_spread_in_another_module_is_seen(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/conf.py": CONF,
            "proj/tasks.py": """
from celery import shared_task
from requests.exceptions import RequestException

from .conf import RETRY_OPTIONS


@shared_task(autoretry_for=(RequestException,), **RETRY_OPTIONS)
def fetch(url):
    return url


@shared_task(autoretry_for=(RequestException,))
def plain(url):
    return url
""",
        },
        select=["CEL403", "CEL404"],
    )
    assert found == [("proj/tasks.py", 12, "CEL404")]  # only the task without the spread


def test_max_retries_none_in_a_spread_is_reported_at_the_spread(project, tmp_path):
    from conftest import lint

    project(
        {
            "proj/__init__.py": "",
            "proj/conf.py": CONF,
            "proj/tasks.py": """
from celery import shared_task
from requests.exceptions import RequestException

from proj import conf


@shared_task(
    autoretry_for=(RequestException,),
    **conf.FOREVER,
)
def forever(url):
    return url
""",
        },
    )
    findings = [f for f in lint(tmp_path, ["CEL403", "CEL404"])]
    assert [(f.path, f.span.line, f.span.col, f.code) for f in findings] == [("proj/tasks.py", 9, 5, "CEL403")]
    assert "through **FOREVER at proj/conf.py:4" in findings[0].message


def test_an_unresolved_spread_makes_every_unwritten_option_unknown(project):
    tasks = APP + """
from requests.exceptions import RequestException


@app.task(autoretry_for=(RequestException,), acks_late=True, **get_options())
def fetch(url):
    return url
"""
    assert project({"proj/tasks.py": tasks}, select=["CEL103", "CEL105", "CEL403", "CEL404"]) == []


def test_without_the_spread_the_same_task_is_reported(project):
    tasks = APP + """
from requests.exceptions import RequestException


@app.task(autoretry_for=(RequestException,), acks_late=True)
def fetch(url):
    return url
"""
    found = project({"proj/tasks.py": tasks}, select=["CEL103", "CEL105", "CEL403", "CEL404"])
    assert sorted(code for _, _, code in found) == ["CEL103", "CEL105", "CEL404"]


def test_settings_lookups_with_a_literal_default_are_resolved(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/conf.py": """
from django.conf import settings

from .utils import get_setting

WRAPPED = get_setting("WRAPPED", dict(retry_backoff=True, max_retries=None))
FROM_SETTINGS = getattr(settings, "FROM_SETTINGS", {"retry_backoff": True})
BY_GET = settings.get("BY_GET", {"max_retries": 3})
""",
            "proj/tasks.py": """
from celery import shared_task

from .conf import BY_GET, FROM_SETTINGS, WRAPPED


@shared_task(autoretry_for=(IOError,), **WRAPPED)
def wrapped(url):
    return url


@shared_task(autoretry_for=(IOError,), **FROM_SETTINGS)
def from_settings(url):
    return url


@shared_task(autoretry_for=(IOError,), **BY_GET)
def by_get(url):
    return url
""",
        },
        select=["CEL403", "CEL404"],
    )
    assert found == [("proj/tasks.py", 6, "CEL403"), ("proj/tasks.py", 16, "CEL404")]


def test_names_bound_twice_or_changed_are_not_resolved(project):
    found = project(
        {
            "proj/tasks.py": """
from celery import shared_task

TWICE = {"max_retries": None}
if DEBUG:
    TWICE = {"max_retries": 1}

CHANGED = {"max_retries": None}
CHANGED.update(EXTRA)

KEPT = {"max_retries": None}


@shared_task(**TWICE)
def twice(url):
    return url


@shared_task(**CHANGED)
def changed(url):
    return url


@shared_task(**KEPT)
def kept(url):
    return url
""",
        },
        select=["CEL403"],
    )
    assert found == [("proj/tasks.py", 23, "CEL403")]


def test_chains_aliases_and_re_exports_resolve(project):
    found = project(
        {
            "proj/__init__.py": "",
            "proj/defaults/__init__.py": "from .retry import BASE\n",
            "proj/defaults/retry.py": "BASE = {'retry_backoff': True}\n",
            "proj/tasks.py": """
from celery import shared_task

from proj.defaults import BASE

MERGED = dict(BASE, max_retries=None)
ALIAS = MERGED


@shared_task(autoretry_for=(IOError,), **ALIAS)
def fetch(url):
    return url
""",
        },
        select=["CEL403", "CEL404"],
    )
    assert found == [("proj/tasks.py", 9, "CEL403")]


def test_a_module_of_option_dicts_is_read_even_without_task_words(project):
    # conf.py names no task, no app and no rule word: the pre-filter skips it on the first pass.
    found = project(
        {
            "proj/__init__.py": "",
            "proj/conf.py": "OPTIONS = {'max_retries': None}\n",
            "proj/tasks.py": """
from celery import shared_task

from proj.conf import OPTIONS


@shared_task(**OPTIONS)
def fetch(url):
    return url
""",
        },
        select=["CEL403"],
    )
    assert found == [("proj/tasks.py", 6, "CEL403")]  # unread, the spread would be unknown and quiet


def test_a_local_mapping_shadowing_a_module_name_is_not_resolved(project):
    found = project(
        {
            "proj/tasks.py": APP + """
OPTIONS = {"time_limit": 30}


@app.task(time_limit=30)
def add(x):
    return x


def send(options):
    add.apply_async((1,), soft_time_limit=60, **options)


def send_fixed():
    add.apply_async((1,), soft_time_limit=60, **OPTIONS)


def send_plain():
    add.apply_async((1,), soft_time_limit=60)
""",
        },
        select=["CEL104"],
    )
    # `**options` may hold time_limit; `**OPTIONS` is not resolved for calls (unknown too).
    assert found == [("proj/tasks.py", 22, "CEL104")]


def test_chord_header_signature_with_spread_options_is_quiet(project):
    found = project(
        {
            "proj/tasks.py": APP.replace('broker="redis://localhost"', 'backend="redis://localhost"') + """
from celery import chord


@app.task(ignore_result=True)
def part(x):
    return x


@app.task
def total(results):
    return sum(results)


def run(opts):
    chord([part.s(1).set(**opts)], total.s())()
    chord([part.s(2)], total.s())()
""",
        },
        select=["CEL301"],
    )
    assert found == [("proj/tasks.py", 20, "CEL301")]


def test_no_fix_edits_a_value_that_comes_from_a_spread(project, tmp_path):
    from conftest import lint

    project(
        {
            "proj/__init__.py": "",
            "proj/conf.py": "PICKLED = {'serializer': 'pickle', 'acks_late': True, 'reject_on_worker_lost': False}\n",
            "proj/tasks.py": APP + """
from .conf import PICKLED


@app.task(**PICKLED)
def fetch(url):
    return url
""",
        },
    )
    findings = {f.code: f for f in lint(tmp_path, ["CEL101", "CEL103"]) if f.path == "proj/tasks.py"}
    assert set(findings) == {"CEL101", "CEL103"}
    assert all(f.span.line == 8 and f.fix is None for f in findings.values())
    assert "set through **PICKLED at proj/conf.py:1" in findings["CEL101"].message


def test_unsafe_fixes_leave_a_decorator_whose_spread_holds_retry_backoff_alone(project):
    # The fix once added `retry_backoff=True` beside `**RETRY_OPTIONS` holding it: a TypeError at import.
    from conftest import lint

    from joblint.fix import fix_until_stable

    tasks = """
from celery import shared_task
from requests.exceptions import RequestException

from .conf import RETRY_OPTIONS


@shared_task(autoretry_for=(RequestException,), **RETRY_OPTIONS)
def fetch(url):
    return url
"""
    project({"proj/__init__.py": "", "proj/conf.py": CONF, "proj/tasks.py": tasks}, select=["CEL404"])
    root = project.root
    outcome = fix_until_stable(
        {"proj/tasks.py": root / "proj/tasks.py"}, lambda o: lint(root, ["CEL404"], overrides=o), unsafe=True
    )
    assert outcome.changed() == {}
