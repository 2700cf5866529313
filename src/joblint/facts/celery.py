"""Celery configuration facts of one module: apps and settings writes."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from ..findings import Span
from ..launch import is_beat_flag
from .names import dotted
from .values import Value
from .walker import WalkContext, literal

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
# Methods of a Celery subclass that may configure the app: its settings are then not all in sight.
CONFIGURING_METHODS = {
    "__init__", "on_init", "on_configure", "on_after_configure", "setup_defaults", "config_from_object",
    "_load_config", "prepare_config", "add_defaults",
}


@dataclass(frozen=True)
class AppDef:
    """A `Celery(...)` construction."""

    ref: str  # this app's identity within the project: "<path>::<var>"
    qualified: str | None  # "<module>.<var>", how other modules import it, when the module has a name
    var: str
    span: Span  # the Celery(...) call
    namespace: str | None = None
    main: str | None = None
    last_arg: Span | None = None  # the last argument, to add a keyword after it
    module_level: bool = True  # False for an app built inside a function (a factory, a temporary app)
    open_args: bool = False  # a `*args` or `**kwargs` argument: a keyword added to the call may clash
    # The class when it is not celery.Celery: a project subclass (`app = MyCelery(...)`), qualified
    # ("proj.base.MyCelery", or "<module>.<Local>"); the model keeps the app when the project defines
    # that class as a Celery subclass (`AppClass`).
    cls: str | None = None
    includes: bool = False  # `Celery(include=[...])`: the worker imports task modules


@dataclass(frozen=True)
class AppClass:
    """`class MyCelery(Celery): ...` — or a class whose bases may lead to Celery through the project."""

    qualified: str  # "<module>.<Class>", or "<path>::<Class>" outside a package tree
    bases: tuple[str, ...]  # qualified when imported, "<module>.<Local>" for a class of this module
    configures: bool  # defines __init__/on_configure/...: the app's settings are not all in sight


@dataclass(frozen=True)
class Spread:
    """Settings passed through a name (`Celery(**OPTS)`, `app.conf.update(CONFIG)`,
    `app.conf.update(**CONFIG)`, `changes={**BASE}`): the model resolves a module-level literal dict
    of the project, else the app's settings are not all known."""

    owner: str  # app ref (or UNRESOLVED_APP)
    target: str | None  # qualified when imported, else the local name; None for any other expression
    via: str  # "Celery()", "conf.update", "Celery(changes)"
    span: Span
    index: int  # how many setting writes of this module come before it (`CeleryFacts.settings`)


@dataclass(frozen=True)
class SettingWrite:
    """One setting written somewhere: `key` as written, before any renaming."""

    key: str
    value: Value
    span: Span  # the key (keyword, attribute, string or name) that was written
    owner: str  # an app ref (see `CeleryCollector.app_ref`), or the config source's name
    via: str  # "Celery()", "conf.update", "conf.attr", "conf.item", "conf.setdefault", "module", "class"
    # How the key is spelled, for fixes that rename it or add a sibling setting next to it:
    # "keyword" (k=v), "string" ({"k": v}), "attribute" (app.conf.k = v), "item" (app.conf["k"] = v),
    # "name" (K = v at module level or in a class body).
    form: str = "keyword"
    raw: str = ""  # the key's source token when it is a string literal
    anchor: Span | None = None  # the statement's first token, for "attribute"/"item"/"name" forms
    owner_text: str = ""  # `app.conf`, for writing a sibling `app.conf.x = v`
    conditional: bool = False  # under an `if`/`match`: set in some configurations only
    open_call: bool = False  # a keyword of a call that also has `*args`/`**kwargs`: a sibling may clash


@dataclass(frozen=True)
class ConfigSource:
    """`app.config_from_object(...)`, `config_from_envvar(...)` or `Celery(config_source=...)`."""

    owner: str  # app ref
    target: str | None  # "proj.celeryconfig", "django.conf:settings", a qualified or local name; None if unknown
    is_string: bool
    namespace: str | None
    span: Span
    inline: Value | None = None  # `config_from_object({...})`: the dict literal itself


