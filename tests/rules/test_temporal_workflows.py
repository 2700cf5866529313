"""TMP1 workflow rules: determinism, I/O, activities, handler shapes, awaits, logging, exceptions."""

from __future__ import annotations

import libcst as cst
from conftest import lint

from joblint.cli import main

HEAD = """
import asyncio
import os
import random
import time
import uuid
from datetime import datetime, timedelta

import httpx
from temporalio import activity, workflow
"""

# The line number of the first line after HEAD in a file written by the `project` fixture.
FIRST = len(HEAD.lstrip("\n").splitlines()) + 1


def workflow_body(lines: str) -> str:
    """A workflow whose run method's body is `lines` (first body line at FIRST + 4)."""
    indented = "".join(f"        {line}\n" for line in lines.strip("\n").splitlines())
    return HEAD + "@workflow.defn\nclass W:\n    @workflow.run\n    async def run(self, order_id: str) -> None:\n" + indented


BODY_LINE = FIRST + 4

NONDETERMINISTIC = ["datetime.now()", "uuid.uuid4()", "random.randint(1, 3)"]
IO = ['httpx.AsyncClient().get("https://example.com")', 'open("/etc/hosts")', 'os.environ["X"]']
ALL_BAD = [*NONDETERMINISTIC, *IO, "time.sleep(1)"]
DETERMINISTIC = [
    "workflow.now()",
    "workflow.uuid4()",
    "workflow.random().randint(1, 3)",
    "await asyncio.sleep(5)",
    "await asyncio.gather(asyncio.sleep(1), asyncio.sleep(2))",
]


def test_acceptance_each_nondeterministic_or_io_call_in_a_run_method_is_reported(project):
    found = project({"wf.py": workflow_body("\n".join(f"x = {call}" if "sleep" not in call else call for call in ALL_BAD))},
                    select=["TMP101", "TMP102", "TMP103"])
    assert found == [
        ("wf.py", BODY_LINE, "TMP101"),
        ("wf.py", BODY_LINE + 1, "TMP101"),
        ("wf.py", BODY_LINE + 2, "TMP101"),
        ("wf.py", BODY_LINE + 3, "TMP102"),
        ("wf.py", BODY_LINE + 4, "TMP102"),
        ("wf.py", BODY_LINE + 5, "TMP102"),
        ("wf.py", BODY_LINE + 6, "TMP103"),
    ]


def test_acceptance_workflow_safe_replacements_are_not_reported(project):
    found = project({"wf.py": workflow_body("\n".join(f"x = {call}" for call in DETERMINISTIC))}, select=["TMP"])
    assert found == []


def _outside_workflow(kind: str) -> str:
    calls = "\n".join(f"    x = {call}" if "sleep" not in call else f"    {call}" for call in ALL_BAD)
    if kind == "activity":
        return HEAD + f"@activity.defn\nasync def act(order_id: str) -> None:\n{calls}\n"
    if kind == "celery":
        return HEAD + f"from celery import shared_task\n\n@shared_task\ndef job(order_id):\n{calls}\n"
    return HEAD + f"from temporalio.client import Client\n\nasync def start(client: Client) -> None:\n{calls}\n"


def test_acceptance_the_same_calls_outside_workflow_code_are_not_reported(project):
    for kind in ("activity", "celery", "client"):
        assert project({f"{kind}.py": _outside_workflow(kind)}, select=["TMP101", "TMP102", "TMP103", "TMP104"]) == []


def test_workflow_code_includes_helpers_only_workflows_call_but_not_shared_ones(project):
    source = HEAD + """
def stamp():
    return datetime.now()

def shared_stamp():
    return datetime.now()

@workflow.defn
class W:
    @workflow.run
    async def run(self) -> None:
        self._step()
        shared_stamp()

    def _step(self):
        return stamp()

@activity.defn
def act() -> None:
    shared_stamp()
"""
    assert project({"wf.py": source}, select=["TMP101"]) == [("wf.py", FIRST + 2, "TMP101")]


