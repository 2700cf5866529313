"""CEL4: retries — raised, bounded, narrow, spaced out, idempotent, and bound to a task."""

from __future__ import annotations

import builtins
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from ..context import FileContext
from ..facts.task_body import CallSite, TaskBody
from ..facts.tasks import TaskDef
from ..findings import Applicability, Edit, Severity, Span
from ..project import Project, ProjectTask
from ..task_options import OptionSource, base_names, find_option
from . import Report, fix, rule
from ._celery import TASK_WORDS
from ._effects import DEDUPLICATING_BASES, guard, side_effect

BROAD_EXCEPTIONS = {"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"}
BUILTIN_NAMES = frozenset(dir(builtins))
RETRY_WORDS = (".retry(", "autoretry_for")
# Task options may sit on a base class in another file: the task files are needed too (TASK_WORDS).


def _retry_receivers(task: TaskDef) -> set[str]:
    """Names through which a task body reaches its own task object: the bound parameter, its name."""
    names = {task.function}
    if task.bound and task.first_param:
        names.add(task.first_param)
    return names


# -- CEL401 ------------------------------------------------------------------------------------


@rule(
    code="CEL401",
    name="retry-not-raised",
    severity=Severity.WARNING,
    summary="`self.retry(...)` is called as a statement instead of `raise self.retry(...)`.",
    scope="file",
    fix=Applicability.SAFE,
    words=(".retry(",),
)
def retry_not_raised(ctx: FileContext) -> Iterator[Report]:
    task_names = {t.function for t in ctx.facts.tasks.tasks}
    for task in ctx.facts.tasks.tasks:
        receivers = _retry_receivers(task) | task_names
        for retry in task.body.retries:
            if not retry.bare or retry.receiver not in receivers:
                continue
            if retry.receiver == "self" and not task.bound:
                continue  # CEL406: there is no task to retry
            if retry.may_return:
                continue  # throw=False (or a `**kwargs` that may hold it): it returns, deliberately
            if not retry.followed:
                # The last statement of its block: `raise` in front changes nothing the task does, and
                # no code was written to run after it. A matter of style, left to the reader.
                continue
            yield Report(
                retry.span,
                f"{retry.receiver}.retry(...) raises, but written as a statement it reads as if it returned: the "
                "code after it never runs; write `raise "
                f"{retry.receiver}.retry(...)` so readers, type checkers and linters see the control flow",
                fix(
                    [Edit(Span.point(retry.span.line, retry.span.col), "raise ")], "Raise the retry",
                    Applicability.SAFE,
                ),
            )


# -- CEL406 ------------------------------------------------------------------------------------


@rule(
    code="CEL406",
    name="retry-without-bind",
    severity=Severity.ERROR,
    summary="`self.retry(...)` in a task without `bind=True`: there is no task instance to retry.",
    scope="file",
    words=(".retry(",),
)
def retry_without_bind(ctx: FileContext) -> Iterator[Report]:
    for task in ctx.facts.tasks.tasks:
        if task.bound or task.open_options or task.kind == "class" or "." in task.qualname:
            continue
        for retry in task.body.retries:
            if retry.receiver != "self":
                continue
            if task.first_param == "self":
                why = "without bind=True the first argument the task is called with arrives as `self`, so self.retry " \
                      "fails with AttributeError"
            else:
                why = "the task has no `self`, so self.retry fails with NameError"
            yield Report(
                retry.span,
                f"task {task.function} calls self.retry but is not bound: {why}, exactly when a retry is needed; add "
                f"bind=True to the decorator and take `self` as the first parameter (or call {task.function}.retry)",
            )


# -- CEL402 / CEL403 / CEL404 ---------------------------------------------------------------------


def _where(source: OptionSource) -> str:
    return source.where


