"""`[tool.joblint]` in pyproject.toml (or a file given with --config), and rule selection."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, get_type_hints

from .rules import BUILTIN
from .safe_io import CONFIG_LIMIT, read_regular

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class ConfigError(Exception):
    """A configuration problem, reported as one line and exit code 2."""


def _key(name: str) -> dict[str, str]:
    return {"key": name}  # the setting's name in TOML, where it differs from the field's


@dataclass(frozen=True)
class Settings:
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list, metadata=_key("extend-select"))
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict, metadata=_key("per-file-ignores"))
    exclude: list[str] | None = None
    extend_exclude: list[str] = field(default_factory=list, metadata=_key("extend-exclude"))
    respect_gitignore: bool = field(default=True, metadata=_key("respect-gitignore"))
    # Apply `exclude` to the paths named on the command line too (pre-commit names every changed
    # file); without it a named file or directory is checked whatever `exclude` says, as in ruff.
    force_exclude: bool = field(default=False, metadata=_key("force-exclude"))
    # Celery settings of third-party extensions that CEL109 should not report as unknown.
    extra_settings: list[str] = field(default_factory=list, metadata=_key("extra-settings"))
    # Task names registered by installed packages, for rules that check names against the project.
    known_tasks: list[str] = field(default_factory=list, metadata=_key("known-tasks"))
    baseline: str | None = None  # a baseline file (relative to this config's directory): report only new findings
    cache_dir: str | None = field(default=None, metadata=_key("cache-dir"))  # relative to this config's directory


@lru_cache(maxsize=1)
def schema() -> Any:
    """The pydantic model that validates a `[tool.joblint]` table into `Settings`.

    Built from `Settings` when a configuration is actually present: a run without one never
    imports pydantic. Strict: TOML has real booleans and lists, so `"yes"` is not a boolean.
    """
    from pydantic import ConfigDict, Field, create_model

    hints = get_type_hints(Settings)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(Settings):
        default = (
            {"default": f.default} if f.default is not dataclasses.MISSING else {"default_factory": f.default_factory}
        )
        fields[f.name] = (hints[f.name], Field(alias=f.metadata.get("key", f.name), **default))
    config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, strict=True)
    return create_model("Settings", __config__=config, **fields)


DEFAULT_EXCLUDE = [
    ".bzr", ".direnv", ".eggs", ".git", ".hg", ".mypy_cache", ".nox", ".pants.d", ".pytype",
    ".ruff_cache", ".svn", ".tox", ".venv", "__pypackages__", "_build", "buck-out", "build",
    "dist", "node_modules", "site-packages", "venv", ".joblint_cache",
]


@dataclass
class Config:
    settings: Settings
    root: Path  # the project root: where the config lives, or the nearest pyproject/VCS root
    source: Path | None  # the file the settings came from
    # Whether `root` is a project: a marker (pyproject.toml, .git, .hg; or --config) says so, or
    # the user named it as the directory to check. False when the first path is a file (or the
    # name --stdin-filename gives) with no marker above it: `root` is then only the file's own
    # directory, and a run given files must not take the rest of it (`--stdin-filename
    # /usr/x.py` is not all of /usr), nor keep a cache there.
    marked: bool = True

    @property
    def exclude(self) -> list[str]:
        base = self.settings.exclude if self.settings.exclude is not None else DEFAULT_EXCLUDE
        return [*base, *self.settings.extend_exclude]


def _describe(error: Mapping[str, Any]) -> str:
    loc = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown key '{loc}'"
    return f"'{loc}': {error['msg'].lower()}"


def load_file(path: Path, *, section_required: bool) -> Settings | None:
    # A regular file of bounded size only: a pyproject.toml linked to /dev/zero or a FIFO must
    # stop the run, never hang it. A link to a regular file is followed (monorepos share one).
    try:
        text = read_regular(path, CONFIG_LIMIT).decode("utf-8")
        data = tomllib.loads(text.replace("\r\n", "\n").replace("\r", "\n"))  # newlines as read_text reads them
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:  # `x = [[[[...]]]]` thousands deep: the parser recurses per bracket
        raise ConfigError(f"{path}: invalid TOML: nested too deeply to read") from None
    if path.name == "pyproject.toml":
        section = data.get("tool", {}).get("joblint")
        if section is None:
            if section_required:
                raise ConfigError(f"{path}: no [tool.joblint] section")
            return None
        where = "[tool.joblint]"
    else:
        section = data.get("tool", {}).get("joblint", data)
        where = "config"
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: {where} must be a table")
    from pydantic import ValidationError

    try:
        validated = schema().model_validate(section)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"{path}: {where}: {_describe(first)}") from None
    return Settings(**{f.name: getattr(validated, f.name) for f in dataclasses.fields(Settings)})


def _marked_root(start: Path) -> Path | None:
    """The nearest directory at or above `start` (a directory) with a project marker, or None.

    The markers are pyproject.toml, .git and .hg; a joblint.toml is read only when given with
    --config, so it marks nothing."""
    for directory in (start, *start.parents):
        if (directory / "pyproject.toml").is_file() or (directory / ".git").exists() or (directory / ".hg").exists():
            return directory
    return None


def find_root(start: Path) -> Path:
    """The nearest directory with a pyproject.toml or a VCS directory, else `start` (a file's directory)."""
    start = start if start.is_dir() else start.parent
    return _marked_root(start) or start


def _resolve(path: Path) -> Path:
    """The real path; a symlink loop (RuntimeError before Python 3.13) resolves no further."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return Path(os.path.abspath(path))


def discover(paths: list[Path], explicit: Path | None = None) -> Config:
    """The configuration for a run: --config, else the nearest pyproject.toml with [tool.joblint]."""
    if explicit is not None:
        if not os.path.exists(explicit):
            raise ConfigError(f"{explicit}: config file not found")
        settings = load_file(explicit, section_required=True)
        assert settings is not None
        return Config(settings, _resolve(explicit).parent, explicit)
    given = Path(os.path.abspath(paths[0] if paths else Path.cwd()))
    try:
        named_directory = given.is_dir()
    except OSError:  # a name too long for the file system (`--stdin-filename`): no such directory
        named_directory = False
    # A file belongs to the project of the directory it sits in, wherever a symlink points it.
    start = _resolve(given if named_directory else given.parent)
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        # Anything there but a directory or a dangling link is read: one that is not a regular
        # file (a FIFO, a link to /dev/zero) is an error, not a file to skip in silence.
        if os.path.exists(candidate) and not os.path.isdir(candidate):
            settings = load_file(candidate, section_required=False)
            if settings is not None:
                return Config(settings, directory, candidate)
        if (directory / ".git").exists():
            break
    root = _marked_root(start)
    # Without a marker, a directory the user named is the project; a file's directory is not.
    return Config(Settings(), root or start, None, marked=root is not None or named_directory)


# -- selection ---------------------------------------------------------------------------------

def expand(selector: str, metas: dict[str, Any], origin: str) -> set[str]:
    """Codes a selector names: ALL, a code, a prefix (CEL, CEL1, TMP10), or a rule name."""
    sel = selector.strip()
    if sel.upper() == "ALL":
        return set(metas)
    upper = sel.upper()
    codes = {code for code in metas if code.startswith(upper)}
    if codes:
        return codes
    by_name = {code for code, meta in metas.items() if meta.name == sel.lower()}
    if by_name:
        return by_name
    raise ConfigError(f"{origin}: unknown rule selector '{selector}'")


def select(
    settings: Settings,
    metas: dict[str, Any],
    origin: str,
    cli_select: list[str] | None = None,
    cli_extend: list[str] | None = None,
    cli_ignore: list[str] | None = None,
) -> frozenset[str]:
    """Enabled codes. Without `select`, every rule that is not opt-in; `ignore` always wins."""
    cli = "command line"
    if cli_select is not None:
        chosen = [(s, cli) for s in cli_select]
    elif settings.select is not None:
        chosen = [(s, origin) for s in settings.select]
    else:
        chosen = None
    if chosen is None:
        enabled = {code for code, meta in metas.items() if not meta.opt_in}
    else:
        enabled = set()
        for sel, where in chosen:
            enabled |= expand(sel, metas, where)
    extend = [(s, origin) for s in settings.extend_select] + [(s, cli) for s in cli_extend or []]
    for sel, where in extend:
        enabled |= expand(sel, metas, where)
    # JL001 (a file that cannot be read or parsed) and JL002 (a rule crashed) say the selected rules
    # did not run on a file: a narrow selection must not turn that into "All checks passed!".
    enabled |= {code for code in BUILTIN if code in metas}
    ignore = [(s, origin) for s in settings.ignore] + [(s, cli) for s in cli_ignore or []]
    for sel, where in ignore:
        enabled -= expand(sel, metas, where)
    return frozenset(enabled)
