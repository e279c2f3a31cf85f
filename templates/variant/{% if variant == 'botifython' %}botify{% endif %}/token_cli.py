"""Set, check or forget the Botify API token from a terminal (installed as `<project>-token`).

    <project>-token set       asks for the token (hidden; or reads one line from a pipe), checks it
                              with Botify, then stores it in the data folder, readable by you only
    <project>-token status    says whether a token is stored and whether Botify accepts it
    <project>-token forget    deletes the stored token

The token is never printed. Options: --data-dir (default: data_dir from ./pipulate.toml, as the
app uses), --api-url (default: $BOTIFY_API_URL, else https://api.botify.com). Errors are one line
on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path

from .client import ACCOUNT_URL, DEFAULT_BASE_URL, BotifyClient, BotifyError, Profile, TokenRefused, check_base_url
from .token_store import TokenStoreError, delete_token, read_token, save_token, token_path

EXIT_OK, EXIT_FAILED, EXIT_CANCELLED = 0, 1, 130


def main(argv: list[str] | None = None) -> int:
    prog = _program_name(sys.argv[0] if sys.argv else "")
    parser = _parser(prog)
    args = parser.parse_args(argv)
    try:
        data_dir = Path(args.data_dir) if args.data_dir else _configured_data_dir()
        api_url = args.api_url or os.environ.get("BOTIFY_API_URL") or DEFAULT_BASE_URL  # checked when used
        return _COMMANDS[args.command](prog, args, data_dir, api_url)
    except (BotifyError, TokenStoreError) as error:
        print(f"{prog}: error: {error.message}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{prog}: cancelled; nothing was changed.", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as error:  # ConfigError from pipulate.toml, and anything unforeseen: one line
        print(f"{prog}: error: {error}", file=sys.stderr)
    return EXIT_FAILED


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Set, check or forget the Botify API token.")
    parser.add_argument("--data-dir", help="the app's data folder (default: data_dir from ./pipulate.toml)")
    parser.add_argument("--api-url", help=f"the Botify API (default: $BOTIFY_API_URL, else {DEFAULT_BASE_URL})")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{set,status,forget}")
    commands.add_parser("set", help="enter a token; it is checked with Botify, then stored")
    status = commands.add_parser("status", help="is a token stored, and does Botify accept it?")
    status.add_argument("--offline", action="store_true", help="only say whether one is stored")
    commands.add_parser("forget", help="delete the stored token")
    return parser


def _set(prog: str, args, data_dir: Path, api_url: str) -> int:
    token = _read_token_from_user()
    profile = asyncio.run(_check(token, api_url))
    path = save_token(data_dir, token)
    print(f"Botify accepts the token of {profile.display_name}; saved it in {path} (readable by you only).")
    return EXIT_OK


def _status(prog: str, args, data_dir: Path, api_url: str) -> int:
    token = read_token(data_dir)
    path = token_path(data_dir)
    if token is None:
        print(f"No Botify token is stored in {data_dir}. Enter one with: {prog} set")
        return EXIT_FAILED
    if args.offline:
        print(f"A Botify token is stored in {path} (not checked with Botify).")
        return EXIT_OK
    try:
        profile = asyncio.run(_check(token, api_url))
    except TokenRefused as error:
        raise BotifyError(f"The token stored in {path} no longer works: {error.message} Run: {prog} set") from None
    print(f"A Botify token is stored in {path}, and Botify accepts it ({profile.display_name}).")
    return EXIT_OK


def _forget(prog: str, args, data_dir: Path, api_url: str) -> int:
    path = token_path(data_dir)
    if delete_token(data_dir):
        print(f"Forgot the Botify token (deleted {path}).")
    else:
        print(f"No Botify token was stored in {data_dir}; nothing to forget.")
    return EXIT_OK


_COMMANDS = {"set": _set, "status": _status, "forget": _forget}


async def _check(token: str, api_url: str) -> Profile:
    async with BotifyClient(token, check_base_url(api_url)) as botify:
        return await botify.profile()


def _read_token_from_user() -> str:
    """The token, typed without echo at a terminal, else the first line of standard input."""
    stdin = sys.stdin
    if stdin is not None and stdin.isatty():
        try:
            text = getpass.getpass(f"Botify API token (from {ACCOUNT_URL}; typing is hidden): ")
        except EOFError:  # Ctrl-D
            text = ""
    else:
        text = stdin.readline(4096) if stdin is not None else ""
    return text.strip()


def _configured_data_dir() -> Path:
    from pipulate import load_settings  # only the config module loads: the CLI stays light

    return load_settings().data_dir


def _program_name(argv0: str) -> str:
    name = os.path.basename(argv0)
    if not name or name.endswith(".py") or name in ("-c", "-m"):
        return "python -m botify.token_cli"
    return name


if __name__ == "__main__":
    sys.exit(main())