def test_tmp101_aliases_and_seeded_random(project):
    source = """
from datetime import datetime as dt
from random import Random, choice
import temporalio.workflow as wf

@wf.defn(name="w")
class W:
    @wf.run
    async def run(self) -> None:
        dt.now()
        choice([1, 2])
        Random(42).random()
        Random()
"""
    assert project({"wf.py": source}, select=["TMP101"]) == [
        ("wf.py", 9, "TMP101"), ("wf.py", 10, "TMP101"), ("wf.py", 12, "TMP101"),
    ]


def test_tmp101_local_names_shadow_imported_modules(project):
    source = workflow_body("random = workflow.random()\nrandom.randint(1, 3)\nfor time in [1]:\n    time.time()")
    assert project({"wf.py": source}, select=["TMP101"]) == []


def test_acceptance_fix_uuid4_gives_workflow_uuid4_and_converges(project, capsys):
    project({"wf.py": workflow_body("self.id = str(uuid.uuid4())")}, select=["TMP101"])
    path = project.root / "wf.py"
    main(["check", str(path), "--select", "TMP101", "--fix"])
    fixed = path.read_text()
    assert "self.id = str(workflow.uuid4())" in fixed
    cst.parse_module(fixed)
    assert lint(project.root, ["TMP101"]) == []
    capsys.readouterr()


def test_tmp101_fix_adds_the_workflow_import_when_missing(project):
    from joblint.fix import fix_until_stable

    source = """\
import random
from temporalio.workflow import defn, run


@defn
class W:
    @run
    async def run(self) -> int:
        return random.randint(1, 3) + random.choice([1, 2])
"""
    project({"wf.py": source}, select=["TMP101"])
    root = project.root
    outcome = fix_until_stable({"wf.py": root / "wf.py"}, lambda o: lint(root, ["TMP101"], overrides=o), unsafe=False)
    (_, text), = outcome.changed().values()
    assert text == source.replace(
        "from temporalio.workflow import defn, run\n",
        "from temporalio.workflow import defn, run\nfrom temporalio import workflow\n",
    ).replace("random.randint(1, 3) + random.choice([1, 2])", "workflow.random().randint(1, 3) + workflow.random().choice([1, 2])")
    assert outcome.findings == []


def test_tmp101_datetime_now_fix_is_unsafe_and_utc_now_is_safe(project):
    source = workflow_body("a = datetime.now()\nb = datetime.now(tz=timezone.utc)\nc = time.time()").replace(
        "from datetime import datetime, timedelta", "from datetime import datetime, timedelta, timezone"
    )
    project({"wf.py": source}, select=["TMP101"])
    findings = lint(project.root, ["TMP101"])
    assert [(f.span.line, f.fix.applicability.value) for f in findings] == [
        (BODY_LINE, "unsafe"), (BODY_LINE + 1, "safe"), (BODY_LINE + 2, "safe"),
    ]


def test_tmp102_path_io_and_environment(project):
    source = workflow_body('from_env = os.getenv("X")\ntext = Path("a.txt").read_text()\npath = Path("a.txt")').replace(
        "import httpx\n", "import httpx\nfrom pathlib import Path\n"
    )
    assert project({"wf.py": source}, select=["TMP102"]) == [("wf.py", BODY_LINE + 1, "TMP102"), ("wf.py", BODY_LINE + 2, "TMP102")]


def test_tmp103_fix_needs_an_async_statement_and_adds_asyncio(project):
    from joblint.fix import fix_until_stable

    source = """\
import time

from temporalio import workflow


@workflow.defn
class W:
    @workflow.run
    async def run(self) -> None:
        time.sleep(2)
        helper()


def helper():
    time.sleep(1)
"""
    project({"wf.py": source}, select=["TMP103"])
    root = project.root
    assert [(f.span.line, f.fix is not None) for f in lint(root, ["TMP103"])] == [(10, True), (15, False)]
    outcome = fix_until_stable({"wf.py": root / "wf.py"}, lambda o: lint(root, ["TMP103"], overrides=o), unsafe=True)
    (_, text), = outcome.changed().values()
    assert "from temporalio import workflow\nimport asyncio\n" in text
    assert "        await asyncio.sleep(2)\n" in text
    assert "    time.sleep(1)\n" in text