@dataclass
class CeleryFacts:
    apps: list[AppDef] = field(default_factory=list)
    settings: list[SettingWrite] = field(default_factory=list)
    sources: list[ConfigSource] = field(default_factory=list)
    django_settings: list[str] = field(default_factory=list)  # DJANGO_SETTINGS_MODULE values set here
    signals: list[str] = field(default_factory=list)  # qualified names of connected celery signals
    embedded_beat: list[Span] = field(default_factory=list)  # app.Worker(beat=True), worker_main([... -B])
    # Apps given settings joblint cannot read (`Celery(**opts)`, `app.conf.update(CONFIG)`): their
    # models are incomplete, so "never set" cannot be concluded.
    opaque: list[str] = field(default_factory=list)
    spreads: list[Spread] = field(default_factory=list)
    app_classes: list[AppClass] = field(default_factory=list)
    autodiscover: list[str] = field(default_factory=list)  # app refs that call autodiscover_tasks()
    runs_worker: list[str] = field(default_factory=list)  # app refs that start a worker (`app.worker_main()`)
    launched: list[str] = field(default_factory=list)  # `-A`/`--app` of worker commands in a launch file
    # Module-level names bound to a dict with a `**` spread in it: not a closed literal.
    open_dicts: list[str] = field(default_factory=list)
    # UPPERCASE names the module reads from a `settings` object (`settings.CELERY_HEARTBEAT_FILE`,
    # `getattr(settings, "CELERY_X", ...)`): the project's own settings, not typos of Celery's.
    settings_reads: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.apps or self.settings or self.sources or self.django_settings or self.signals or self.spreads
            or self.app_classes or self.autodiscover or self.settings_reads or self.opaque or self.runs_worker
            or self.launched
        )




UNRESOLVED_APP = "?"  # an owner meaning "some app joblint cannot name"


def _open_dict(expr: cst.BaseExpression) -> bool:
    """A dict display or `dict(...)` call with a `**` spread (or a positional argument) in it."""
    if isinstance(expr, cst.Dict):
        return any(not isinstance(el, cst.DictElement) for el in expr.elements)
    if isinstance(expr, cst.Call) and dotted(expr.func) == "dict":
        return any(arg.keyword is None for arg in expr.args)
    return False


