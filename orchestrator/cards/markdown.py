"""Markdown to HTML, for ``Markdown`` components: the common subset (headings, paragraphs, emphasis,
code, fenced blocks, lists, quotes, links, images, rules, pipe tables), with every piece of text
escaped. Standard library only, because it runs in the step's own Python, which may have no
Markdown package; raw HTML in the source is shown as text, not injected.
"""

from __future__ import annotations

import re
from typing import List

from .page import escape

_INLINE = [
    (re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)"), lambda m: '<img alt="%s" src="%s">' % (m.group(1), _url(m.group(2)))),
    (re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)"), lambda m: '<a href="%s">%s</a>' % (_url(m.group(2)), m.group(1))),
    (re.compile(r"\*\*(.+?)\*\*|__(.+?)__"), lambda m: "<strong>%s</strong>" % (m.group(1) or m.group(2))),
    (
        re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)|(?<![\w_])_(?!\s)(.+?)(?<!\s)_(?!\w)"),
        lambda m: "<em>%s</em>" % (m.group(1) or m.group(2)),
    ),
    (re.compile(r"~~(.+?)~~"), lambda m: "<del>%s</del>" % m.group(1)),
]
_SAFE_URL = re.compile(r"^(https?:|mailto:|data:image/|#|/|\.|[\w-]+(/|$|\.))", re.I)


def _url(url: str) -> str:
    """A link target, escaped already; anything that could run script (javascript:) becomes '#'."""
    return url if _SAFE_URL.match(url) else "#"


def inline(text: str) -> str:
    """Escape, then apply emphasis and links outside of code spans."""
    pieces = re.split(r"(`[^`]+`)", text)
    out = []
    for piece in pieces:
        if len(piece) > 1 and piece.startswith("`") and piece.endswith("`"):
            out.append("<code>%s</code>" % escape(piece[1:-1]))
            continue
        piece = escape(piece)
        for pattern, replace in _INLINE:
            piece = pattern.sub(replace, piece)
        out.append(piece)
    return "".join(out)


def _table(lines: List[str]) -> str:
    def cells(line: str) -> List[str]:
        return [c.strip() for c in line.strip().strip("|").split("|")]

    head, rows = cells(lines[0]), [cells(line) for line in lines[2:]]
    out = "<tr>%s</tr>" % "".join("<th>%s</th>" % inline(c) for c in head)
    out += "".join("<tr>%s</tr>" % "".join("<td>%s</td>" % inline(c) for c in row) for row in rows)
    return "<table>%s</table>" % out


_LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+(.*)$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def to_html(source: str) -> str:
    lines = source.replace("\r\n", "\n").split("\n")
    out: List[str] = []
    para: List[str] = []
    i = 0

    def flush() -> None:
        if para:
            out.append("<p>%s</p>" % inline(" ".join(p.strip() for p in para)))
            para.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```") or stripped.startswith("~~~"):
            flush()
            fence, body = stripped[:3], []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                body.append(lines[i])
                i += 1
            out.append("<pre><code>%s</code></pre>" % escape("\n".join(body)))
        elif not stripped:
            flush()
        elif re.match(r"^#{1,6}\s", stripped):
            flush()
            level = len(stripped) - len(stripped.lstrip("#"))
            out.append("<h%d>%s</h%d>" % (level, inline(stripped[level:].strip().rstrip("#").strip()), level))
        elif re.match(r"^([-*_])(\s*\1){2,}$", stripped):
            flush()
            out.append("<hr>")
        elif stripped.startswith(">"):
            flush()
            quoted = []
            while i < len(lines) and lines[i].strip().startswith(">"):
                quoted.append(lines[i].strip()[1:].lstrip())
                i += 1
            out.append("<blockquote>%s</blockquote>" % to_html("\n".join(quoted)))
            continue
        elif "|" in stripped and i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1]):
            flush()
            block = [line, lines[i + 1]]
            i += 2
            while i < len(lines) and "|" in lines[i] and lines[i].strip():
                block.append(lines[i])
                i += 1
            out.append(_table(block))
            continue
        elif _LIST_ITEM.match(line):
            flush()
            ordered = _LIST_ITEM.match(line).group(2)[0].isdigit()  # type: ignore[union-attr]
            items = []
            while i < len(lines) and _LIST_ITEM.match(lines[i]):
                items.append("<li>%s</li>" % inline(_LIST_ITEM.match(lines[i]).group(3)))  # type: ignore[union-attr]
                i += 1
            tag = "ol" if ordered else "ul"
            out.append("<%s>%s</%s>" % (tag, "".join(items), tag))
            continue
        else:
            para.append(line)
        i += 1
    flush()
    return "\n".join(out)