def test_tmp104_threads_and_executors(project):
    source = """
import asyncio
import threading
from temporalio import workflow

@workflow.defn
class W:
    @workflow.run
    async def run(self) -> None:
        threading.Thread(target=print).start()
        await asyncio.get_running_loop().run_in_executor(None, print)
        await asyncio.to_thread(print)
        await asyncio.gather(asyncio.sleep(1))
"""
    assert project({"wf.py": source}, select=["TMP104"]) == [("wf.py", 9, "TMP104"), ("wf.py", 10, "TMP104"), ("wf.py", 11, "TMP104")]


ACTIVITIES = """
from temporalio import activity

@activity.defn
async def reserve(order_id: str) -> str:
    return order_id
"""


def test_acceptance_tmp106_activity_without_timeout(project):
    source = """
from datetime import timedelta
from temporalio import workflow
from acts import reserve

OPTS = {"start_to_close_timeout": timedelta(seconds=5)}

@workflow.defn
class W:
    @workflow.run
    async def run(self, order_id: str) -> None:
        await workflow.execute_activity(reserve, order_id)
        await workflow.execute_activity(reserve, order_id, start_to_close_timeout=timedelta(seconds=5))
        await workflow.execute_activity(reserve, order_id, schedule_to_close_timeout=timedelta(minutes=5))
        await workflow.execute_activity(reserve, order_id, **OPTS)
        await workflow.execute_local_activity(reserve, order_id, start_to_close_timeout=None)
        workflow.start_activity_method(Acts.reserve, order_id)
"""
    assert project({"acts.py": ACTIVITIES, "wf.py": source}, select=["TMP106"]) == [
        ("wf.py", 11, "TMP106"), ("wf.py", 15, "TMP106"), ("wf.py", 16, "TMP106"),
    ]


def test_acceptance_tmp105_activity_awaited_directly(project):
    source = """
import asyncio
from datetime import timedelta
from temporalio import workflow
from acts import reserve

@workflow.defn
class W:
    @workflow.run
    async def run(self, order_id: str) -> None:
        await reserve(order_id)
        await asyncio.gather(reserve(order_id))
        await workflow.execute_activity(reserve, order_id, start_to_close_timeout=timedelta(seconds=5))

async def client_side(order_id):
    await reserve(order_id)
"""
    assert project({"acts.py": ACTIVITIES, "wf.py": source}, select=["TMP105"]) == [
        ("wf.py", 10, "TMP105"), ("wf.py", 11, "TMP105"),
    ]


def test_acceptance_tmp107_missing_run_and_sync_run(project):
    source = """
from temporalio import workflow

@workflow.defn
class NoRun:
    async def run(self) -> None: ...

@workflow.defn(name="sync")
class SyncRun:
    @workflow.run
    def run(self) -> None: ...

@workflow.defn
class TwoRuns:
    @workflow.run
    async def run(self) -> None: ...

    @workflow.run
    async def other(self) -> None: ...

@workflow.defn
class Good:
    @workflow.run
    async def run(self) -> None: ...

class NotAWorkflow:
    async def run(self) -> None: ...
"""
    assert project({"wf.py": source}, select=["TMP107"]) == [
        ("wf.py", 4, "TMP107"), ("wf.py", 10, "TMP107"), ("wf.py", 18, "TMP107"),
    ]


