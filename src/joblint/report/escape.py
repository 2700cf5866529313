"""Hostile text made safe to print: file names, quoted source and code frames come from strangers.

A newline in a file name or in a string a message quotes would start a new output line, and in a
GitHub Actions log a line starting with `::` is a workflow command (`::add-mask::`, `::warning`),
as is `##[command]` anywhere in a line;
on a terminal ESC starts a control sequence (clear the screen, set the title, OSC 52 writes the
clipboard). Every text reporter passes such text through `visible`, which shows control
characters as backslash escapes instead of sending them. Its output is also valid XML 1.0 text and
always encodable as UTF-8.
"""

from __future__ import annotations

import re

# C0 and C1 controls and DEL; line and paragraph separators; bidi embeddings, overrides and
# isolates (they reorder what is shown); lone surrogates (unencodable) and U+FFFE/U+FFFF (not XML).
_UNSAFE = "\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff"
_ESCAPE = re.compile(f"[\t{_UNSAFE}]")
_ESCAPE_KEEP_TABS = re.compile(f"[{_UNSAFE}]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str, tabs: bool = False) -> str:
    """`text` with control characters shown as escapes (`\\n`, `\\x1b`, `\\u202e`): one line, inert.

    With `tabs`, a tab stays a tab (code frames expand it themselves).
    """
    pattern = _ESCAPE_KEEP_TABS if tabs else _ESCAPE
    shown = pattern.sub(_escape, text) if pattern.search(text) else text
    # The runner also takes `##[command]data` anywhere in a line (the older syntax): its second `#`
    # is shown escaped, wherever it is.
    return shown.replace("##[", "#\\x23[") if "##[" in shown else shown


def visible_path(path: str) -> str:
    """`visible(path)`, and a path that would start a line with `::` (a workflow command, which
    the runner recognises after leading whitespace) gets `./` in front: the same file."""
    shown = visible(path)
    return "./" + shown if shown.lstrip().startswith("::") else shown
