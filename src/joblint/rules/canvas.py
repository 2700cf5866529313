"""CEL3: canvas — chords that can never fire, chain steps that cannot take the previous result."""

from __future__ import annotations

from collections.abc import Iterator

from ..facts.tasks import CanvasUse, SignatureRef
from ..findings import Applicability, Edit, Severity
from ..project import Project, ProjectTask
from ..task_options import backend_kind, effective_option, resolve_task
from . import Report, fix, rule
from ._celery import TASK_WORDS

# The canvas file names a canvas or a signature; the task and app files name tasks and Celery.
# chain/group/chord come from celery: a file building one names it (`from celery import chain`).
CANVAS_WORDS = (".s(", ".si(", ".signature(", "celery", *TASK_WORDS)


def chord_headers(canvas: CanvasUse) -> Iterator[tuple[SignatureRef, ...]]:
    """The headers of the chords in a canvas: a chord's header, or a group followed by a step."""
    for index, is_group in enumerate(canvas.groups[:-1]):
        if is_group:
            yield canvas.steps[index]


def receiving_steps(canvas: CanvasUse) -> Iterator[SignatureRef]:
    """Signatures that receive the previous step's result: every step after the first."""
    for step in canvas.steps[1:]:
        yield from step


@rule(
    code="CEL301",
    in_tests=False,
    name="chord-with-ignored-results",
    severity=Severity.ERROR,
    summary="A chord whose header tasks ignore their results (or whose app has no result backend) never calls its body.",
    scope="project",
    words=("celery", "result_backend", *TASK_WORDS),
    settings=("task_ignore_result", "result_backend"),
)
def chord_with_ignored_results(project: Project) -> Iterator[Report]:
    for facts in project.files:
        for canvas in facts.tasks.canvases:
            for header in chord_headers(canvas):
                report = _chord_problem(project, header, facts.path)
                if report is not None:
                    yield Report(report[0].span, report[1], path=facts.path)


def _chord_problem(project: Project, header: tuple[SignatureRef, ...], path: str) -> tuple[SignatureRef, str] | None:
    for ref in header:
        explicit = ref.option("ignore_result")  # UNKNOWN when `**options` may set it
        if explicit is not None and explicit.data is True:
            return ref, _ignored_message(ref.target, "ignore_result=True on the signature")
        task = resolve_task(project, ref.target, ref.qualified, path)
        if task is None or (explicit is not None and explicit.data is False):
            continue
        value, where = effective_option(project, task, "ignore_result", "task_ignore_result")
        if value is not None and value.data is True and (explicit is None or explicit.known):
            return ref, _ignored_message(task.task.function, where)
        backend = _backend(project, task)
        if backend == "none":
            return ref, (
                f"chord header task {task.task.function} runs on an app with no result_backend: the chord counts "
                "finished header tasks in the backend, so without one it cannot start (Celery raises "
                "NotImplementedError) and the body never runs; configure a result backend such as Redis"
            )
        if backend == "rpc":
            return ref, (
                f"chord header task {task.task.function} runs on an app whose result backend is rpc://, which does "
                "not support chords: the body never runs; use a backend such as Redis or a database"
            )
    return None


def _ignored_message(task: str, where: str) -> str:
    return (
        f"chord header task {task} ignores its result ({where}): the chord waits for every header result in the "
        "backend, so the body never runs (or fails with ChordError); set ignore_result=False on the tasks used "
        "in chords"
    )


def _backend(project: Project, task: ProjectTask) -> str:
    """The one backend kind all of a task's apps agree on, else `unknown`."""
    kinds = {backend_kind(m) for m in project.models_for(task)}
    return kinds.pop() if len(kinds) == 1 else "unknown"


@rule(
    code="CEL302",
    name="chain-step-takes-no-input",
    severity=Severity.ERROR,
    summary="A chain step's task cannot take the previous step's result as its first argument: TypeError at run time.",
    scope="project",
    fix=Applicability.SAFE,
    words=CANVAS_WORDS,
)
def chain_step_takes_no_input(project: Project) -> Iterator[Report]:
    for facts in project.files:
        for canvas in facts.tasks.canvases:
            for ref in receiving_steps(canvas):
                if ref.immutable or ref.star:
                    continue
                task = resolve_task(project, ref.target, ref.qualified, facts.path)
                if task is None or task.task.varargs or task.task.open_options:
                    continue
                accepted = len(task.task.input_params)
                if ref.positional != accepted:
                    continue  # room for the previous result, or broken for other reasons
                yield Report(ref.span, _arity_message(ref, task, accepted), _si_fix(ref), path=facts.path)


def _arity_message(ref: SignatureRef, task: ProjectTask, accepted: int) -> str:
    takes = "no positional parameter" if accepted == 0 else f"{accepted} positional parameter(s)"
    given = "" if ref.positional == 0 else f" besides the {ref.positional} given here"
    return (
        f"{ref.target}.{ref.method}(...) follows another step, so Celery passes it the previous result as its first "
        f"argument{given}, but task {task.task.function} takes {takes}: it fails with TypeError at run time; use "
        f"{ref.target}.si(...) if it does not need the result, or add a parameter for it"
    )


def _si_fix(ref: SignatureRef):  # type: ignore[no-untyped-def]
    if ref.method != "s":
        return None
    return fix([Edit(ref.method_span, "si")], "Make the signature immutable with .si()", Applicability.SAFE)
