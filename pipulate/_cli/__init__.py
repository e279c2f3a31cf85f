"""The `pipulate` command. Each subcommand lives in its own module; errors are one readable line."""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import doctor, new, run, serve, upgrade


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line (what was wrong), not a usage dump."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pipulate", description="A local-first web-app framework.")
    parser.add_argument("--version", action="version", version=f"pipulate {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    serve.add_parser(commands)
    doctor.add_parser(commands)
    new.add_parser(commands)
    upgrade.add_parser(commands)
    run.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except KeyboardInterrupt:
        return 130


def fail(message: str, code: int = 1) -> int:
    print(f"pipulate: error: {message}", file=sys.stderr)
    return code
