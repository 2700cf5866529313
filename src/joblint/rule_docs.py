"""The rule documents (rules/CODE-name.md): where they are, and the pieces of them tools need."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

DOCS_URL = "https://github.com/joblint/joblint/blob/main/rules/{code}-{name}.md"


def url(code: str, name: str) -> str:
    return DOCS_URL.format(code=code, name=name)


@lru_cache(maxsize=1)
def _directory() -> Path | None:
    """Shipped in the wheel as joblint/rule_docs; in a source checkout, the repository's rules/."""
    packaged = resources.files("joblint").joinpath("rule_docs")
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "rules"
    return checkout if checkout.is_dir() else None


def path(code: str) -> Path | None:
    directory = _directory()
    if directory is None:
        return None
    matches = sorted(directory.glob(f"{code}-*.md"))
    return matches[0] if matches else None


def text(code: str) -> str | None:
    found = path(code)
    return found.read_text(encoding="utf-8") if found else None


def all_paths() -> list[Path]:
    directory = _directory()
    return sorted(directory.glob("*.md")) if directory else []


_SECTION = re.compile(r"^## (.+)$", re.MULTILINE)


def sections(document: str) -> dict[str, str]:
    """`## Heading` -> the text under it."""
    parts = _SECTION.split(document)
    return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
