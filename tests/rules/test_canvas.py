"""CEL3 canvas rules: chords that never fire, chain steps that cannot take the previous result."""

from __future__ import annotations

TASKS = """
from celery import Celery, chain, chord, group

app = Celery("proj", broker="redis://localhost", backend="redis://localhost")

@app.task(ignore_result=True)
def fetch(url):
    return url

@app.task
def parse(page):
    return page

@app.task
def summarise(pages):
    return len(pages)

@app.task
def notify():
    return None

@app.task(bind=True)
def cleanup(self):
    return None
"""


def test_cel301_chord_header_task_ignores_results(project):
    found = project(
        {
            "tasks.py": TASKS + """
def run(urls):
    chord(fetch.s(u) for u in urls)(summarise.s())
    chord([fetch.s(u) for u in urls], summarise.s()).delay()
    (group(fetch.s(u) for u in urls) | summarise.s()).delay()
    chain(group(fetch.s(u) for u in urls), summarise.s()).delay()
"""
        },
        select=["CEL301"],
    )
    assert found == [("tasks.py", 26, "CEL301"), ("tasks.py", 27, "CEL301"), ("tasks.py", 28, "CEL301"), ("tasks.py", 29, "CEL301")]


def test_cel301_traps(project):
    found = project(
        {
            "tasks.py": TASKS + """
def run(urls):
    group(fetch.s(u) for u in urls).delay()
    chord(parse.s(u) for u in urls)(summarise.s())
    chord(fetch.s(u).set(ignore_result=False) for u in urls)(summarise.s())
    (fetch.s("a") | parse.s()).delay()
"""
        },
        select=["CEL301"],
    )
    assert found == []


def test_cel301_app_without_result_backend(project):
    found = project(
        {
            "tasks.py": """
from celery import Celery, chord

app = Celery("proj", broker="redis://localhost")

@app.task
def part(x):
    return x

@app.task
def total(xs):
    return sum(xs)

chord(part.s(i) for i in range(3))(total.s())
""",
            "other.py": """
import os
from celery import Celery, chord

app = Celery("other", broker="redis://localhost", backend=os.environ["BACKEND"])

@app.task
def piece(x):
    return x

@app.task
def add_up(xs):
    return sum(xs)

chord(piece.s(i) for i in range(3))(add_up.s())
""",
        },
        select=["CEL301"],
    )
    assert found == [("tasks.py", 13, "CEL301")]


def test_cel302_steps_that_take_no_input(project):
    found = project(
        {
            "tasks.py": TASKS + """
def run():
    chain(parse.s("x"), notify.s()).delay()
    (parse.s("x") | cleanup.s() | summarise.s()).delay()
    chord([parse.s("a")], notify.s()).delay()
    (parse.s("x") | parse.s("y")).delay()
"""
        },
        select=["CEL302"],
    )
    assert found == [("tasks.py", 26, "CEL302"), ("tasks.py", 27, "CEL302"), ("tasks.py", 28, "CEL302"), ("tasks.py", 29, "CEL302")]


def test_cel302_traps(project):
    found = project(
        {
            "tasks.py": TASKS + """
from other import unknown

def run(flags, mask):
    chain(notify.s(), parse.s()).delay()
    (parse.s("x") | notify.si() | cleanup.si()).delay()
    (parse.s("x") | notify.signature(immutable=True)).delay()
    (parse.s("x") | unknown.s()).delay()
    (parse.s("x") | parse.s()).delay()
    combined = flags | mask
"""
        },
        select=["CEL302"],
    )
    assert found == []


def test_cel302_fix_makes_the_step_immutable(project):
    from conftest import lint

    from joblint.fix import fix_until_stable

    project(
        {"tasks.py": TASKS + """
def run():
    chain(parse.s("x"), notify.s()).delay()
"""},
        select=["CEL302"],
    )
    root = project.root
    outcome = fix_until_stable({"tasks.py": root / "tasks.py"}, lambda o: lint(root, ["CEL302"], overrides=o), unsafe=False)
    (_, text), = outcome.changed().values()
    assert 'chain(parse.s("x"), notify.si()).delay()' in text


def test_cel301_app_wide_ignore_result_and_signature_option(project):
    found = project(
        {
            "tasks.py": """
from celery import Celery, chord

app = Celery("proj", broker="redis://localhost", backend="redis://localhost", task_ignore_result=True)

@app.task
def part(x):
    return x

@app.task(ignore_result=False)
def kept(x):
    return x

@app.task
def total(xs):
    return sum(xs)

def run():
    chord(part.s(i) for i in range(3))(total.s())
    chord(kept.s(i) for i in range(3))(total.s())
    chord([kept.s(1).set(ignore_result=True)], total.s())
"""
        },
        select=["CEL301"],
    )
    assert found == [("tasks.py", 18, "CEL301"), ("tasks.py", 20, "CEL301")]