def test_acceptance_tmp108_random_workflow_id(project):
    source = """
import uuid
from temporalio.client import Client
from wf import W

async def start(client: Client, x: str) -> None:
    await client.start_workflow(W.run, x, id=str(uuid.uuid4()), task_queue="q")
    await client.execute_workflow(W.run, x, id=f"order-{uuid.uuid4().hex}", task_queue="q")
    await client.start_workflow(W.run, x, id=f"order-{x}", task_queue="q")
    await client.start_workflow(W.run, x, id=str(x), task_queue="q")
    WithStartWorkflowOperation(W.run, x, id=f"w-{time.time()}", task_queue="q", id_conflict_policy=USE_EXISTING)
"""
    source = source.replace("import uuid\n", "import time\nimport uuid\nfrom temporalio.client import WithStartWorkflowOperation\n")
    assert project({"client.py": source}, select=["TMP108"]) == [
        ("client.py", 8, "TMP108"), ("client.py", 9, "TMP108"), ("client.py", 12, "TMP108"),
    ]


STARTER = """
import asyncio
import uuid

from temporalio.client import Client

from wf import W


async def run_demo(client: Client) -> None:
    await client.execute_workflow(W.run, "x", id=f"demo-{uuid.uuid4()}", task_queue="q")


async def main() -> None:
    client = await Client.connect("localhost:7233")
    await run_demo(client)


async def start_order(client: Client, order_id: str) -> None:
    await client.start_workflow(W.run, order_id, id=str(uuid.uuid4()), task_queue="q")


async def on_order(client: Client, order_id: str) -> None:
    await start_order(client, order_id)


if __name__ == "__main__":
    asyncio.run(main())
    asyncio.run(start_order(None, "1"))
"""


def test_tmp108_quiet_in_a_script_run_by_hand(project):
    # main() and run_demo() run only from the __main__ block: each run of the script wants a new
    # workflow. start_order() is also called by on_order(), which other modules may call on retry.
    assert project({"starter.py": STARTER}, select=["TMP108"]) == [("starter.py", 19, "TMP108")]


def test_tmp108_a_module_without_main_block_is_reported(project):
    source = STARTER.split("if __name__")[0]
    assert project({"starter.py": source}, select=["TMP108"]) == [
        ("starter.py", 10, "TMP108"), ("starter.py", 19, "TMP108"),
    ]


def test_tmp108_nexus_handler_in_a_script_is_reported(project):
    source = """
import uuid

import nexusrpc.handler
from temporalio import nexus

from wf import W


@nexusrpc.handler.service_handler
class Handler:
    @nexus.workflow_run_operation
    async def hello(self, ctx: nexus.WorkflowRunOperationContext, name: str):
        return await ctx.start_workflow(W.run, name, id=str(uuid.uuid4()))


if __name__ == "__main__":
    print(Handler)
"""
    assert project({"handler.py": source}, select=["TMP108"]) == [("handler.py", 13, "TMP108")]


def test_tmp108_needs_temporalio(project):
    source = """
import uuid

async def start(engine, x):
    await engine.start_workflow(x, id=str(uuid.uuid4()))
"""
    assert project({"other.py": source}, select=["TMP108"]) == []


def test_tmp109_arg_and_args(project):
    source = """
from datetime import timedelta
from temporalio import workflow
from acts import reserve

T = timedelta(seconds=5)

@workflow.defn
class W:
    @workflow.run
    async def run(self, a: str, b: str, extra: list) -> None:
        await workflow.execute_activity(reserve, a, args=[b], start_to_close_timeout=T)
        await workflow.execute_child_workflow("Child", arg=a, args=(b,))
        await workflow.execute_activity(reserve, args=[a, b], start_to_close_timeout=T)
        await workflow.execute_activity(reserve, a, args=[], start_to_close_timeout=T)
        await workflow.execute_activity(reserve, a, args=extra, start_to_close_timeout=T)
"""
    assert project({"acts.py": ACTIVITIES, "wf.py": source}, select=["TMP109"]) == [("wf.py", 11, "TMP109"), ("wf.py", 12, "TMP109")]


