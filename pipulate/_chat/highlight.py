"""Code blocks in chat messages, highlighted on the server by Pygments (no script, no CDN).

A fenced block that names its language (```python) is coloured; one that does not is shown as
it is (guessing a language is slow and often wrong). Pygments marks tokens with
`<span class="k">` and so on: the sanitizer lets through exactly those class names, the ones
in Pygments' own table (`TOKEN_CLASSES`), and nothing else. The colours are static CSS
(pipulate/_ui/static/highlight.css, made by `python -m pipulate._chat.highlight`), a light
style and a dark one.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape

LIGHT_STYLE = "friendly"
DARK_STYLE = "github-dark"
CODE_LIMIT = 20_000  # characters: a longer block is shown plain (highlighting it would stall the loop)


@lru_cache(maxsize=1)
def token_classes() -> frozenset[str]:
    """Every class Pygments' HTML formatter gives a standard token."""
    from pygments.token import STANDARD_TYPES

    return frozenset(name for name in STANDARD_TYPES.values() if name)


def highlight_code(code: str, language: str) -> str:
    """The block's inner HTML: spans with Pygments classes, or the escaped text."""
    lexer = _lexer(language.strip().lower()[:40]) if language else None
    if lexer is None or len(code) > CODE_LIMIT:
        return escape(code, quote=False)
    from pygments import highlight
    from pygments.formatters import HtmlFormatter

    return highlight(code, lexer, HtmlFormatter(nowrap=True))


@lru_cache(maxsize=64)
def _lexer(language: str):
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(language)
    except ClassNotFound:
        return None


def keep_class(value: str) -> str | None:
    """A span's class attribute when it is one of Pygments' token classes, else None (dropped)."""
    names = value.split()
    return value if names and all(name in token_classes() for name in names) else None


def style_css() -> str:
    """The colours of highlighted code, light and dark, for highlight.css."""
    from pygments.formatters import HtmlFormatter

    light = HtmlFormatter(style=LIGHT_STYLE).get_style_defs(".code-block pre")
    dark = HtmlFormatter(style=DARK_STYLE).get_style_defs(":root[data-theme=dark] .code-block pre")
    system_dark = HtmlFormatter(style=DARK_STYLE).get_style_defs(":root[data-theme=system] .code-block pre")
    return (
        "/* Made by `python -m pipulate._chat.highlight` from Pygments' styles "
        f"{LIGHT_STYLE!r} (light) and {DARK_STYLE!r} (dark); do not edit by hand. */\n"
        + _rules_only(light) + "\n" + _rules_only(dark) + "\n"
        + "@media (prefers-color-scheme: dark) {\n" + _rules_only(system_dark) + "\n}\n"
    )


def _rules_only(css: str) -> str:
    # Only the token colours: Pygments also styles line numbers, highlighted lines and the `pre`
    # itself, which the page styles its own way.
    return "\n".join(line for line in css.splitlines() if "pre ." in line and ".hll" not in line)


if __name__ == "__main__":
    from pathlib import Path

    target = Path(__file__).resolve().parents[1] / "_ui" / "static" / "highlight.css"
    target.write_text(style_css())
    print(f"wrote {target}")
