"""`pipulate doctor`: check that this machine can run the app, and say what to do when it cannot.

Exit 0 when every required check passes (warnings allowed), 1 when one fails, 2 for a bad option or
setting. `--json` prints {"ok": ..., "checks": [{"name", "status", "detail", "hint"}, ...]}.
"""

from __future__ import annotations

import json
import shutil
import sys
import textwrap

from .._config import ConfigError
from .settings_options import add_settings_options, settings_from_options

LABELS = {
    "python": "Python",
    "numpy": "numpy",
    "data_dir": "Data dir",
    "sqlite": "SQLite",
    "plugins": "Plugins",
    "model_file": "Model file",
    "port": "Port",
    "model_server": "Model server",
    "nix": "Nix",
}
MARKS = {"ok": "✓", "warn": "!", "fail": "✗"}
ASCII_MARKS = {"ok": "+", "warn": "!", "fail": "x"}


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "doctor",
        help="check that this machine can run the app",
        description="Check Python, numpy, SQLite, the data dir, the plugins, the model file, the port, the model "
        "server and Nix: everything serve checks before it starts, and more.",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    add_settings_options(parser)  # the same as serve's: doctor checks what serve would use
    parser.set_defaults(run=run)


def run(args) -> int:
    from .._doctor import all_ok, run_checks
    from . import fail

    try:
        settings = settings_from_options(args)
    except ConfigError as error:
        return fail(str(error), 2)
    checks = run_checks(settings)
    ok = all_ok(checks)
    if args.json:
        print(json.dumps({"ok": ok, "checks": [check.to_dict() for check in checks]}, indent=2))
    else:
        encoding = sys.stdout.encoding or "utf-8"  # a path the terminal cannot show becomes "?"
        print(render(checks, ok, f"{settings.app_name} doctor").encode(encoding, "replace").decode(encoding))
    return 0 if ok else 1


def render(checks, ok: bool, title: str = "Pipulate doctor") -> str:
    """An aligned list: a mark, the check's name, what it found; the hint indented under it."""
    marks = MARKS if _can_print("".join(MARKS.values())) else ASCII_MARKS
    width = max(len(LABELS.get(check.name, check.name)) for check in checks)
    indent = " " * (2 + 2 + width + 2)
    wrap_at = max(60, min(shutil.get_terminal_size((100, 24)).columns, 110))
    lines = [title]
    for check in checks:
        label = LABELS.get(check.name, check.name)
        lines.append(f"  {marks[check.status]} {label:<{width}}  {check.detail}")
        if check.hint and check.status != "ok":
            for paragraph in check.hint.splitlines():
                lines += textwrap.wrap(
                    paragraph, wrap_at, initial_indent=indent, subsequent_indent=indent,
                    break_long_words=False, break_on_hyphens=False,
                )
    failed = [LABELS.get(c.name, c.name) for c in checks if c.status == "fail"]
    warned = sum(check.status == "warn" for check in checks)
    warnings = f"{warned} warning{'s' if warned != 1 else ''}" if warned else "no warnings"
    if ok:
        lines.append(f"Everything the app needs is in place ({warnings}).")
    else:
        lines.append(f"The app cannot run here: {', '.join(failed)} failed ({warnings}).")
    return "\n".join(lines)


def _can_print(text: str) -> bool:
    try:
        text.encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