@rule(
    code="CEL402",
    in_tests=False,
    name="broad-autoretry",
    severity=Severity.WARNING,
    summary="`autoretry_for=(Exception,)` retries bugs and permanent failures too.",
    scope="project",
    words=("autoretry_for", *TASK_WORDS),
)
def broad_autoretry(project: Project) -> Iterator[Report]:
    for task in project.tasks:
        source = find_option(project, task, "autoretry_for")
        if source is None or not (set(source.names) & BROAD_EXCEPTIONS):
            continue
        if find_option(project, task, "dont_autoretry_for") is not None:
            continue  # the author excluded what should not be retried
        broad = next(n for n in source.names if n in BROAD_EXCEPTIONS).rsplit(".", 1)[-1]
        via = task.task.via.get("autoretry_for") if source.own else None
        subject = f"task {task.task.function}" if source.own else source.where
        subject += f" (through {via})" if via else ""
        yield Report(
            source.value.span,
            f"{subject} retries on {broad}: bugs (TypeError, KeyError), bad input and time-limit errors are retried "
            "too, each failing the same way and repeating the task's side effects; list the transient errors "
            "instead (e.g. ConnectionError, TimeoutError) or add dont_autoretry_for",
            path=source.path,
        )


@rule(
    code="CEL403",
    in_tests=False,
    name="unbounded-retries",
    severity=Severity.WARNING,
    summary="`max_retries=None` on a task retries it forever.",
    scope="project",
    words=TASK_WORDS,  # max_retries is a task option: on a task or its base class
)
def unbounded_retries(project: Project) -> Iterator[Report]:
    for task in project.tasks:
        source = find_option(project, task, "max_retries")
        if source is None or not source.value.known or source.value.data is not None:
            continue
        subject = f"task {task.task.function}" if source.own else source.where
        via = task.task.via.get("max_retries") if source.own else None  # reported at the `**mapping` holding it
        subject += f" (through {via})" if via else ""
        yield Report(
            source.value.span,
            f"{subject} sets max_retries=None, so it retries forever: a message that always fails never leaves the "
            "queue and keeps a worker busy; set a finite number (e.g. 5) with exponential backoff and handle the "
            "final failure",
            path=source.path,
        )


@rule(
    code="CEL404",
    in_tests=False,
    name="retry-without-backoff",
    severity=Severity.INFO,
    summary="Retries at a fixed delay (no `retry_backoff`) hammer a recovering dependency in lockstep.",
    scope="project",
    opt_in=True,  # whether a fixed delay hurts depends on fan-out and the dependency: see its document
    fix=Applicability.UNSAFE,
    words=("autoretry_for", "retry_jitter", *TASK_WORDS),
)
def retry_without_backoff(project: Project) -> Iterator[Report]:
    for task in project.tasks:
        backoff = find_option(project, task, "retry_backoff")
        backoff_on = backoff is not None and backoff.value.data not in (False, 0, None)
        autoretry = find_option(project, task, "autoretry_for")
        if autoretry is not None and backoff is None and _autoretries(autoretry):
            subject = f"task {task.task.function}" if autoretry.own else autoretry.where
            # Never beside a `*args`/`**options` in the decorator: it may hold retry_backoff already,
            # and a repeated keyword is a TypeError when the module is imported.
            own = autoretry.own and not task.task.open_options
            argument = task.task.arguments.get("autoretry_for") if own else None
            edits = [Edit(Span.point(argument.end_line, argument.end_col), ", retry_backoff=True")] if argument else []
            yield Report(
                autoretry.value.span,
                f"{subject} retries automatically without retry_backoff: every retry waits the same fixed delay, so "
                "failed tasks hit a recovering service together; add retry_backoff=True (exponential, with jitter)",
                fix(edits, "Add retry_backoff=True", Applicability.UNSAFE) if edits else None,
                path=autoretry.path,
            )
        jitter = find_option(project, task, "retry_jitter")
        if backoff_on and jitter is not None and jitter.value.data is False:
            yield Report(
                jitter.value.span,
                "retry_jitter=False makes every failed task retry at the same moment after each backoff step; leave "
                "jitter on so retries spread out",
                path=jitter.path,
            )
        if backoff_on:
            continue
        for retry in task.task.body.retries:
            countdown = retry.countdown
            if countdown is not None and countdown.number() is not None:
                yield Report(
                    countdown.span,
                    f"task {task.task.function} retries after a constant countdown={countdown.data}: every failed run "
                    "comes back at the same moment; grow the delay with the attempt, e.g. "
                    "countdown=2 ** self.request.retries plus random jitter",
                    path=task.path,
                )


# -- CEL405 ------------------------------------------------------------------------------------


