"""`joblint check-app MODULE:ATTR`: check the configuration a Celery app really ends up with.

This is the only place joblint runs user code, and only when asked: the app is imported in a
child process (the project's interpreter, a time limit, an address-space limit), which writes
plain JSON to a file; the same settings model is filled from it and the same rules run on it.
Findings name the setting; they have no line.

What the child reports comes from the app's code and configuration, so everything this module
hands the command line to print (load errors, warnings, `--show-settings`) goes through `visible`:
no raw newline, ESC or other control character reaches the terminal or the CI log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import settings as celery_settings
from ..facts.celery import AppDef, SettingWrite
from ..facts.tasks import TaskDef
from ..facts.values import UNKNOWN, Value
from ..findings import Span
from ..project import Project, ProjectTask, SettingsModel
from ..report.escape import visible

NO_LINE = Span(0, 0, 0, 0)
MEMORY_LIMIT = 2 * 1024**3  # address space of the child, bytes


class AppLoadError(Exception):
    """The app could not be loaded: one line for the user, exit 2."""

    def __init__(self, message: str) -> None:
        super().__init__(visible(message))  # it quotes the child's error and stderr


@dataclass
class LoadedApp:
    target: str
    settings: dict[str, dict[str, Any]]  # name -> {"value": ..., "set": bool}
    tasks: dict[str, dict[str, Any]]
    namespace: str | None = None
    warnings: list[str] = field(default_factory=list)  # e.g. a task module that failed to import

    @property
    def path(self) -> str:
        return f"celery:{self.target}"


def _limits() -> None:  # pragma: no cover - runs in the child
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass


def load(target: str, python: str | None = None, timeout: float = 30.0, cwd: Path | None = None) -> LoadedApp:
    """Import `target` (`module:attr`) in a child process and read its final configuration."""
    if ":" not in target and not target.replace(".", "").replace("_", "").isalnum():
        raise AppLoadError(f"{target!r} is not MODULE:ATTR")
    interpreter = python or sys.executable
    child = Path(__file__).with_name("child.py")
    with tempfile.TemporaryDirectory(prefix="joblint-app-") as tmp:
        out = Path(tmp) / "app.json"
        try:
            proc = subprocess.run(
                [interpreter, str(child), target, str(out)],
                cwd=cwd or Path.cwd(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                preexec_fn=_limits if os.name == "posix" else None,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            )
        except subprocess.TimeoutExpired:
            raise AppLoadError(f"importing {target} took longer than {timeout:g}s (see --timeout)") from None
        except OSError as exc:
            raise AppLoadError(f"cannot run {interpreter}: {exc.strerror or exc}") from None
        if not out.exists():
            raise AppLoadError(_failure(target, proc))
        try:
            data = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AppLoadError(f"loading {target} gave unreadable output: {exc}") from None
    if "error" in data:
        error = data["error"]
        if error.startswith("celery is not installed"):
            error += " (pip install 'joblint[celery]', or --python PATH for the project's interpreter)"
        raise AppLoadError(error)
    warnings = [visible(str(warning)) for warning in data.get("warnings", [])]
    return LoadedApp(target, data["settings"], data["tasks"], data.get("namespace"), warnings)


def _failure(target: str, proc: subprocess.CompletedProcess[str]) -> str:
    if proc.returncode < 0:
        import signal

        try:
            name = signal.Signals(-proc.returncode).name
        except ValueError:
            name = str(-proc.returncode)
        return f"loading {target} killed the child process ({name})"
    last = next((line for line in reversed(proc.stderr.splitlines()) if line.strip()), "")
    detail = f": {last.strip()}" if last else ""
    return f"loading {target} exited with status {proc.returncode} before reporting{detail}"


def _value(data: Any) -> Value:
    if isinstance(data, dict) and set(data) == {"repr"}:
        return Value(UNKNOWN, NO_LINE)
    items = tuple(_value(v) for v in data) if isinstance(data, list) else ()
    entries = tuple((Value(k, NO_LINE), _value(v)) for k, v in data.items()) if isinstance(data, dict) else ()
    if isinstance(data, list):
        known = [i.data for i in items] if all(i.known for i in items) else UNKNOWN
    else:
        known = data
    return Value(known, NO_LINE, items=items, entries=entries)


def project(app: LoadedApp) -> Project:
    """The loaded app as a project: one settings model (explicitly set values as writes) and its tasks."""
    ref = app.path
    model = SettingsModel(ref, app.path, NO_LINE, True, None, app=AppDef(ref, None, "app", NO_LINE))
    for key, entry in sorted(app.settings.items()):
        if entry.get("set"):
            model.add(app.path, SettingWrite(key, _value(entry["value"]), NO_LINE, ref, "runtime"), "preconf")
    tasks = []
    for name, options in sorted(app.tasks.items()):
        opts = {k: _value(v) for k, v in options.items()}
        opts["name"] = Value(name, NO_LINE)
        module, _, function = name.rpartition(".")
        task = TaskDef(function or name, function or name, NO_LINE, NO_LINE, ref, opts, ())
        tasks.append(ProjectTask(task, app.path, module or None))
    model.worker, model.worker_reason = bool(tasks), "its tasks"  # as models.celery decides it statically
    return Project([], [model], tasks, {ref: ref})


def rule_settings() -> list[str]:
    """Settings the rules read, for --show-settings: what each rule declares (`@rule(settings=...)`),
    in the order of the rules' codes, each setting once."""
    from ..rules import all_rules

    return list(dict.fromkeys(name for _, r in sorted(all_rules().items()) for name in r.meta.settings))


def typed_settings(app: LoadedApp) -> tuple[Any, list[str]]:
    """The loaded values through the typed settings model (unknown objects left out)."""
    from ..settings.model import validate

    table = celery_settings.table()
    values = {
        name: entry["value"]
        for name, entry in app.settings.items()
        if name in table
        and entry["value"] != table[name].default  # Celery's own defaults need no checking
        and not (isinstance(entry["value"], dict) and set(entry["value"]) == {"repr"})
    }
    return validate(values)


def show_settings(app: LoadedApp) -> str:
    from ..settings.urls import masked_credential

    _, problems = typed_settings(app)
    lines = [f"warning: {visible(str(problem))}" for problem in problems]
    names = rule_settings()
    width = max((len(name) for name in names), default=0)
    for name in names:
        entry = app.settings.get(name)
        if entry is None:
            continue
        value = entry["value"]
        text = value["repr"] if isinstance(value, dict) and set(value) == {"repr"} else json.dumps(value)
        if isinstance(value, str) and masked_credential(value):
            text = json.dumps(masked_credential(value))
        source = "config" if entry.get("set") else "default"
        lines.append(f"{name:<{width}}  {source:<7}  {visible(text)}")
    return "\n".join(lines) + "\n"
