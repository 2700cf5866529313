"""A cheap scan that refuses sources too deeply nested to parse safely.

libcst's native parser recurses once (or several times) per level of nesting and has no depth
limit of its own: some 1,500 nested brackets, a few thousand nested lambdas or conditional
expressions, or 10,000 chained `and`s overflow its stack and kill the process with a segmentation
fault, and long operator chains take minutes. CPython refuses most such code too (more than 200
nested brackets is a syntax error; about 3,000 chained unary or binary operators exhaust its
recursion limit). The nearest code Python accepts and joblint refuses is a single expression of
more than 1,000 operators, which nobody writes by hand.

The scan over-approximates the depth of each statement's tree from its tokens: every operator,
attribute dot and expression keyword may add a level, a bracket adds one, and commas separate
siblings, which add none. It never runs Python code and costs a few per cent of a parse.
"""

from __future__ import annotations

import re

MAX_BRACKETS = 200  # CPython's tokenizer limit (MAXLEVEL): deeper is "too many nested parentheses"
MAX_DEPTH = 1000  # estimated tree levels; libcst stays far from its stack limit and parses this in < 1 s

# Whitespace is skipped in front of each token; words are matched whole so that a keyword is never
# found inside a name, and only expression keywords count (see _KEYWORDS).
_TOKEN = re.compile(
    r"""
    [ \t\f]*
    (?:
      (?P<skip>
          '''(?:[^'\\]+|\\(?:.|\Z)|'(?!''))*(?:'''|\Z)
        | \"\"\"(?:[^"\\]+|\\(?:.|\Z)|"(?!""))*(?:\"\"\"|\Z)
        | '(?:[^'\\\r\n]+|\\(?:\r\n|.|\Z))*'?
        | "(?:[^"\\\r\n]+|\\(?:\r\n|.|\Z))*"?
        | \#[^\r\n]*
        | \\(?:\r\n|\r|\n)
      )
    | (?P<word>[^\W\d]\w*)
    | (?P<newline>\r\n|\r|\n)
    | (?P<open>[(\[{])
    | (?P<close>[)\]}])
    | (?P<sep>[,;])
    | (?P<op>\*\*|//|<<|>>|->|:=|==|!=|<=|>=|[-+*/%@&|^~<>.])
    )
    """,
    re.VERBOSE | re.DOTALL,
)
_KEYWORDS = frozenset({"not", "and", "or", "if", "else", "lambda", "await", "in", "is", "for", "yield"})


def nesting_problem(text: str) -> tuple[int, str] | None:
    """(line, message) when `text` nests deeper than joblint parses safely, else None."""
    # One frame per open bracket: [operators in the current comma-separated segment,
    # deepest bracketed child in that segment, deepest finished segment].
    stack = [[0, 0, 0]]
    line = 1
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "skip":
            token = match.group(kind)
            if "\n" in token or "\r" in token:
                line += len(_NEWLINES.findall(token))
            continue
        if kind == "word":
            if match.group(kind) not in _KEYWORDS:
                continue
            kind = "op"
        if kind == "op":
            frame = stack[-1]
            frame[0] += 1
            if frame[0] + frame[1] > MAX_DEPTH:
                return line, _too_deep()
        elif kind == "newline":
            line += 1
            if len(stack) == 1:
                stack[0] = [0, 0, 0]  # a statement ends: each statement is parsed on its own levels
        elif kind == "open":
            stack.append([0, 0, 0])
            if len(stack) - 1 > MAX_BRACKETS:
                return line, f"too many nested parentheses (more than {MAX_BRACKETS}, which Python refuses too)"
        elif kind == "close":
            if len(stack) > 1:
                if _close(stack) > MAX_DEPTH:
                    return line, _too_deep()
        else:  # a comma or semicolon: the next segment is a sibling
            frame = stack[-1]
            frame[2] = max(frame[2], frame[0] + frame[1])
            frame[0] = frame[1] = 0
    while len(stack) > 1:  # unclosed brackets: a syntax error the parser reports, once it is safe to run
        if _close(stack) > MAX_DEPTH:
            return line, _too_deep()
    return None


_NEWLINES = re.compile(r"\r\n|\r|\n")


def _close(stack: list[list[int]]) -> int:
    """Pop the innermost bracket into its parent's segment; returns the parent segment's depth."""
    frame = stack.pop()
    depth = max(frame[2], frame[0] + frame[1]) + 1
    parent = stack[-1]
    parent[1] = max(parent[1], depth)
    return parent[0] + parent[1]


def _too_deep() -> str:
    return f"expression nested too deeply to analyse safely (more than {MAX_DEPTH} levels)"
