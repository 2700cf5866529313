"""The audit as one self-contained HTML file: inline CSS and SVG charts, no scripts, no network.

It is meant to be forwarded: it opens from a mail attachment or a CI artifact, prints, and reads
top-down from "how bad is it" (counts and charts) to "what exactly" (every finding with its code
frame, under the rule's explanation). Unlike the other reporters it takes an `Audit` (audit.py),
which carries the code frames and rule explanations these pages need besides the findings.
"""

from __future__ import annotations

import re
from html import escape

from ..audit import Audit, Frame, RuleExplanation
from ..findings import Finding
from .escape import visible

SEVERITY_COLOUR = {"error": "#d92d20", "warning": "#dc6803", "info": "#1570ef"}
PALETTE = ("#3e4784", "#0e9384", "#7a5af8", "#dd2590", "#669f2a", "#4e5ba6", "#15b79e", "#6172f3", "#ba24d5", "#667085")
# Findings lists longer than this start folded; the explanation above them always shows.
OPEN_LIMIT = 12

CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f3f4f7;color:#1d2433;font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:13px}
a{color:#2f54eb}
header{background:#111827;color:#f9fafb;padding:28px 0 24px}
.wrap{max-width:1180px;margin:0 auto;padding:0 28px}
header h1{margin:0;font-size:26px;font-weight:650;letter-spacing:-.01em}
header h1 span{color:#9ca3af;font-weight:400}
header p{margin:6px 0 0;color:#cbd5e1;font-size:14px}
.verdict{margin:22px 0 0;font-size:17px;color:#f9fafb}
.cards{display:grid;grid-template-columns:repeat(6,1fr);gap:14px;margin:-18px 0 22px}
.card{background:#fff;border-radius:10px;padding:14px 16px;box-shadow:0 1px 2px rgba(16,24,40,.08),\
0 1px 3px rgba(16,24,40,.06)}
.card .n{font-size:28px;font-weight:700;line-height:1.1}
.card .l{color:#5b6476;font-size:13px;margin-top:2px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:18px;margin-bottom:18px}
.panel{background:#fff;border-radius:10px;padding:18px 20px;box-shadow:0 1px 2px rgba(16,24,40,.08),\
0 1px 3px rgba(16,24,40,.06)}
.panel h2{margin:0 0 12px;font-size:15px;font-weight:650;color:#344054}
.full{margin-bottom:18px}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;margin-top:10px;font-size:13px;color:#475467}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;vertical-align:-1px}
table{width:100%;border-collapse:collapse}
th{text-align:left;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#667085;font-weight:600;
padding:6px 8px;border-bottom:1px solid #e4e7ec}
td{padding:7px 8px;border-bottom:1px solid #f0f1f4;vertical-align:middle}
td.num{text-align:right;font-variant-numeric:tabular-nums;width:70px}
.stack{display:flex;height:10px;border-radius:5px;overflow:hidden;background:#eef0f3;min-width:120px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff}
h2.section{font-size:20px;margin:30px 0 12px}
.rule{background:#fff;border-radius:10px;margin-bottom:16px;box-shadow:0 1px 2px rgba(16,24,40,.08),\
0 1px 3px rgba(16,24,40,.06);
overflow:hidden}
.rule>.head{display:flex;align-items:center;gap:10px;padding:14px 20px;border-bottom:1px solid #eef0f3}
.rule>.head h3{margin:0;font-size:16px}
.rule>.head .count{margin-left:auto;color:#475467;font-size:14px}
.explain{padding:6px 20px 4px;color:#344054;font-size:14px}
.explain h4{margin:10px 0 2px;font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:#667085}
.explain p{margin:4px 0 8px}
.explain pre{background:#f6f7f9;padding:10px 12px;border-radius:6px;overflow:auto}
details{border-top:1px solid #eef0f3}
summary{cursor:pointer;padding:10px 20px;color:#2f54eb;font-size:14px}
.finding{padding:10px 20px 14px;border-top:1px solid #f3f4f6}
.finding .where{font-size:13px;color:#475467}
.finding .msg{margin:3px 0 8px}
.frame{background:#0f172a;color:#e2e8f0;border-radius:6px;padding:8px 0;overflow:auto;margin:0}
.frame div{white-space:pre;padding:0 12px}
.frame .ln{display:inline-block;width:48px;color:#64748b;text-align:right;margin-right:14px;user-select:none}
.frame .hit{background:rgba(217,45,32,.22)}
.frame mark{background:none;color:#fecaca;text-decoration:underline wavy #f97066;text-underline-offset:3px}
footer{color:#667085;font-size:13px;padding:20px 0 40px}
.empty{padding:30px;text-align:center;color:#475467}
@media print{body{background:#fff}.panel,.card,.rule{box-shadow:none;border:1px solid #e4e7ec}details{display:block}}
"""


# -- small markdown: what the rule documents use ------------------------------------------------

_FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.DOTALL)
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline(text: str) -> str:
    parts = text.split("`")
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"<code>{escape(part)}</code>")
        else:
            chunk = escape(part, quote=False)
            chunk = _LINK.sub(lambda m: f'<a href="{escape(m.group(2))}">{m.group(1)}</a>', chunk)
            out.append(_BOLD.sub(r"<strong>\1</strong>", chunk))
    return "".join(out)


def markdown(text: str) -> str:
    """Paragraphs, bullet lists, fenced code, inline code, bold and links."""
    html = []
    pieces = _FENCE.split(text)
    for i, piece in enumerate(pieces):
        if i % 2:
            html.append(f"<pre><code>{escape(piece.rstrip())}</code></pre>")
            continue
        for block in re.split(r"\n\s*\n", piece.strip()):
            lines = [line.strip() for line in block.splitlines() if line.strip()]
            if not lines:
                continue
            if all(line.startswith(("- ", "* ")) for line in lines):
                items = "".join(f"<li>{_inline(line[2:])}</li>" for line in lines)
                html.append(f"<ul>{items}</ul>")
            else:
                html.append(f"<p>{_inline(' '.join(lines))}</p>")
    return "".join(html)


# -- charts -------------------------------------------------------------------------------------

def bar_chart(rows: list[tuple[str, int, str]], label_width: int = 230) -> str:
    """Horizontal bars: (label, value, colour) per row, as inline SVG."""
    if not rows:
        return '<p class="empty">No findings.</p>'
    row_height, width = 28, 560
    top = max(value for _, value, _ in rows) or 1
    bar_space = width - label_width - 50
    height = row_height * len(rows)
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value, colour) in enumerate(rows):
        y = i * row_height
        length = max(2.0, bar_space * value / top)
        shown = label if len(label) <= 34 else label[:33] + "…"
        parts.append(
            f'<text x="{label_width - 10}" y="{y + 18}" text-anchor="end" font-size="13" fill="#344054">'
            f"<title>{escape(label)}</title>{escape(shown)}</text>"
            f'<rect x="{label_width}" y="{y + 6}" width="{length:.1f}" height="16" rx="3" fill="{colour}"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 18}" font-size="13" fill="#1d2433" '
            f'font-weight="600">{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def donut(rows: list[tuple[str, int, str]], total_label: str) -> str:
    total = sum(value for _, value, _ in rows)
    radius, stroke = 54, 22
    circumference = 2 * 3.141592653589793 * radius
    parts = [
        '<svg viewBox="0 0 160 160" width="170" height="170" role="img" xmlns="http://www.w3.org/2000/svg">',
        f'<circle cx="80" cy="80" r="{radius}" fill="none" stroke="#eef0f3" stroke-width="{stroke}"/>',
    ]
    offset = 0.0
    for _, value, colour in rows:
        if not value:
            continue
        length = circumference * value / total
        parts.append(
            f'<circle cx="80" cy="80" r="{radius}" fill="none" stroke="{colour}" stroke-width="{stroke}" '
            f'stroke-dasharray="{length:.2f} {circumference - length:.2f}" stroke-dashoffset="{-offset:.2f}" '
            f'transform="rotate(-90 80 80)"/>'
        )
        offset += length
    parts.append(
        f'<text x="80" y="80" text-anchor="middle" font-size="28" font-weight="700" fill="#1d2433">{total}</text>'
        f'<text x="80" y="100" text-anchor="middle" font-size="12" fill="#667085">{escape(total_label)}</text></svg>'
    )
    return "".join(parts)


def legend(rows: list[tuple[str, int, str]]) -> str:
    items = "".join(f'<span><i style="background:{c}"></i>{escape(label)} <b>{v}</b></span>' for label, v, c in rows)
    return f'<div class="legend">{items}</div>'


# -- sections -----------------------------------------------------------------------------------

def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _badge(severity: str) -> str:
    return f'<span class="badge" style="background:{SEVERITY_COLOUR[severity]}">{severity}</span>'


def _verdict(audit: Audit) -> str:
    if not audit.findings:
        return f"No findings in {_plural(audit.files, 'file')}."
    counts = dict(audit.by_severity)
    worst = audit.findings_by_rule()[0][0]
    text = (
        f"{_plural(len(audit.findings), 'finding')} in {_plural(audit.files_with_findings, 'file')}: "
        f"{_plural(counts['error'], 'error')}, {_plural(counts['warning'], 'warning')}, {counts['info']} info."
    )
    return text + f" Start with {escape(worst.meta.code)} {escape(worst.meta.name)}."


def _cards(audit: Audit) -> str:
    counts = dict(audit.by_severity)
    cards = [
        (str(len(audit.findings)), "findings", "#1d2433"),
        (str(counts["error"]), "errors", SEVERITY_COLOUR["error"]),
        (str(counts["warning"]), "warnings", SEVERITY_COLOUR["warning"]),
        (str(counts["info"]), "info", SEVERITY_COLOUR["info"]),
        (f"{audit.files_with_findings}<small style='font-size:15px;color:#667085'> / {audit.files}</small>",
         "files affected / checked", "#1d2433"),
        (str(audit.fixable), "fixable with --fix", "#0e9384"),
    ]
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="n" style="color:{colour}">{n}</div><div class="l">{label}</div></div>'
        for n, label, colour in cards
    ) + "</div>"


def _charts(audit: Audit) -> str:
    severity = [(label, n, SEVERITY_COLOUR[label]) for label, n in audit.by_severity]
    frameworks = [(label, n, PALETTE[i % len(PALETTE)]) for i, (label, n) in enumerate(audit.by_framework)]
    categories = [(label, n, PALETTE[(i + 1) % len(PALETTE)]) for i, (label, n) in enumerate(audit.by_category)]
    rules = [
        (f"{code} {audit.rules[code].meta.name}", n, SEVERITY_COLOUR[audit.rules[code].meta.severity.value])
        for code, n in audit.by_rule[:15]
    ]
    severity_panel = (
        '<div class="panel"><h2>By severity</h2><div style="display:flex;align-items:center;gap:28px">'
        f"{donut(severity, 'findings')}<div>{legend(severity)}</div></div></div>"
    )
    framework_panel = f'<div class="panel"><h2>By framework</h2>{bar_chart(frameworks, 150)}</div>'
    category_panel = f'<div class="panel"><h2>By category</h2>{bar_chart(categories, 200)}</div>'
    title = "By rule" if len(audit.by_rule) <= 15 else "By rule (top 15)"
    rule_panel = f'<div class="panel"><h2>{title}</h2>{bar_chart(rules, 250)}</div>'
    return (
        f'<div class="grid">{severity_panel}{framework_panel}</div>'
        f'<div class="grid">{category_panel}{rule_panel}</div>'
    )


def _top_files(audit: Audit) -> str:
    rows = []
    top = audit.top_files
    most = max((sum(c.values()) for _, c in top), default=1)
    for path, counts in top:
        total = sum(counts.values())
        segments = "".join(
            f'<span style="width:{100 * counts.get(s, 0) / most:.2f}%;background:{SEVERITY_COLOUR[s]}" '
            f'title="{counts.get(s, 0)} {s}"></span>'
            for s in ("error", "warning", "info")
            if counts.get(s)
        )
        rows.append(
            f'<tr><td class="mono">{_shown(path)}</td><td style="width:34%"><div class="stack">{segments}</div></td>'
            f'<td class="num">{counts.get("error", 0)}</td><td class="num">{counts.get("warning", 0)}</td>'
            f'<td class="num">{counts.get("info", 0)}</td><td class="num"><b>{total}</b></td></tr>'
        )
    header = (
        "<tr><th>File</th><th></th><th style='text-align:right'>Errors</th><th style='text-align:right'>Warnings</th>"
        "<th style='text-align:right'>Info</th><th style='text-align:right'>Total</th></tr>"
    )
    return f'<div class="panel full"><h2>Files with the most findings</h2><table>{header}{"".join(rows)}</table></div>'


def _shown(text: str) -> str:
    """Text from the checked code, for the page: control characters shown as escapes (a tab stays a
    tab: frames are `white-space:pre`), then HTML-escaped."""
    return escape(visible(text, tabs=True))


def code_frame(finding: Finding, frame: Frame | None) -> str:
    if frame is None:
        return ""
    rows = []
    span = finding.span
    for offset, line in enumerate(frame.lines):
        number = frame.first + offset
        hit = span.line <= number <= max(span.end_line, span.line)
        text = _shown(line)
        if number == span.line and span.end_line == span.line and span.end_col > span.col:
            start, end = span.col - 1, span.end_col - 1
            text = f"{_shown(line[:start])}<mark>{_shown(line[start:end])}</mark>{_shown(line[end:])}"
        rows.append(f'<div{" class=hit" if hit else ""}><span class="ln">{number}</span>{text}</div>')
    return f'<pre class="frame">{"".join(rows)}</pre>'


def _message(text: str) -> str:
    """Messages are plain text, but rule authors quote code in backticks: show those as code."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: leave the text as it is
        return _shown(text)
    return "".join(f"<code>{_shown(p)}</code>" if i % 2 else _shown(p) for i, p in enumerate(parts))


def _finding(finding: Finding, frame: Frame | None) -> str:
    fixable = ' · <span style="color:#0e9384">fixable</span>' if finding.fix else ""
    where = f"{finding.path}:{finding.span.line}:{finding.span.col}" if finding.span.line else finding.path
    return (
        f'<div class="finding"><div class="where mono">{_shown(where)}'
        f"{fixable}</div><div class=\"msg\">{_message(finding.message)}</div>{code_frame(finding, frame)}</div>"
    )


def _rule_section(rule: RuleExplanation, items: list[tuple[Finding, Frame | None]]) -> str:
    meta = rule.meta
    explanation = f"<h4>What it flags</h4>{markdown(rule.what)}"
    if rule.why:
        explanation += f"<h4>Why it matters</h4>{markdown(rule.why)}"
    if rule.fix:
        explanation += f"<h4>Fix ({meta.fix.value if meta.fix else 'manual'})</h4>{markdown(rule.fix)}"
    explanation += f'<p><a href="{escape(rule.url)}">Full rule document</a> · <code>joblint rule {meta.code}</code></p>'
    findings = "".join(_finding(f, frame) for f, frame in items)
    opened = " open" if len(items) <= OPEN_LIMIT else ""
    return (
        f'<section class="rule" id="{escape(meta.code)}"><div class="head">{_badge(meta.severity.value)}'
        f"<h3>{escape(meta.code)} {escape(meta.name)}</h3><span style='color:#667085;font-size:13px'>"
        f"{escape(rule.framework)} · {escape(rule.category)}</span>"
        f'<span class="count">{_plural(len(items), "finding")}</span></div>'
        f'<div class="explain">{explanation}</div>'
        f"<details{opened}><summary>{_plural(len(items), 'finding')}</summary>{findings}</details></section>"
    )


def render(audit: Audit) -> str:
    title = f"joblint audit: {visible(audit.target)}"
    meta = (
        f"{audit.generated} · joblint {escape(audit.version)} · {_plural(audit.files, 'file')} checked in "
        f"{audit.seconds:.1f} s · {_plural(audit.enabled, 'rule')} enabled"
    )
    if audit.findings:
        body = (
            _cards(audit) + _charts(audit) + _top_files(audit) + '<h2 class="section">Findings by rule</h2>'
            + "".join(_rule_section(rule, items) for rule, items in audit.findings_by_rule())
        )
    else:
        body = _cards(audit) + '<div class="panel empty">joblint found nothing to report.</div>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f'<header><div class="wrap"><h1>joblint audit <span>· {_shown(audit.target)}</span></h1><p>{meta}</p>'
        f'<p class="verdict">{_verdict(audit)}</p></div></header>'
        f'<main class="wrap" style="padding-top:30px">{body}</main>'
        f'<footer class="wrap">Generated by joblint {escape(audit.version)}. Reproduce with '
        f"<code>joblint audit {_shown(audit.paths)} --html report.html</code>; gate new findings in CI with "
        f"<code>joblint check --write-baseline .joblint-baseline.json</code> and <code>--baseline</code>.</footer>"
        "</body></html>\n"
    )