@rule(
    code="CEL405",
    in_tests=False,
    name="non-idempotent-retry",
    severity=Severity.WARNING,
    summary="A retrying task performs a side effect (row insert, POST, email, payment) that repeats on every retry.",
    scope="project",
    words=(*RETRY_WORDS, *TASK_WORDS),
)
def non_idempotent_retry(project: Project) -> Iterator[Report]:
    for task in project.tasks:
        how = _retries(project, task)
        if how is None or _deduplicated(project, task):
            continue
        autoretry = find_option(project, task, "autoretry_for")
        classes = _classifier(project, task, True)
        retried = _classifier(project, task, autoretry.own).of(autoretry.names) if autoretry is not None else None
        effect = _repeated_effect(task, how == "autoretry_for", retried, classes)
        if effect is None:
            continue
        site, what = effect
        yield Report(
            site.span,
            f"task {task.task.function} retries ({how}) and performs {what} ({site.name}) before a later step that "
            "can fail: every retry repeats it (duplicate rows, double charges, repeated mail); make it idempotent "
            "with an idempotency key, get_or_create/update_or_create, or a lock (`redis.set(key, 1, nx=True)`)",
            path=task.path,
        )


def _autoretries(source: OptionSource) -> bool:
    """autoretry_for names exceptions (not `()`, not a value joblint cannot read)."""
    return source.value.data != () and bool(source.names or source.value.items)


def _retries(project: Project, task: ProjectTask) -> str | None:
    """How a task comes to run again, or None when it does not retry."""
    autoretry = find_option(project, task, "autoretry_for")
    if autoretry is not None and _autoretries(autoretry):
        return "autoretry_for"
    receivers = _retry_receivers(task.task)
    if any(r.receiver in receivers for r in task.task.body.retries):
        return "self.retry"
    return None


def _deduplicated(project: Project, task: ProjectTask) -> bool:
    return any(name.rsplit(".", 1)[-1] in DEDUPLICATING_BASES for name in base_names(project, task))


def _model(site: CallSite) -> str:
    """The model a row effect or a lookup is about: `Payment` in `Payment.objects.create`, or the
    class of a new object being saved."""
    if site.new_class:
        return site.new_class
    return site.name.split(".objects.", 1)[0] if ".objects." in site.name else ""


def _lookup_guard(site: CallSite, other: CallSite, inputs: set[str]) -> bool:
    """`Model.objects.filter(key=<task input>).exists()/.first()` or `.get(key=<input>)` before a
    row effect on the same model: the task looks for the row of a previous run before creating it."""
    if ".objects." not in other.name or other.name.rsplit(".", 1)[-1] not in ("filter", "get"):
        return False
    model = _model(site)
    return bool(model) and _model(other) == model and bool(inputs & set(other.arg_names))


def _guarded(site: CallSite, calls: tuple[CallSite, ...], inputs: set[str], row: bool) -> bool:
    """A guard that runs before the effect (a lock, SET NX, get_or_create, a lookup of the row by
    the task's input) or is part of it (a key)."""
    start = (site.span.line, site.span.col)
    return any(
        (other.span.line, other.span.col) <= start
        and (guard(other) is not None or row and _lookup_guard(site, other, inputs))
        for other in calls
    )


# Calls after a side effect that do not make the task fail: logging, and the retry itself (which
# follows the failure of the effect, the usual `except ...: raise self.retry(exc=exc)`).
QUIET_CALLS = ("logger.", "log.", "logging.", "print", "self.retry", "self.update_state", "warnings.warn")
# Calls that do not fail in a way a retry is for: builtins, clocks, string and list methods.
PURE_CALLS = {
    "len", "str", "int", "float", "bool", "dict", "list", "tuple", "set", "frozenset", "isinstance", "issubclass",
    "min", "max", "sum", "range", "enumerate", "zip", "sorted", "reversed", "repr", "getattr", "hasattr", "any",
    "all", "abs", "round", "type", "id", "iter", "_", "gettext", "gettext_lazy", "ugettext", "now", "time.time",
    "time.monotonic", "time.perf_counter", "timezone.now", "datetime.now", "datetime.utcnow", "uuid.uuid4", "uuid4",
}
PURE_METHODS = {
    "format", "join", "strip", "lstrip", "rstrip", "split", "lower", "upper", "replace", "startswith", "endswith",
    "items", "keys", "append", "extend", "isoformat", "strftime", "total_seconds",
}
# Effects a database transaction undoes when the task fails inside it.
ROW_EFFECTS = ("a row insert", "a save of a new object", "an SQL INSERT")


