"""The substring pre-filter: skip, without parsing, every file no enabled rule can need.

Each rule declares the words (case-insensitive) a file must contain for the rule to read it, for
its findings or for facts it merges across files. A word may be a conjunction, `"celery&group("`:
every part must appear (a canvas `group(` needs an import from celery; `m.group(1)` alone does not
count). The pre-filter keeps a file when it contains any word of any enabled rule, so disabling
rules narrows it.

Some files matter only because of what other files say; a second look, after the first pass,
keeps them (`SecondLook`): modules that analysed files name (a configuration source, an ARQ job's
module) and, for rules that declare `task_name_words`, files holding one of those words and the
name of a task the first pass found, with its module's (a view that calls `send_report(...)`).
tests/test_prefilter.py proves the words sound on every rule document example and rule test case.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable

from .frameworks import by_key
from .rules import BUILTIN, RuleMeta, all_meta, all_rules

Words = tuple[tuple[bytes, ...], ...]  # alternatives; each holds the parts that must all appear
_CELERY = by_key("celery")  # its rules read Celery configuration modules (`SecondLook.config_files`)


def compile_words(declared: Iterable[str]) -> Words:
    """The declared words as alternatives, without those another one implies (`apply_async&queue`
    goes when `apply_async` alone keeps a file), single words first."""
    alternatives = {tuple(sorted({_part(part) for part in word.split("&")})) for word in declared}
    needed = [a for a in alternatives if not any(b != a and _implies(b, a) for b in alternatives)]
    return tuple(sorted(needed, key=lambda parts: (len(parts), parts)))


def _part(word: str) -> bytes:
    """Words match case-insensitively, but `=Task)` matches as written (a class named ...Task)."""
    return word.encode() if word.startswith(CASE_SENSITIVE) else word.lower().encode()


CASE_SENSITIVE = "="


def _implies(general: tuple[bytes, ...], specific: tuple[bytes, ...]) -> bool:
    """Every file `specific` keeps, `general` keeps: each of its parts is inside a part of `specific`."""
    return all(any(g in s for s in specific) for g in general)


def words(enabled: frozenset[str], metas: dict[str, RuleMeta] | None = None) -> Words | None:
    """Words a file must contain for an enabled rule to need it; None when a rule needs every file.

    `metas`: every rule's metadata (`rules.all_meta()`, which the cache keeps), read instead of
    importing the rules."""
    rules = {code: meta for code, meta in (metas or all_meta()).items() if code not in BUILTIN}
    if not any(code in rules for code in enabled):
        # Only the built-in findings (syntax errors): report them for files any rule would read.
        enabled = frozenset(rules)
    found: set[str] = set()
    for code, meta in rules.items():
        if code not in enabled:
            continue
        if not meta.words:
            return None
        found.update(meta.words)
    return compile_words(found)


def lowered(data: bytes, path: str = "") -> bytes:
    """What words are looked for in: the text and the file's name (`celeryconfig.py` may hold
    nothing but lowercase settings)."""
    return data.lower() + b"\n" + os.fsencode(os.path.basename(path)).lower()


def keeps(data: bytes, wanted: Words | None, path: str = "", python: bool = True) -> bool:
    """Whether a file's code, or its name, contains one of the words (and it is not protoc's).
    In Python source (`python`), comments and docstrings do not count: no fact comes from them,
    yet some files name a framework only there ("called from the Celery worker"; 12 of the 149
    the words keep in the bench corpus)."""
    if wanted is None:
        return True
    if _protoc_output(data) or not contains(lowered(data, path), wanted, data):
        return False
    code = without_comments_and_docstrings(data) if python else data
    return code is data or contains(lowered(code, path), wanted, code)


# A lexer just precise enough to tell comments and docstrings from code: string literals (triple-
# quoted ones over lines; a prefix stays with the code before it), comments, line ends, line
# continuations, and runs of anything else (brackets counted in them). An unterminated triple-
# quoted string runs to the end of the file, and stays code. Each repetition takes a run of plain
# bytes or one escape, never a choice between runs of different lengths, and the first quote that
# does not close on its line ends the lexing (the file is searched whole): the time stays linear.
_LEXEME = re.compile(
    rb"""
      (?P<string>'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*(?:'''|\Z)
               |\"\"\"[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*(?:\"\"\"|\Z)
               |'[^'\\\r\n]*(?:\\(?:\r\n|.)[^'\\\r\n]*)*'
               |"[^"\\\r\n]*(?:\\(?:\r\n|.)[^"\\\r\n]*)*")
    | (?P<unclosed>['"])  # PEP 701 f-strings nesting their quotes, or not Python
    | (?P<comment>\#[^\r\n]*)
    | (?P<newline>(?:\r\n|\r|\n)[ \t\f]*)
    | (?P<continued>\\(?:\r\n|\r|\n))
    | (?P<other>[^'"\#\r\n\\]+|.)
    """,
    re.VERBOSE | re.DOTALL,
)
_BLANK = b" \t\f"
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)
# Encodings in which every byte below 0x80 is the ASCII character: the lexer reads raw bytes.
# In Shift_JIS, GBK or Big5 the second byte of a character may be a backslash or a quote.
_ASCII_SAFE = re.compile(r"utf-8|ascii|latin-1|iso8859-\d+|cp125\d|koi8-\w+|mac-\w+")


def without_comments_and_docstrings(data: bytes) -> bytes:
    """`data` without its comments and without the strings that are statements of their own
    (docstrings); `data` itself when it has neither, or when it cannot be lexed as bytes."""
    if b"#" not in data and b'"""' not in data and b"'''" not in data:
        return data
    if not _ascii_safe(data):
        return data
    kept: list[bytes] = []
    pending: list[bytes] = []  # strings that begin a statement: dropped if the statement ends with them
    depth = 0  # open brackets: a line end inside them does not end the statement
    starts_statement = True
    for match in _LEXEME.finditer(data):
        kind, lexeme = match.lastgroup, match.group()
        if kind == "unclosed" or (kind == "string" and _template(data, match.start()) and not _fields_closed(lexeme)):
            # Since Python 3.12 an f-string may nest quotes of its own kind (`f"{d["#"]}"`) and
            # span lines: past one, comments and strings cannot be told apart by this lexer.
            return data
        if kind == "comment":
            continue
        if kind == "continued" or (kind == "other" and not lexeme.strip(_BLANK)):
            (pending if pending else kept).append(lexeme)
            continue
        if kind == "newline":
            if depth == 0:
                pending.clear()  # the statement was nothing but strings
                starts_statement = True
            kept.append(lexeme)
            continue
        if kind == "string" and depth == 0 and (starts_statement or pending):
            pending.append(lexeme)
            starts_statement = False
            continue
        kept.extend(pending)
        pending.clear()
        starts_statement = False
        if kind == "other":
            opened = lexeme.count(b"(") + lexeme.count(b"[") + lexeme.count(b"{")
            closed = lexeme.count(b")") + lexeme.count(b"]") + lexeme.count(b"}")
            depth = max(depth + opened - closed, 0)
        kept.append(lexeme)
    kept.extend(pending)  # the file ends without a line end: keep what cannot be told apart
    return b"".join(kept)


def _ascii_safe(data: bytes) -> bool:
    """Whether the file's encoding (its coding cookie, on one of its first two lines) is one the
    lexer can read as bytes."""
    head = b"\n".join(_LINE_END.split(data.removeprefix(codecs.BOM_UTF8), 2)[:2])
    cookie = _COOKIE.search(head)
    if cookie is None:
        return True
    try:
        name = codecs.lookup(cookie.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return False
    return _ASCII_SAFE.fullmatch(name) is not None


_LINE_END = re.compile(rb"\r\n|\r|\n")  # as Python reads source: a lone CR ends a line too
_PREFIX = re.compile(rb"(?<![\w.])[rRbBuUfFtT]{1,2}\Z")


def _template(data: bytes, start: int) -> bool:
    """Whether the string literal at `start` is an f-string or a t-string (`f`, `rf`, `Tr`, ...):
    its prefix is one or two prefix letters right before the quote, after no word character."""
    prefix = _PREFIX.search(data, max(start - 3, 0), start)
    return prefix is not None and any(c in prefix.group().lower() for c in b"ft")


def _fields_closed(lexeme: bytes) -> bool:
    """Whether every replacement field an f-string opens closes in it (`{{` and `}}` outside a
    field are literal braces)."""
    depth = i = 0
    while i < len(lexeme):
        c = lexeme[i : i + 1]
        if depth == 0 and c in (b"{", b"}") and lexeme[i + 1 : i + 2] == c:
            i += 2
            continue
        depth += {b"{": 1, b"}": -1}.get(c, 0)
        i += 1
    return depth == 0


# The first line protoc and grpcio-tools write: message descriptors and RPC stubs, never a task,
# a workflow or a setting, yet they spell service names that hold the words (`StartWorkflow...`,
# `RespondActivityTaskCompleted`), and they are the largest files of an SDK.
PROTOC_HEADERS = (
    b"# Generated by the protocol buffer compiler.",
    b"# Generated by the gRPC Python protocol compiler plugin.",
)


def _protoc_output(data: bytes) -> bool:
    head = data[:200]
    return any(header in head for header in PROTOC_HEADERS)


def contains(text: bytes, wanted: Words, raw: bytes = b"") -> bool:
    """Whether `text` (lowered) holds one of the alternatives; case-sensitive parts look in `raw`."""
    # Most files hold none of the words, so every word gets looked for: each only once, and not
    # at all when a piece it shares with others (`task` in `.task(`, `shared_task`) is absent.
    gates = _gates(wanted)
    present: dict[bytes, bool] = {}
    for parts in wanted:
        for part in parts:
            found = present.get(part)
            if found is None:
                gate = gates.get(part)
                if part[:1] == b"=":
                    found = part[1:] in raw
                elif gate is not None:
                    open_ = present.get(gate)
                    if open_ is None:
                        open_ = present[gate] = gate in text
                    found = open_ and part in text
                else:
                    found = part in text
                present[part] = found
            if not found:
                break
        else:
            return True
    return False


@lru_cache(maxsize=64)
def _gates(wanted: Words) -> dict[bytes, bytes]:
    """For parts that share a piece of four or more letters with other parts, that piece."""
    parts = {part for alternative in wanted for part in alternative if part[:1] != b"="}
    gates: dict[bytes, bytes] = {}
    while True:
        open_parts = parts - gates.keys()
        shared: dict[bytes, set[bytes]] = {}
        for part in open_parts:
            for size in range(4, len(part)):
                for start in range(len(part) - size + 1):
                    shared.setdefault(part[start : start + size], set()).add(part)
        if not shared:
            return gates
        piece, holders = max(shared.items(), key=lambda item: (len(item[1]), len(item[0]), item[0]))
        if len(holders) < 2:
            return gates
        gates.update(dict.fromkeys(holders, piece))


@dataclass(frozen=True)
class SecondLook:
    """Which skipped files the first pass's facts show to matter after all."""

    modules: frozenset[str]  # dotted names
    gates: Words  # a file holding one of these words and a task's name and module (`task_refs`)
    task_refs: dict[bytes, frozenset[bytes]]  # a task's function name -> last parts of its modules
    settings_modules: bool = False  # `settings` and `*.settings`: where Django's settings may be
    config_files: bool = False  # modules that assign Celery settings (checked as configuration of their own)

    def __bool__(self) -> bool:
        return bool(self.modules or (self.gates and self.task_refs) or self.settings_modules or self.config_files)

    def reads(self) -> bool:
        """Whether deciding about a skipped file needs its text (`keeps_text`)."""
        return bool(self.gates and self.task_refs) or self.config_files

    def leaves(self) -> frozenset[str]:
        """The last parts of the modules `names` accepts: a module matching by dotted suffix, either
        way, ends with the same part; a file whose module ends otherwise needs no module name."""
        return frozenset(m.rsplit(".", 1)[-1] for m in self.modules) | (
            {"settings"} if self.settings_modules else frozenset()
        )

    def names(self, module: str | None) -> bool:
        """Whether the file's module is one the facts name."""
        if module is None:
            return False
        # Module names match by dotted suffix, either way, as the project matches them:
        # `app.conf` finds `backend/app/conf.py`; `proj.conf` finds `conf.py` of a source
        # root without `__init__.py`.
        return _matches(module, self.modules) or (self.settings_modules and _is_settings(module))

    def keeps_text(self, data: bytes, path: str) -> bool:
        """Whether the file's text shows it matters: it assigns settings, or calls a task."""
        text = lowered(data, path)
        if self.config_files and _assigns_settings(data, path, text):
            return True
        if not (self.gates and self.task_refs) or not contains(text, self.gates, data):
            return False
        # A call that resolves to a task of another module names the function and that module
        # (`from shop.tasks import send_receipt`, `from shop import tasks; tasks.send_receipt()`);
        # a task of this module made the first pass keep the file already.
        names = set(IDENTIFIER.findall(text))
        return any(
            self.task_refs[name] & names and _called_or_renamed(text, name) for name in names & self.task_refs.keys()
        )

    def text_key(self) -> str:
        """What `keeps_text` depends on besides the file: decisions are kept under it."""
        refs = sorted((name, sorted(leaves)) for name, leaves in self.task_refs.items()) if self.gates else []
        return repr((self.gates, refs, self.config_files))  # sorted: a set's order changes from run to run


IDENTIFIER = re.compile(rb"[a-z_][a-z0-9_]*")


def _called_or_renamed(text: bytes, name: bytes) -> bool:
    """CEL802 flags `task(...)` and `task.run(...)`, also under an import alias."""
    return any(name + form in text for form in (b"(", b".run(", b" as "))


ASSIGNED = re.compile(rb"^[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?::[^=\n]*)?=(?!=)", re.MULTILINE)
CLASS_NAME = re.compile(rb"class\s+([A-Za-z_][A-Za-z0-9_]*)")
# Pieces of nearly every Celery setting's name, new or old (`task_serializer`, `BROKER_POOL_LIMIT`).
SETTING_PIECES = (b"broker", b"task_", b"worker_", b"result_", b"beat_", b"accept_content", b"enable_utc", b"timezone")


def _assigns_settings(data: bytes, path: str, text: bytes = b"") -> bool:
    """A module or class that the project model would check as Celery configuration of its own
    even when no app names it (`config_from_envvar`): `project.evident` on the names it assigns,
    with the file's or a class's name as the title."""
    from .models.celery import CONFIG_NAME, evident

    filename = os.path.basename(path)
    if not CONFIG_NAME.search(filename):
        text = text or data.lower()  # `text`: the file already lowered, when the caller has it
        if not any(piece in text for piece in SETTING_PIECES):
            return False
    names = sorted({match.group(1).decode() for match in ASSIGNED.finditer(data)})
    titles = [filename, *(match.group(1).decode() for match in CLASS_NAME.finditer(data))]
    return any(evident(names, None, title) for title in titles)


@lru_cache(maxsize=64)
def _suffixes(modules: frozenset[str]) -> frozenset[str]:
    return frozenset(".".join(name.split(".")[i:]) for name in modules for i in range(name.count(".") + 1))


def second_look(enabled: frozenset[str], facts: list[Any]) -> SecondLook:
    gates = {w for code, rule in all_rules().items() if code in enabled for w in rule.meta.task_name_words}
    refs: dict[bytes, set[bytes]] = {}
    for module in facts if gates else ():
        leaf = (module.module or module.path.rsplit("/", 1)[-1].removesuffix(".py")).rsplit(".", 1)[-1]
        for task in module.tasks.tasks:
            refs.setdefault(task.function.lower().encode(), set()).add(leaf.lower().encode())
    named = named_modules(facts)
    # `config_from_object("django.conf:settings")` with no DJANGO_SETTINGS_MODULE in sight: the
    # project model falls back to the module named settings (project.Project.django_settings).
    hinted = any(m.celery.django_settings for m in facts)
    fallback = bool(named & {"django.conf", "django.conf.settings"}) and not hinted
    return SecondLook(
        frozenset(named_modules(facts, fallback) if fallback else named),
        compile_words(gates),
        {name: frozenset(leaves) for name, leaves in refs.items()},
        fallback,
        any(_CELERY.owns(code) for code in enabled),  # a Celery rule reads configuration modules
    )


def named_modules(facts: Iterable[Any], settings_modules: bool = False) -> set[str]:
    """Modules that analysed files name: configuration sources (`config_from_object("proj.conf")`,
    DJANGO_SETTINGS_MODULE), what those (and modules with a configuration source of a local
    class, and modules that are configuration of their own) star-import or take base classes
    from, the modules of ARQ job functions, and those of the functions whose results Temporal
    activities loop over (TMP201). They matter whatever words they contain."""
    from .models.celery import holds_configuration
    from .models.literal_dicts import spread_modules

    facts = list(facts)
    seeds = {m.module for m in facts if m.module and (m.celery.sources or holds_configuration(m))}
    named: set[str] = set()
    for module in facts:
        for source in module.celery.sources:
            if source.target:  # "proj.conf", "proj.conf:Prod", or an imported class: "proj.conf.Prod"
                target = source.target.split(":", 1)[0]
                named.add(target)
                if not source.is_string and "." in target:
                    named.add(target.rsplit(".", 1)[0])
        named.update(module.celery.django_settings)
        # `Celery(**CONFIG)` with CONFIG imported from a project module: the model reads its dict.
        named.update(s.target.rsplit(".", 1)[0] for s in module.celery.spreads if s.target and "." in s.target)
        for settings in module.arq.settings:
            for entry in settings.entries:
                parts = (entry.ref or "").split(".")
                named.update(".".join(parts[:i]) for i in range(1, len(parts)))
        # TMP201: an activity loops over what a project function returns, maybe a literal list.
        for activity in module.temporal.activities:
            named.update(b.source.rsplit(".", 1)[0] for b in activity.busy_loops if b.source and "." in b.source)
    named |= spread_modules(facts)  # where `**RETRY_OPTIONS` of a task may be defined
    by_name: dict[str, list[Any]] = {}  # a monorepo's services may each have an `app.celeryconfig`
    for m in facts:
        if m.module:
            by_name.setdefault(m.module, []).append(m)
    by_suffix: dict[str, list[str]] = {}
    for name in by_name:
        for suffix in _dotted_suffixes(name):
            by_suffix.setdefault(suffix, []).append(name)
    pending = [n for n in by_name if n in seeds or (settings_modules and _is_settings(n))]
    pending += _matching(named, by_name, by_suffix)
    done: set[str] = set()
    while pending:
        name = pending.pop()
        if name in done:
            continue
        done.add(name)
        modules = by_name.get(name, ())
        bases = {b.rsplit(".", 1)[0] for m in modules for c in m.core.classes for b in c.bases if "." in b}
        used = {*(star for m in modules for star in m.core.star_imports), *bases}
        named |= used
        pending += [n for n in _matching(used, by_name, by_suffix) if n not in done]
    return named


def _dotted_suffixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


def _matching(names: Iterable[str], by_name: dict[str, Any], by_suffix: dict[str, list[str]]) -> list[str]:
    """The modules of `by_name` that `_matches` one of `names`, found by lookups, not a scan."""
    found: list[str] = []
    for name in names:
        found += by_suffix.get(name, ())  # `name` is a dotted suffix of the module
        found += (s for s in _dotted_suffixes(name) if s in by_name)  # the module is one of `name`
    return sorted(set(found))


def _matches(module: str, names: frozenset[str]) -> bool:
    """Whether a file's module is one of `names`, matching by dotted suffix either way as the
    project does: `app.conf` names `backend.app.conf`; `proj.conf` names `conf` of a source root
    without `__init__.py`."""
    parts = module.split(".")
    return module in _suffixes(names) or any(".".join(parts[i:]) in names for i in range(len(parts)))


def _is_settings(module: str) -> bool:
    return module == "settings" or module.endswith(".settings")
