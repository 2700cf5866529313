"""Launch files: where workers are started (Procfile, compose and Kubernetes YAML, systemd units,
supervisor configs, Dockerfiles, shell scripts, Makefiles).

joblint reads them as text: it splits each file into commands (a logical line of a script, one
`command:`/`args:` entry of YAML, a JSON-array `CMD`) and looks for `celery ... worker ... -B`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath

from .findings import Span
from .source import split_lines

LAUNCH_SUFFIXES = (".yml", ".yaml", ".service", ".conf", ".ini", ".sh", ".mk")


def launch_kind(path: PurePath | str) -> bool:
    """Whether a file (a path, or a file name) is one joblint reads for worker command lines."""
    name = path if isinstance(path, str) else path.name
    lower = name.lower()
    return (
        lower.startswith(("procfile", "dockerfile"))
        or lower.endswith(".dockerfile")
        or name in ("Makefile", "makefile", "GNUmakefile")
        or (name.endswith(LAUNCH_SUFFIXES) and name not in LAUNCH_SUFFIXES)  # PurePath.suffix: `.yml` has none
    )


@dataclass(frozen=True)
class Token:
    text: str
    line: int
    col: int  # 1-based


_SPLIT = re.compile(r"""[^\s\[\],"']+""")
_SEPARATORS = {"&&", "||", ";", "|", "&"}
_YAML_KEY = re.compile(r"^(\s*)(?:-\s+)?(command|args|entrypoint)\s*:\s*(.*?)\s*$")
_ASSIGNMENT_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def _strip_comment(line: str) -> str:
    in_quote = ""
    for i, ch in enumerate(line):
        if ch in "\"'":
            in_quote = "" if in_quote == ch else (in_quote or ch)
        elif ch == "#" and not in_quote and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def _tokens(line: str, number: int) -> list[Token]:
    out = []
    for match in _SPLIT.finditer(_strip_comment(line)):
        text, col = match.group(0), match.start() + 1
        prefix = _ASSIGNMENT_PREFIX.match(text)  # ExecStart=/usr/bin/celery, command=celery
        if prefix and len(text) > prefix.end():
            text, col = text[prefix.end():], col + prefix.end()
        out.append(Token(text, number, col))
    return out


def _split_commands(tokens: list[Token]) -> list[list[Token]]:
    commands: list[list[Token]] = [[]]
    for token in tokens:
        if token.text in _SEPARATORS:
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def _script_commands(text: str) -> list[list[Token]]:
    """Logical lines (backslash continuations joined), split at && ; |."""
    commands: list[list[Token]] = []
    pending: list[Token] = []
    for number, line in enumerate(split_lines(text), 1):
        continued = line.rstrip().endswith("\\")
        pending += _tokens(line.rstrip().rstrip("\\"), number)
        if not continued:
            commands += _split_commands(pending)
            pending = []
    return commands + _split_commands(pending)


def _yaml_commands(text: str) -> list[list[Token]]:
    """Each `command:`/`args:`/`entrypoint:` value (inline, a block list, or a folded string) is
    one command; an `args:` right after a `command:` continues it, as Kubernetes runs them."""
    lines = split_lines(text)
    blocks: list[tuple[str, int, list[Token]]] = []
    i = 0
    while i < len(lines):
        match = _YAML_KEY.match(lines[i])
        if match is None:
            i += 1
            continue
        # The key's own column: `- command:` in a list and a sibling `args:` line up on it.
        indent, key, rest = match.start(2), match.group(2), match.group(3)
        tokens = _tokens(lines[i][match.start(3):], i + 1) if rest and rest[0] not in ">|" else []
        j = i + 1
        if not tokens:
            while j < len(lines) and _continues_block(lines[j], indent):
                tokens += [t for t in _tokens(lines[j], j + 1) if t.text != "-"]
                j += 1
        blocks.append((key, indent, tokens))
        i = j
    commands: list[list[Token]] = []
    for index, (key, indent, tokens) in enumerate(blocks):
        previous = blocks[index - 1] if index else None
        if (
            key == "args"
            and previous is not None
            and previous[0] in ("command", "entrypoint")
            and previous[1] == indent
            and commands
        ):
            commands[-1] = commands[-1] + tokens
        else:
            commands.append(tokens)
    return [c for c in commands if c]