def _can_fail(site: CallSite) -> bool:
    if site.name.startswith(QUIET_CALLS) or site.name in PURE_CALLS:
        return False
    return not ("." in site.name and site.name.rsplit(".", 1)[-1] in PURE_METHODS)


def _after(later: CallSite, site: CallSite) -> bool:
    return (later.span.line, later.span.col) >= (site.span.end_line, site.span.end_col)


# A cleanup in `finally:`: teardown, not a step of the task's work whose failure makes it run again.
CLEANUP_METHODS = {
    "close", "aclose", "release", "shutdown", "unlink", "cleanup", "remove", "rmtree", "disconnect", "terminate",
    "kill", "stop", "join", "cancel", "unlock", "rollback", "teardown", "delete", "clear", "flush", "__exit__",
}
# Exception classes any code may raise: a later step of any kind can trigger the retry.
ANY_STEP_ROOTS = {"celery", "billiard", "kombu"}  # time limits, broker errors of `.delay()`
# Database errors: raised by any query, wherever the ORM (or a driver) is called from.
DATABASE_ROOTS = {"psycopg", "psycopg2", "pymysql", "MySQLdb", "asyncpg", "sqlalchemy", "peewee", "pymongo"}
DATABASE_METHODS = {
    "save", "delete", "create", "bulk_create", "bulk_update", "update", "get", "get_or_create",
    "update_or_create", "refresh_from_db", "execute", "executemany", "commit", "flush", "first", "all", "one",
    "count", "exists", "insert_one", "insert_many", "update_one", "update_many", "delete_one", "delete_many",
}
DATABASE_CLASSES = ("django.db.", "django.core.exceptions.ObjectDoesNotExist", "django.core.exceptions.Multiple")
HTTP_ROOTS = ("requests", "httpx", "aiohttp", "urllib3")
# Packages whose exceptions come out of another package's calls: botocore's from boto3 clients,
# urllib3's through requests, httpcore's through httpx (the package a step's call goes into, by
# the package the class is from).
LIBRARY_FAMILIES = {"botocore": "boto3", "aiobotocore": "boto3", "urllib3": "requests", "httpcore": "httpx"}


@dataclass(frozen=True)
class Catch:
    """Which later steps can raise an exception class: `kind` is "any" (a broad class, or one
    joblint cannot resolve), "library" (`key` its package), "database", or "project" (`key` the
    class, raised only where the project raises it)."""

    kind: str
    key: str = ""


def _catch(name: str, roots: frozenset[str], local: frozenset[str]) -> Catch:
    last = name.rsplit(".", 1)[-1]
    if name in BROAD_EXCEPTIONS or not last[:1].isupper() or last.isupper():
        return Catch("any")  # broad, or not a class name (`RETRYABLE`: a tuple joblint does not follow)
    if "." not in name:
        if name in BUILTIN_NAMES:
            return Catch("any")  # ValueError, OSError, ConnectionError...: raised by any code
        return Catch("project", name) if name in local else Catch("any")
    root = name.split(".", 1)[0]
    if last in ("DoesNotExist", "MultipleObjectsReturned") or name.startswith(DATABASE_CLASSES):
        return Catch("database")  # `Order.DoesNotExist` is raised by `Order.objects.get`
    if root in roots:
        return Catch("project", name)
    if root in sys.stdlib_module_names or root in ANY_STEP_ROOTS:
        return Catch("any")  # socket.timeout, smtplib.SMTPException...: raised from inside other libraries
    if root in DATABASE_ROOTS:
        return Catch("database")
    return Catch("library", LIBRARY_FAMILIES.get(root, root))


@dataclass(frozen=True)
class Classifier:
    """Classifies the exception classes a task's retry is for, as its module names them."""

    roots: frozenset[str]  # the project's top-level packages
    local: frozenset[str]  # the classes the task's module defines

    def of(self, names: tuple[str, ...]) -> tuple[Catch, ...] | None:
        """None when the names are none (a bare `except:`, or a value joblint cannot read): anything."""
        return tuple(_catch(n, self.roots, self.local) for n in names) if names else None


