"""Celery configuration facts of one module: apps and settings writes."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from ..findings import Span
from .names import dotted
from .values import Value
from .walker import WalkContext

CELERY_CLASSES = {"celery.Celery", "celery.app.Celery", "celery.app.base.Celery"}
SHARED_TASK = {
    "celery.shared_task",
    "celery.app.shared_task",
    "celery.app.base.shared_task",
    "celery.task",
    "celery.task.task",
    "celery.decorators.task",
    "celery.task.periodic_task",
    "celery.decorators.periodic_task",
}
CURRENT_APP = {"celery.current_app", "celery.app.current_app"}
# Objects with a `.task` decorator that are not Celery apps.
NOT_CELERY = ("huey", "dramatiq", "invoke", "prefect", "luigi", "rq", "fabric", "nox", "airflow", "taskiq")

# Celery(...) parameters that are not settings; the rest of its keyword arguments are.
APP_PARAMETERS = {
    "main", "loader", "amqp", "events", "log", "control", "set_as_current", "tasks",
    "include", "fixups", "task_cls", "autofinalize", "namespace", "strict_typing",
    "config_source", "changes",
}
APP_KEYWORD_SETTINGS = {"broker": "broker_url", "backend": "result_backend"}


@dataclass(frozen=True)
class AppDef:
    """A `Celery(...)` construction."""

    ref: str  # this app's identity within the project: "<path>::<var>"
    qualified: str | None  # "<module>.<var>", how other modules import it, when the module has a name
    var: str
    span: Span  # the Celery(...) call
    namespace: str | None = None
    main: str | None = None


@dataclass(frozen=True)
class SettingWrite:
    """One setting written somewhere: `key` as written, before any renaming."""

    key: str
    value: Value
    span: Span  # the key (keyword, attribute, string or name) that was written
    owner: str  # an app ref (see `CeleryCollector.app_ref`), or "module:<dotted module>" / "class:<qualname>" for config sources
    via: str  # "Celery()", "conf.update", "conf.attr", "conf.item", "conf.setdefault"


@dataclass
class CeleryFacts:
    apps: list[AppDef] = field(default_factory=list)
    settings: list[SettingWrite] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.apps or self.settings)


class CeleryCollector:
    def __init__(self, ctx: WalkContext) -> None:
        self.ctx = ctx
        self.facts = CeleryFacts()
        self.app_vars: dict[str, str] = {}  # local variable -> app ref
        self._assign_value: cst.BaseExpression | None = None

    # -- names ---------------------------------------------------------------------------------
    def local_ref(self, var: str) -> str:
        return f"{self.ctx.path}::{var}"

    def app_ref(self, expr: cst.BaseExpression) -> str | None:
        """The app an expression names: a Celery app built here ("<path>::<var>"), an imported
        name that may be an app (its qualified name), or "celery.current_app"."""
        text = dotted(expr)
        if text is None:
            return None
        if text in self.app_vars:
            return self.app_vars[text]
        qualified = self.ctx.imports.qualify_text(text)
        if qualified is None:
            return None
        if qualified in CURRENT_APP:
            return "celery.current_app"
        if qualified.split(".")[0] in NOT_CELERY or qualified in CELERY_CLASSES:
            return None
        return qualified

    # -- apps ----------------------------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        # The targets are visited next; `conf.x = v` needs the value there.
        self._assign_value: cst.BaseExpression | None = node.value
        value = node.value
        if not isinstance(value, cst.Call) or self.ctx.imports.qualify(value.func) not in CELERY_CLASSES:
            return
        for target in node.targets:
            var = dotted(target.target)
            if var is None:
                continue
            ref = self.local_ref(var)
            self.app_vars[var] = ref
            self._app(ref, var, value)

    def _app(self, ref: str, var: str, call: cst.Call) -> None:
        namespace = main = None
        for i, arg in enumerate(call.args):
            if arg.star:
                continue
            key = arg.keyword.value if arg.keyword is not None else ("main" if i == 0 else None)
            if key is None:
                continue
            value = self.ctx.value(arg.value)
            if key == "namespace" and isinstance(value.data, str):
                namespace = value.data
            elif key == "main" and isinstance(value.data, str):
                main = value.data
            elif key == "changes":
                self._dict_writes(arg.value, ref, "Celery()")
            elif key not in APP_PARAMETERS and arg.keyword is not None:
                setting = APP_KEYWORD_SETTINGS.get(key, key)
                self.facts.settings.append(
                    SettingWrite(setting, value, self.ctx.span(arg.keyword), ref, "Celery()")
                )
        module = self.ctx.imports.module
        qualified = f"{module}.{var}" if module else None
        self.facts.apps.append(AppDef(ref, qualified, var, self.ctx.span(call), namespace, main))

    # -- app.conf writes -----------------------------------------------------------------------
    def _conf_owner(self, expr: cst.BaseExpression) -> str | None:
        """The app whose `.conf` this expression is."""
        if isinstance(expr, cst.Attribute) and expr.attr.value == "conf":
            return self.app_ref(expr.value)
        return None

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        owner = self._conf_owner(func.value)
        if owner is None:
            return
        if method == "update":
            self._update(node, owner)
        elif method == "setdefault" and len(node.args) >= 2:
            key = self.ctx.value(node.args[0].value)
            if isinstance(key.data, str):
                self.facts.settings.append(
                    SettingWrite(key.data, self.ctx.value(node.args[1].value), key.span, owner, "conf.setdefault")
                )

    def _update(self, call: cst.Call, owner: str) -> None:
        for arg in call.args:
            if arg.star == "**" or (not arg.star and arg.keyword is None):
                self._dict_writes(arg.value, owner, "conf.update")
            elif arg.keyword is not None:
                self.facts.settings.append(
                    SettingWrite(
                        arg.keyword.value, self.ctx.value(arg.value), self.ctx.span(arg.keyword), owner, "conf.update"
                    )
                )

    def _dict_writes(self, expr: cst.BaseExpression, owner: str, via: str) -> None:
        if isinstance(expr, cst.Dict):
            for el in expr.elements:
                if isinstance(el, cst.DictElement) and isinstance(el.key, cst.SimpleString):
                    key = self.ctx.value(el.key)
                    if isinstance(key.data, str):
                        self.facts.settings.append(
                            SettingWrite(key.data, self.ctx.value(el.value), key.span, owner, via)
                        )
        elif isinstance(expr, cst.Call) and dotted(expr.func) == "dict":
            for arg in expr.args:
                if arg.keyword is not None:
                    self.facts.settings.append(
                        SettingWrite(arg.keyword.value, self.ctx.value(arg.value), self.ctx.span(arg.keyword), owner, via)
                    )

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        target = node.target
        parent_value = self._assign_value
        if parent_value is None:
            return
        if isinstance(target, cst.Attribute):
            owner = self._conf_owner(target.value)
            if owner is not None:
                self.facts.settings.append(
                    SettingWrite(target.attr.value, self.ctx.value(parent_value), self.ctx.span(target.attr), owner, "conf.attr")
                )
        elif isinstance(target, cst.Subscript) and len(target.slice) == 1:
            owner = self._conf_owner(target.value)
            index = target.slice[0].slice
            if owner is not None and isinstance(index, cst.Index):
                key = self.ctx.value(index.value)
                if isinstance(key.data, str):
                    self.facts.settings.append(
                        SettingWrite(key.data, self.ctx.value(parent_value), key.span, owner, "conf.item")
                    )

    def leave_Assign(self, node: cst.Assign) -> None:
        self._assign_value = None
