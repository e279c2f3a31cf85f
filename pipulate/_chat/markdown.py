"""A small, safe Markdown renderer for chat messages.

Safety by construction: the text is HTML-escaped first, and only then are Markdown marks turned
into a fixed set of tags (p, br, strong, em, code, pre, ul, ol, li, h3-h5, blockquote, a). No
HTML from the model or the user survives as markup, and links are http(s) or mailto only.
Covered: paragraphs, line breaks, ``` fences, `code`, **bold**, *italic* / _italic_, # headings,
- and 1. lists, > quotes, [text](url) and bare http(s) URLs.
"""

from __future__ import annotations

import html
import re

_FENCE = re.compile(r"^```")
_HEADING = re.compile(r"^(#{1,3})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,9}[.)]\s+(.*)$")
_QUOTE = re.compile(r"^&gt;\s?(.*)$")

_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BARE_URL = re.compile(r"(?<![\"'=\w/>])(https?://[^\s<>\"']+[^\s<>\"'.,;:!?)])")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])|(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_SAFE_SCHEMES = ("http://", "https://", "mailto:")


def render_markdown(text: str) -> str:
    text = text.replace("\x00", "")  # NUL marks code spans below
    lines = html.escape(text, quote=True).replace("\r\n", "\n").split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if _FENCE.match(line):
            code, index = _collect_fence(lines, index + 1)
            out.append(f"<pre><code>{code}</code></pre>")
            continue
        if not line.strip():
            index += 1
            continue
        if heading := _HEADING.match(line):
            level = len(heading.group(1)) + 2  # # -> h3: the chat lives inside a page
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            index += 1
            continue
        for pattern, tag in ((_BULLET, "ul"), (_NUMBERED, "ol")):
            if pattern.match(line):
                items, index = _collect(lines, index, pattern)
                out.append(f"<{tag}>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + f"</{tag}>")
                break
        else:
            if _QUOTE.match(line):
                quoted, index = _collect(lines, index, _QUOTE)
                out.append("<blockquote>" + "<br>".join(_inline(q) for q in quoted) + "</blockquote>")
                continue
            paragraph, index = _collect_paragraph(lines, index)
            out.append("<p>" + "<br>".join(_inline(p) for p in paragraph) + "</p>")
    return "".join(out)


def _collect_fence(lines, index):
    code = []
    while index < len(lines) and not _FENCE.match(lines[index]):
        code.append(lines[index])
        index += 1
    return "\n".join(code), index + 1  # skip the closing fence (or run past the end)


def _collect(lines, index, pattern):
    items = []
    while index < len(lines) and (match := pattern.match(lines[index])):
        items.append(match.group(1))
        index += 1
    return items, index


def _starts_block(line: str) -> bool:
    return bool(
        not line.strip() or _FENCE.match(line) or _HEADING.match(line) or _BULLET.match(line)
        or _NUMBERED.match(line) or _QUOTE.match(line)
    )


def _collect_paragraph(lines, index):
    paragraph = [lines[index]]
    index += 1
    while index < len(lines) and not _starts_block(lines[index]):
        paragraph.append(lines[index])
        index += 1
    return paragraph, index


def _inline(text: str) -> str:
    # Code spans are cut out first so nothing inside them is formatted.
    spans: list[str] = []

    def keep_code(match):
        spans.append(f"<code>{match.group(1)}</code>")
        return f"\x00{len(spans) - 1}\x00"

    text = _CODE_SPAN.sub(keep_code, text)
    text = _LINK.sub(_link, text)
    text = _BARE_URL.sub(lambda m: _anchor(m.group(1), m.group(1)), text)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: spans[int(m.group(1))], text)


def _link(match) -> str:
    label, url = match.group(1), match.group(2)
    if not html.unescape(url).lower().startswith(_SAFE_SCHEMES):
        return match.group(0)  # javascript:, data: and friends stay plain text
    return _anchor(url, label)


def _anchor(url: str, label: str) -> str:
    # `url` is already escaped (quotes included), so it is safe inside the attribute.
    return f'<a href="{url}" rel="noopener noreferrer nofollow" target="_blank">{label}</a>'