def _classifier(project: Project, task: ProjectTask, own: bool) -> Classifier:
    return Classifier(
        frozenset(m.split(".", 1)[0] for m in project.module_names),
        frozenset(task.task.body.module_classes if own else ()),
    )


def _raises(step: CallSite, catches: tuple[Catch, ...] | None) -> bool:
    """`step` can raise one of `catches` (None: anything). A call into another package raises that
    package's errors only: a failure of `Event.objects.create` is no `MailerError`."""
    if catches is None:
        return True
    method = step.name.rsplit(".", 1)[-1]
    for catch in catches:
        if catch.kind == "any":
            return True
        if catch.kind == "project":
            if step.raised and catch.key in (step.name, step.qualified):
                return True
        elif catch.kind == "database":
            if ".objects." in f"{step.name}." or method in DATABASE_METHODS or step.library in DATABASE_ROOTS:
                return True
        elif LIBRARY_FAMILIES.get(step.library, step.library) == catch.key or (
            catch.key in HTTP_ROOTS and method == "raise_for_status"
        ):
            return True
    return False


def _leaves(step: CallSite, body: TaskBody, outer: int | None, classes: Classifier) -> bool:
    """A failure of `step` can leave the `try`s around it, inside the `try` numbered `outer`: no
    `except Exception:` (or bare `except:`) that neither raises nor retries swallows it, unless it
    is one of the classes an earlier clause that raises or retries catches."""
    for index in reversed(step.tries):
        if index == outer:
            break
        raising: list[str] = []
        for handler in (h for h in body.handlers if h.try_index == index):
            if handler.catches_all:
                if not handler.escapes and not (raising and _raises(step, classes.of(tuple(raising)))):
                    return False
                break
            if handler.escapes:
                raising.extend(handler.names)
    return True


def _repeated_effect(
    task: ProjectTask, autoretry: bool, retried: tuple[Catch, ...] | None, classes: Classifier
) -> tuple[CallSite, str] | None:
    """The first side effect that a retry repeats: one followed by a step that can fail and whose
    failure leads to a retry, without a transaction that rolls the effect back with it."""
    body = task.task.body
    calls = body.calls
    receivers = _retry_receivers(task.task)
    retry_spans = {r.span for r in body.retries}
    # The manual retries, as calls (their `try`/`except` and transaction position).
    manual = [c for c in calls if c.span in {r.span for r in body.retries if r.receiver in receivers}]
    inputs = set(task.task.params[1 if task.task.bound else 0:])
    for site in calls:
        what = side_effect(site)
        row = what in ROW_EFFECTS
        if what is None or _guarded(site, calls, inputs, row):
            continue

        def undone(failure: CallSite, site: CallSite = site, row: bool = row) -> bool:
            # The failure happens inside a transaction the row was written in: both roll back.
            return row and bool(set(site.atomic) & set(failure.atomic))

        failing = [
            later for later in calls
            if _after(later, site) and later.span not in retry_spans and _can_fail(later)
            # a step that runs only because the effect's own `try` failed
            and not set(later.handlers) & set(site.tries)
            # teardown in `finally:` (`transport.close()`), not a step of the work
            and not (later.finally_of and later.name.rsplit(".", 1)[-1] in CLEANUP_METHODS)
        ]
        if autoretry and any(
            not undone(later) and _raises(later, retried) and _leaves(later, body, None, classes) for later in failing
        ):
            return site, what
        for retry in manual:
            if not retry.handlers:
                # a retry that is not the handling of an error: reached after the effect, it repeats it
                if _after(retry, site) and not undone(retry):
                    return site, what
                continue
            clause = body.handlers[retry.clause - 1] if retry.clause else None
            handled = retry.handlers[-1]  # the `try` whose failure this retry handles
            catches = None if clause is None or clause.catches_all else classes.of(clause.names)
            if any(
                handled in later.tries and not undone(later) and _raises(later, catches)
                and _leaves(later, body, handled, classes)
                for later in failing
            ):
                return site, what
    return None
