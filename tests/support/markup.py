"""Markup as readable lines, for tests that pin what a page's script, styles and screen readers
depend on (ids, classes, hx-* attributes, labels) without depending on attribute order.

    describe('<li id="todo-7" class="todo"><input type="hidden" name="order" value="7"></li>')
    == ['li#todo-7.todo', '  input name=order type=hidden value=7']
"""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Describer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        head = tag + (f"#{attributes.pop('id')}" if "id" in attributes else "")
        head += "".join(f".{name}" for name in (attributes.pop("class", None) or "").split())
        parts = [head] + [_attribute(name, value) for name, value in sorted(attributes.items())]
        self.lines.append("  " * self.depth + " ".join(parts))
        if tag not in VOID:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag not in VOID:
            self.depth -= 1

    def handle_data(self, data):
        if data.strip():
            self.lines.append("  " * self.depth + repr(data.strip()))


def _attribute(name: str, value: str | None) -> str:
    if value is None:
        return name
    return f"{name}={value!r}" if (not value or any(c in value for c in " \"'")) else f"{name}={value}"


def describe(html: str) -> list[str]:
    parser = _Describer()
    parser.feed(html)
    parser.close()
    return parser.lines