class CeleryCollector:
    def __init__(self, ctx: WalkContext) -> None:
        self.ctx = ctx
        self.facts = CeleryFacts()
        self.app_vars: dict[str, str] = {}  # local variable -> app ref
        self.app_classes: dict[str, str] = {}  # local class that may be a Celery subclass -> qualified name
        self._assign_value: cst.BaseExpression | None = None
        self._statement: cst.CSTNode | None = None

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

    def _write(
        self, key: str, value: cst.BaseExpression, key_node: cst.CSTNode, owner: str, via: str, **kw: object
    ) -> None:
        raw = key_node.value if isinstance(key_node, cst.SimpleString) else ""
        self.facts.settings.append(
            SettingWrite(
                key, self.ctx.value(value), self.ctx.span(key_node), owner, via, raw=raw,
                conditional=self.ctx.branches > 0, **kw,  # type: ignore[arg-type]
            )
        )

    # -- apps ----------------------------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        # The targets are visited next; `conf.x = v` needs the value there.
        self._assign_value = node.value
        value = node.value
        if self.ctx.function is None and not self.ctx.scopes and _open_dict(value):
            self.facts.open_dicts.extend(t.target.value for t in node.targets if isinstance(t.target, cst.Name))
        is_app, cls = self._app_class(value)
        if not is_app:
            return
        assert isinstance(value, cst.Call)
        for target in node.targets:
            var = dotted(target.target)
            if var is None:
                continue
            ref = self.local_ref(var)
            self.app_vars[var] = ref
            self._app(ref, var, value, cls)

    def leave_Assign(self, node: cst.Assign) -> None:
        self._assign_value = None

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        # `app: Celery = Celery(...)`
        value = node.value
        var = dotted(node.target)
        if value is None or var is None:
            return
        is_app, cls = self._app_class(value)
        if is_app:
            assert isinstance(value, cst.Call)
            ref = self.local_ref(var)
            self.app_vars[var] = ref
            self._app(ref, var, value, cls)

    def _qualified_local(self, name: str) -> str:
        module = self.ctx.imports.module
        return f"{module}.{name}" if module else f"{self.ctx.path}::{name}"

    def _app_class(self, value: cst.BaseExpression | None) -> tuple[bool, str | None]:
        """Whether `value` builds a Celery app, and the class when it is not celery.Celery: a
        Celery subclass of this module, or an imported class whose name says Celery (the model
        keeps it when the project defines it as a subclass)."""
        if not isinstance(value, cst.Call):
            return False, None
        qualified = self.ctx.imports.qualify(value.func)
        if qualified in CELERY_CLASSES:
            return True, None
        name = dotted(value.func)
        if qualified is None and name in self.app_classes:
            return True, self.app_classes[name]
        last = qualified.rsplit(".", 1)[-1] if qualified is not None else ""
        if qualified is not None and "celery" in last.lower() and last[:1].isupper():
            if qualified.split(".")[0] not in ("celery", *NOT_CELERY):
                return True, qualified
        return False, None

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if self.ctx.scopes:
            return
        bases = []
        for arg in node.bases:
            if arg.keyword is not None:
                continue
            qualified = self.ctx.imports.qualify(arg.value)
            local = dotted(arg.value)
            if qualified is None and local in self.app_classes:
                qualified = self.app_classes[local]
            bases.append(qualified or (self._qualified_local(local) if local else ""))
        if not any(
            b in CELERY_CLASSES or b in self.app_classes.values() or "celery" in b.rsplit(".", 1)[-1].lower()
            for b in bases
        ):
            return
        names = {s.name.value for s in node.body.body if isinstance(s, cst.FunctionDef)}
        for stmt in node.body.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Assign, cst.AnnAssign)):
                        targets = small.targets if isinstance(small, cst.Assign) else [small]
                        names.update(t.target.value for t in targets if isinstance(t.target, cst.Name))
        configures = bool(names & CONFIGURING_METHODS) or any("conf" in n or n == "task_cls" for n in names)
        qualified_name = self._qualified_local(node.name.value)
        self.app_classes[node.name.value] = qualified_name
        self.facts.app_classes.append(AppClass(qualified_name, tuple(bases), configures))

    def _spread(self, owner: str, expr: cst.BaseExpression, via: str) -> None:
        """Settings passed through a name: resolved by the model when it names a literal dict."""
        target = None
        if isinstance(expr, (cst.Name, cst.Attribute)):
            target = self.ctx.imports.qualify(expr) or dotted(expr)
        index = len(self.facts.settings)
        self.facts.spreads.append(Spread(owner, target, via, self.ctx.span(expr), index))

    def _app(self, ref: str, var: str, call: cst.Call, cls: str | None = None) -> None:
        namespace = main = None
        open_args = any(arg.star for arg in call.args)
        includes = False
        for i, arg in enumerate(call.args):
            if arg.star:
                if arg.star == "**":
                    self._spread(ref, arg.value, "Celery()")
                continue
            key = arg.keyword.value if arg.keyword is not None else ("main" if i == 0 else None)
            if key is None:
                continue
            if key == "include":
                includes = True
            if key == "namespace" or key == "main":
                value = literal(arg.value)
                if isinstance(value, str):
                    namespace, main = (value, main) if key == "namespace" else (namespace, value)
            elif key == "changes":
                self._dict_writes(arg.value, ref, "Celery(changes)")
            elif key == "task_cls":
                # An app-wide base Task: its class attributes are every task's options.
                self.facts.opaque.append(ref)
            elif key == "config_source":
                self._source(ref, arg.value, None, arg.value)
            elif key not in APP_PARAMETERS and arg.keyword is not None:
                self._write(
                    APP_KEYWORD_SETTINGS.get(key, key),
                    arg.value,
                    arg.keyword,
                    ref,
                    "Celery()",
                    anchor=self.ctx.span(arg.value),
                    open_call=open_args,
                )
        module = self.ctx.imports.module
        qualified = f"{module}.{var}" if module else None
        last = self.ctx.span(call.args[-1].value) if call.args else None
        self.facts.apps.append(
            AppDef(
                ref, qualified, var, self.ctx.span(call), namespace, main, last, self.ctx.function is None, open_args,
                cls, includes,
            )
        )

    # -- app.conf writes and config sources ------------------------------------------------------
    def _conf_owner(self, expr: cst.BaseExpression) -> str | None:
        """The app whose `.conf` this expression is. `.conf` of something joblint cannot
        resolve (an app passed as a parameter, `self.app`) makes every app's model incomplete."""
        if isinstance(expr, cst.Attribute) and expr.attr.value == "conf":
            owner = self.app_ref(expr.value)
            if owner is None and dotted(expr.value) is not None:
                self.facts.opaque.append(UNRESOLVED_APP)
            return owner
        return None

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        self._environment(node)
        if isinstance(func, cst.Name) and func.value == "getattr" and len(node.args) >= 2:
            self._settings_read(node.args[0].value, literal(node.args[1].value))
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        if method in ("config_from_object", "config_from_envvar"):
            owner = self.app_ref(func.value)
            if owner is None and dotted(func.value) is not None:
                self.facts.opaque.append(UNRESOLVED_APP)
            if owner is not None and node.args:
                namespace = next(
                    (literal(a.value) for a in node.args if a.keyword is not None and a.keyword.value == "namespace"),
                    None,
                )
                given = next((a.value for a in node.args if a.keyword is not None and a.keyword.value == "obj"), None)
                first = node.args[0].value if node.args[0].keyword is None else given
                target = first if method == "config_from_object" else None
                self._source(owner, target, namespace if isinstance(namespace, str) else None, node)
            return
        if method == "autodiscover_tasks":
            owner = self.app_ref(func.value)
            if owner is not None:
                self.facts.autodiscover.append(owner)
            return
        if method == "connect":
            signal = self.ctx.imports.qualify(func.value)
            if signal is not None and signal.startswith("celery.signals."):
                self.facts.signals.append(signal)
            return
        if method in ("Worker", "worker_main") and self.app_ref(func.value) is not None:
            self.facts.runs_worker.append(self.app_ref(func.value) or "")
            self._embedded_beat(node, method)
            return
        owner = self._conf_owner(func.value)
        if owner is None:
            return
        if method == "update":
            self._update(node, owner)
        elif method == "setdefault" and len(node.args) >= 2 and isinstance(node.args[0].value, cst.SimpleString):
            key = literal(node.args[0].value)
            if isinstance(key, str):
                self._write(
                    key,
                    node.args[1].value,
                    node.args[0].value,
                    owner,
                    "conf.setdefault",
                    form="string",
                    anchor=self.ctx.span(node.args[1].value),
                )

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._settings_read(node.value, node.attr.value)

    def _settings_read(self, obj: cst.BaseExpression, name: object) -> None:
        """`settings.NAME` / `getattr(settings, "NAME")` on an object named settings."""
        if not isinstance(name, str) or not name.isupper() or not name.startswith("CELERY"):
            return
        text = dotted(obj)
        if text is not None and text.rsplit(".", 1)[-1] == "settings" and name not in self.facts.settings_reads:
            self.facts.settings_reads.append(name)

    def visit_Decorator(self, node: cst.Decorator) -> None:
        # `@task_failure.connect` (the called form `@task_failure.connect(...)` is a Call)
        expr = node.decorator
        if isinstance(expr, cst.Attribute) and expr.attr.value == "connect":
            signal = self.ctx.imports.qualify(expr.value)
            if signal is not None and signal.startswith("celery.signals."):
                self.facts.signals.append(signal)

    def _source(self, owner: str, target: cst.BaseExpression | None, namespace: str | None, where: cst.CSTNode) -> None:
        text: str | None = None
        is_string = False
        inline = None
        if isinstance(target, (cst.SimpleString, cst.ConcatenatedString)):
            value = literal(target)
            text, is_string = (value, True) if isinstance(value, str) else (None, False)
        elif isinstance(target, cst.Dict) or (isinstance(target, cst.Call) and dotted(target.func) == "dict"):
            if not _open_dict(target):
                inline = self.ctx.value(target)  # `config_from_object({...})`: the dict is the source
        elif target is not None:
            text = self.ctx.imports.qualify(target) or dotted(target)
        self.facts.sources.append(ConfigSource(owner, text, is_string, namespace, self.ctx.span(where), inline))

    def _update(self, call: cst.Call, owner: str) -> None:
        open_call = any(arg.star for arg in call.args)
        for arg in call.args:
            if arg.star == "**" or (not arg.star and arg.keyword is None):
                self._dict_writes(arg.value, owner, "conf.update")
            elif arg.keyword is not None:
                self._write(
                    arg.keyword.value, arg.value, arg.keyword, owner, "conf.update", anchor=self.ctx.span(arg.value),
                    open_call=open_call,
                )

    def _dict_writes(self, expr: cst.BaseExpression, owner: str, via: str) -> None:
        if isinstance(expr, cst.Dict):
            for el in expr.elements:
                if not isinstance(el, cst.DictElement):
                    self._spread(owner, el.value, via)  # {**BASE, ...}, in its place among the keys
                elif isinstance(el.key, cst.SimpleString):
                    key = literal(el.key)
                    if isinstance(key, str):
                        self._write(key, el.value, el.key, owner, via, form="string", anchor=self.ctx.span(el.value))
                    else:
                        self._spread(owner, el.key, via)
                else:
                    self._spread(owner, el.key, via)  # a key joblint cannot read
        elif isinstance(expr, cst.Call) and dotted(expr.func) == "dict":
            open_call = any(arg.star for arg in expr.args)
            for arg in expr.args:
                if arg.keyword is not None:
                    self._write(
                        arg.keyword.value, arg.value, arg.keyword, owner, via, anchor=self.ctx.span(arg.value),
                        open_call=open_call,
                    )
                else:
                    self._spread(owner, arg.value, via)
        else:
            self._spread(owner, expr, via)  # update(CONFIG), update(**CONFIG), update(load())

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        target = node.target
        value = self._assign_value
        if value is None:
            return
        if isinstance(target, cst.Attribute):
            owner = self._conf_owner(target.value)
            if owner is not None:
                self._write(
                    target.attr.value, value, target.attr, owner, "conf.attr",
                    form="attribute", anchor=self.ctx.span(target), owner_text=dotted(target.value) or "",
                )
        elif isinstance(target, cst.Subscript) and len(target.slice) == 1:
            owner = self._conf_owner(target.value)
            index = target.slice[0].slice
            if owner is not None and isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
                key = literal(index.value)
                if isinstance(key, str):
                    self._write(
                        key, value, index.value, owner, "conf.item",
                        form="item", anchor=self.ctx.span(target), owner_text=dotted(target.value) or "",
                    )
            elif isinstance(index, cst.Index) and self._is_environ(target.value):
                self._django_settings_module(index.value, value)

    # -- the environment: DJANGO_SETTINGS_MODULE -------------------------------------------------
    def _is_environ(self, expr: cst.BaseExpression) -> bool:
        return self.ctx.imports.qualify(expr) == "os.environ"

    def _environment(self, call: cst.Call) -> None:
        func = call.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == "setdefault"
            and self._is_environ(func.value)
            and len(call.args) >= 2
        ):
            self._django_settings_module(call.args[0].value, call.args[1].value)

    def _django_settings_module(self, key: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if literal(key) == "DJANGO_SETTINGS_MODULE":
            module = literal(value)
            if isinstance(module, str):
                self.facts.django_settings.append(module)

    # -- beat inside a worker --------------------------------------------------------------------
    def _embedded_beat(self, call: cst.Call, method: str) -> None:
        for arg in call.args:
            if (
                method == "Worker"
                and arg.keyword is not None
                and arg.keyword.value == "beat"
                and literal(arg.value) is True
            ):
                self.facts.embedded_beat.append(self.ctx.span(arg))
            elif method == "worker_main" and isinstance(arg.value, (cst.List, cst.Tuple)):
                for el in arg.value.elements:
                    flag = literal(el.value)
                    if isinstance(flag, str) and is_beat_flag(flag):
                        self.facts.embedded_beat.append(self.ctx.span(el.value))