def test_acceptance_tmp110_query_that_returns_nothing(project):
    source = """
from temporalio import workflow

@workflow.defn
class W:
    def __init__(self) -> None:
        self.state = "new"

    @workflow.run
    async def run(self) -> None: ...

    @workflow.query
    def silent(self) -> str:
        self.state

    @workflow.query(name="state")
    def state_query(self) -> str:
        if self.state:
            return self.state
        return "none"

    @workflow.query
    def nothing(self) -> None:
        pass

    @workflow.query
    def unsupported(self) -> str:
        raise NotImplementedError

    @workflow.query
    def with_helper(self) -> list:
        def key(x):
            return x
        sorted([], key=key)
"""
    assert project({"wf.py": source}, select=["TMP110"]) == [("wf.py", 12, "TMP110"), ("wf.py", 30, "TMP110")]


def test_acceptance_tmp111_execute_activity_not_awaited(project):
    source = workflow_body(
        "workflow.execute_activity(reserve, order_id, start_to_close_timeout=timedelta(seconds=5))\n"
        "handle = workflow.start_activity(reserve, order_id, start_to_close_timeout=timedelta(seconds=5))\n"
        "task = asyncio.create_task(workflow.execute_activity(reserve, order_id, start_to_close_timeout=timedelta(seconds=5)))\n"
        "await asyncio.gather(workflow.sleep(1), asyncio.sleep(1))\n"
        "asyncio.sleep(1)\n"
        "await workflow.wait_condition(lambda: True)"
    ) + "\nasync def reserve(order_id): ...\n"
    project({"wf.py": source}, select=["TMP111"])
    findings = lint(project.root, ["TMP111"])
    assert [(f.span.line, f.code) for f in findings] == [(BODY_LINE, "TMP111"), (BODY_LINE + 4, "TMP111")]
    assert all(f.fix is not None and f.fix.applicability.value == "safe" for f in findings)


def test_tmp112_print_and_logging(project):
    source = HEAD + """
import logging
log = logging.getLogger(__name__)

@workflow.defn
class W:
    @workflow.run
    async def run(self) -> None:
        print("hi")
        logging.info("a")
        logging.getLogger("x").warning("b")
        log.error("c")
        workflow.logger.info("fine")

@activity.defn
async def act() -> None:
    print("fine in an activity")
    log.info("fine too")
"""
    project({"wf.py": source}, select=["TMP112"])
    findings = lint(project.root, ["TMP112"])
    assert [(f.span.line, f.fix is not None) for f in findings] == [
        (FIRST + 8, False), (FIRST + 9, True), (FIRST + 10, True), (FIRST + 11, True),
    ]


def test_acceptance_tmp113_workflow_raising_value_error(project):
    source = """
from temporalio import workflow
from temporalio.exceptions import ApplicationError

class OrderError(ValueError):
    pass

class Declined(ApplicationError):
    pass

@workflow.defn
class W:
    @workflow.run
    async def run(self, n: int) -> None:
        if n < 0:
            raise ValueError("negative")
        if n == 0:
            raise OrderError("zero")
        if n == 1:
            raise ApplicationError("one", non_retryable=True)
        if n == 2:
            raise Declined("two")
        try:
            raise KeyError("caught")
        except KeyError:
            pass

    @workflow.query
    def q(self) -> int:
        raise RuntimeError("queries may raise")

@workflow.defn(failure_exception_types=[ValueError])
class Listed:
    @workflow.run
    async def run(self) -> None:
        raise OrderError("a ValueError: listed")
"""
    assert project({"wf.py": source}, select=["TMP113"]) == [("wf.py", 15, "TMP113"), ("wf.py", 17, "TMP113")]


def test_tmp113_worker_failure_types_silence_it(project):
    workflows = """
from temporalio import workflow

@workflow.defn
class W:
    @workflow.run
    async def run(self) -> None:
        raise ValueError("x")
"""
    worker = """
from temporalio.worker import Worker
from wf import W

def build(client):
    return Worker(client, task_queue="q", workflows=[W], workflow_failure_exception_types=[Exception])
"""
    assert project({"wf.py": workflows}, select=["TMP113"]) == [("wf.py", 7, "TMP113")]
    assert project({"wf.py": workflows, "worker.py": worker}, select=["TMP113"]) == []