def _continues_block(line: str, indent: int) -> bool:
    """A line inside a YAML value that started at column `indent`: deeper, or a list item at it."""
    if not line.strip():
        return True
    depth = len(line) - len(line.lstrip())
    if depth > indent:
        return True
    return depth == indent and line.lstrip().startswith("- ") and _YAML_KEY.match(line) is None


# Commands that mention a command line without running it.
NOT_RUN = {"echo", "printf", "cat", "print", "log", "help"}


def _is_celery(token: str) -> bool:
    return token.rsplit("/", 1)[-1] in ("celery", "celery.exe")


def is_beat_flag(token: str) -> bool:
    if token == "--beat":
        return True
    return bool(re.fullmatch(r"-[BE]+", token)) and "B" in token


def worker_apps(text: str, path: PurePath) -> list[str]:
    """The `-A`/`--app` of `celery ... worker` (or `multi`) commands: the apps a worker runs."""
    found: list[str] = []
    for tokens, _ in _worker_invocations(text, path):
        for app in _option_values([t.text for t in tokens], "-A", "--app"):
            if app not in found and re.fullmatch(r"[A-Za-z_][\w.:]*", app):
                found.append(app)
    return found


def embedded_beat(text: str, path: PurePath) -> list[Span]:
    """Spans of `-B`/`--beat` flags given to `celery ... worker` or `celery multi`."""
    spans: list[Span] = []
    for tokens, sub in _worker_invocations(text, path):
        options = tokens[sub + 1:]
        schedulers = _option_values([t.text for t in options], "-S", "--scheduler")
        if any(s.strip("'\"") in LOCKING_SCHEDULERS for s in schedulers):
            continue
        spans.extend(Span(t.line, t.col, t.line, t.col + len(t.text)) for t in options if is_beat_flag(t.text))
    return sorted(set(spans))


# Beat schedulers that elect one leader through a lock: RedBeat holds `redbeat_lock_key` in Redis,
# so a beat embedded in every worker still sends each entry once.
LOCKING_SCHEDULERS = ("redbeat.RedBeatScheduler", "redbeat.schedulers.RedBeatScheduler")


def _worker_invocations(text: str, path: PurePath) -> Iterator[tuple[list[Token], int]]:
    """Each `celery ... worker` (or `multi`) invocation in a launch file's commands: its tokens up
    to the next `celery`, and the index among them of the subcommand."""
    yaml = path.suffix in (".yml", ".yaml")
    for command in _yaml_commands(text) if yaml else _script_commands(text):
        if command[0].text in NOT_RUN:
            continue
        starts = [i for i, t in enumerate(command) if _is_celery(t.text)]
        for start, end in zip(starts, [*starts[1:], len(command)]):
            tokens = command[start + 1:end]
            sub = next((i for i, t in enumerate(tokens) if t.text in ("worker", "multi", "beat")), None)
            if sub is not None and tokens[sub].text != "beat":
                yield tokens, sub


def _option_values(words: list[str], short: str, long: str) -> Iterator[str]:
    """The values of an option among a command's words: `-X v`, `-Xv`, `-X=v`, `--long v`, `--long=v`."""
    for i, word in enumerate(words):
        if word in (short, long) and i + 1 < len(words):
            yield words[i + 1]
        elif word.startswith(long + "="):
            yield word[len(long) + 1:]
        elif word.startswith(short) and len(word) > 2 and not word.startswith("--"):
            yield word[2:].removeprefix("=")
