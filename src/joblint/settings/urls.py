"""Passwords in broker and result-backend URLs: found, and masked before anything shows them."""

from __future__ import annotations

import re

_URL = re.compile(
    r"^(?P<scheme>[a-z][a-z0-9+.\-]*)://(?P<user>[^:@/\s]*):(?P<password>[^@/\s]+)@(?P<rest>\S*)$", re.IGNORECASE
)
_PLACEHOLDER = re.compile(r"^(\$\{?\w+\}?|\{\w*\}|%\(\w+\)s|<[^>]*>|\*+|x+|\.\.\.)$", re.IGNORECASE)


def masked_credential(url: str) -> str | None:
    """The URL with its password masked, when it holds a real password."""
    for part in url.split(";"):
        match = _URL.match(part.strip())
        if match is None:
            continue
        password = match.group("password")
        if _PLACEHOLDER.match(password) or (match.group("user"), password) == ("guest", "guest"):
            continue
        return f"{match.group('scheme')}://{match.group('user')}:****@{match.group('rest')}"
    return None