def test_tmp113_a_test_helper_worker_with_options_does_not_silence_it(project):
    workflows = """
from temporalio import workflow

@workflow.defn
class W:
    @workflow.run
    async def run(self, kind: str) -> None:
        if kind == "":
            raise ValueError("kind is required")
"""
    helper = """
from temporalio.worker import Worker

def new_worker(client, *workflows, **kwargs):
    return Worker(client, task_queue="test", workflows=workflows, **kwargs)
"""
    worker = """
from temporalio.worker import Worker

def build(client, **options):
    return Worker(client, task_queue="q", **options)
"""
    assert project({"wf.py": workflows, "tests/helpers.py": helper}, select=["TMP113"]) == [("wf.py", 8, "TMP113")]
    # A production worker whose options cannot be read still silences it.
    assert project({"wf.py": workflows, "worker.py": worker}, select=["TMP113"]) == []


def test_tmp113_bug_signals_are_not_reported(project):
    source = """
from temporalio import workflow

class Unreachable(AssertionError):
    pass

@workflow.defn
class W:
    @workflow.run
    async def run(self, kind: str) -> str:
        if kind == "a":
            return "a"
        if kind == "b":
            raise NotImplementedError("b is not written yet")
        if kind == "c":
            raise Unreachable(kind)
        if kind == "d":
            raise KeyError(kind)
        raise AssertionError("unreachable")
"""
    assert project({"wf.py": source}, select=["TMP113"]) == [("wf.py", 17, "TMP113")]


def test_workflow_init_is_workflow_code_and_validators_may_raise(project):
    source = """
import uuid
from temporalio import workflow

@workflow.defn
class W:
    def __init__(self) -> None:
        self.token = uuid.uuid4()

    @workflow.run
    async def run(self) -> None: ...

    @workflow.update
    async def set_amount(self, amount: int) -> int:
        return amount

    @set_amount.validator
    def check_amount(self, amount: int) -> None:
        if amount < 0:
            raise ValueError("negative")
"""
    assert project({"wf.py": source}, select=["TMP101", "TMP113"]) == [("wf.py", 7, "TMP101")]


def test_all_workflow_fixes_together_parse_and_converge(project):
    from joblint.fix import fix_until_stable, parses

    source = """\
\"\"\"Orders.\"\"\"
import logging
import time
import uuid
from temporalio.workflow import defn, run, sleep

log = logging.getLogger(__name__)


@defn
class W:
    @run
    async def run(self) -> str:
        log.info("start")
        sleep(1)
        time.sleep(1)
        return str(uuid.uuid4()) + str(time.time())
"""
    codes = ["TMP101", "TMP103", "TMP111", "TMP112"]
    project({"wf.py": source}, select=codes)
    root = project.root
    outcome = fix_until_stable({"wf.py": root / "wf.py"}, lambda o: lint(root, codes, overrides=o), unsafe=True)
    (_, text), = outcome.changed().values()
    assert parses(text)
    assert "from temporalio.workflow import defn, run, sleep\nfrom temporalio import workflow\nimport asyncio\n" in text
    assert "        workflow.logger.info(\"start\")\n        await sleep(1)\n        await asyncio.sleep(1)\n" in text
    assert "return str(workflow.uuid4()) + str(workflow.time())" in text
    assert [f for f in outcome.findings if f.fix is not None] == []


def test_tmp111_fix_only_where_await_is_allowed(project):
    source = """
from temporalio import workflow

@workflow.defn
class W:
    @workflow.run
    async def run(self) -> None:
        async def later():
            workflow.sleep(1)
        def sync_helper():
            workflow.sleep(2)
        await later()
        sync_helper()
"""
    project({"wf.py": source}, select=["TMP111"])
    assert [(f.span.line, f.fix is not None) for f in lint(project.root, ["TMP111"])] == [(8, True), (10, False)]
